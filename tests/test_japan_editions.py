"""Japanese factors by edition, and the shipper's annual figures: t·km on the distance the CO2
rests on, crude-oil-equivalent kL, 和暦 dates, GLEC figures for every leg with enough data.

Figures: diesel 37.7 MJ/l × 0.0187 kg-C/MJ × 44/12 = 2.58496 kg-CO2/l (省エネ法施行規則 別表第1 heat
value before its FY2023 revision; 2.58 printed by 豊田都市交通研究所, H29 report p.17) in
``jp-guideline``; 38.2 × 0.0187 × 44/12 = 2.61925 (環境省 2007 as cited by 自交総連, printed 2.62) in
``jp-moe-2007``; crude-oil equivalent 0.0258 kL/GJ (省エネ法 原油換算)."""

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import logistics
from logistics.cli import app
from logistics.factors import load_pack
from logistics.japan import annual_summary, calculate_jp_table, glec_inputs, read_japanese_csv

FIXTURES = Path(__file__).parent / "fixtures" / "japan"
rel = pytest.approx
runner = CliRunner()


def fuel_leg(litres=100.0):
    return pl.DataFrame({"method": ["jp_fuel"], "mode": ["road"], "energy_carrier": ["diesel"], "fuel_amount": [litres],
                         "fuel_unit": ["l"], "mass_kg": [2000.0], "distance_km": [30.0]})


def test_two_editions_and_each_result_names_its_own():
    old = calculate_jp_table(fuel_leg(), "jp-moe-2007").row(0, named=True)
    new = calculate_jp_table(fuel_leg(), "jp-guideline").row(0, named=True)
    assert old["co2_ttw_kg"] == rel(100 * 38.2 * 0.0187 * 44 / 12)  # 261.925 kg
    assert new["co2_ttw_kg"] == rel(100 * 37.7 * 0.0187 * 44 / 12)  # 258.496 kg
    assert (old["factor_id"], old["factor_pack"]) == ("jp-fuel-diesel-moe2007", "jp-moe-2007@0.2.0")
    assert (new["factor_id"], new["factor_pack"]) == ("jp-fuel-diesel-pre2023", "jp-guideline@0.2.0")
    # the 2007 edition takes the other tables from jp-guideline: 従来トンキロ法 rail 22 g/t·km
    rail = pl.DataFrame({"method": ["jp_conventional_tonkm"], "mode": ["rail"], "mass_kg": [10_000.0], "distance_km": [500.0]})
    assert calculate_jp_table(rail, "jp-moe-2007")["co2_ttw_kg"][0] == rel(110.0)
    assert load_pack("jp-moe-2007").table("jp_fuels").height == 2  # its own rows replace the included ones


def test_engine_takes_the_edition_and_says_it():
    r = logistics.calculate(fuel_leg().with_columns(shipment_id=pl.lit("s")), jp_pack="jp-moe-2007", distance_resolver=None)
    row = r.legs.row(0, named=True)
    assert row["jp_co2_ttw_kg"] == rel(261.925, abs=1e-3)
    assert r.factors.filter(pl.col("factor_id") == row["factor_id"])["factor_pack"].to_list() == ["jp-moe-2007@0.2.0"]


def test_summary_crude_oil_equivalent_and_editions_apart():
    frame = calculate_jp_table(fuel_leg())
    row = annual_summary(frame).row(0, named=True)
    # 100 l × 37.7 MJ/l = 3.77 GJ × 0.0258 kL/GJ = 0.097266 kL of crude oil
    assert (row["energy_gj"], row["crude_oil_kl"], row["jp_pack"]) == (rel(3.77), rel(0.097266), "jp-guideline@0.2.0")
    both = pl.concat([frame, calculate_jp_table(fuel_leg(), "jp-moe-2007")])
    with pytest.raises(ValueError, match=re.escape("mix editions jp-guideline@0.2.0, jp-moe-2007@0.2.0")):
        annual_summary(both)


def test_summary_tkm_on_the_distance_the_co2_rests_on():
    # 東京都 -> 大阪府 by prefecture offices, no distance given: the engine's road distance is the
    # great-circle distance × the road DAF; 従来トンキロ法 CO2 and the summary's t·km both use it.
    legs = pl.DataFrame({"shipment_id": ["s"], "method": ["jp_conventional_tonkm"], "mode": ["rail"], "mass_kg": [10_000.0],
                         "origin_prefecture": ["13"], "destination_prefecture": ["27"]})
    from logistics.japan import resolve_prefectures

    r = logistics.calculate(resolve_prefectures(legs), distance_resolver=True).legs
    row = r.row(0, named=True)
    assert row["distance_type"] == "gcd" and row["daf"] > 1
    assert row["jp_co2_ttw_kg"] == rel(10 * row["distance_km"] * row["daf"] * 22 / 1000)
    s = annual_summary(r).row(0, named=True)
    assert s["tkm"] == rel(10 * row["distance_km"] * row["daf"])
    assert s["co2_ttw_t"] * 1e6 / s["tkm"] == rel(22)  # 22 g/t·km on the summary's own t·km


def test_wareki_dates_in_the_summary():
    frame = calculate_jp_table(pl.concat([fuel_leg()] * 3).with_columns(date=pl.Series(["令和5年3月31日", "R5.4.1", "平成31年4月30日"])))
    s = annual_summary(frame)
    # 令和5年 = 2023: 3月31日 is FY2022, 4月1日 FY2023; 平成31年4月30日 = 2019-04-30, FY2019
    assert s["period"].to_list() == ["FY2019", "FY2022", "FY2023"]


def test_glec_inputs_fuel_economy_and_mode_scoped_vehicle():
    legs = read_japanese_csv(FIXTURES / "shipper_sjis.csv")
    df, defaults = glec_inputs(legs, "glec-v3.0", {"vehicle": "rigid_7.5-12t", "region": "AS"})
    assert defaults == {"region": "AS"} and "method" not in df.columns
    a002, a004 = df.row(1, named=True), df.row(3, named=True)
    assert a002["mode"] == "rail" and a002["vehicle"] is None  # a truck class is not a rail vehicle
    assert (a004["fuel_amount"], a004["fuel_unit"]) == (rel(500 / 4.0), "l")  # 燃費法: 500 km / 4.0 km/l
    assert df.row(0, named=True)["vehicle"] == "rigid_7.5-12t"
    with pytest.raises(ValueError, match=re.escape("'hovercraft' is not a vehicle of pack glec-v3.0")):
        glec_inputs(legs, "glec-v3.0", {"vehicle": "hovercraft"})


def test_jp_calculate_glec_for_every_leg_with_enough_data(tmp_path):
    r = runner.invoke(app, ["jp", "calculate", str(FIXTURES / "shipper_sjis.csv"), "--out", str(tmp_path / "jp.csv"),
                            "--glec-out", str(tmp_path / "both.csv"), "--default", "vehicle=rigid_7.5-12t",
                            "--default", "region=AS", "--jp-pack", "jp-moe-2007"])
    assert r.exit_code == 0, r.output
    assert "jp-moe-2007@0.2.0" in r.output and "for 5 of 7 legs" in r.output
    both = {row["leg_id"]: row for row in pl.read_csv(tmp_path / "both.csv").iter_rows(named=True)}
    # A004 燃費法: 500 km / 4.0 km/l = 125 l; GLEC EU diesel 3.44 kg/l WTW = 430 kg (GLEC v3.0 p.122);
    # Japanese 2007 edition: 125 × 2.61925 = 327.406 kg CO2 TTW
    assert (both["A004-1"]["glec_method"], both["A004-1"]["glec_co2e_wtw_kg"]) == ("fuel", rel(430.0))
    assert both["A004-1"]["jp_co2_ttw_kg"] == rel(125 * 38.2 * 0.0187 * 44 / 12)
    # A002 rail in Japan: GLEC v3.0 has no Asian rail default, said so rather than guessed
    assert both["A002-1"]["glec_co2e_wtw_kg"] is None and "mode=rail" in both["A002-1"]["glec_error"]
    r = runner.invoke(app, ["jp", "summary", str(tmp_path / "jp.csv"), "--jp-pack", "jp-moe-2007"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 2 + 4 and "crude_oil_kl" in lines[0] and "…" not in r.output  # the whole table
