"""Allocation of a vehicle's emissions between what it carries (GLEC Framework v3.0 §3).

- Collection and delivery rounds (pp.48, 107): in proportion to *notional* point-to-point activity,
  mass × shortest feasible distance from the base to each stop.
- Passenger flights carrying belly freight (pp.37–38, 85, 115–116): by mass only, IATA RP 1678 and
  ISO 14083: the freight's share is its mass over the mass of freight plus passengers; the actual
  passenger mass with luggage where known, else 100 kg per passenger (p.38).
- Ro-Pax ferries (p.51, from ISO 14083): by passenger equivalents (``logistics.allocation``).
"""

from __future__ import annotations


def notional_tkm(mass_t, base_sfd_km):
    """Notional point-to-point activity of one drop or collection of a round: its mass times the
    shortest feasible distance from the round's base to its stop (GLEC Framework v3.0, pp.48, 107),
    never the distance driven between stops."""
    return mass_t * base_sfd_km


def passengers_from_seats(seats, seat_load_factor):
    """Passengers on a flight from its seats and seat load factor (a fraction)."""
    return seats * seat_load_factor


def passenger_mass_kg(passengers, kg_per_passenger):
    """Mass of the passengers with their luggage: GLEC Framework v3.0 p.38 takes 100 kg per passenger
    where the actual mass is unknown."""
    return passengers * kg_per_passenger


def belly_freight_share(freight_kg, passengers_kg):
    """The freight's share of a passenger flight's fuel, by mass (GLEC Framework v3.0, pp.38, 115–116;
    IATA RP 1678): freight / (freight + passengers with luggage), both in kg."""
    return freight_kg / (freight_kg + passengers_kg)


def peq_share(freight_peq, all_peq):
    """The freight units' share of a Ro-Pax voyage by passenger equivalents (GLEC Framework v3.0,
    p.51; worked example p.121: HGVs 612,000 of 1,277,250 peq = 47.9 %)."""
    return freight_peq / all_peq
