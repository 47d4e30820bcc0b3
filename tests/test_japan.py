"""Japanese methods (logistics.japan) and the jp-guideline pack.

Golden values come from published worked examples (named at each test) or from the hand calculation
in the comment next to each assertion. Factors: heat value × carbon factor × 44/12 as in
emission_factors/jp-guideline/README.md (軽油 37.7 MJ/l × 0.0187 kg-C/MJ × 44/12 = 2.58496 kg-CO2/l).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistics.factors import load_pack
from logistics.io import InputError
from logistics.japan import (
    EMISSION_BASIS,
    annual_summary,
    calculate_jp,
    calculate_jp_table,
    read_japanese_csv,
    resolve_prefectures,
    side_by_side,
)

FIXTURES = Path(__file__).parent / "fixtures" / "japan"
DIESEL_EF = 37.7 * 0.0187 * 44 / 12  # kg-CO2/l = 2.58496


@pytest.fixture(scope="module")
def pack():
    return load_pack("jp-guideline")


def legs(**columns) -> pl.DataFrame:
    """A legs frame with the engine's `_leg` row id; scalars are broadcast."""
    n = max((len(v) for v in columns.values() if isinstance(v, list)), default=1)
    data = {k: v if isinstance(v, list) else [v] * n for k, v in columns.items()}
    return pl.DataFrame(data).with_row_index("_leg")


def improved(load_factor, payload_kg, fuel="diesel", mass_kg=1000.0, distance_km=1.0) -> pl.DataFrame:
    return legs(
        method="jp_improved_tonkm", mode="road", energy_carrier=fuel, mass_kg=mass_kg, distance_km=distance_km,
        load_factor=load_factor, payload_capacity_kg=payload_kg,
    )


# --------------------------------------------------------------------------------------------
# The pack


def test_pack_fuel_factors_are_heat_value_times_carbon(pack):
    fuels = pack.table("jp_fuels")
    derived = fuels["heat_value_mj_per_unit"] * fuels["carbon_kg_c_per_mj"] * 44 / 12
    assert (fuels["co2_kg_per_unit"] - derived).abs().max() < 1e-9
    by_fuel = dict(zip(fuels["energy_carrier"], fuels["co2_kg_per_unit"], strict=True))
    # printed, rounded: diesel 2.58 and gasoline 2.32 kg-CO2/l (豊田都市交通研究所, H29 report, p.17)
    assert round(by_fuel["diesel"], 2) == 2.58
    assert round(by_fuel["gasoline"], 2) == 2.32


def test_pack_regression_pairing_is_not_swapped(pack):
    rows = {r["energy_carrier"]: r for r in pack.table("jp_improved_tonkm").iter_rows(named=True)}
    # 船井総研ロジ 用語集 「改良トンキロ法」: 軽油 2.71 / 0.812 / 0.654, 揮発油 2.67 / 0.927 / 0.648 (stored with the formula's minus signs)
    coefficients = ("intercept", "ln_load_factor_coef", "ln_payload_kg_coef")
    assert tuple(rows["diesel"][c] for c in coefficients) == (2.71, -0.812, -0.654)
    assert tuple(rows["gasoline"][c] for c in coefficients) == (2.67, -0.927, -0.648)
    assert rows["diesel"]["min_load_factor"] == rows["gasoline"]["min_load_factor"] == 0.10


def test_pack_leaves_unverified_tables_out(pack):
    # 従来トンキロ法 has no truck row (p.9 table unverified) and only the three verified modes.
    conventional = dict(zip(pack.table("jp_conventional_tonkm")["mode"], pack.table("jp_conventional_tonkm")["g_co2_per_tkm"], strict=True))
    assert conventional == {"rail": 22.0, "sea": 39.0, "air": 1490.0}
    assert set(pack.tables) == {"jp_fuels", "jp_improved_tonkm", "jp_conventional_tonkm", "jp_prefectures", "parameters"}


def test_pack_prefectures_cover_jis_01_to_47(pack):
    prefs = pack.table("jp_prefectures")
    assert prefs["jis_code"].to_list() == [f"{i:02d}" for i in range(1, 48)]
    row = prefs.filter(pl.col("jis_code") == "13").row(0, named=True)
    assert row["name_ja"] == "東京都"
    # GSI: Tokyo Metropolitan Government 35°41′22″N 139°41′30″E = 35.68944, 139.69167
    assert abs(row["latitude"] - (35 + 41 / 60 + 22 / 3600)) < 1 / 3600
    assert abs(row["longitude"] - (139 + 41 / 60 + 30 / 3600)) < 1 / 3600
    # all points inside Japan's extent (≈ 24–46 N, 122–154 E)
    assert prefs["latitude"].is_between(24, 46).all() and prefs["longitude"].is_between(122, 154).all()


# --------------------------------------------------------------------------------------------
# 改良トンキロ法


@pytest.mark.parametrize(
    ("fuel", "payload_kg", "load_pct", "expected_l_per_tkm"),
    [
        # diesel values derived from the regression (hand calc)
        ("diesel", 1500, 10, 0.8162),
        ("diesel", 3000, 50, 0.1404),
        ("diesel", 11000, 62, 0.0504),
        ("diesel", 14500, 100, 0.0285),
        # gasoline values derived from the regression (hand calc)
        ("gasoline", 1000, 10, 1.3886),
        ("gasoline", 1000, 30, 0.5015),
        ("gasoline", 1500, 80, 0.1553),
    ],
)
def test_improved_fuel_per_tkm_matches_reference_table(pack, fuel, payload_kg, load_pct, expected_l_per_tkm):
    out = calculate_jp(improved(load_pct / 100, payload_kg, fuel), pack)
    assert out["jp_error"][0] is None
    assert out["jp_fuel_l_per_tkm"][0] == pytest.approx(expected_l_per_tkm, abs=5e-5)


def test_diesel_and_gasoline_coefficients_are_not_swapped(pack):
    out = calculate_jp(pl.concat([improved(0.10, 1000, "diesel"), improved(0.10, 1000, "gasoline")]).with_columns(
        _leg=pl.int_range(2, dtype=pl.UInt32)), pack)
    # hand calc, z = 1000 kg, x = 10 %:
    #   diesel   ln y = 2.71 + 0.812·2.302585 − 0.654·6.907755 = 0.061990 → y = 1.06399
    #   gasoline ln y = 2.67 + 0.927·2.302585 − 0.648·6.907755 = 0.328270 → y = 1.38856
    # (a swapped table would give the other value; at 100 % load they differ by only 0.2 %)
    assert out["jp_fuel_l_per_tkm"].to_list() == pytest.approx([1.06399, 1.38856], abs=1e-5)


def test_improved_mesus_example(pack):
    # mesus.jp 「CO2排出量計算方法」 example: 2 t diesel truck, 1.16 t × 688 km = 798.08 t·km at 58 %. The example prints y = 0.124
    # (which the formula gives at z = 3,000 kg: 0.12445) and 0.26 t-CO2.
    # hand calc: 798.08 × 0.124451 × 2.584963 = 256.743 kg
    out = calculate_jp(improved(0.58, 3000, mass_kg=1160.0, distance_km=688.0), pack)
    assert out["jp_fuel_l_per_tkm"][0] == pytest.approx(0.124451, abs=1e-6)
    assert out["co2_ttw_kg"][0] == pytest.approx(256.743, abs=1e-3)
    assert round(out["co2_ttw_kg"][0] / 1000, 2) == 0.26
    assert out["jp_energy_gj"][0] == pytest.approx(798.08 * 0.124451 * 37.7 / 1000, rel=1e-5)


def test_improved_nittsu_example(pack):
    # 日本通運 「モーダルシフトの推進」 table: 10 t Tokyo→Osaka by truck, 576 km, printed 8,006 MJ and 549 kg-CO2; an 11 t truck at
    # x = 10/11 reproduces it to +0.2 % (8,021 MJ, 549.99 kg), so ±0.5 % only.
    out = calculate_jp(improved(10 / 11, 11000, mass_kg=10000.0, distance_km=576.0), pack)
    assert out["co2_ttw_kg"][0] == pytest.approx(549, rel=0.005)
    assert out["jp_energy_gj"][0] * 1000 == pytest.approx(8006, rel=0.005)
    # exact: CO2 follows from the energy with 0.0187 kg-C/MJ × 44/12
    assert out["co2_ttw_kg"][0] == pytest.approx(out["jp_energy_gj"][0] * 1000 * 0.0187 * 44 / 12, rel=1e-12)


@pytest.mark.parametrize("low", [0.05, 0.0, 0.0999])
def test_load_factor_below_ten_percent_uses_ten_percent(pack, low):
    # hand calc, the 10 % floor: y_diesel(x = 5 %, z = 2,000) = y_diesel(10 %, 2,000) = 0.6762
    out = calculate_jp(improved(low, 2000), pack)
    assert out["jp_fuel_l_per_tkm"][0] == pytest.approx(0.6762, abs=5e-5)
    assert out["jp_load_factor_applied"][0] == 0.10


def test_full_load_is_accepted(pack):
    # x = 100 %: ln y = 2.71 − 0.654·ln 3000 = −2.526 → y = 0.0800
    out = calculate_jp(improved(1.0, 3000), pack)
    assert out["jp_error"][0] is None
    assert out["jp_fuel_l_per_tkm"][0] == pytest.approx(0.0800, abs=5e-5)


@pytest.mark.parametrize(
    ("load_factor", "payload_kg", "message"),
    [
        (58.0, 3000, "load_factor: 58.0 is above 1: give a fraction"),
        (-0.1, 3000, "load_factor: -0.1 is negative"),
        (None, 3000, "load_factor: required for jp_improved_tonkm (改良トンキロ法); the notice's default load factors"),
        (0.5, None, "payload_capacity_kg: required for jp_improved_tonkm"),
        (0.5, 3.0, "payload_capacity_kg: 3.0 is below 100 kg: 最大積載量 must be in kg, not tonnes"),
        (0.5, 0.0, "payload_capacity_kg: 0.0 must be greater than 0"),
    ],
)
def test_improved_bad_inputs_are_row_errors(pack, load_factor, payload_kg, message):
    frame = improved(load_factor, payload_kg).with_columns(pl.col("load_factor", "payload_capacity_kg").cast(pl.Float64))
    out = calculate_jp(frame, pack)
    assert out["jp_error"][0].startswith(message)
    assert out["co2_ttw_kg"][0] is None and out["jp_fuel_l"][0] is None and out["factor_id"][0] is None


def test_improved_refuses_other_modes_and_fuels(pack):
    out = calculate_jp(
        legs(method="jp_improved_tonkm", mode=["rail", "road"], energy_carrier=["diesel", "electricity"], mass_kg=1000.0,
             distance_km=10.0, load_factor=0.5, payload_capacity_kg=3000.0),
        pack,
    )
    assert out["jp_error"][0].startswith("mode: 'rail' cannot use 改良トンキロ法")
    assert out["jp_error"][1].startswith("energy_carrier: 'electricity' has no verified CO2 factor")


@settings(max_examples=200, deadline=None)
@given(
    fuel=st.sampled_from(["diesel", "gasoline"]),
    x1=st.floats(0.10, 1.0), x2=st.floats(0.10, 1.0),
    z1=st.floats(200, 30000), z2=st.floats(200, 30000),
)
def test_improved_fuel_per_tkm_falls_with_load_and_size(pack, fuel, x1, x2, z1, z2):
    # Both exponents are negative: a fuller or larger truck never uses more fuel per t·km.
    frame = pl.concat([improved(x1, z1, fuel), improved(x2, z2, fuel)]).with_columns(_leg=pl.int_range(2, dtype=pl.UInt32))
    y1, y2 = calculate_jp(frame, pack)["jp_fuel_l_per_tkm"].to_list()
    if x1 <= x2 and z1 <= z2:
        assert y1 >= y2 * (1 - 1e-12)


# --------------------------------------------------------------------------------------------
# 燃料法, 燃費法, 従来トンキロ法


def test_fuel_method(pack):
    out = calculate_jp(
        legs(method="jp_fuel", mode="road", energy_carrier=["diesel", "diesel", "gasoline"], fuel_amount=[100.0, 0.1, 100.0],
             fuel_unit=["l", "kl", "l"]),
        pack,
    )
    # hand calc: 100 l diesel × 2.58496 = 258.50 kg; 0.1 kl is the same 100 l; 100 l gasoline × 2.32166 = 232.17 kg
    assert out["co2_ttw_kg"].to_list() == pytest.approx([258.496, 258.496, 232.166], abs=1e-3)
    assert out["jp_fuel_l"].to_list() == pytest.approx([100, 100, 100])
    assert out["jp_energy_gj"].to_list() == pytest.approx([3.77, 3.77, 3.46])  # 100 l × 37.7 / 34.6 MJ/l
    assert out["factor_id"].to_list() == ["jp-fuel-diesel-pre2023", "jp-fuel-diesel-pre2023", "jp-fuel-gasoline-pre2023"]


@pytest.mark.parametrize(
    ("carrier", "amount", "unit", "message"),
    [
        ("diesel", 100.0, "kg", "fuel_unit: 'kg' does not convert to the factor's unit 'l' for diesel"),
        ("diesel", 100.0, "gallon", "fuel_unit: 'gallon' is not one of"),
        ("diesel", 100.0, None, "fuel_unit: required for jp_fuel (燃料法)"),
        ("diesel", None, "l", "fuel_amount: required for jp_fuel (燃料法)"),
        ("diesel", -5.0, "l", "fuel_amount: -5.0 is negative"),
        ("lng", 100.0, "l", "energy_carrier: 'lng' has no verified CO2 factor in pack jp-guideline (it has diesel, gasoline)"),
        (None, 100.0, "l", "energy_carrier: required for jp_fuel (燃料法)"),
    ],
)
def test_fuel_method_errors(pack, carrier, amount, unit, message):
    frame = legs(method="jp_fuel", mode="road", energy_carrier=carrier, fuel_amount=amount, fuel_unit=unit).with_columns(
        pl.col("energy_carrier", "fuel_unit").cast(pl.String), pl.col("fuel_amount").cast(pl.Float64)
    )
    assert calculate_jp(frame, pack)["jp_error"][0].startswith(message)


def test_fuel_economy_method(pack):
    out = calculate_jp(legs(method="jp_fuel_economy", mode="road", energy_carrier="diesel", distance_km=500.0,
                            fuel_economy_km_per_l=4.0), pack)
    # hand calc: 500 km / 4.0 km/l = 125 l × 2.58496 = 323.12 kg
    assert out["jp_fuel_l"][0] == 125.0
    assert out["co2_ttw_kg"][0] == pytest.approx(323.12, abs=0.005)


def test_fuel_economy_requires_the_users_own_km_per_l(pack):
    out = calculate_jp(legs(method="jp_fuel_economy", mode="road", energy_carrier="diesel", distance_km=[500.0, 500.0],
                            fuel_economy_km_per_l=[None, 0.0]), pack)
    assert "default km/l table is not in the pack because its values are unverified" in out["jp_error"][0]
    assert out["jp_error"][1] == "fuel_economy_km_per_l: 0.0 must be greater than 0"


def test_conventional_tonkm(pack):
    out = calculate_jp(
        legs(method="jp_conventional_tonkm", mode=["rail", "sea", "air", "road"], mass_kg=[10000.0, 10000.0, 1000.0, 1000.0],
             distance_km=[500.0, 500.0, 1000.0, 100.0]),
        pack,
    )
    # hand calc on the pack's 従来トンキロ法 factors: 5,000 t·km × 22 g = 110 kg (rail), × 39 g = 195 kg (ship);
    # 1,000 t·km × 1,490 g = 1,490 kg (air)
    assert out["co2_ttw_kg"].to_list()[:3] == pytest.approx([110.0, 195.0, 1490.0])
    assert out["factor_id"].to_list()[:3] == ["jp-ctk-rail", "jp-ctk-sea", "jp-ctk-air"]
    assert out["jp_fuel_l"].to_list()[:3] == [None, None, None]
    assert out["jp_error"][3].startswith("mode: 'road' has no verified 従来トンキロ法 factor")


def test_one_row_per_input_row_in_order_with_labels(pack):
    frame = legs(
        method=["jp_conventional_tonkm", "glec", None, "jp_conventional_tonkm"], mode="rail", mass_kg=[1000.0, 1.0, 1.0, None],
        distance_km=100.0,
    ).with_columns(_leg=pl.Series([7, 3, 5, 1], dtype=pl.UInt32))
    out = calculate_jp(frame, pack)
    assert out["_leg"].to_list() == [7, 3, 5, 1]
    assert out["co2_ttw_kg"][0] == pytest.approx(2.2)  # 100 t·km × 22 g
    assert out["jp_error"].to_list()[1:] == [
        "method: 'glec' is not one of jp_fuel, jp_fuel_economy, jp_improved_tonkm, jp_conventional_tonkm",
        "method: required (one of jp_fuel, jp_fuel_economy, jp_improved_tonkm, jp_conventional_tonkm)",
        "mass_kg: required for jp_conventional_tonkm (従来トンキロ法)",
    ]
    row = out.row(0, named=True)
    assert row["emission_basis"] == EMISSION_BASIS == "CO2 TTW (Japanese method)"
    assert row["jp_method_ja"] == "従来トンキロ法"
    assert row["factor_pack"] == "jp-guideline@0.2.0"
    assert "SCMOPT notebooks" in row["factor_source"] and row["factor_source_page"] == "nbs/05lnd.ipynb"


# --------------------------------------------------------------------------------------------
# Japanese CSV input


def test_shift_jis_csv_is_detected_and_mapped():
    df = read_japanese_csv(FIXTURES / "shipper_sjis.csv")
    assert df.height == 7
    first = df.row(0, named=True)
    # 輸送重量(t) 1.16 → 1,160 kg; 積載率(%) 58 → 0.58; 輸送機関 トラック → road; 燃料種別 軽油 → diesel
    numbers = ("mass_kg", "distance_km", "load_factor", "payload_capacity_kg")
    assert tuple(first[c] for c in numbers) == (1160.0, 688.0, 0.58, 3000.0)
    labels = ("mode", "energy_carrier", "method", "origin_name")
    assert tuple(first[c] for c in labels) == ("road", "diesel", "jp_improved_tonkm", "東京倉庫")
    assert str(first["date"]) == "2023-04-10"
    # bare トンキロ法 on a truck is 改良トンキロ法; 燃料使用量(L) defaults fuel_unit to l
    assert df["method"].to_list()[1:5] == ["jp_conventional_tonkm", "jp_fuel", "jp_fuel_economy", "jp_improved_tonkm"]
    assert df.filter(pl.col("shipment_id") == "A003")["fuel_unit"].to_list() == ["l"]
    # prefectures: 13 / 東京都 / 東京 all give Tokyo's office; 27 and 大阪府 Osaka's
    assert df["origin_prefecture"].to_list()[:5] == ["13"] * 5
    assert df["destination_prefecture"].to_list()[:2] == ["27", "27"]
    assert df["origin_lat"][4] == pytest.approx(35.689501) and df["destination_lon"][0] == pytest.approx(135.520037)
    assert df["jp_input_error"][6] == "destination_prefecture: '99' is not a JIS X 0401 prefecture code (01-47) or name"
    assert df["destination_prefecture"][6] == "99"


def test_explicit_encoding_and_wrong_guess():
    assert read_japanese_csv(FIXTURES / "shipper_sjis.csv", encoding="shift_jis").height == 7
    assert read_japanese_csv(FIXTURES / "shipper_utf8_bom.tsv", encoding="utf-8").columns[0] == "shipment_id"
    with pytest.raises(InputError, match="line 1 is not valid utf8; give --encoding"):
        read_japanese_csv(FIXTURES / "shipper_sjis.csv", encoding="utf-8")


def test_utf8_bom_tab_separated_without_units():
    df = read_japanese_csv(FIXTURES / "shipper_utf8_bom.tsv")
    # BOM stripped from the first header; full-width １，１６０ → 1160; 車検証 3000(2000) → 3000;
    # bare 積載率 with no value above 1 is a fraction
    assert df.columns[0] == "shipment_id"
    assert df["mass_kg"].to_list() == [1160.0, 500.0]
    assert df["payload_capacity_kg"].to_list() == [3000.0, 1000.0]
    assert df["load_factor"].to_list() == [0.58, 0.3]
    assert df["energy_carrier"].to_list() == ["diesel", "gasoline"]
    out = calculate_jp_table(df)
    # B001 = the mesus example (256.743 kg); B002: gasoline, z = 1,000, x = 30 % → y = 0.50150,
    # 0.5 t × 100 km × 0.501505 × 2.32166 = 58.216 kg
    assert out["co2_ttw_kg"].to_list() == pytest.approx([256.743, 58.216], abs=1e-3)


@pytest.mark.parametrize(
    ("header", "cells", "expected"),
    [
        ("積載率", ["58", "5%", ""], [0.58, 0.05, None]),  # a value above 1: the column is percent
        ("積載率", ["0.58", "50%", "1"], [0.58, 0.5, 1.0]),  # none above 1: fractions; % cells are percent
        ("積載率(％)", ["0.5", "100", "12"], [0.005, 1.0, 0.12]),  # full-width ％ in the header
    ],
)
def test_load_factor_percent_or_fraction(tmp_path, header, cells, expected):
    path = tmp_path / "lf.csv"
    rows = "".join(f"X{i},{c}\n" for i, c in enumerate(cells))
    path.write_text(f"伝票番号,{header}\n{rows}", encoding="utf-8")
    assert read_japanese_csv(path)["load_factor"].to_list() == pytest.approx(expected)


def test_header_units_and_bad_cells(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "伝票番号,発地,輸送トン数,輸送距離(m),燃料使用量(kL),最大積載量(t),日付\n"
        "X1,㈱東京倉庫①,2.5,1500,0.2,4,2023年4月1日\n"
        "X2,,abc,1000,0.1,4,令和5年13月1日\n"
        "X3,,1,1000,0.1,4,令和5年4月1日\n",
        encoding="cp932",
    )
    df = read_japanese_csv(path)
    # トン数 is tonnes; m → km; kL → l; t → kg
    numbers = ("mass_kg", "distance_km", "fuel_amount", "payload_capacity_kg")
    assert tuple(df[c][0] for c in numbers) == (2500.0, 1.5, 200.0, 4000.0)
    assert df["fuel_unit"][0] == "l" and str(df["date"][0]) == "2023-04-01"
    assert df["origin_name"][0] == "㈱東京倉庫①"  # cp932-only characters
    assert df["jp_input_error"][0] is None
    assert df["jp_input_error"][1] == (
        "輸送トン数: 'abc' is not a number; date: '令和5年13月1日' is not a date (YYYY/MM/DD, YYYY-MM-DD, YYYY年M月D日,"
        " YYYYMMDD, or 和暦 such as 令和5年4月1日 or R5.4.1)"
    )
    assert str(df["date"][2]) == "2023-04-01" and df["jp_input_error"][2] is None  # 和暦: 令和5年 = 2023
    # the reader's message is the row's error in the calculation
    out = calculate_jp_table(df.with_columns(method=pl.lit("jp_fuel"), energy_carrier=pl.lit("diesel")))
    assert out["jp_error"][1].startswith("輸送トン数: 'abc' is not a number")
    assert out["co2_ttw_kg"][0] == pytest.approx(200 * DIESEL_EF)


def test_header_problems_are_refused(tmp_path):
    both = tmp_path / "both.csv"
    both.write_text("輸送距離,走行距離\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both mean distance_km"):
        read_japanese_csv(both)
    unit = tmp_path / "unit.csv"
    unit.write_text("重量(km)\n1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unit 'km' is not one of kg, t, トン"):
        read_japanese_csv(unit)


def test_prefecture_spellings(pack):
    frame = pl.DataFrame({"origin_prefecture": ["1", "01", "JP-01", "北海道", "Hokkaido", "京都", "京都府", None]})
    out = resolve_prefectures(frame, pack)
    assert out["origin_prefecture"].to_list() == ["01"] * 5 + ["26", "26", None]
    assert out["origin_lat"][0] == pytest.approx(43.064310)
    assert out["jp_input_error"].is_null().all()


# --------------------------------------------------------------------------------------------
# Annual figures and GLEC side by side


@pytest.fixture(scope="module")
def shipper_results():
    return calculate_jp_table(read_japanese_csv(FIXTURES / "shipper_sjis.csv"))


def test_annual_summary_per_fiscal_year(shipper_results):
    summary = annual_summary(shipper_results)
    rows = {(r["period"], r["method"], r["mode"]): r for r in summary.iter_rows(named=True)}
    assert list(rows) == [
        ("FY2023", "jp_fuel", "road"),
        ("FY2023", "jp_improved_tonkm", "road"),
        ("FY2023", "jp_conventional_tonkm", "rail"),
        ("FY2024", "jp_fuel_economy", "road"),
    ]
    # A003 (2024-03-31) is still FY2023: 2 t × 30 km = 60 t·km, 100 l diesel = 0.2585 t
    fuel = rows[("FY2023", "jp_fuel", "road")]
    assert (fuel["tkm"], fuel["co2_ttw_t"], fuel["energy_gj"]) == pytest.approx((60.0, 0.258496, 3.77), abs=1e-6)
    # A001 + A005 computed (798.08 + 5,760 t·km; 256.743 + 549.990 kg); A006 and A007 are errors
    ikt = rows[("FY2023", "jp_improved_tonkm", "road")]
    assert (ikt["legs"], ikt["error_legs"]) == (4, 2)
    assert ikt["tkm"] == pytest.approx(6558.08)
    assert ikt["co2_ttw_t"] == pytest.approx(0.806733, abs=1e-6)
    assert ikt["method_ja"] == "改良トンキロ法"
    rail = rows[("FY2023", "jp_conventional_tonkm", "rail")]
    assert (rail["tkm"], rail["co2_ttw_t"], rail["energy_gj"]) == (5000.0, 0.11, None)  # 別表第4 energy unverified
    assert rows[("FY2024", "jp_fuel_economy", "road")]["co2_ttw_t"] == pytest.approx(0.323120, abs=1e-6)
    assert set(summary["emission_basis"]) == {"CO2 TTW (Japanese method)"}


def test_annual_summary_other_periods_and_no_date(shipper_results):
    months = annual_summary(shipper_results, period="month")
    assert months.filter(pl.col("period") == "2024-04")["method"].to_list() == ["jp_fuel_economy"]
    years = annual_summary(shipper_results, period="calendar_year")
    assert years.filter(pl.col("period") == "2024")["method"].to_list() == ["jp_fuel", "jp_fuel_economy"]
    overall = annual_summary(shipper_results.drop("date"))
    assert "period" not in overall.columns
    assert overall["co2_ttw_t"].sum() == pytest.approx((256.742656 + 110 + 258.496333 + 323.120417 + 549.990212) / 1000, abs=1e-6)
    with pytest.raises(ValueError, match="period: 'week'"):
        annual_summary(shipper_results, period="week")


def test_annual_summary_incomplete_tkm_is_null_not_understated(pack):
    frame = calculate_jp_table(
        pl.DataFrame({"method": "jp_fuel", "mode": "road", "energy_carrier": "diesel", "fuel_amount": [10.0, 10.0],
                      "fuel_unit": "l", "mass_kg": [1000.0, None], "distance_km": [10.0, None]}),
        pack,
    )
    row = annual_summary(frame).row(0, named=True)
    assert row["tkm"] is None
    assert row["co2_ttw_t"] == pytest.approx(20 * DIESEL_EF / 1000)


def test_annual_summary_counts_engine_errors(pack):
    # An engine result table carries its row errors in `error`: counted, not totalled.
    frame = calculate_jp_table(
        pl.DataFrame({"method": "jp_conventional_tonkm", "mode": "sea", "mass_kg": 1000.0, "distance_km": [100.0, 200.0]}), pack
    ).with_columns(error=pl.Series([None, "distance_km: bad"], dtype=pl.String))
    row = annual_summary(frame).row(0, named=True)
    assert (row["legs"], row["error_legs"], row["tkm"]) == (2, 1, 100.0)
    assert row["co2_ttw_t"] == pytest.approx(100 * 39 / 1e6)  # 100 t·km × 39 g


def test_annual_summary_refuses_glec_rows(shipper_results):
    mixed = pl.concat([shipper_results, shipper_results.head(1).with_columns(method=pl.lit("activity"))], how="diagonal_relaxed")
    with pytest.raises(ValueError, match="method activity, not a Japanese method; their figures are GLEC CO2e"):
        annual_summary(mixed)


def test_japanese_csv_gives_improved_tonkm_and_glec_side_by_side(shipper_results):
    """Done criterion of issue #7: one Japanese CSV, both figures per leg, each labelled."""
    import logistics

    legs = read_japanese_csv(FIXTURES / "shipper_sjis.csv")
    # The GLEC run uses GLEC descriptors: the 3 t and 11 t payload trucks as a 7.5–12 t rigid, in Asia.
    glec = logistics.calculate(
        legs.drop("method").with_columns(vehicle=pl.when(pl.col("mode") == "road").then(pl.lit("rigid_7.5-12t"))),
        pack="glec-v3.0",
        defaults={"region": "AS"},
    ).legs
    both = side_by_side(shipper_results, glec, on="shipment_id")
    a001 = both.filter(pl.col("shipment_id") == "A001").row(0, named=True)
    assert a001["jp_method"] == "jp_improved_tonkm" and a001["jp_method_ja"] == "改良トンキロ法"
    assert a001["jp_co2_ttw_kg"] == pytest.approx(256.743, abs=1e-3)
    # GLEC v3.0 rigid 7.5–12 t diesel, average load: TTW 161, WTW 210 g CO2e/t·km (GLEC v3.0 p.92), × 1.22 for
    # Asia (GLEC v3.0 p.94): 798.08 t·km × 161 × 1.22 = 156.759 kg TTW; × 210 × 1.22 = 204.468 kg WTW
    assert a001["glec_co2e_ttw_kg"] == pytest.approx(156.759, abs=1e-3)
    assert a001["glec_co2e_wtw_kg"] == pytest.approx(204.468, abs=1e-3)
    # the factor is the EU row derived for Asia: its id names the adjustment
    assert a001["glec_factor_id"] == "glec3-road-eu-rigid_7.5-12t-diesel-average~road-asia-truck"
    assert [c for c in both.columns if "co2" in c] == ["jp_co2_ttw_kg", "glec_co2e_ttw_kg", "glec_co2e_wtw_kg"]
    assert both.height == legs.height
