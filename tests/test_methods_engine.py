"""End-to-end expectations for the parts of the GLEC methods that live inside the engine: tank
cleaning added to a TCE (and carried into the exports), location-based electricity chosen per leg by
``country`` / ``grid_region``, and the Japanese edition passed through the batch CLI. The data
(``tce_addons``, ``grid_electricity``, ``jp-moe-2007``) and the formulas (``logistics.rules.cleaning``,
``logistics.rules.electricity``, ``logistics.grids``) exist; the engine's wiring does not yet, so
the engine wires them in: add-on emissions per TCE, a grid factor per key that names a country.

Golden values (hand calculations from the packs' figures):
- GLEC Framework v3.0 (Smart Freight Centre, revision 2024-04-02) p.132 Table 3: chemical bulk tank
  truck, ambient, artic ≤40 t on B5: TTW 50 / WTT 16 / WTW 66 g CO2e/tkm; pp.132, 138: 86.6 kg CO2e
  per tank cleaning (total only).
- GLEC Framework v3.0 p.93 Table 10: battery-electric rigid 3.5–7.5 t, average/mixed 0.51 kWh/tkm.
- Grid factors (pack ``grid-electricity``): DE 2024 0.34413992 kg/kWh (Our World in Data / Ember);
  US-CA eGRID2023 394.769 lb/MWh × 0.45359237 / 1000 = 0.179064206 kg/kWh.
"""

import polars as pl
import pytest
from typer.testing import CliRunner

import logistics
from logistics import exchange
from logistics.cli import app

rel = pytest.approx


def calc(rows: dict, **kw):
    return logistics.calculate(pl.DataFrame(rows), distance_resolver=None, **kw)


TANK = {"shipment_id": ["S1"], "mode": ["road"], "mass_kg": [20_000.0], "distance_km": [300.0], "vehicle": ["artic_40t"],
        "energy_carrier": ["diesel_b5"], "region": ["EU"], "load_type": ["chemical_bulk_tank_truck"],
        "temperature_control": ["ambient"]}


def test_tank_cleaning_is_added_to_the_leg_and_the_shipment():
    r = calc({**TANK, "cleanings": [2.0]})
    leg = r.legs.row(0, named=True)
    # transport: 20 t × 300 km = 6,000 tkm × 66 g = 396 kg WTW (TTW 300, WTT 96); cleaning 2 × 86.6 = 173.2 kg
    assert leg["error"] is None
    assert leg["addon_co2e_wtw_kg"] == rel(173.2) and leg["addon_ids"] == "glec3-addon-tank_cleaning"
    assert leg["co2e_wtw_kg"] == rel(396 + 173.2)
    assert (leg["co2e_ttw_kg"], leg["co2e_wtt_kg"]) == (rel(300), rel(96))  # the cleaning has no split
    assert leg["intensity_wtw_g_per_tkm"] == rel((396 + 173.2) * 1000 / 6_000)
    s = r.shipments.row(0, named=True)
    assert (s["co2e_wtw_kg"], s["co2e_wtw_unsplit_kg"]) == (rel(569.2), rel(173.2))


def test_cleanings_errors_name_the_column():
    r = calc({**TANK, "cleanings": [-1.0]})
    assert r.legs["error"][0] == "cleanings: -1.0 is negative"
    r = calc({**TANK, "region": ["UK"], "vehicle": ["artic_33t+"], "energy_carrier": ["diesel"], "load_type": ["average"],
              "cleanings": [1.0]}, pack="open-2025")
    assert r.legs["error"][0] == "cleanings: pack open-2025 has no tank_cleaning factor (tce_addons)"
    r = calc({**TANK, "cleanings": [0.0]})  # no cleaning: nothing added, no error
    assert r.legs["co2e_wtw_kg"][0] == rel(396) and r.legs["addon_co2e_wtw_kg"][0] == 0


def test_tank_cleaning_in_the_ileap_tce():
    r = calc({**TANK, "cleanings": [2.0]})
    result = exchange.build_export(r.legs, r.shipments, "ileap", exchange.ExchangeConfig(demo=True), pack="glec-v3.0",
                                   factors=r.factors)
    sf = next(d for d in result.documents if d.get("shipmentId") == "S1")
    tce = sf["tces"][0]
    # iLEAP has no field for non-transport emissions: they are in the TCE's co2eWTW, and (unsplit)
    # in its co2eTTW as an upper bound, with a note naming the TCE and the cleaning factor
    assert (tce["co2eWTW"], tce["co2eTTW"]) == ("569.2", "473.2")
    assert any("tank cleaning" in n and "S1-1" in n for n in result.notes)


BEV = {"shipment_id": ["S2"], "mode": ["road"], "mass_kg": [2_000.0], "distance_km": [500.0], "vehicle": ["rigid_3.5-7.5t"],
       "energy_carrier": ["electricity"], "region": ["EU"], "load_type": ["average"]}


def test_electric_leg_uses_the_grid_of_its_country():
    r = calc({**BEV, "country": ["DE"]})
    leg = r.legs.row(0, named=True)
    # 2 t × 500 km = 1,000 tkm × 0.51 kWh/tkm = 510 kWh × 0.34413992 = 175.5114 kg, TTW 0
    assert leg["co2e_wtw_kg"] == rel(510 * 0.34413992) and leg["co2e_ttw_kg"] == 0
    assert leg["factor_id"] == "glec3-road-eu-rigid_3.5-7.5t-electricity-average~grid-de-2024"
    factor = r.factors.row(0, named=True)  # the grid row behind the factor, its year and source
    assert factor["fuel_factor_id"] == "grid-de-2024" and factor["wtw_kg_per_unit"] == rel(0.51 * 0.34413992)
    assert "grid-de-2024 0.34413992 kg CO2e/kWh (2024" in factor["notes"] and "CC-BY-4.0" in factor["notes"]


def test_electric_leg_uses_its_grid_region():
    r = calc({**BEV, "country": ["US"], "grid_region": ["US-CA"]})
    assert r.legs["co2e_wtw_kg"][0] == rel(510 * 0.179064206)
    assert r.legs["factor_id"][0].endswith("~grid-us-ca-2023")


def test_electric_leg_without_country_keeps_the_pack_average_and_bad_grid_is_an_error():
    # GLEC v3.0 p.77: EU-27 average 2019, 349.2 g/kWh -> 510 × 0.3492 = 178.092 kg (today's behaviour)
    assert calc(BEV).legs["co2e_wtw_kg"][0] == rel(178.092)
    r = calc({**BEV, "country": ["US"], "grid_region": ["US-ZZ"]})
    assert r.legs["error"][0].startswith("grid_region: 'US-ZZ' is not a grid region of US")
    assert r.legs["co2e_wtw_kg"][0] is None


def test_measured_electricity_uses_the_grid_of_its_country():
    r = calc({"shipment_id": ["S3"], "mode": ["rail"], "mass_kg": [100_000.0], "distance_km": [400.0], "energy_carrier": ["electricity"],
              "fuel_amount": [10_000.0], "fuel_unit": ["kWh"], "country": ["FR"]})
    # 10,000 kWh × FR 2024 0.044179085 kg/kWh = 441.79 kg
    assert r.legs["co2e_wtw_kg"][0] == rel(10_000 * 0.044179085)


def test_batch_cli_passes_the_japanese_edition(tmp_path):
    legs = tmp_path / "legs.csv"
    legs.write_text("shipment_id,method,mode,energy_carrier,fuel_amount,fuel_unit,mass_kg,distance_km\n"
                    "J1,jp_fuel,road,diesel,100,l,2000,30\n")
    r = CliRunner().invoke(app, ["calculate", str(legs), "--out", str(tmp_path / "r.csv"), "--jp-pack", "jp-moe-2007",
                                 "--no-progress"])
    assert r.exit_code == 0, r.output
    row = pl.read_csv(tmp_path / "r.csv").row(0, named=True)
    # 100 l × 38.2 MJ/l × 0.0187 kg-C/MJ × 44/12 = 261.925 kg CO2 TTW (環境省 2007 edition)
    assert row["jp_co2_ttw_kg"] == rel(261.925, abs=1e-3)
    factors = pl.read_csv(tmp_path / "r.factors.csv")  # written beside the results
    assert factors.filter(pl.col("factor_id") == row["factor_id"])["factor_pack"].to_list() == ["jp-moe-2007@0.2.0"]
