"""Transport and hub activity (GLEC v3.0 pp.21–23, 41; ISO 14083:2023 §6.2)."""

from __future__ import annotations

# Unit changes multiply by a reciprocal: polars divides a column of two or more rows by a number as
# a multiplication by its reciprocal, and a one-row column exactly; multiplying gives the same bits
# for a leg whatever the length of the frame it is computed in.
T_PER_KG = 1 / 1000
KG_PER_T = 1000.0


def mass_t(mass_kg):
    """Freight mass in tonnes: actual mass of the goods and the shipper's packaging, never
    chargeable weight (GLEC v3.0 pp.21, 38, 104)."""
    return mass_kg * T_PER_KG


def mass_t_from_teu(teu, t_per_teu):
    """Mass of containerised freight known only in TEU: GLEC's average of 10 t per loaded TEU
    unless the pack says otherwise (GLEC v3.0 pp.21, 50, 153)."""
    return teu * t_per_teu


def teu_from_mass_t(mass_t, t_per_teu):
    """TEU of freight known only by mass, for a factor per TEU-km or per TEU (GLEC v3.0 p.118)."""
    return mass_t * (1 / t_per_teu)


def tonne_km(mass_t, distance_km):
    """Transport activity of a leg: tkm = mass × distance, on the transport-activity distance
    (actual, SFD or GCD), per shipment (GLEC v3.0 pp.21–22, Fig. 2)."""
    return mass_t * distance_km


def teu_km(teu, distance_km):
    """Transport activity of a container leg in TEU-km (GLEC v3.0 pp.50, 99–100)."""
    return teu * distance_km
