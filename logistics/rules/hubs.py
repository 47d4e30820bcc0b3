"""Hub (logistics site) intensities: kg CO2e per outbound tonne (or TEU).

GLEC Framework v3.0 (Smart Freight Centre, revision 2024-04-02), pp.41 and 123: the hub activity is
the outbound freight; a site handling ambient and temperature-controlled freight spreads the energy
it uses for both (lighting, handling, heating, ...) over all its outbound freight, and the energy of
refrigeration over the temperature-controlled outbound freight only. The refrigerated intensity is
then the general intensity plus the refrigeration-only intensity (p.123).
"""

from __future__ import annotations


def hub_intensity_kg_per_t(emissions_kg, outbound_t):
    """kg CO2e per outbound tonne (GLEC Framework v3.0, p.41)."""
    return emissions_kg / outbound_t


def refrigerated_hub_intensity_kg_per_t(shared_emissions_kg, all_outbound_t, refrigeration_emissions_kg,
                                        refrigerated_outbound_t):
    """kg CO2e per outbound tonne of temperature-controlled freight at a site that also handles ambient
    freight: the shared energy's emissions over all outbound tonnes, plus the refrigeration energy's
    emissions over the temperature-controlled outbound tonnes only (GLEC Framework v3.0, p.123). The
    ambient intensity of the same site is ``hub_intensity_kg_per_t(shared_emissions_kg, all_outbound_t)``."""
    return shared_emissions_kg / all_outbound_t + refrigeration_emissions_kg / refrigerated_outbound_t
