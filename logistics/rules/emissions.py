"""Emissions of a transport chain element (GLEC v3.0 pp.26–27, 104–106; ISO 14083:2023 §6–7).

Each holds for TTW, WTT and WTW alike (WTW = TTW + WTT): call it once per scope with that
scope's factor.
"""

from __future__ import annotations

from .activity import KG_PER_T


def transport_kg(activity, intensity_kg_per_unit, daf):
    """Emissions of a transport leg: E = activity × EI × DAF, activity in tkm (or TEU-km) and EI in
    kg CO2e per tkm (or per TEU-km), DAF bridging the two distance types (GLEC v3.0 p.26)."""
    return activity * intensity_kg_per_unit * daf


def fuel_kg(fuel_amount, factor_kg_per_unit):
    """Emissions of a leg from its measured fuel or energy: E = fuel × emission factor, fuel in the
    unit the factor is per (GLEC v3.0 pp.105–106)."""
    return fuel_amount * factor_kg_per_unit


def hub_kg(outbound, intensity_kg_per_unit):
    """Emissions of a hub: E = outbound freight (t or TEU) × EI_HOC (GLEC v3.0 pp.23, 26, 41)."""
    return outbound * intensity_kg_per_unit


def intensity_g_per_tkm(co2e_kg, tkm):
    """Emission intensity in g CO2e per tonne-km of transport activity (GLEC v3.0 pp.27, 60)."""
    return co2e_kg * KG_PER_T / tkm


def well_to_wheel(ttw, wtt):
    """WTW = TTW (operational) + WTT (energy provision) (GLEC v3.0 p.27; ISO 14083:2023 §5.3)."""
    return ttw + wtt


def share(part, whole):
    """A part of a total as a fraction, e.g. the share of WTW from primary data (GLEC v3.0 p.61)."""
    return part / whole
