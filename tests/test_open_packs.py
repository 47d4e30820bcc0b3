"""Openly licensed packs: pack includes, proxy adjustments, the grid electricity table, and the
sample legs on ``open-2025``. Golden values are hand calculations from the DESNZ 2025 figures of the
``desnz-2025`` pack (direct + WTT, kg CO2e per tkm × 1000 = g) written beside each assertion."""

import json
from pathlib import Path

import polars as pl
import pytest

import logistics
from logistics.factors import PackError, load_pack
from logistics.grids import grid_table, resolve_grid_factors

SAMPLE = Path(logistics.__file__).parent / "data" / "samples" / "legs.csv"
rel = pytest.approx


@pytest.fixture(scope="module")
def sample():
    return logistics.calculate(SAMPLE, "open-2025", provenance="full")


def test_open_pack_includes_desnz_and_grids_and_no_noncommercial_row():
    p = load_pack("open-2025")
    assert p.table("tocs").height == load_pack("desnz-2025").table("tocs").height == 55
    assert p.table("grid_electricity").height == 263
    assert p.parameter("air_gcd_added_km") == 95
    for name, t in p.tables.items():
        assert not t.filter(pl.col("licence").str.contains("noncommercial")).height, name


def test_sample_on_open_pack_computes_nine_legs(sample):
    legs = sample.legs
    got = dict(zip(legs["leg_id"], legs["co2e_wtw_kg"], strict=True))
    # artic >33 t average 77.03 + 17.99 = 95.02 g; 12 t × 410 km = 4,920 tkm
    assert got["SHP-001-1"] == rel(4_920 * 0.09502)
    # All rigids average 197.48 + 43.32 = 240.80 g; 12 t × 510 km = 6,120 tkm
    assert got["SHP-001-3"] == rel(6_120 * 0.24080)
    # artic >33 t refrigerated average 89.08 + 20.86 = 109.94 g; 8 t × 450 km
    assert got["SHP-002-1"] == rel(3_600 * 0.10994)
    # container ship 16.12 + 3.65 = 19.77 g per tkm; 2 TEU × 10 t/TEU × 19,600 km
    assert got["SHP-003-1"] == rel(392_000 * 0.01977)
    # freight train 27.79 + 6.91 = 34.70 g; 20 t × 230 km and 18 t × 1,100 km
    assert got["SHP-003-3"] == rel(4_600 * 0.03470)
    assert got["SHP-010-2"] == rel(19_800 * 0.03470)
    # van diesel 631.30 + 150.95 = 782.25 g; 0.35 t × 390 km
    assert got["SHP-004-2"] == rel(136.5 * 0.78225)
    # bulk carrier average 3.53 + 0.80 = 4.33 g; 2,500 t × 6,800 km
    assert got["SHP-009-1"] == rel(17_000_000 * 0.00433)
    air = legs.filter(pl.col("leg_id") == "SHP-004-1").row(0, named=True)
    # long-haul without RF 531.30 + 135.16 = 666.46 g on 0.35 t × (GCD + 95 km)
    assert air["co2e_wtw_kg"] == rel(0.35 * (air["distance_km"] + 95) * 0.66646)
    # the factor is the DESNZ row mapped by a proxy rule: its id names the rule
    assert air["factor_id"] == "desnz25-air-long_haul~open-air-region-any" and air["adjustment_ids"] == "open-air-region-any"
    assert legs.filter(pl.col("co2e_wtw_kg").is_not_null()).height == 9


def test_sample_on_open_pack_says_which_rows_are_proxies(sample):
    row = sample.legs.filter(pl.col("leg_id") == "SHP-001-1").row(0, named=True)
    assert row["base_factor_id"] == "desnz25-road-artic_33t+-diesel-average"
    assert row["factor_id"] == "desnz25-road-artic_33t+-diesel-average~open-road-vehicle-artic_40t~open-road-region-eu"
    assert row["adjustment_ids"] == "open-road-vehicle-artic_40t+open-road-region-eu"
    assert row["multiplier"] == 1.0


def test_sample_on_open_pack_explains_every_leg_it_cannot_cover(sample):
    errors = dict(zip(sample.legs["leg_id"], sample.legs["error"], strict=True))
    for hub in ("SHP-001-2", "SHP-002-2", "SHP-003-2", "SHP-008-2"):
        assert errors[hub].startswith("factor: no hub default")
    assert "region=AS" in errors["SHP-005-1"]
    assert "vehicle 'tl_dry_van' has no row" in errors["SHP-006-1"]
    assert errors["SHP-007-1"] == "energy_carrier: 'diesel' has no fuel factor"
    assert "mode 'inland_waterway' has no row" in errors["SHP-008-1"]
    assert "energy_carrier=lng" in errors["SHP-010-1"]
    assert sum(e is not None for e in errors.values()) == 10


def test_asian_road_is_not_proxied_by_uk():
    r = logistics.calculate(pl.DataFrame({"shipment_id": ["a"], "mode": ["road"], "mass_kg": [1000.0], "distance_km": [100.0],
                                          "vehicle": ["artic_40t"], "energy_carrier": ["diesel"], "region": ["AS"]}), "open-2025")
    assert r.legs["co2e_wtw_kg"][0] is None and "region=AS" in r.legs["error"][0]


def make_pack(path: Path, meta: dict, tables: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    (path / "pack.json").write_text(json.dumps({"name": path.name, "version": "1", "licence": "test", **meta}))
    for name, text in tables.items():
        (path / f"{name}.csv").write_text(text)
    return path


PARAM = "name,value,unit,source,pack_version,licence\n"


def test_include_rows_and_own_rows_win(tmp_path):
    make_pack(tmp_path / "base", {}, {"parameters": PARAM + "a,1,x,s,1,l\nb,2,x,s,1,l\n"})
    top = make_pack(tmp_path / "top", {"includes": ["../base"]}, {"parameters": PARAM + "b,20,x,s,1,l\n"})
    p = load_pack(top)
    assert (p.parameter("a"), p.parameter("b")) == (1, 20)


def test_include_cycle_and_bad_includes_are_refused(tmp_path):
    make_pack(tmp_path / "a", {"includes": ["../b"]}, {"parameters": PARAM + "a,1,x,s,1,l\n"})
    make_pack(tmp_path / "b", {"includes": ["../a"]}, {"parameters": PARAM + "b,1,x,s,1,l\n"})
    with pytest.raises(PackError, match="includes this pack again"):
        load_pack(tmp_path / "a")
    make_pack(tmp_path / "c", {"includes": "desnz-2025"}, {"parameters": PARAM + "c,1,x,s,1,l\n"})
    with pytest.raises(PackError, match="'includes' must be a list"):
        load_pack(tmp_path / "c")


def test_grid_factor_by_country_and_region():
    keys = pl.DataFrame({"country": ["de", "US", "US", "US", "XX", "JP"], "grid_region": [None, "us-ca", None, "US-ZZ", None, None]})
    got = resolve_grid_factors(keys, grid_table())
    rows = got.rows(named=True)
    # Germany 2024: 344.13992 g CO2e/kWh generated (Our World in Data / Ember)
    assert (rows[0]["grid_factor_id"], rows[0]["grid_kg_co2e_per_kwh"], rows[0]["grid_data_year"]) \
        == ("grid-de-2024", rel(0.34413992), 2024)
    # California, eGRID2023: 394.769 lb/MWh × 0.45359237 / 1000 = 0.179064 kg/kWh
    assert rows[1]["grid_kg_co2e_per_kwh"] == rel(394.769 * 0.45359237 / 1000, abs=1e-9)
    # US total, eGRID2023: 770.884 lb/MWh = 0.349667 kg/kWh
    assert rows[2]["grid_kg_co2e_per_kwh"] == rel(770.884 * 0.45359237 / 1000, abs=1e-9)
    assert rows[3]["grid_factor_id"] is None and "'US-ZZ' is not a grid region of US" in rows[3]["grid_error"]
    assert rows[4]["grid_error"] == "country: 'XX' has no grid factor in the grid_electricity table"
    # Japan FY2022 national average 0.000438 t-CO2/kWh
    assert (rows[5]["grid_kg_co2e_per_kwh"], rows[5]["grid_basis"]) == (rel(0.438), "not_stated")


def test_grid_table_rows_carry_year_and_provenance():
    t = grid_table()
    assert t.filter(pl.col("country").is_null() | pl.col("data_year").is_null() | pl.col("source").is_null()).height == 0
    assert t.select(pl.struct("country", "grid_region").is_unique().all()).item()
    assert (t["ttw_kg_co2e_per_kwh"] == 0).all() and (t["wtt_kg_co2e_per_kwh"] == t["wtw_kg_co2e_per_kwh"]).all()
    assert set(t["licence"]) == {"CC-BY-4.0", "US-Gov-public-domain", "JP-gov-figures-unconfirmed"}


def test_glec_tank_cleaning_addon():
    a = load_pack("glec-v3.0").table("tce_addons").row(0, named=True)
    # GLEC v3.0 pp.132, 138: 86.6 kg CO2e per tank cleaning, total only
    assert (a["activity"], a["input_column"], a["wtw_kg_co2e_per_unit"], a["ttw_kg_co2e_per_unit"]) \
        == ("tank_cleaning", "cleanings", 86.6, None)
