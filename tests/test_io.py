"""Reading inputs as written or refusing them clearly (logistics.io): numbers and decimal marks,
non-finite values and booleans on every path, line endings, broken lines, quotes, encodings,
headers, a polars panic, failed runs, and figures for people.

Emission figures used below: road, artic up to 40 t, diesel, average load, EU: TTW 73, WTT 22,
WTW 95 g CO2e/t·km (GLEC Framework v3.0 (2024), pp.91–92); diesel, EU: WTW 3.44 kg CO2e/l (p.122)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import logistics
from logistics.cli import SAMPLES, app
from logistics.io import (
    LINE_COLUMN,
    LINE_ERROR,
    MAX_COLUMNS,
    MAX_RECORD_LINES,
    InputError,
    bad_number,
    detect_encoding,
    format_for_people,
    open_legs,
    parse_number,
    read_legs,
    read_table,
    round_figure,
)

runner = CliRunner()
HEADER = "shipment_id,mode,mass_kg,distance_km,vehicle,energy_carrier,region"
ROAD = "road,{mass},{km},artic_40t,diesel,EU"


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def calculate(tmp_path, legs, *extra):
    """Run ``calculate`` with every output; (result, legs frame, errors frame, summary)."""
    r = cli("calculate", legs, "--out", tmp_path / "out.parquet", "--errors-out", tmp_path / "err.csv",
            "--summary-json", tmp_path / "summary.json", "--provenance", "full", "--no-progress", *extra)
    if r.exit_code != 0:
        return r, None, None, None
    return (r, pl.read_parquet(tmp_path / "out.parquet"), pl.read_csv(tmp_path / "err.csv", infer_schema=False),
            json.loads((tmp_path / "summary.json").read_text()))


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------------------------
# Numbers


def test_parse_number_by_convention():
    cells = ["12.000", "8500,5", "1.234,5", "1,234.5", "12.5", "0.225", "1e5", "1,5E-3", "1 000", "-1.000", "1.2.3", "abc", " 7 "]
    df = pl.DataFrame({"s": cells}).select(
        point=parse_number(pl.col("s"), decimal_comma=False), comma=parse_number(pl.col("s"), decimal_comma=True),
        either=parse_number(pl.col("s"), decimal_comma=None))
    assert df["point"].to_list() == [12.0, None, None, 1234.5, 12.5, 0.225, 1e5, None, 1000.0, -1.0, None, None, 7.0]
    assert df["comma"].to_list() == [12000.0, 8500.5, 1234.5, None, None, None, 1e5, 0.0015, 1000.0, -1000.0, None, None, 7.0]
    # either convention: a cell both read, differently (12.000, -1.000), is no number
    assert df["either"].to_list() == [None, 8500.5, 1234.5, 1234.5, 12.5, 0.225, 1e5, 0.0015, 1000.0, None, None, None, 7.0]


def test_bad_number_refuses_non_finite_huge_and_non_numbers():
    values = pl.DataFrame({"x": [float("nan"), float("inf"), -float("inf"), 1e300, -2e15, 1e15, 0.5, None]})
    assert values.select(bad_number(pl.col("x")))["x"].to_list() == [True, True, True, True, True, False, False, None]
    flags = pl.DataFrame({"b": [True, False, None]})
    assert flags.select(bad_number(pl.col("b"), pl.Boolean))["b"].to_list() == [True, True, False]


def test_german_excel_file_is_read_with_decimal_commas(tmp_path):
    # ; separated, CRLF, Windows-1252, 12.000 = twelve thousand kg, 8500,5 kg, 1.234,5 kg
    legs = write(tmp_path / "legs.csv", "\r\n".join([
        "shipment_id;mode;mass_kg;distance_km;vehicle;energy_carrier;region;customer",
        "DE-1;road;12.000;500;artic_40t;diesel;EU;Müller GmbH",
        "DE-2;road;8500,5;100;artic_40t;diesel;EU;Köln Süd",
        "DE-3;road;1.234,5;10;artic_40t;diesel;EU;Straße",
    ]) + "\r\n", "cp1252")
    r, out, err, summary = calculate(tmp_path, legs)
    assert r.exit_code == 0, r.output
    assert out["mass_kg"].to_list() == [12_000.0, 8_500.5, 1_234.5]
    # 12 t × 500 km × 95 g = 570 kg; 8.5005 t × 100 km × 95 g = 80.75475 kg; 1.2345 t × 10 km × 95 g = 1.172775 kg
    assert out["co2e_wtw_kg"].to_list() == pytest.approx([570.0, 80.75475, 1.172775])
    assert out["customer"].to_list() == ["Müller GmbH", "Köln Süd", "Straße"]
    assert summary["encoding"] == "cp1252" and summary["rejected"] == 0 and err.height == 0
    library = logistics.calculate(legs).legs  # the library reads a path the same way
    assert library["mass_kg"].to_list() == [12_000.0, 8_500.5, 1_234.5] and library[LINE_COLUMN].to_list() == [2, 3, 4]


def test_a_file_whose_decimal_mark_nothing_tells_is_refused_or_read_as_told(tmp_path):
    legs = write(tmp_path / "legs.csv", "shipment_id;mode;mass_kg;distance_km;vehicle;energy_carrier;region\n"
                 "A;road;12.000;500;artic_40t;diesel;EU\nB;road;3000;500;artic_40t;diesel;EU\n")
    r = cli("calculate", legs, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2
    assert "'12.000' (line 2, mass_kg) reads differently with a decimal point and with a decimal comma" in r.output
    assert "--decimal-comma or --decimal-point" in r.output and not (tmp_path / "o.csv").exists()
    r, out, _, _ = calculate(tmp_path, legs, "--decimal-comma")
    assert out["co2e_wtw_kg"].to_list() == pytest.approx([570.0, 142.5])  # 12 t and 3 t × 500 km × 95 g
    r, out, _, _ = calculate(tmp_path, legs, "--decimal-point")
    assert out["co2e_wtw_kg"].to_list() == pytest.approx([0.57, 142.5])  # 12 kg


def test_a_file_with_both_decimal_marks_is_refused(tmp_path):
    legs = write(tmp_path / "legs.csv", "shipment_id;mode;mass_kg;distance_km;vehicle;energy_carrier;region\n"
                 "A;road;12.5;500;artic_40t;diesel;EU\nB;road;8500,5;500;artic_40t;diesel;EU\n")
    r = cli("calculate", legs, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2
    assert "'12.5' (line 2, mass_kg) reads only with a decimal point, '8500,5' (line 3, mass_kg) only with a decimal comma" in r.output


def test_numbers_past_the_sample_against_the_files_mark_are_row_errors(tmp_path):
    # the first MiB says "decimal point"; a decimal comma after it is refused, not misread
    rows = [f"S{i},{ROAD.format(mass='1000.5', km=100)},{'x' * 40}" for i in range(2, 20_000)]
    rows.append(f'S-comma,{ROAD.format(mass=chr(34) + "8500,5" + chr(34), km=100)},')
    legs = write(tmp_path / "legs.csv", "\n".join([HEADER + ",note", *rows]) + "\n")
    assert legs.stat().st_size > 1 << 20
    r, _, err, _ = calculate(tmp_path, legs)
    assert r.exit_code == 0, r.output
    assert err["input_line"].to_list() == ["20000"]
    assert err["error"][0].startswith("mass_kg: '8500,5' is not a number with a decimal point, the decimal mark in use")


def test_non_finite_huge_and_boolean_numbers_are_row_errors_in_the_cli(tmp_path):
    legs = write(tmp_path / "legs.csv", "\n".join([
        "shipment_id,mode,mass_kg,distance_km,fuel_amount,fuel_unit,energy_carrier,region",
        "F-1,road,10000,500,NaN,l,diesel,EU",
        "F-2,road,10000,500,inf,l,diesel,EU",
        "F-3,road,10000,500,1e300,l,diesel,EU",
        "F-4,road,true,500,,,diesel,EU",
        "F-5,road,10000,500,100,l,diesel,EU",  # 100 l × 3.44 kg/l = 344 kg
    ]) + "\n")
    r, out, err, summary = calculate(tmp_path, legs)
    assert r.exit_code == 0, r.output
    assert err["input_line"].to_list() == ["2", "3", "4", "5"]
    assert [e.split(";")[0] for e in err["error"]] == [
        "fuel_amount: 'NaN' is not a finite number", "fuel_amount: 'inf' is not a finite number",
        "fuel_amount: '1e300' is out of range (over 1e+15)", "mass_kg: 'true' is not a number"]
    assert summary["co2e_wtw_t"] == 0.344 and "total WTW      0.344 t CO2e" in r.output
    assert out.filter(pl.col("error").is_null())["co2e_wtw_kg"].to_list() == [344.0]


def test_non_finite_and_boolean_numbers_are_row_errors_in_the_library():
    legs = pl.DataFrame({
        "shipment_id": ["a", "b", "c", "d"], "mode": ["road"] * 4, "mass_kg": [10_000.0] * 4, "distance_km": [500.0] * 4,
        "fuel_amount": [float("nan"), float("inf"), 1e300, 100.0], "fuel_unit": ["l"] * 4, "energy_carrier": ["diesel"] * 4,
        "region": ["EU"] * 4,
    })
    result = logistics.calculate(legs)
    assert [e and e.split(";")[0] for e in result.legs["error"]] == [
        "fuel_amount: NaN is not a finite number up to 1e+15", "fuel_amount: inf is not a finite number up to 1e+15",
        "fuel_amount: 1e+300 is not a finite number up to 1e+15", None]
    assert result.summary()["co2e_wtw_t"] == pytest.approx(0.344)  # finite: the three are out of the totals
    flags = pl.DataFrame({"shipment_id": ["a"], "mode": ["road"], "mass_kg": [True], "distance_km": [500.0],
                          "vehicle": ["artic_40t"], "energy_carrier": ["diesel"], "region": ["EU"]})
    assert logistics.calculate(flags).legs["error"][0].startswith("mass_kg: true is a Boolean, not a number")


def test_non_finite_and_boolean_numbers_are_row_errors_in_parquet_files(tmp_path):
    pl.DataFrame({"shipment_id": ["a", "b"], "mode": ["road"] * 2, "mass_kg": [10_000.0] * 2, "distance_km": [500.0] * 2,
                  "fuel_amount": [float("nan"), 100.0], "fuel_unit": ["l"] * 2, "energy_carrier": ["diesel"] * 2,
                  "region": ["EU"] * 2, "teu": [True, None]}).write_parquet(tmp_path / "legs.parquet")
    r, _, err, summary = calculate(tmp_path, tmp_path / "legs.parquet")
    assert r.exit_code == 0, r.output
    assert err["input_line"].to_list() == ["1"]  # Parquet: the row number
    assert err["error"][0].startswith("teu: true is a Boolean, not a number; fuel_amount: NaN is not a finite number")
    assert summary["co2e_wtw_t"] == 0.344 and summary["rejected"] == 1  # b: 100 l × 3.44 kg/l


def test_a_pandas_object_column_with_a_mistyped_cell_gives_row_errors():
    legs = pd.DataFrame({"shipment_id": ["a", "b", "c"], "mode": ["road"] * 3,
                         "mass_kg": pd.Series([10_000, "x", True], dtype=object), "distance_km": [500, 500, 500],
                         "vehicle": ["artic_40t"] * 3, "energy_carrier": ["diesel"] * 3, "region": ["EU"] * 3})
    result = logistics.calculate(legs)
    assert result.legs["co2e_wtw_kg"][0] == pytest.approx(475.0)  # 10 t × 500 km × 95 g
    assert [e.split(";")[0] for e in result.legs["error"][1:]] == ["mass_kg: 'x' is not a number", "mass_kg: 'True' is not a number"]
    assert result.legs[LINE_COLUMN].to_list() == [1, 2, 3]


@pytest.fixture
def service(tmp_path):
    from test_api_support import app_client, bearer, register, settings_for

    settings = settings_for(tmp_path)
    ops = register(settings, "Carrier TMS", "operator", client_id="ops")
    with app_client(settings) as http:
        http.ops = bearer(http, *ops)
        yield http


def test_the_api_refuses_a_boolean_number_and_rounds_its_figures(service):
    shipment = {"shipment_id": "S-1", "mass_kg": True, "legs": [{"mode": "road", "distance_km": 410, "vehicle": "artic_40t",
                                                                   "energy_carrier": "diesel", "region": "EU"}]}
    answer = service.post("/v1/emissions/shipments", json=shipment, headers=service.ops)
    assert answer.status_code == 422 and "mass_kg" in answer.text
    answer = service.post("/v1/emissions/shipments", json={**shipment, "mass_kg": 12000}, headers=service.ops)
    assert answer.status_code == 200, answer.text
    # 12 t × 410 km × 73 g = 359.16 kg TTW (in binary 359.15999999999997): six significant digits in the JSON
    assert '"co2e_ttw_kg":359.16' in answer.text.replace(" ", "")
    assert answer.json()["data"][0]["legs"][0]["co2e_ttw_kg"] == 359.16


def test_uploads_reject_non_finite_numbers_as_rows(service, tmp_path):
    from test_api_support import upload

    from logistics_api.jobs import JobWorker

    legs = write(tmp_path / "legs.csv", "shipment_id,mode,mass_kg,distance_km,fuel_amount,fuel_unit,energy_carrier,region\n"
                 "F-1,road,10000,500,NaN,l,diesel,EU\nF-2,road,10000,500,100,l,diesel,EU\n")
    job = upload(service, service.ops, legs).json()
    state = service.app.state
    while JobWorker(state.store, state.calculator, state.settings.data_dir, 30, 3).run_once():
        pass
    done = service.get(f"/v1/jobs/{job['id']}", headers=service.ops).json()
    assert done["status"] == "done", done
    assert done["counts"]["rows_read"] == 2 and done["counts"]["rejected"] == 1
    assert done["report"]["co2e_wtw_t"] == 0.344  # 100 l × 3.44 kg/l


# --------------------------------------------------------------------------------------------
# Lines, fields and quotes


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_lf_crlf_and_cr_line_endings_read_the_same(tmp_path, eol):
    lines = [HEADER, f"a,{ROAD.format(mass=10000, km=500)}", "", f"b,{ROAD.format(mass=2000, km=100)}"]
    r, out, _, summary = calculate(tmp_path, write(tmp_path / "legs.csv", eol.join(lines) + eol))
    assert r.exit_code == 0, r.output
    assert out[LINE_COLUMN].to_list() == [2, 4]  # the empty line 3 is no row
    assert out["co2e_wtw_kg"].to_list() == pytest.approx([475.0, 19.0])  # 10 t × 500 km, 2 t × 100 km, × 95 g
    assert summary["rows_read"] == 2


def test_lines_with_more_or_fewer_fields_than_the_header_are_row_errors(tmp_path):
    legs = write(tmp_path / "legs.csv", "\n".join([
        HEADER,
        f"a,{ROAD.format(mass=10000, km=500)}",
        f"b,{ROAD.format(mass=10000, km=500)},extra,more",
        "c,road,10000,500",
        f"d,{ROAD.format(mass=10000, km=500)}",
    ]) + "\n")
    r, _, err, summary = calculate(tmp_path, legs)
    assert r.exit_code == 0, r.output
    assert err["input_line"].to_list() == ["3", "4"]
    assert err["error"].to_list()[0] == "line: 9 fields, the header has 7"
    assert err["error"].to_list()[1].startswith("line: 4 fields, the header has 7")
    assert (summary["rows_read"], summary["computed"], summary["rejected"]) == (4, 2, 2)
    assert summary["rejected_by_column"] == {"line": 2}


def test_quoted_cells_doubled_quotes_line_breaks_and_broken_quotes(tmp_path):
    legs = write(tmp_path / "legs.csv", "\n".join([
        HEADER + ",note",
        f'a,{ROAD.format(mass=10000, km=500)},"first line',  # line 2: a cell over two lines
        'second line"',
        f'b,{ROAD.format(mass=10000, km=500)},"say ""hi"", then go"',  # line 4
        f'c,{ROAD.format(mass=10000, km=500)},x""y',  # line 5: a quote inside an unquoted field
        f'd,{ROAD.format(mass=10000, km=500)},"never closed',  # line 6
        f'e,{ROAD.format(mass=10000, km=500)},',  # line 7: read, although a quote above is open
    ]) + "\n")
    r, out, err, _ = calculate(tmp_path, legs)
    assert r.exit_code == 0, r.output
    assert out[LINE_COLUMN].to_list() == [2, 4, 5, 6, 7]
    assert out["note"].to_list()[:2] == ["first line\nsecond line", 'say "hi", then go']
    assert err["input_line"].to_list() == ["5", "6"]
    assert err["error"].to_list() == ['line: a quote (") inside a field; quote whole fields and double the quotes within them',
                                      'line: a quote (") opened on this line is not closed']
    assert out.filter(pl.col("error").is_null())["shipment_id"].to_list() == ["a", "b", "e"]


def test_a_quoted_cell_over_a_batch_boundary_keeps_every_line_number(tmp_path):
    text = "\n".join([HEADER + ",note", *(f"s{i},{ROAD.format(mass=1000, km=10)},n{i}" for i in range(2, 6)),
                      f's6,{ROAD.format(mass=1000, km=10)},"a', "b", 'c"', f"s9,{ROAD.format(mass=1000, km=10)},z"]) + "\n"
    with open_legs(write(tmp_path / "legs.csv", text)) as legs:
        batches = list(legs.batches(3))
        assert legs.total_rows() in (None, 8)
    rows = pl.concat(batches)
    assert rows["shipment_id"].to_list() == ["s2", "s3", "s4", "s5", "s6", "s9"]
    assert rows[LINE_COLUMN].to_list() == [2, 3, 4, 5, 6, 9] and rows[LINE_ERROR].null_count() == 6
    assert rows["note"][4] == "a\nb\nc"
    assert all(b.n_chunks("all") == [1] * b.width for b in batches)


def test_a_later_batch_with_unreadable_cells_does_not_panic(tmp_path):
    # polars 2.1 panicked here ('assertion failed: i < self.len()'): pl.format on a string column with
    # an empty chunk, which filtering a batch of unequally chunked columns leaves
    rows = [f"s{i},{ROAD.format(mass='abc' if i in (1010, 1020) else 1000, km=500)}" for i in range(2, 3001)]
    r, _, err, summary = calculate(tmp_path, write(tmp_path / "legs.csv", "\n".join([HEADER, *rows]) + "\n"),
                                     "--batch-rows", 1000)
    assert r.exit_code == 0, r.output
    assert err["input_line"].to_list() == ["1010", "1020"]
    assert err["error"][0].startswith("mass_kg: 'abc' is not a number")
    assert (summary["rows_read"], summary["rejected"]) == (2999, 2)


def test_a_frame_of_unequal_chunks_is_read_whole():
    chunked = pl.concat([pl.DataFrame({"mass_kg": ["1000"]}), pl.DataFrame({"mass_kg": ["abc", "abc"]})], rechunk=False)
    legs = chunked.with_columns(shipment_id=pl.Series(["a", "b", "c"]), mode=pl.lit("road"), distance_km=pl.lit(500.0),
                                vehicle=pl.lit("artic_40t"), energy_carrier=pl.lit("diesel"), region=pl.lit("EU"))
    assert legs["mass_kg"].n_chunks() == 2 and legs["shipment_id"].n_chunks() == 1
    errors = logistics.calculate(legs).legs["error"].to_list()
    assert errors[0] is None and errors[1].startswith("mass_kg: 'abc' is not a number")


# --------------------------------------------------------------------------------------------
# Encodings


def test_detect_encoding():
    assert detect_encoding("SHP-Ü02,Köln".encode("cp1252")) == "cp1252"  # not SHP-ﾜ02 in Shift_JIS
    assert detect_encoding("出荷-01,東京都港区,大阪".encode("cp932")) == "cp932"
    assert detect_encoding("SHP-Ü02,東京".encode()) == "utf8"
    assert detect_encoding(b"\xef\xbb\xbfa,b\n") == "utf8"
    assert detect_encoding("a,b\n".encode("utf-16")) == "utf-16"
    with pytest.raises(InputError, match=r"the encoding is unclear.*'ﾔﾏﾄ' as Shift_JIS.*give --encoding cp932 or --encoding cp1252"):
        detect_encoding("ﾔﾏﾄ".encode("cp932"))  # half-width katakana only: Ô Ï Ä in Windows-1252
    with pytest.raises(InputError, match="NUL bytes"):
        detect_encoding(b"a\x00b")


def test_latin1_file_is_read_as_written_and_the_encoding_can_be_given(tmp_path):
    legs = write(tmp_path / "legs.csv", f"{HEADER}\nSHP-Ü02,{ROAD.format(mass=10000, km=500)}\n", "cp1252")
    _, out, _, summary = calculate(tmp_path, legs)
    assert out["shipment_id"].to_list() == ["SHP-Ü02"] and summary["encoding"] == "cp1252"
    _, out, _, summary = calculate(tmp_path, legs, "--encoding", "cp932")
    assert out["shipment_id"].to_list() == ["SHP-ﾜ02"] and summary["encoding"] == "cp932"
    japanese = write(tmp_path / "jp.csv", f"{HEADER},荷主\n出荷-1,{ROAD.format(mass=10000, km=500)},東京物流\n", "cp932")
    _, out, _, summary = calculate(tmp_path, japanese)
    assert out["shipment_id"].to_list() == ["出荷-1"] and out["荷主"].to_list() == ["東京物流"] and summary["encoding"] == "cp932"


def test_invalid_utf8_after_the_sample_is_refused_with_its_line(tmp_path):
    rows = [f"s{i},{ROAD.format(mass=1000, km=500)},{'x' * 40}" for i in range(2, 20_000)]
    text = "\n".join([HEADER + ",note", *rows]).encode() + b"\ns-bad,road,1000,500,artic_40t,diesel,EU,caf\xe9\n"
    (tmp_path / "legs.csv").write_bytes(text)
    assert len(text) > (1 << 20)
    r = cli("calculate", tmp_path / "legs.csv", "--out", tmp_path / "out" / "o.csv", "--no-progress")
    assert r.exit_code == 2
    assert "line 20000" in r.output and "is not valid UTF-8, though the first 1 MiB were; give --encoding" in r.output
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------------------------
# Headers


@pytest.mark.parametrize("name", ["__row", "__key", "__o_error", "input_line", "line_error"])
def test_input_columns_named_like_the_engines_own_are_refused(tmp_path, name):
    legs = write(tmp_path / "legs.csv", f"{HEADER},{name}\na,{ROAD.format(mass=1000, km=500)},x\n")
    r = cli("calculate", legs, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2 and f"column {name!r}" in r.output and "rename the column" in r.output
    frame = pl.DataFrame({"shipment_id": ["a"], "mode": ["road"], "mass_kg": [1.0], "distance_km": [5.0], name: ["x"]})
    with pytest.raises(InputError, match="rename the column"):
        logistics.calculate(frame)


def test_absurd_headers_are_refused_at_once(tmp_path):
    wide = write(tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n")
    r = cli("calculate", wide, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2 and f"the header has 100,000 columns, more than the {MAX_COLUMNS:,} a table may have" in r.output
    twice = write(tmp_path / "twice.csv", "shipment_id,mode,mass_kg,mass_kg\na,road,1,2\n")
    assert "column 'mass_kg' appears twice in the header (columns 3 and 4)" in cli("calculate", twice, "--out", tmp_path / "o.csv").output
    unnamed = write(tmp_path / "unnamed.csv", "shipment_id,,mass_kg\na,road,1\n")
    assert "column 2 of the header has no name" in cli("calculate", unnamed, "--out", tmp_path / "o.csv").output


def test_other_tables_are_refused_whole_for_a_broken_line_or_a_decimal_comma(tmp_path):
    own = write(tmp_path / "tocs.csv", "toc_id;wtw_g_co2e_per_tkm\nown-1;62,5\n")
    with pytest.raises(InputError, match="decimal comma"):
        read_table(own)
    broken = write(tmp_path / "tocs2.csv", "toc_id,wtw_g_co2e_per_tkm\nown-1,62.5\nown-2,1,2\n")
    with pytest.raises(InputError, match=re.escape("tocs2.csv: line 3: 3 fields, the header has 2")):
        read_table(broken)
    assert read_table(write(tmp_path / "ok.csv", "toc_id,wtw_g_co2e_per_tkm\nown-1,62.5\n")).rows() == [("own-1", "62.5")]


# --------------------------------------------------------------------------------------------
# Failed runs, figures for people


def test_a_panic_during_a_run_fails_it_cleanly(tmp_path, monkeypatch):
    from logistics.pipeline.engine import Engine

    real, calls = Engine.compute, []

    def panicking(self, frame, *args, **kwargs):
        calls.append(frame.height)
        if len(calls) == 3:  # the first call only gives the results' columns
            raise pl.exceptions.PanicException("assertion failed: i < self.len()")
        return real(self, frame, *args, **kwargs)

    monkeypatch.setattr(Engine, "compute", panicking)
    rows = [f"s{i},{ROAD.format(mass=1000, km=500)}" for i in range(2, 2502)]
    legs = write(tmp_path / "legs.csv", "\n".join([HEADER, *rows]) + "\n")
    out = tmp_path / "out"
    r = cli("calculate", legs, "--out", out / "legs.csv", "--shipments-out", out / "s.csv", "--errors-out", out / "e.csv",
            "--batch-rows", 1000, "--no-progress")
    assert r.exit_code == 2
    assert "the run failed while computing lines 1001–2000 and its outputs were removed: PanicException" in r.output
    assert list(out.iterdir()) == []


def test_figures_for_people_are_rounded_and_parquet_keeps_full_precision(tmp_path):
    r = cli("calculate", SAMPLES / "legs.csv", "--out", tmp_path / "legs.csv", "--shipments-out", tmp_path / "s.csv",
            "--summary-json", tmp_path / "summary.json", "--no-progress")
    assert r.exit_code == 0, r.output
    full = cli("calculate", SAMPLES / "legs.csv", "--out", tmp_path / "legs.parquet", "--no-progress")
    assert full.exit_code == 0
    # SHP-001 leg 1: 12 t × 410 km × 73 g = 359.16 kg TTW, 359.15999999999997 in binary
    exact = pl.read_parquet(tmp_path / "legs.parquet")["co2e_ttw_kg"][0]
    assert exact == 4920 * (73 / 1000) and repr(exact) == "359.15999999999997"
    text = (tmp_path / "legs.csv").read_text()
    assert ",359.16," in text and "359.15999999999997" not in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["co2e_wtw_t"] == round_figure(summary["co2e_wtw_t"]) and len(str(summary["co2e_wtw_t"]).replace(".", "")) <= 6
    three = cli("calculate", SAMPLES / "legs.csv", "--out", tmp_path / "legs3.csv", "--precision", 3, "--no-progress")
    assert ",359.0," in (tmp_path / "legs3.csv").read_text() and "total WTW      77.2 t CO2e" in three.output


def test_format_for_people():
    assert round_figure(359.15999999999997) == 359.16 and round_figure(350.00000000000006) == 350.0
    assert round_figure(7_854_022.124) == 7_854_020.0 and round_figure(1 / 3, 3) == 0.333
    df = pl.DataFrame({"x": [359.15999999999997, 350.00000000000006, None], "n": [1, 2, 3]})
    assert format_for_people(df).rows() == [(359.16, 1), (350.0, 2), (None, 3)]
    assert format_for_people({"a": [0.1 + 0.2], "b": "x", "c": 3}) == {"a": [0.3], "b": "x", "c": 3}


# --------------------------------------------------------------------------------------------
# Generated malformed files: every line is read or rejected with its number, never lost or misread.

NOTES = ["plain", "with, separator", 'with "quotes"', "two\nlines", "Müller", "東京", ""]
BAD_MASS = ["abc", "nan", "inf", "1e300", "true", "-5", "12.5.1"]


@st.composite
def legs_files(draw):
    """(bytes, CLI options, expected: {line: (kind, mass)}) of a legs file with broken lines. kind:
    "ok" (mass read as given), "bad" (rejected for its cells), "line" (rejected for its line)."""
    encoding = draw(st.sampled_from(["utf-8", "cp1252", "cp932"]))
    sep, comma = draw(st.sampled_from([(",", False), (";", False), (";", True)]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    notes = [n for n in NOTES if n != {"cp932": "Müller", "cp1252": "東京"}.get(encoding)]
    header = ["shipment_id", "mode", "mass_kg", "distance_km", "vehicle", "energy_carrier", "region", "note"]
    lines, expected, line = [sep.join(header)], {}, 2

    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in (sep, '"', "\n")) else cell

    for n in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "bad", "long", "short", "stray", "blank"]))
        if kind == "blank":
            lines.append("")
            line += 1
            continue
        mass = draw(st.integers(1, 900_000)) / 4  # up to two decimals: .25, .5, .75
        text = f"{mass:.2f}".replace(".", ",") if comma else f"{mass:.2f}"
        note = draw(st.sampled_from(notes))
        cells = [f"S{n}", "road", text if kind != "bad" else draw(st.sampled_from(BAD_MASS)), "100", "artic_40t", "diesel", "EU",
                 quote(note)]
        if kind == "long":
            cells.append("extra")
        elif kind == "short":
            cells = cells[:4]
        elif kind == "stray":
            cells[-1] = 'x""y'
        record = sep.join(cells)
        expected[line] = ("ok", mass) if kind == "ok" else ("bad", None) if kind == "bad" else ("line", None)
        lines.append(record)
        line += 1 + record.count("\n")
    if draw(st.booleans()):  # a last line whose quote is never closed
        lines.append(sep.join(["S99", "road", "1000", "100", "artic_40t", "diesel", "EU", '"open']))
        expected[line] = ("line", None)
    data = (eol.join(lines).replace("\n", eol) if eol != "\n" else "\n".join(lines)) + eol * draw(st.integers(0, 1))
    options = ["--decimal-comma" if comma else "--decimal-point"] if draw(st.booleans()) else []
    if draw(st.booleans()):
        options += ["--encoding", {"utf-8": "utf8", "cp1252": "cp1252", "cp932": "cp932"}[encoding]]
    return data.encode(encoding), options, expected


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=legs_files())
def test_generated_malformed_files_are_read_or_refused_never_lost(tmp_path_factory, case):
    data, options, expected = case
    tmp = tmp_path_factory.mktemp("gen")
    (tmp / "legs.csv").write_bytes(data)
    out = tmp / "out"
    r = cli("calculate", tmp / "legs.csv", "--out", out / "legs.parquet", "--errors-out", out / "errors.csv",
            "--summary-json", tmp / "summary.json", "--no-progress", *options)
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:  # refused as a whole: a message, and nothing left behind
        assert r.output.startswith("error: ") and (not out.exists() or list(out.iterdir()) == [])
        return
    summary = json.loads((tmp / "summary.json").read_text())
    legs = pl.read_parquet(out / "legs.parquet")
    errors = pl.read_csv(out / "errors.csv", infer_schema=False)
    assert summary["rows_read"] == len(expected) == legs.height
    assert summary["rows_read"] == summary["computed"] + summary["rejected"]
    assert sorted(legs[LINE_COLUMN].to_list()) == sorted(expected)
    rejected = set(legs.filter(pl.col("error").is_not_null())[LINE_COLUMN].to_list())
    assert {int(x) for x in errors["input_line"]} == rejected
    for line, (kind, mass) in expected.items():
        row = legs.filter(pl.col(LINE_COLUMN) == line).row(0, named=True)
        if kind == "ok":
            assert row["error"] is None and row["mass_kg"] == mass, (line, row)
            assert row["co2e_wtw_kg"] == pytest.approx(mass / 1000 * 100 * 0.095)  # t × 100 km × 95 g
        else:
            assert line in rejected, (line, row)
            assert row["error"].startswith("line: ") == (kind == "line"), (line, row["error"])


@settings(max_examples=150, deadline=None)
@given(case=legs_files(), rows=st.integers(1, 7))
def test_generated_files_split_the_same_in_any_batch_size(tmp_path_factory, case, rows):
    data, options, expected = case
    tmp = tmp_path_factory.mktemp("split")
    (tmp / "legs.csv").write_bytes(data)
    encoding = options[options.index("--encoding") + 1] if "--encoding" in options else None
    decimal_comma = True if "--decimal-comma" in options else False if "--decimal-point" in options else None
    try:
        with open_legs(tmp / "legs.csv", encoding=encoding, decimal_comma=decimal_comma) as legs:
            whole = pl.concat([pl.DataFrame(schema=legs.schema), *legs.batches(rows)])
    except InputError:
        return  # refused as a whole (the property test above checks the message)
    assert whole[LINE_COLUMN].to_list() == sorted(expected)
    broken = set(whole.filter(pl.col(LINE_ERROR).is_not_null())[LINE_COLUMN].to_list())
    assert broken == {line for line, (kind, _) in expected.items() if kind == "line"}
    assert MAX_RECORD_LINES >= 3


def test_read_legs_of_a_path_and_of_frames():
    sample = read_legs(SAMPLES / "legs.csv")
    assert sample[LINE_COLUMN].to_list() == list(range(2, 21)) and sample[LINE_ERROR].null_count() == 19
    assert read_legs(pl.DataFrame({"a": [1, 2]}))[LINE_COLUMN].to_list() == [1, 2]
    assert read_legs(pd.DataFrame({"a": np.array([1.5, np.nan])}))["a"].to_list() == [1.5, None]
