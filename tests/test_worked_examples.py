"""GLEC Framework v3.0 worked examples (Smart Freight Centre 2023, revision 2024-04-02), through the engine.

Each test names the example's page and the printed figures; a tolerance is given only where the
publication rounds intermediate figures.
"""

import polars as pl
import pytest

import logistics
from logistics.allocation import allocate, milk_run_shares, peq_shares

rel = pytest.approx


def calc(rows, **kw):
    """Results with full provenance: the input as read and each factor's provenance on every row."""
    kw.setdefault("distance_resolver", None)
    kw.setdefault("provenance", "full")
    return logistics.calculate(pl.DataFrame(rows), **kw)


def own_tocs(rows):
    """A carrier's TOC table in the pack schema (intensities in g CO2e per tkm)."""
    base = {"mode": "road", "data_type": "primary", "source": "carrier records", "pack_version": "test", "licence": "test"}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_w1_tkm_per_shipment():
    # GLEC v3.0 p.23: 10 t × 1000 km, 40 × 400, 400 × 300, 10 × 700, 60 × 1200
    r = calc({
        "shipment_id": list("12345"), "mode": ["road"] * 5,
        "mass_kg": [10_000, 40_000, 400_000, 10_000, 60_000], "distance_km": [1000, 400, 300, 700, 1200],
        "vehicle": ["artic_40t"] * 5, "energy_carrier": ["diesel"] * 5, "region": ["EU"] * 5,
    })
    assert r.legs["tkm"].to_list() == [10_000, 16_000, 120_000, 7_000, 72_000]
    assert r.shipments["tkm"].sum() == 225_000


def test_w2_w3_ileap_two_road_tces_with_carrier_tocs():
    # iLEAP Technical Specifications v1.0.0, End-to-End Example (data collection by the LSP from carrier A):
    # shipment of 87 kg; TCE abcdef 423 km WTW 3.6801 TTW 3.2801; TCE ghijkl 321 km WTW 4.74759 TTW 4.272831.
    # Implied intensities (DERIVED): 0.1 and 0.17 kg/tkm WTW; TTW 3.2801/36.801 and 0.153 kg/tkm.
    tocs = own_tocs([
        {"toc_id": "carrier-a", "wtw_g_co2e_per_tkm": 100.0, "ttw_g_co2e_per_tkm": 3.2801 / 36.801 * 1000,
         "wtt_g_co2e_per_tkm": 100.0 - 3.2801 / 36.801 * 1000},
        {"toc_id": "carrier-b", "wtw_g_co2e_per_tkm": 170.0, "ttw_g_co2e_per_tkm": 153.0, "wtt_g_co2e_per_tkm": 17.0},
    ])
    r = calc({
        "shipment_id": ["1237890"] * 2, "leg_id": ["abcdef", "ghijkl"], "mode": ["road"] * 2,
        "mass_kg": [87, 87], "distance_km": [423, 321], "toc_id": ["carrier-a", "carrier-b"],
    }, tocs=tocs)
    legs = r.legs
    assert legs["tkm"].to_list() == rel([36.801, 27.927])
    assert legs["co2e_wtw_kg"].to_list() == rel([3.6801, 4.74759])
    assert legs["co2e_ttw_kg"].to_list() == rel([3.2801, 4.272831])
    s = r.shipments.row(0, named=True)
    assert s["tkm"] == rel(64.728)
    assert s["co2e_wtw_kg"] == rel(8.42769)
    assert s["primary_data_share"] == 1.0
    # iLEAP v1.0.0, TCE transportActivity: 700 km × 230 kg = 161 tkm
    assert calc({"shipment_id": ["x"], "mode": ["road"], "mass_kg": [230], "distance_km": [700],
                 "toc_id": ["carrier-a"]}, tocs=tocs).legs["tkm"][0] == rel(161.0)


def test_w4_toc_from_fuel_per_tkm():
    # GLEC v3.0 p.104: 0.15 l B5 diesel per tkm × 3.32 kg/l = 0.498 kg/tkm; 450 kg over 20 km → 4.482 kg
    tocs = own_tocs([{"toc_id": "b5-van", "energy_per_tkm": 0.15, "energy_unit": "l", "energy_carrier": "diesel_b5", "region": "EU"}])
    r = calc({"shipment_id": ["c"], "mode": ["road"], "mass_kg": [450], "distance_km": [20], "toc_id": ["b5-van"]}, tocs=tocs)
    leg = r.legs.row(0, named=True)
    assert leg["co2e_wtw_kg"] == rel(4.482)
    assert leg["intensity_wtw_g_per_tkm"] == rel(498.0)
    assert leg["fuel_factor_id"] is not None


def test_w5_fuel_based_totals():
    # GLEC v3.0 p.106: 100,000 l B5 × 3.32 = 332,000 kg; 100,000 kWh × 349.2 g/kWh = 34,920 kg; hybrid 366,920 kg
    r = calc({
        "shipment_id": ["fleet", "fleet"], "mode": ["road", "road"], "mass_kg": [20_000, 20_000],
        "distance_km": [1000, 1000], "fuel_amount": [100_000, 100_000], "fuel_unit": ["l", "kWh"],
        "energy_carrier": ["diesel_b5", "electricity"], "region": ["EU", "EU"],
    })
    assert r.legs["co2e_wtw_kg"].to_list() == rel([332_000, 34_920])
    assert r.legs["data_type"].to_list() == ["primary", "primary"]
    # electricity has no tank-to-wheel emissions (GLEC v3.0 p.77)
    assert r.legs["co2e_ttw_kg"][1] == 0
    assert r.shipments["co2e_wtw_kg"][0] == rel(366_920)
    assert r.shipments["primary_data_share"][0] == 1.0


def test_w6_milk_run_shares():
    # GLEC v3.0 p.107 Table 2: drops of 5, 2, 1, 4, 0.6 t at SFD 5, 6, 10, 8, 6 km → notional tkm 82.6
    drops = milk_run_shares(pl.DataFrame({"client": [1, 2, 3, 4, 5], "mass_kg": [5000, 2000, 1000, 4000, 600],
                                          "sfd_km": [5, 6, 10, 8, 6]}))
    assert drops["notional_tkm"].sum() == rel(82.6)
    assert drops["share"].to_list() == pytest.approx([0.3027, 0.1453, 0.1211, 0.3874, 0.0436], abs=5e-5)


def test_w7_parcel_chain():
    # GLEC v3.0 pp.108–110: a 250 g item through 9 TCEs; total WTW 0.8748 kg (printed 0.875), ±0.001 kg.
    collections = milk_run_shares(pl.DataFrame({
        "item": range(1, 15),
        "sfd_km": [7.0, 7.2, 9, 8.9, 8.6, 9, 9.5, 9.5, 7, 6, 8, 7.7, 8.3, 7],
        "mass_kg": [4.0, 1, 0.25, 2, 20, 2, 0.25, 3, 0.1, 7, 2, 3, 0.2, 0.5],
    }))
    assert collections["notional_tkm"].sum() == rel(0.363085)
    item7_share = collections.filter(pl.col("item") == 7)["share"][0]  # 0.0024/0.3631 ≈ 0.7 %
    tocs = own_tocs([
        {"toc_id": "feeder", "wtw_g_co2e_per_tkm": 110.0},
        {"toc_id": "plane", "mode": "air", "wtw_g_co2e_per_tkm": 563.0},
    ])
    hocs = pl.DataFrame([
        {"hoc_id": "site-2", "hub_type": "transshipment", "wtw_kg_co2e_per_t": 4.1},
        {"hoc_id": "site-4", "hub_type": "transshipment", "wtw_kg_co2e_per_t": 4.6},
    ]).with_columns(data_type=pl.lit("primary"), source=pl.lit("operator"), pack_version=pl.lit("t"), licence=pl.lit("t"))
    chain = {
        "shipment_id": ["item7"] * 9,
        "mode": ["road", "hub", "road", "hub", "air", "hub", "rail", "hub", "road"],
        "mass_kg": [0.25] * 9,
        "distance_km": [9.5, None, 120, None, 4800, None, 400, None, 1],
        # TCE1: the round's 4.8 l of US diesel, item 7's notional-tkm share; TCE9: 7.3 l EU B7 over 275 items
        "fuel_amount": [4.8 * item7_share, None, None, None, None, None, None, None, 7.3 / 275],
        "fuel_unit": ["l", None, None, None, None, None, None, None, "l"],
        "energy_carrier": ["diesel", None, None, None, None, None, "diesel", None, "diesel_b7"],
        "region": ["NA", None, None, None, None, None, "EU", None, "EU"],
        "toc_id": [None, None, "feeder", None, "plane", None, None, None, None],
        "hoc_id": [None, "site-2", None, "site-4", None, None, None, None, None],
        "hub_type": [None, None, None, None, None, "transshipment", None, "transshipment", None],
        "load_type": [None, None, None, None, None, None, "average", None, None],
    }
    r = calc(chain, tocs=tocs, hocs=hocs)
    wtw = r.legs["co2e_wtw_kg"].to_list()
    assert r.legs["error"].null_count() == 9
    assert wtw[0] == pytest.approx(0.10345, abs=2e-4)  # TCE1
    assert wtw[4] == rel(0.6756)  # air main haul: 0.563 × 0.00025 t × 4800 km
    assert wtw[5] == rel(0.00015)  # default transshipment 0.6 kg/t × 0.00025 t
    assert wtw[6] == pytest.approx(0.0030, abs=5e-5)  # default EU diesel rail, average
    assert wtw[8] == pytest.approx(0.0870, rel=0.005)  # TCE9 per item
    total = r.shipments["co2e_wtw_kg"][0]
    assert total == pytest.approx(0.8748, abs=0.001)
    assert wtw[4] / total == pytest.approx(0.772, abs=0.002)


def test_w8_rail_shipper_step():
    # GLEC v3.0 p.113: 50 t × 400 km = 20,000 tkm × 7.75 g/tkm = 155 kg
    tocs = own_tocs([{"toc_id": "e-train", "mode": "rail", "wtw_g_co2e_per_tkm": 7.75}])
    r = calc({"shipment_id": ["r"], "mode": ["rail"], "mass_kg": [50_000], "distance_km": [400], "toc_id": ["e-train"]}, tocs=tocs)
    assert r.legs["co2e_wtw_kg"][0] == rel(155.0)


def test_w11_container_lane_per_teu_km():
    # GLEC v3.0 p.118: 10 TEU Hamburg→Shanghai, Asia–North Europe dry 49.9 g/TEU-km, 21,000 km → 10,479 kg;
    # 5 reefer TEU at 128.7 → 13,513.5 kg. No extra DAF.
    r = calc({
        "shipment_id": ["dry", "reefer"], "mode": ["sea", "sea"], "teu": [10, 5], "distance_km": [21_000, 21_000],
        "distance_type": ["sfd", "sfd"], "trade_lane": ["asia-north_europe"] * 2, "temperature_control": ["dry", "reefer"],
    })
    assert r.legs["co2e_wtw_kg"].to_list() == rel([10_479.0, 13_513.5])
    assert r.legs["daf"].to_list() == [1.0, 1.0]
    assert r.legs["vehicle"].to_list() == ["container_ship"] * 2
    # mass from TEU at GLEC's 10 t/TEU, and recorded as an assumption
    assert r.legs["tkm"][0] == rel(10 * 10 * 21_000)
    assert "mass=10 t/TEU" in r.legs["assumptions"][0]


def test_w13_ferry_fuel_and_peq_allocation():
    # GLEC v3.0 p.121: 4,000 t VLSFO (NA factors) → WTT 2,240,000; TTW 12,920,000; WTW 15,160,000 kg
    r = calc({"shipment_id": ["voyages"], "mode": ["sea"], "mass_kg": [1], "distance_km": [120],
              "fuel_amount": [4000], "fuel_unit": ["t"], "energy_carrier": ["vlsfo"], "fuel_region": ["NA"]})
    leg = r.legs.row(0, named=True)
    assert (leg["co2e_wtt_kg"], leg["co2e_ttw_kg"], leg["co2e_wtw_kg"]) == (rel(2_240_000), rel(12_920_000), rel(15_160_000))
    units = pl.DataFrame({
        "unit": ["passenger", "car", "bus", "caravan_small", "caravan_medium", "caravan_large", "motorcycle",
                 "unaccompanied_trailer", "articulated_truck"],
        "count": [478_500, 90_000, 1_000, 500, 500, 500, 1_000, 4_000, 34_000],
    })
    shares = allocate(peq_shares(units), {k: leg[k] for k in ("co2e_wtt_kg", "co2e_ttw_kg", "co2e_wtw_kg")})
    assert shares["peq"].sum() == rel(1_277_250)
    hgv = shares.filter(pl.col("unit") == "articulated_truck").row(0, named=True)
    assert hgv["share"] == pytest.approx(0.479155, abs=1e-6)
    assert (hgv["co2e_wtt_kg"], hgv["co2e_ttw_kg"], hgv["co2e_wtw_kg"]) == (
        pytest.approx(1_073_306, abs=2), pytest.approx(6_190_675, abs=2), pytest.approx(7_263_981, abs=2))
    # cargo inside the HGV: 34,000 × 120 km × 15.6 t → 0.1141 kg/tkm WTW
    assert hgv["co2e_wtw_kg"] / (34_000 * 120 * 15.6) == pytest.approx(0.1141, abs=5e-5)


def test_w15_cefic_road():
    # GLEC v3.0 pp.147–148. Level-3 groupage default 82 g/tkm × 10 t × 250 km × DAF 1.05 = 215.25 kg;
    # 8 t × 510 km → 351.288 kg. Carrier intensity 61.7 g/tkm → 161.9625 kg; 54.9 g/tkm, 8 t, 510 km → 235.19 kg.
    tocs = own_tocs([{"toc_id": "carrier-1", "wtw_g_co2e_per_tkm": 61.7}, {"toc_id": "carrier-2", "wtw_g_co2e_per_tkm": 54.9}])
    r = calc({
        "shipment_id": ["ex1", "ex2", "ex1c", "ex2c"], "mode": ["road"] * 4, "mass_kg": [10_000, 8_000, 10_000, 8_000],
        "distance_km": [250, 510, 250, 510], "distance_type": ["sfd"] * 4, "daf": [1.05] * 4,
        "vehicle": ["artic_40t", "artic_40t", None, None], "energy_carrier": ["diesel_b5", "diesel_b5", None, None],
        "region": ["EU"] * 4, "load_type": ["chemical_packed_groupage"] * 2 + [None] * 2,
        "toc_id": [None, None, "carrier-1", "carrier-2"],
    }, tocs=tocs)
    assert r.legs["co2e_wtw_kg"].to_list() == rel([215.25, 351.288, 161.9625, 235.1916])
    # confirmed activity: 61.7 g × 2,600 tkm = 160.42 kg (no DAF on the carrier's actual tkm)
    r2 = calc({"shipment_id": ["x"], "mode": ["road"], "mass_kg": [10_000], "distance_km": [260], "toc_id": ["carrier-1"]}, tocs=tocs)
    assert r2.legs["co2e_wtw_kg"][0] == rel(160.42)


def test_w19_derived_defaults():
    # Road EU artic ≤40 t average diesel: 95/73/22 g/tkm; 10 t × 500 km → WTW 475, TTW 365, WTT 110 kg
    base = {"shipment_id": "road", "mode": "road", "mass_kg": 10_000, "distance_km": 500, "vehicle": "artic_40t",
            "energy_carrier": "diesel", "region": "EU"}
    r = calc([base, {**base, "shipment_id": "reefer", "temperature_control": "refrigerated"},
              {**base, "shipment_id": "asia-reefer", "region": "AS", "temperature_control": "refrigerated"}])
    legs = r.legs
    assert (legs["co2e_wtw_kg"][0], legs["co2e_ttw_kg"][0], legs["co2e_wtt_kg"][0]) == (rel(475.0), rel(365.0), rel(110.0))
    assert legs["adjustment_ids"][0] is None
    # temperature-controlled +12 % (GLEC v3.0 p.94): 95 × 1.12 × 5 = 532.0 kg
    assert legs["co2e_wtw_kg"][1] == rel(532.0)
    assert legs["multiplier"][1] == rel(1.12)
    # Asia +22 % and temperature +12 % compound (a project decision: GLEC v3.0 does not say): 475 × 1.22 × 1.12
    assert legs["co2e_wtw_kg"][2] == rel(475.0 * 1.22 * 1.12)
    assert legs["adjustment_ids"][2].count("+") == 1


def test_w19_air_95km_rule():
    # Air unknown aircraft long haul 817 g/tkm WTW, 2 t: actual 5,000 km → 8,170 kg;
    # GCD 5,000 km → DAF (5000 + 95)/5000 → 2 × 5,095 × 0.817 = 8,325.23 kg
    r = calc({"shipment_id": ["a", "g"], "mode": ["air", "air"], "mass_kg": [2000, 2000], "distance_km": [5000, 5000],
              "distance_type": ["actual", "gcd"]})
    assert r.legs["flight_length"].to_list() == ["long_haul", "long_haul"]
    assert r.legs["co2e_wtw_kg"].to_list() == rel([8170.0, 8325.23])
    assert r.legs["daf"][1] == rel(5095 / 5000)
    # short haul below 1,500 km (GLEC v3.0 p.85): unknown aircraft 1359 g/tkm; 1 t × 1,000 km actual = 1,359 kg
    short = calc({"shipment_id": ["s"], "mode": ["air"], "mass_kg": [1000], "distance_km": [1000]})
    assert short.legs["co2e_wtw_kg"][0] == rel(1359.0)


def test_w19_hub_default():
    # Warehouse ambient 17.5 kg/t × 3.2 t outbound = 56.0 kg WTW, no TTW/WTT split in the source
    r = calc({"shipment_id": ["h"], "mode": ["hub"], "mass_kg": [3200], "hub_type": ["warehouse"]})
    leg = r.legs.row(0, named=True)
    assert leg["co2e_wtw_kg"] == rel(56.0)
    assert leg["co2e_ttw_kg"] is None and leg["co2e_wtt_kg"] is None
    assert r.shipments["co2e_wtw_unsplit_kg"][0] == rel(56.0)


def test_container_terminal_per_teu():
    # Maritime container terminal, refrigerated 12.6 kg per container (GLEC v3.0 p.87), read as per TEU
    # (a project decision): 3 TEU → 37.8 kg
    r = calc({"shipment_id": ["t"], "mode": ["hub"], "teu": [3], "hub_type": ["maritime_container_terminal"],
              "temperature_control": ["refrigerated"]})
    assert r.legs["co2e_wtw_kg"][0] == rel(37.8)
