"""Non-transport emissions attached to a transport chain element: tank and container cleaning.

GLEC Framework v3.0 (Smart Freight Centre, revision 2024-04-02), Module 5 (Cefic/ECTA guidance for
chemical logistics), pp.132 and 138: add 86.6 kg CO2e for each tank-cleaning operation, where the
cleaning takes place. The figure is EFTCO's: gas 881.6 MJ (68.6 kg CO2e), gas oil 12.77 MJ at
95.4 g CO2e/MJ (1.2 kg) and electricity 48.0 kWh at 0.349 kg CO2e/kWh (16.8 kg). GLEC prints the
total only, so it carries no TTW/WTT split. The factor itself lives in a pack's ``tce_addons``
table (activity ``tank_cleaning``, unit ``cleaning``), never in code.
"""

from __future__ import annotations


def cleaning_emissions_kg(cleanings, factor_kg_co2e_per_cleaning):
    """kg CO2e of ``cleanings`` cleaning operations at ``factor_kg_co2e_per_cleaning`` each
    (GLEC Framework v3.0, pp.132, 138: 86.6 kg CO2e per tank cleaning). Apply it per basis (TTW,
    WTT, WTW) with that basis' factor; a factor without a split gives WTW only."""
    return cleanings * factor_kg_co2e_per_cleaning
