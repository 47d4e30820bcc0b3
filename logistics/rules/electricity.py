"""Electricity used by transport (battery-electric road, electric rail) and by hubs, location based.

GLEC Framework v3.0 (Smart Freight Centre, revision 2024-04-02): electricity has no tank-to-wheel
emissions, all of it is energy provision (p.77: EU electricity TTW 0 g/MJ); emissions are energy
used × grid factor (p.106: 100,000 kWh × 349.2 g CO2e/kWh = 34,920 kg); battery-electric road
defaults are energy intensities in kWh per tkm to be multiplied by a grid factor (p.93,
Tables 10–11). Grid factors should be location based and include transmission and distribution
losses (pp.18, 106, citing ISO 14083 Annex J.3); which table rows meet that is stated per row of
the pack table ``grid_electricity`` (column ``basis``).
"""

from __future__ import annotations

# The international avoirdupois pound is exactly 0.45359237 kg (International Yard and Pound
# Agreement, 1959; GLEC Framework v3.0 p.153 rounds it to 0.000453592 t).
KG_PER_LB = 0.45359237


def energy_kwh(tkm, energy_kwh_per_tkm):
    """kWh used by a transport leg from its activity and an energy intensity (GLEC Framework v3.0,
    p.93, Tables 10–11: battery-electric trucks in kWh/tkm)."""
    return tkm * energy_kwh_per_tkm


def electricity_emissions_kg(energy_kwh, grid_kg_co2e_per_kwh):
    """kg CO2e of ``energy_kwh`` at a grid factor in kg CO2e per kWh (GLEC Framework v3.0, p.106).
    Use it for the WTT and WTW bases; the TTW emissions of electricity are 0 (p.77)."""
    return energy_kwh * grid_kg_co2e_per_kwh


def kg_per_kwh_from_lb_per_mwh(lb_per_mwh):
    """A grid factor in lb per MWh (the unit of US EPA eGRID) in kg per kWh."""
    return lb_per_mwh * (KG_PER_LB / 1000.0)


def kg_per_kwh_from_g_per_mj(g_per_mj):
    """A grid factor in g CO2e per MJ (GLEC Framework v3.0 Module 1) in kg per kWh: 1 kWh = 3.6 MJ
    (p.106: 97.0 g/MJ = 349.2 g/kWh)."""
    return g_per_mj * (3.6 / 1000.0)
