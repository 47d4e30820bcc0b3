"""Reports and calculation sheets: the figures, the HTML and PDF documents, the CLI."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import UTC, datetime

import polars as pl
import pytest
from typer.testing import CliRunner

import logistics
from logistics.cli import SAMPLES, app
from logistics.io import read_table
from logistics.mapping import Mapping
from logistics.report import calculation_sheet, figures, load_results, negotiate, numbers, report_html, sheet_html, write_report
from logistics.report.charts import _nice_max, data_type_share_by_month, emissions_by_mode
from logistics.report.figures import pack_tables_sha256

DEMO = SAMPLES.parent.parent.parent / "api" / "demo" / "legs.csv"
TMS, TMS_COLUMNS = SAMPLES / "tms_export.csv", SAMPLES / "tms_export.columns.toml"
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo():
    return logistics.calculate(DEMO)


@pytest.fixture(scope="module")
def tms():
    return logistics.calculate(Mapping.read(TMS_COLUMNS).apply(read_table(TMS)))


def test_totals_are_the_library_summary(demo):
    f = figures(load_results(demo), by=["mode"], now=NOW)
    s = demo.summary()
    assert f.totals["co2e_wtw_kg"] == pytest.approx(s["co2e_wtw_t"] * 1000, rel=1e-12)
    assert f.totals["co2e_ttw_kg"] == pytest.approx(s["co2e_ttw_t"] * 1000, rel=1e-12)
    assert f.totals["co2e_wtt_kg"] == pytest.approx(s["co2e_wtt_t"] * 1000, rel=1e-12)
    assert f.totals["tkm"] == pytest.approx(s["tkm"], rel=1e-12)
    assert (f.totals["shipments"], f.totals["computed"], f.totals["rejected"]) == (4, 8, 0)


def test_demo_by_mode_and_by_kind_by_hand(demo):
    f = figures(load_results(demo), by=[], now=NOW)
    road = f.by_mode.filter(pl.col("mode") == "road").row(0, named=True)
    # road legs, GLEC v3.0 pp.91-92 WTW per tkm: 12 t × 410 km × 95 g + 12 t × 510 km × 179 g + 9 t × 570 km × 95 g
    # + 0.35 t × 390 km × 803 g
    assert road["co2e_wtw_kg"] == pytest.approx((12 * 410 * 95 + 12 * 510 * 179 + 9 * 570 * 95 + 0.35 * 390 * 803) / 1000)
    assert road["tkm"] == pytest.approx(12 * 410 + 12 * 510 + 9 * 570 + 0.35 * 390)
    assert road["intensity_wtw_g_per_tkm"] == pytest.approx(road["co2e_wtw_kg"] * 1000 / road["tkm"])
    hub = f.by_kind.filter(pl.col("kind") == "hub").row(0, named=True)
    # hubs (GLEC v3.0 p.87): transshipment 12 t × 0.6 kg/t, warehouse 20 t × 17.5 kg/t; WTW with no TTW/WTT split
    assert hub["co2e_wtw_kg"] == pytest.approx(12 * 0.6 + 20 * 17.5)
    assert hub["co2e_ttw_kg"] is None and hub["co2e_wtw_unsplit_kg"] == pytest.approx(357.2)
    assert hub["activity"] == pytest.approx(32.0) and hub["hub_intensity_kg_per_t"] == pytest.approx(357.2 / 32)
    hocs = dict(zip(f.hubs["factor_id"], f.hubs["intensity_kg_per_t"], strict=True))
    assert hocs == pytest.approx({"glec3-hub-warehouse-ambient": 17.5, "glec3-hub-transshipment-ambient": 0.6})
    air = f.distance_types.filter(pl.col("mode") == "air").row(0, named=True)
    assert (air["distance_type"], air["share"]) == ("gcd", 1.0)
    # air on a great-circle distance: DAF = (GCD + 95 km) / GCD (GLEC v3.0 p.38)
    gcd = demo.legs.filter(pl.col("mode") == "air")["distance_km"].item()
    assert f.dafs.filter(pl.col("mode") == "air")["daf_min"].item() == pytest.approx((gcd + 95) / gcd)


def test_data_quality_shares_and_by_month(tms):
    f = figures(load_results(tms), by=["customer", "lane", "month", "tag_branch"], now=NOW)
    ok = [r for r in tms.legs.iter_rows(named=True) if r["error"] is None]
    total = sum(r["co2e_wtw_kg"] for r in ok)
    primary = sum(r["co2e_wtw_kg"] for r in ok if r["data_type"] == "primary")
    shares = dict(zip(f.data_types["data_type"], f.data_types["share_of_wtw"], strict=True))
    assert shares["primary"] == pytest.approx(primary / total) and shares["modelled"] == 0.0
    assert shares["default"] == pytest.approx(1 - primary / total)
    march = [r for r in ok if r["date"].startswith("2026-03")]
    by_month = f.data_types_by_month.filter(pl.col("month") == "2026-03").row(0, named=True)
    assert by_month["primary"] == pytest.approx(sum(r["co2e_wtw_kg"] for r in march if r["data_type"] == "primary")
                                                / sum(r["co2e_wtw_kg"] for r in march))
    assert f.data_types_by_month["month"].to_list() == ["2026-01", "2026-02", "2026-03"]
    # the carrier's trucks report fuel from March only: primary data before is none
    assert f.data_types_by_month.filter(pl.col("month") < "2026-03")["primary"].to_list() == [0.0, 0.0]
    customers = f.groups["customer"]
    assert sorted(customers["customer"]) == ["Acme Foods", "Nordic Parts", "Sakura Electronics"]
    assert customers["co2e_wtw_kg"].sum() == pytest.approx(total)
    assert customers.filter(pl.col("customer") == "Acme Foods")["rejected"].item() == 1
    lanes = dict(zip(f.groups["lane"]["lane"], f.groups["lane"]["shipments"], strict=True))
    assert lanes["DEHAM → FRPAR"] == 6 and lanes["NRT → DEMUC"] == 3
    assert f.period == ("2026-01-02", "2026-03-24")
    assert f.rejected["lines"].to_list() == [[49], [50]]  # rows of the frame (lines 50 and 51 of the file)
    assert f.totals["primary_data_share"] == pytest.approx(primary / total)


def test_month_and_period_from_departure_times():
    # the demo legs have no date column: a leg's day is the UTC day of its departure_at (hubs take
    # their shipment's), as the exchange documents date it
    full = logistics.calculate(DEMO, provenance="full")
    f = figures(load_results(full), by=["month"], now=NOW)
    assert f.groups["month"]["month"].to_list() == ["2026-03"] and f.groups["month"]["computed"].item() == 8
    assert f.period == ("2026-03-02", "2026-03-06")


def test_unknown_breakdown_is_refused(demo):
    with pytest.raises(logistics.InputError, match="--by: region not in these results"):
        figures(load_results(demo), by=["region"])


def _figure(html: str, name: str) -> tuple[float, str]:
    match = re.search(rf'data-figure="{name}" data-value="([^"]*)">([^<]*)<', html)
    assert match, name
    return float(match.group(1)), match.group(2)


def test_html_report_stands_alone_and_shows_the_library_figures(tms):
    f = figures(load_results(tms), by=["customer", "lane", "month"], entity="Example Logistics", now=NOW)
    html = report_html(f, "en", sheet_href=lambda sid: f"sheets/{sid}.html")
    # offline: no script, no stylesheet or image fetched, no address but the SVG namespace
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    s = tms.summary()
    value, shown = _figure(html, "co2e_wtw_kg")
    assert value == pytest.approx(s["co2e_wtw_t"] * 1000, rel=1e-15) and shown == numbers.t_co2e(s["co2e_wtw_t"] * 1000)
    value, shown = _figure(html, "tkm")
    assert value == pytest.approx(s["tkm"], rel=1e-15) and shown == numbers.tkm(s["tkm"])
    assert _figure(html, "rejected")[0] == 2
    for section in ("key-figures", "by-mode", "by-kind", "data-quality", "by-customer", "by-lane", "by-month", "methodology",
                    "exclusions", "shipments", "reproducibility"):
        assert f'id="{section}"' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3  # by mode, data type by month, intensity by lane
    assert 'href="sheets/C26-0001.html"' in html
    assert "GLEC Framework v3.0 (revision 2024-04-02)" in html and "mass_kg.not_a_number" in html
    assert pack_tables_sha256(tms.pack) in html
    assert "has not declared conformity with ISO 14083:2023" in html
    stated = report_html(figures(load_results(tms), by=[], iso_statement=True, now=NOW))
    assert "These calculation results have been established in accordance with ISO 14083:2023." in stated


def test_japanese_report_uses_the_japanese_terms(tms):
    html = report_html(figures(load_results(tms), by=["customer"], now=NOW), "ja")
    assert '<html lang="ja">' in html
    for words in ("輸送GHG排出量報告書", "輸送トンキロ", "排出原単位", "一次データ比率", "デフォルト値", "道路輸送", "拠点作業",
                  "算定方法"):
        assert words in html
    assert "Transport emissions report" not in html


def test_japanese_methods_are_reported_apart():
    legs = pl.DataFrame({
        "shipment_id": ["J1", "J2"], "mode": ["road", "rail"], "method": ["jp_improved_tonkm", "jp_conventional_tonkm"],
        "mass_kg": ["1160", "500"], "distance_km": ["688", "100"], "energy_carrier": ["diesel", None],
        "payload_capacity_kg": ["3000", None], "load_factor": ["0.58", None], "fuel_amount": [None, None],
        "fuel_unit": [None, None], "fuel_economy_km_per_l": [None, None],
    }, schema_overrides={c: pl.String for c in ("energy_carrier", "payload_capacity_kg", "load_factor", "fuel_amount",
                                                 "fuel_unit", "fuel_economy_km_per_l")})
    result = logistics.calculate(legs)
    f = figures(load_results(result), by=[], now=NOW)
    # 従来トンキロ法, rail: 0.5 t × 100 km × 22 g-CO2/tkm = 1.1 kg CO2
    rail = f.japanese.filter(pl.col("method") == "jp_conventional_tonkm").row(0, named=True)
    assert rail["jp_co2_ttw_kg"] == pytest.approx(0.5 * 100 * 22 / 1000)
    assert f.totals["co2e_wtw_kg"] is None  # never added to CO2e
    html = report_html(f, "ja")
    assert "従来トンキロ法" in html and "改良トンキロ法" in html and "合算しません" in html
    assert re.search(r'data-figure="co2e_wtw_kg" data-value="">—<', html)


def test_a_report_of_no_computed_legs_shows_dashes_not_zeros():
    result = logistics.calculate(pl.DataFrame({"shipment_id": ["X"], "mode": ["road"], "mass_kg": ["heavy"], "distance_km": ["10"]}))
    html = report_html(figures(load_results(result), by=[], now=NOW))
    assert re.search(r'data-figure="co2e_wtw_kg" data-value="">—<', html)
    assert re.search(r'data-figure="rejected" data-value="1">1<', html)


def test_results_file_with_factors_beside_it(tmp_path, tms):
    out = tmp_path / "r.parquet"  # full precision (a CSV's figures are rounded for people)
    done = CliRunner().invoke(app, ["calculate", str(TMS), "--columns", str(TMS_COLUMNS), "--out", str(out), "--no-progress"])
    assert done.exit_code == 0, done.output
    r = load_results(out, legs_file=TMS)
    f = figures(r, by=["customer"], now=NOW)
    assert f.totals["co2e_wtw_kg"] == pytest.approx(tms.summary()["co2e_wtw_t"] * 1000, rel=1e-12)
    assert f.stamp["input_sha256"] == hashlib.sha256(TMS.read_bytes()).hexdigest()
    assert f.stamp["results_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert f.stamp["packs"][0]["tables_sha256"] == pack_tables_sha256(logistics.load_pack("glec-v3.0"))
    # from the CSV: figures rounded to 6 significant digits, each; the totals within that
    csv = tmp_path / "r.csv"
    assert CliRunner().invoke(app, ["calculate", str(TMS), "--columns", str(TMS_COLUMNS), "--out", str(csv),
                                    "--no-progress"]).exit_code == 0
    rounded = load_results(csv, legs_file=TMS)
    assert rounded.rounded and figures(rounded, by=[], now=NOW).totals["co2e_wtw_kg"] == pytest.approx(
        f.totals["co2e_wtw_kg"], rel=5e-6)
    sheet = calculation_sheet(rounded, "C26-0001", mapping=Mapping.read(TMS_COLUMNS))
    assert sheet.agrees and sheet.elements[0].line == 2  # a CSV line of the input file, header = 1
    (tmp_path / "r.factors.parquet").unlink()
    with pytest.raises(logistics.InputError, match="the factors table of the results is needed"):
        load_results(out)


def test_pack_hash_follows_its_tables(tmp_path):
    pack = logistics.load_pack("glec-v3.0")
    copy = tmp_path / "pack"
    shutil.copytree(pack.path, copy)
    assert pack_tables_sha256(logistics.load_pack(copy)) == pack_tables_sha256(pack)
    hocs = (copy / "hocs.csv").read_text().replace(",0.6,", ",0.61,", 1)
    (copy / "hocs.csv").write_text(hocs)
    (copy / "hocs.parquet").unlink()
    assert pack_tables_sha256(logistics.load_pack(copy)) != pack_tables_sha256(pack)


# ---------------------------------------------------------------------- calculation sheets

def test_sheet_of_a_road_and_hub_shipment_by_hand(tms):
    r = load_results(tms, legs_file=TMS)
    s = calculation_sheet(r, "C26-0001", mapping=Mapping.read(TMS_COLUMNS))
    assert [e.leg["leg_id"] for e in s.elements] == ["C26-0001-1", "C26-0001-2", "C26-0001-3"]
    first = s.elements[0]
    assert first.line == 1 and s.lines_are_rows
    assert first.inputs_as_read["Weight (t)"] == "12" and first.inputs_as_read["Distance (mi)"] == "255"
    formulas = {f.name: f for f in first.formulas}
    # 12 t × 255 mi × 1.609344 km/mi = 4,924.59264 tkm; × 0.095 kg/tkm × DAF 1 = 467.8363008 kg (GLEC v3.0 p.92)
    assert formulas["tkm"].recomputed == pytest.approx(4924.59264) and formulas["tkm"].agrees
    assert formulas["E_WTW"].value == pytest.approx(467.8363008) and formulas["E_WTW"].agrees
    assert "4924.59264 t·km × 0.095 kg CO2e/t·km × 1 = 467.8363008 kg CO2e" in formulas["E_WTW"].numbers
    hub = {f.name: f for f in s.elements[1].formulas}
    assert list(hub) == ["E_WTW"] and hub["E_WTW"].numbers == "12 t × 0.6 kg CO2e/t = 7.2 kg CO2e"
    assert s.agrees is True


def test_sheet_of_a_fuel_based_leg_reads_the_fuel_as_written(tms):
    r = load_results(tms, legs_file=TMS)
    s = calculation_sheet(r, "C26-0019", mapping=Mapping.read(TMS_COLUMNS))
    fuel_leg = s.elements[0]
    assert fuel_leg.leg["method"] == "fuel" and fuel_leg.fuel_as_read == ("120.0", "l")
    wtw = {f.name: f for f in fuel_leg.formulas}["E_WTW"]
    # 120 l of diesel × 3.44 kg CO2e/l (GLEC v3.0 p.122)
    assert wtw.recomputed == pytest.approx(120 * 3.44) and wtw.agrees


def test_sheet_finds_a_figure_that_does_not_follow_from_its_inputs(tms):
    tampered = tms.legs.with_columns(
        co2e_wtw_kg=pl.when(pl.col("leg_id") == "C26-0001-3").then(pl.col("co2e_wtw_kg") + 1).otherwise(pl.col("co2e_wtw_kg")))
    r = load_results(tampered, factors=tms.factors)
    s = calculation_sheet(r, "C26-0001")
    assert s.agrees is False and s.elements[0].agrees is True and s.elements[2].agrees is False
    html = sheet_html(s, "en")
    assert "✗" in html


def test_sheet_html_and_a_shipment_not_computed(tms):
    r = load_results(tms, legs_file=TMS)
    html = sheet_html(calculation_sheet(r, "C26-0001", now=NOW), "ja")
    for words in ("算定シート", "読み込んだ入力値", "計算式", "係数パック表（SHA-256）", hashlib.sha256(TMS.read_bytes()).hexdigest()):
        assert words in html
    failed = calculation_sheet(r, "C26-0099")
    assert failed.agrees is None and failed.elements[0].leg["error_code"] == "mass_kg.not_a_number"
    assert "mass_kg: &#39;n/a&#39; is not a number" in sheet_html(failed)
    with pytest.raises(logistics.InputError, match="shipment 'nope' is not in these results"):
        calculation_sheet(r, "nope")


# ---------------------------------------------------------------------- pieces

def test_numbers_for_people():
    assert numbers.t_co2e(4634.92773) == "4.635" and numbers.t_co2e(None) == "—"
    assert numbers.tkm(1367440.04) == "1,367,440" and numbers.tkm(12.345) == "12.35"
    assert numbers.share(0.04792) == "4.8 %" and numbers.g_per_tkm(29.589) == "29.6"
    assert numbers.exact(0.1 + 0.2) == "0.3" and numbers.exact(4924.59264) == "4924.59264"


def test_charts_are_svg_with_every_category(tms):
    f = figures(load_results(tms), by=["month"], now=NOW)
    svg = emissions_by_mode(f)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.endswith("</svg>")
    for mode in ("road", "rail", "sea", "inland waterway", "air", "hub"):
        assert f">{mode}</text>" in svg
    months = data_type_share_by_month(f, "ja")
    assert "一次データ" in months and ">2026-03</text>" in months
    assert [_nice_max(v) for v in (0.3, 7, 12, 95, 250, 1234)] == [0.5, 10, 20, 100, 250, 2000]


def test_accept_language():
    assert negotiate("ja,en-US;q=0.9,en;q=0.8") == "ja"
    assert negotiate("en-GB,en;q=0.9,ja;q=0.8") == "en"
    assert negotiate("fr-FR,ja;q=0.5") == "ja"
    assert negotiate("fr-FR") == "en" and negotiate(None) == "en" and negotiate("ja;q=0") == "en"


# ---------------------------------------------------------------------- CLI and PDF

def test_cli_report_with_sheets_and_sheet(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.csv"
    assert runner.invoke(app, ["calculate", str(TMS), "--columns", str(TMS_COLUMNS), "--out", str(out), "--no-progress"]).exit_code == 0
    report = tmp_path / "report.html"
    done = runner.invoke(app, ["report", str(out), "--out", str(report), "--legs", str(TMS), "--columns", str(TMS_COLUMNS),
                               "--sheets", "--entity", "Example Logistics", "--period", "2026-01-01..2026-03-31"])
    assert done.exit_code == 0, done.output
    assert "report of 29 shipments" in done.output
    html = report.read_text()
    assert "Example Logistics" in html and "2026-01-01 – 2026-03-31" in html
    assert 'href="report.sheets/C26-0001.html"' in html and 'id="by-customer"' in html
    assert "✓" in (tmp_path / "report.sheets" / "C26-0001.html").read_text()
    done = runner.invoke(app, ["sheet", str(out), "C26-0019", "--out", str(tmp_path / "s.html"), "--legs", str(TMS),
                               "--columns", str(TMS_COLUMNS), "--lang", "ja"])
    assert done.exit_code == 0 and "every figure agrees with its formula" in done.output
    done = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "x.docx")])
    assert done.exit_code == 2 and "expected .html or .pdf" in done.output
    done = runner.invoke(app, ["report", str(out), "--out", str(report), "--period", "2026"])
    assert done.exit_code == 2 and "is not START..END" in done.output


@pytest.mark.slow
def test_pdf_report_has_the_same_content(tmp_path, demo):
    pdf = write_report(demo, tmp_path / "report.pdf", by=["lane"], entity="Example Logistics")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Transport emissions report" in text and "Example Logistics" in text
        assert numbers.t_co2e(demo.summary()["co2e_wtw_t"] * 1000) in text  # 4.635
        assert "DEHAM → FRPAR" in text
