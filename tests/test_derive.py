"""Carrier TOC / HOC intensities derived from fuel and energy records (logistics.derive), checked
against the GLEC Framework v3.0 worked examples (Smart Freight Centre 2023, revision 2024-04-02) and hand
calculations written next to each assertion. Fuel factors are the glec-v3.0 pack's: EU diesel
2.64 / 0.80 / 3.44 kg CO2e per l (TTW / WTT / WTW, GLEC v3.0 p.122), EU B5 2.51 / 0.82 / 3.32 kg/l
(GLEC v3.0 pp.104, 106), EU electricity 0 / 0.3492 / 0.3492 kg/kWh (GLEC v3.0 pp.77, 106)."""

from pathlib import Path

import polars as pl
import pytest

import logistics
from logistics.derive import derive_hocs, derive_tocs
from logistics.factors import SCHEMAS, conform_table, load_pack

FIXTURES = Path(__file__).parent / "fixtures" / "derive"
rel = pytest.approx


def toc(result, toc_id):
    return result.tocs.filter(pl.col("toc_id") == toc_id).row(0, named=True)


def calc(rows, **kw):
    return logistics.calculate(pl.DataFrame(rows), distance_resolver=None, **kw)


def test_w16_ex1_groupage_round_trips_incl_empty_running():
    # GLEC v3.0 p.149 Table 21: 15 legs, 561 l diesel, 29,455 tkm (empty legs add km, no tkm)
    d = derive_tocs(FIXTURES / "w16_ex1_groupage.csv")
    assert d.errors.height == 0
    r = toc(d, "groupage-eu")
    assert r["wtw_g_co2e_per_tkm"] == rel(561 * 3.44 / 29_455 * 1000)  # 65.518; GLEC v3.0 prints 65.4 = 0.0190 × 3.44
    assert r["wtw_g_co2e_per_tkm"] == rel(65.5182, abs=1e-4)
    assert r["ttw_g_co2e_per_tkm"] == rel(561 * 2.64 / 29_455 * 1000)  # 50.281
    assert r["wtt_g_co2e_per_tkm"] == rel(561 * 0.80 / 29_455 * 1000)  # 15.237
    assert r["energy_per_tkm"] == rel(0.019046, abs=1e-6)  # GLEC v3.0: 0.0190 l/tkm
    assert r["energy_unit"] == "l"
    # empty legs Depot→A 30, C→Depot 260, Depot→A 30, E→Depot 40 = 360 km of 1,805 km driven
    assert r["empty_running"] == rel(360 / 1805)
    assert (r["mode"], r["region"], r["energy_carrier"], r["data_type"]) == ("road", "EU", "diesel", "primary")
    assert r["source"] == "carrier records w16_ex1_groupage.csv"
    assert r["licence"] == "carrier's own data"
    assert r["pack_version"] == "glec-v3.0@3.0-2024-04"
    assert "diesel 561.0 l (glec3-fuel-eu-diesel-l)" in r["notes"] and "tkm 29455.0" in r["notes"]
    assert list(d.tocs.columns) == list(SCHEMAS["tocs"])
    conform_table(d.tocs, "tocs", "derived")  # raises when the table is not a valid pack table


def test_w16_ex1_derived_toc_then_consignments():
    # GLEC v3.0 p.150: 10 t A→C via B = 2,600 tkm; 18 t C→E via depot = 5,400 tkm; intensity 561 × 3.44 / 29,455 kg/tkm
    d = derive_tocs(FIXTURES / "w16_ex1_groupage.csv")
    r = calc({"shipment_id": ["c1", "c2"], "mode": ["road", "road"], "mass_kg": [10_000, 18_000],
              "distance_km": [260, 300], "toc_id": ["groupage-eu", "groupage-eu"]}, tocs=d.tocs)
    assert r.legs["error"].to_list() == [None, None]
    assert r.legs["tkm"].to_list() == [2_600, 5_400]
    assert r.legs["co2e_wtw_kg"].to_list() == rel([2_600 * 561 * 3.44 / 29_455, 5_400 * 561 * 3.44 / 29_455])  # 170.35, 353.80
    assert r.legs["co2e_ttw_kg"][0] == rel(2_600 * 561 * 2.64 / 29_455)
    assert r.legs["data_type"].to_list() == ["primary", "primary"]
    assert r.legs["factor_id"][0] == "groupage-eu"


def test_w16_ex2_hub_and_spoke_with_default_hub_handling():
    # GLEC v3.0 p.150 Table 22: 379 l over 23,585 tkm; transport 379 × 3.44 = 1,303.76 kg; hubs 0.6 kg/t × 22 t
    # at each of two hubs; total 1,330.16 kg → 56.4 g/tkm (exact 56.3986)
    d = derive_tocs(FIXTURES / "w16_ex2_hub_and_spoke.csv")
    r = toc(d, "network-eu")
    assert r["wtw_g_co2e_per_tkm"] == rel(379 * 3.44 / 23_585 * 1000)  # 55.279
    assert r["energy_per_tkm"] == rel(379 / 23_585)  # GLEC v3.0: 0.0161 l/tkm
    assert r["empty_running"] == 0.0
    # the network as one shipment: 23,585 tkm on the derived TOC plus the two default hubs
    res = calc({"shipment_id": ["net"] * 3, "mode": ["hub", "road", "hub"], "mass_kg": [22_000, 23_585, 22_000],
                "distance_km": [None, 1000, None], "toc_id": [None, "network-eu", None],
                "hub_type": ["transshipment", None, "transshipment"]}, tocs=d.tocs)
    assert res.legs["co2e_wtw_kg"].to_list() == rel([13.2, 1_303.76, 13.2])
    s = res.shipments.row(0, named=True)
    assert s["co2e_wtw_kg"] == rel(1_330.16)
    assert s["intensity_wtw_g_per_tkm"] == rel(56.3986, abs=1e-4)


def w5_records(tru_loss_kg):
    return pl.read_csv(FIXTURES / "w5_refrigerant_fleet.csv", infer_schema=False).with_columns(
        refrigerant_loss_kg=pl.when(pl.col("refrigerant_loss_kg") == "1.7875").then(pl.lit(str(tru_loss_kg)))
        .otherwise(pl.col("refrigerant_loss_kg"))
    )


def test_w5_refrigerant_leakage_with_s1_example_gwp():
    # GLEC v3.0 p.106: 10 trucks × (0.225 kg AC + 1.787 kg TRU) of R-134a at GWP 1430 (the example's value) = 28,771.6 kg
    # over 6,000,000 tkm = 0.0047953 kg/tkm added, in TTW only. The fuel record is the p.106 example's 100,000 l B5 (332,000 kg WTW).
    with_leaks = derive_tocs(w5_records(1.787), refrigerants={"R-134a": 1430})
    without = derive_tocs(w5_records(1.787).filter(pl.col("refrigerant_loss_kg").is_null()))
    r, base = toc(with_leaks, "reefer-fleet"), toc(without, "reefer-fleet")
    assert r["wtw_g_co2e_per_tkm"] - base["wtw_g_co2e_per_tkm"] == rel(28_771.6 / 6_000_000 * 1000)  # 4.7953
    assert r["wtw_g_co2e_per_tkm"] == rel((332_000 + 28_771.6) / 6_000_000 * 1000)  # 60.1286
    assert r["ttw_g_co2e_per_tkm"] == rel((251_000 + 28_771.6) / 6_000_000 * 1000)  # 46.6286
    assert r["wtt_g_co2e_per_tkm"] == base["wtt_g_co2e_per_tkm"] == rel(82_000 / 6_000_000 * 1000)
    assert "R-134a 20.12 kg x GWP100 1430.0" in r["notes"]


def test_w5_refrigerant_leakage_with_pack_ar6_gwp():
    # The pack holds GLEC v3.0's AR6 table: R-134a 1530 (pp.101–102); with the unrounded 1.7875 kg per TRU the loss is
    # 10 × 2.0125 × 1530 = 30,791.25 kg → 0.00513 kg/tkm (derived from the p.106 example)
    d = derive_tocs(FIXTURES / "w5_refrigerant_fleet.csv")
    r = toc(d, "reefer-fleet")
    assert r["wtw_g_co2e_per_tkm"] == rel((332_000 + 30_791.25) / 6_000_000 * 1000)  # 60.4652
    assert r["ttw_g_co2e_per_tkm"] == rel((251_000 + 30_791.25) / 6_000_000 * 1000)
    assert "R-134a 20.125 kg x GWP100 1530.0" in r["notes"]
    assert r["empty_running"] is None  # the records give tkm only, no distances


def test_refrigerant_gwp_given_on_the_record_and_unknown_refrigerant():
    rows = {"toc_id": ["t", "t", "u", "u"], "mode": ["road"] * 4, "region": ["EU"] * 4,
            "tkm": [1_000.0, None, 1_000.0, None], "fuel_amount": [10.0, None, 10.0, None],
            "fuel_unit": ["l", None, "l", None], "energy_carrier": ["diesel", None, "diesel", None],
            "refrigerant": [None, "in-house blend", None, "R-999"], "refrigerant_loss_kg": [None, 0.1, None, 0.1],
            "gwp100": [None, 2000.0, None, None]}
    d = derive_tocs(pl.DataFrame(rows))
    # t: (10 × 3.44 + 0.1 × 2000) kg / 1,000 tkm = 0.2344 kg/tkm; TTW 10 × 2.64 + 200 = 226.4 kg
    assert toc(d, "t")["wtw_g_co2e_per_tkm"] == rel(234.4)
    assert toc(d, "t")["ttw_g_co2e_per_tkm"] == rel(226.4)
    assert d.tocs["toc_id"].to_list() == ["t"]
    assert d.errors.rows() == [
        (3, "u", "toc_id: TOC 'u' not derived: 1 of its records have errors (first on row 4)"),
        (4, "u", "refrigerant: 'R-999' has no GWP100 in pack glec-v3.0; give gwp100 or a refrigerants table"),
    ]


def test_w18_bulk_and_container_truck_intensities_and_customer_allocation():
    # GLEC v3.0 pp.140–141 Tables 15–16: bulk truck 7,680 kg / 128,000 tkm = 0.060 kg/tkm; container truck
    # 5,280 kg / 60,000 tkm = 0.088; customer 50,000 tkm × 0.060 + 10,000 × 0.088 = 3,880 kg.
    # GLEC v3.0 prints the emissions only; the diesel litres are back-computed at 3.44 kg/l.
    records = pl.DataFrame({
        "toc_id": ["bulk", "bulk", "container", "container"], "mode": ["road"] * 4, "region": ["EU"] * 4,
        "tkm": [128_000.0, None, 60_000.0, None], "fuel_amount": [None, 7_680 / 3.44, None, 5_280 / 3.44],
        "fuel_unit": [None, "l", None, "l"], "energy_carrier": [None, "diesel", None, "diesel"],
    })
    d = derive_tocs(records)
    assert toc(d, "bulk")["wtw_g_co2e_per_tkm"] == rel(60.0)
    assert toc(d, "container")["wtw_g_co2e_per_tkm"] == rel(88.0)
    r = calc({"shipment_id": ["customer", "customer"], "mode": ["road", "road"], "mass_kg": [50_000, 10_000],
              "distance_km": [1000, 1000], "toc_id": ["bulk", "container"]}, tocs=d.tocs)
    assert r.legs["co2e_wtw_kg"].to_list() == rel([3_000.0, 880.0])
    assert r.shipments["co2e_wtw_kg"][0] == rel(3_880.0)


def test_w18_fuel_totals_of_a_multi_fuel_toc():
    # GLEC v3.0 p.140 Table 13: diesel 80,000,000 l × 3.44 + B5 20,000,000 l × 3.32 + B100 1,000,000 l × 1.13
    # = 342,730 t CO2e. Divided by an assumed 1,000,000,000 tkm: 0.34273 kg/tkm. Amounts in kl and m3 (× 1000 l).
    records = pl.DataFrame({
        "toc_id": ["fleet"] * 4, "mode": ["road"] * 4, "region": ["EU"] * 4,
        "tkm": [1e9, None, None, None], "fuel_amount": [None, 80_000.0, 20_000.0, 1_000.0],
        "fuel_unit": [None, "kl", "KL", "m3"], "energy_carrier": [None, "diesel", "diesel_b5", "biodiesel"],
    })
    r = toc(derive_tocs(records), "fleet")
    assert r["wtw_g_co2e_per_tkm"] == rel(342_730_000 / 1e9 * 1000)
    assert r["energy_carrier"] is None and r["energy_per_tkm"] is None  # three fuels: no single energy intensity
    assert "diesel 80000000.0 l (glec3-fuel-eu-diesel-l)" in r["notes"]


def test_w8_rail_round_trip_with_the_examples_grid_factor():
    # GLEC v3.0 p.113 Table 6: south leg 1,320 t × 400 km, 3,506 kg; north leg 792 t × 400 km, 3,023 kg at 322 g/kWh.
    # Round trip: 6,529 kg / 844,800 tkm = 7.7285 g/tkm (GLEC v3.0 prints 7.75 from rounded averages);
    # shipper 50 t × 400 km = 20,000 tkm → 154.57 kg (GLEC v3.0: 155 with 7.75).
    pack = load_pack("glec-v3.0")
    grid = pl.DataFrame({
        "factor_id": ["w8-grid-kwh"], "energy_carrier": ["electricity"], "fuel_region": ["W8"], "unit": ["kWh"],
        "ttw_kg_co2e_per_unit": [0.0], "wtt_kg_co2e_per_unit": [0.322], "wtw_kg_co2e_per_unit": [0.322],
        "source": ["GLEC Framework v3.0 W8"], "source_page": ["p.113"], "pack_version": ["test"], "licence": ["test"],
        "notes": [None],
    }, schema=SCHEMAS["fuels"])
    pack.tables["fuels"] = pl.concat([pack.table("fuels"), grid])
    records = pl.DataFrame({
        "toc_id": ["rail-eu"] * 2, "mode": ["rail"] * 2, "mass_kg": [1_320_000.0, 792_000.0], "distance_km": [400.0, 400.0],
        "fuel_amount": [3_506 / 0.322, 3_023 / 0.322], "fuel_unit": ["kWh"] * 2, "energy_carrier": ["electricity"] * 2,
        "fuel_region": ["W8"] * 2,
    })
    d = derive_tocs(records, pack=pack)
    r = toc(d, "rail-eu")
    assert r["wtw_g_co2e_per_tkm"] == rel(6_529 / 844_800 * 1000)
    assert r["ttw_g_co2e_per_tkm"] == 0.0
    res = calc({"shipment_id": ["s"], "mode": ["rail"], "mass_kg": [50_000], "distance_km": [400], "toc_id": ["rail-eu"]},
               pack=pack, tocs=d.tocs)
    assert res.legs["co2e_wtw_kg"][0] == rel(20_000 * 6_529 / 844_800)  # 154.57


TEMPERATURE_RECORDS = {
    "toc_id": ["city"] * 4, "mode": ["road"] * 4, "region": ["EU"] * 4,
    "temperature_control": ["ambient", "refrigerated", "refrigerated", "reefer"],
    "mass_kg": [10_000.0, 8_000.0, 0.0, None], "distance_km": [100.0, 100.0, 50.0, None],
    "fuel_amount": [30.0, 35.0, 10.0, None], "fuel_unit": ["l", "l", "l", None],
    "energy_carrier": ["diesel", "diesel", "diesel", None],
    "refrigerant": [None, None, None, "R-404A"], "refrigerant_loss_kg": [None, None, None, 0.01],
}


def test_separate_intensities_per_temperature_condition():
    # GLEC v3.0 pp.30, 32–34. ambient: 30 l × 3.44 / 1,000 tkm = 103.2 g/tkm (TTW 79.2).
    # refrigerated: (45 l × 3.44 + 0.01 kg R-404A × 4728) / 800 tkm = (154.8 + 47.28) / 800 = 252.6 g/tkm;
    # TTW (118.8 + 47.28) / 800 = 207.6; WTT 36 / 800 = 45.0; empty running 50 / 150 km.
    d = derive_tocs(pl.DataFrame(TEMPERATURE_RECORDS))
    assert d.tocs["toc_id"].to_list() == ["city-ambient", "city-refrigerated"]
    amb, ref = toc(d, "city-ambient"), toc(d, "city-refrigerated")
    assert (amb["temperature_control"], ref["temperature_control"]) == ("ambient", "refrigerated")
    assert (amb["wtw_g_co2e_per_tkm"], amb["ttw_g_co2e_per_tkm"]) == (rel(103.2), rel(79.2))
    assert (ref["wtw_g_co2e_per_tkm"], ref["ttw_g_co2e_per_tkm"], ref["wtt_g_co2e_per_tkm"]) == (rel(252.6), rel(207.6), rel(45.0))
    assert (amb["empty_running"], ref["empty_running"]) == (0.0, rel(1 / 3))
    # 1 t × 100 km on the refrigerated TOC: 100 tkm × 0.2526 = 25.26 kg
    r = calc({"shipment_id": ["s"], "mode": ["road"], "mass_kg": [1_000], "distance_km": [100],
              "toc_id": ["city-refrigerated"]}, tocs=d.tocs)
    assert r.legs["co2e_wtw_kg"][0] == rel(25.26)


def test_a_record_without_its_temperature_condition_withholds_the_toc():
    untagged_empty_leg = {**TEMPERATURE_RECORDS, "temperature_control": ["ambient", "refrigerated", None, "reefer"]}
    d = derive_tocs(pl.DataFrame(untagged_empty_leg))
    assert d.tocs.height == 0
    assert d.errors["row"].to_list() == [1, 2, 3, 4]
    assert d.errors["error"][2] == ("temperature_control: missing; TOC 'city' has records for ambient, refrigerated"
                                    " and each needs its own (GLEC Framework v3.0 pp.30, 32–34)")
    assert d.errors["error"][0] == "toc_id: TOC 'city' not derived: 1 of its records have errors (first on row 3)"


def test_a_single_temperature_condition_keeps_the_id_and_fills_untagged_records():
    records = {"toc_id": ["r"] * 2, "mode": ["road"] * 2, "temperature_control": ["chilled", None],
               "tkm": [1_000.0, None], "fuel_amount": [None, 10.0], "fuel_unit": [None, "l"],
               "energy_carrier": [None, "diesel"], "region": ["EU", "EU"]}
    d = derive_tocs(pl.DataFrame(records))
    r = toc(d, "r")
    assert r["temperature_control"] == "refrigerated"
    assert r["wtw_g_co2e_per_tkm"] == rel(34.4)  # 10 l × 3.44 / 1,000 tkm


def test_unusable_records_are_reported_with_row_number_and_reason():
    d = derive_tocs(FIXTURES / "errors.csv")
    assert d.tocs["toc_id"].to_list() == ["ok"]
    assert toc(d, "ok")["wtw_g_co2e_per_tkm"] == rel(172.0)  # 50 l × 3.44 / (10 t × 100 km)
    assert d.errors.rows() == [
        (2, "bad-carrier", "energy_carrier: 'unobtainium' has no fuel factor"),
        (3, "bad-carrier", "toc_id: TOC 'bad-carrier' not derived: 1 of its records have errors (first on row 2)"),
        (4, "negative", "fuel_amount: -5.0 is negative"),
        (5, "no-tkm", "tkm: TOC 'no-tkm' has fuel but no transport activity (tkm and TEU-km sum to 0)"),
        (6, None, "toc_id: missing"),
        (7, "typo", "tkm: 'lots' is not a number"),
    ]
    # every record is either in a derived row or in errors
    assert toc(d, "ok")["notes"].startswith("records 1;")


def test_mode_is_required_and_can_come_from_defaults():
    records = pl.DataFrame({"toc_id": ["v"], "tkm": [500.0], "fuel_amount": [5.0], "fuel_unit": ["l"],
                            "energy_carrier": ["diesel"], "region": ["EU"]})
    d = derive_tocs(records)
    assert d.errors.rows() == [(1, "v", "mode: missing for TOC 'v' (give it on the records or in defaults)")]
    d = derive_tocs(records, defaults={"mode": "road", "vehicle": "artic_40t"})
    assert (toc(d, "v")["mode"], toc(d, "v")["vehicle"]) == ("road", "artic_40t")
    assert toc(d, "v")["wtw_g_co2e_per_tkm"] == rel(34.4)  # 5 l × 3.44 / 500 tkm


PERIOD_RECORDS = {"toc_id": ["t"] * 2, "mode": ["road"] * 2, "region": ["EU"] * 2, "period": ["2024-Q1", "2024-Q2"],
                  "mass_kg": [10_000.0, 10_000.0], "distance_km": [100.0, 100.0], "fuel_amount": [30.0, 40.0],
                  "fuel_unit": ["l", "l"], "energy_carrier": ["diesel", "diesel"]}


def test_one_row_per_period():
    # Q1: 30 l × 3.44 / 1,000 tkm = 103.2 g/tkm; Q2: 40 l → 137.6 g/tkm
    d = derive_tocs(pl.DataFrame(PERIOD_RECORDS))
    assert d.tocs.select("toc_id", "source_page").rows() == [("t@2024-Q1", "2024-Q1"), ("t@2024-Q2", "2024-Q2")]
    assert d.tocs["wtw_g_co2e_per_tkm"].to_list() == rel([103.2, 137.6])
    one = derive_tocs(pl.DataFrame(PERIOD_RECORDS), period="2024-Q2")
    assert one.tocs.select("toc_id", "source_page", "wtw_g_co2e_per_tkm").rows() == [("t", "2024-Q2", rel(137.6))]
    with pytest.raises(logistics.InputError, match=r"period '2023': no records .the records give 2024-Q1, 2024-Q2"):
        derive_tocs(pl.DataFrame(PERIOD_RECORDS), period="2023")
    labelled = derive_tocs(pl.DataFrame(PERIOD_RECORDS).drop("period"), period="2024")
    assert labelled.tocs.select("toc_id", "source_page").rows() == [("t", "2024")]  # 70 l over 2,000 tkm
    assert labelled.tocs["wtw_g_co2e_per_tkm"][0] == rel(70 * 3.44 / 2_000 * 1000)


def test_container_toc_per_teu_km():
    # 100 TEU × 1,000 km out, empty return 1,000 km; 14,000 kg EU HFO (3.18 / 0.68 / 3.86 kg/kg, GLEC v3.0 p.77):
    # WTW 54,040 kg / 100,000 TEU-km = 540.4 g/TEU-km, TTW 445.2, WTT 95.2; empty running 0.5
    records = pl.DataFrame({"toc_id": ["feeder"] * 2, "mode": ["sea"] * 2, "region": ["EU"] * 2,
                            "teu": [100.0, 0.0], "distance_km": [1_000.0, 1_000.0], "fuel_amount": [10_000.0, 4_000.0],
                            "fuel_unit": ["kg", "kg"], "energy_carrier": ["hfo", "hfo"]})
    d = derive_tocs(records)
    r = toc(d, "feeder")
    assert (r["wtw_g_co2e_per_teu_km"], r["ttw_g_co2e_per_teu_km"], r["wtt_g_co2e_per_teu_km"]) == (rel(540.4), rel(445.2), rel(95.2))
    assert r["wtw_g_co2e_per_tkm"] is None and r["empty_running"] == 0.5
    # 2 TEU × 500 km = 1,000 TEU-km × 0.5404 kg = 540.4 kg
    res = calc({"shipment_id": ["s"], "mode": ["sea"], "teu": [2], "distance_km": [500], "toc_id": ["feeder"]}, tocs=d.tocs)
    assert res.legs["co2e_wtw_kg"][0] == rel(540.4)


def test_records_mixing_mass_only_and_teu_only_cannot_be_divided():
    base = {"toc_id": ["box"] * 3, "mode": ["sea"] * 3, "distance_km": [100.0] * 3, "fuel_amount": [100.0] * 3,
            "fuel_unit": ["kg"] * 3, "energy_carrier": ["hfo"] * 3, "region": ["EU"] * 3}
    # both on the first, mass only on the second: the tkm total is complete (15,000 tkm), the TEU-km total is not
    d = derive_tocs(pl.DataFrame({**base, "mass_kg": [100_000.0, 50_000.0, 0.0], "teu": [10.0, None, None]}))
    r = toc(d, "box")
    assert r["wtw_g_co2e_per_tkm"] == rel(300 * 3.86 / 15_000 * 1000) and r["wtw_g_co2e_per_teu_km"] is None
    d = derive_tocs(pl.DataFrame({**base, "mass_kg": [100_000.0, 50_000.0, None], "teu": [10.0, None, 10.0]}))
    assert d.tocs.height == 0
    assert d.errors["error"].unique().to_list() == [
        "teu: TOC 'box' mixes records with only a mass and records with only TEU; give both on every loaded record"]


def test_hub_intensities_per_outbound_tonne_and_teu():
    # hub-a: electricity 12,000 kWh × 0.3492 = 4,190.4 kg (WTT); natural gas 5,000 kWh × 0.21 / 0.08 / 0.29
    # (GLEC v3.0 p.122) = 1,050 / 400 / 1,450 kg; R-404A 0.5 kg × 4728 = 2,364 kg TTW; outbound 8,000 t.
    # TTW 3,414 / 8,000 = 0.42675; WTT 4,590.4 / 8,000 = 0.5738; WTW 8,004.4 / 8,000 = 1.00055 kg/t.
    # terminal-b: 50,000 kWh × 0.3492 + 2,000 l diesel × 3.44 = 17,460 + 6,880 = 24,340 kg / 2,000 TEU = 12.17.
    d = derive_hocs(FIXTURES / "hubs.csv")
    assert d.errors.height == 0
    assert list(d.hocs.columns) == list(SCHEMAS["hocs"])
    hub = d.hocs.filter(pl.col("hoc_id") == "hub-a").row(0, named=True)
    assert (hub["ttw_kg_co2e_per_t"], hub["wtt_kg_co2e_per_t"], hub["wtw_kg_co2e_per_t"]) == (rel(0.42675), rel(0.5738), rel(1.00055))
    assert hub["hub_type"] == "transshipment" and hub["wtw_kg_co2e_per_teu"] is None
    term = d.hocs.filter(pl.col("hoc_id") == "terminal-b").row(0, named=True)
    assert (term["ttw_kg_co2e_per_teu"], term["wtw_kg_co2e_per_teu"]) == (rel(2.64), rel(12.17))
    # through the engine: 22 t out of hub-a = 22.0121 kg; 3 TEU through terminal-b = 36.51 kg
    r = calc({"shipment_id": ["s", "s"], "mode": ["hub", "hub"], "mass_kg": [22_000, None], "teu": [None, 3],
              "hoc_id": ["hub-a", "terminal-b"]}, hocs=d.hocs)
    assert r.legs["co2e_wtw_kg"].to_list() == rel([22 * 1.00055, 36.51])


def test_hub_without_outbound_freight_or_hub_type():
    records = pl.DataFrame({"hoc_id": ["h", "h", "g", "g"], "hub_type": [None, None, "warehouse", "warehouse"],
                            "fuel_amount": [100.0, None, 100.0, None], "fuel_unit": ["kWh", None, "kWh", None],
                            "energy_carrier": ["electricity", None, "electricity", None], "region": ["EU"] * 4,
                            "outbound_t": [None, 10.0, None, 0.0]})
    d = derive_hocs(records)
    assert d.hocs.height == 0
    assert d.errors.rows() == [
        (1, "h", "hub_type: missing for HOC 'h' (give it on the records or in defaults)"),
        (2, "h", "hub_type: missing for HOC 'h' (give it on the records or in defaults)"),
        (3, "g", "outbound_t: HOC 'g' has energy but no outbound freight (outbound_t and outbound_teu sum to 0)"),
        (4, "g", "outbound_t: HOC 'g' has energy but no outbound freight (outbound_t and outbound_teu sum to 0)"),
    ]
    fixed = derive_hocs(records.filter(pl.col("hoc_id") == "h"), defaults={"hub_type": "warehouse"})
    assert fixed.hocs["wtw_kg_co2e_per_t"][0] == rel(100 * 0.3492 / 10)  # 3.492 kg/t
