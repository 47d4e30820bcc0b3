"""The carrier's own columns: a mapping from a file's headers and units to the legs table."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

import logistics
from logistics.batch import run
from logistics.cli import SAMPLES, app
from logistics.io import read_table
from logistics.mapping import Mapping, MappingError, read_header, suggest

TMS = SAMPLES / "tms_export.csv"
TMS_COLUMNS = SAMPLES / "tms_export.columns.toml"


def test_a_mapping_with_problems_lists_every_one():
    with pytest.raises(MappingError) as caught:
        Mapping.from_dict({
            "columns": {
                "Weight": {"to": "mass", "unit": "t"},
                "Gross (t)": {"to": "mass_kg", "unit": "stone"},
                "Consignment": "shipment_id",
                "Shipment": "shipment_id",
                "Boxes": {"to": "teu", "unit": "t"},
            },
            "colours": {},
        })
    problems = caught.value.problems
    assert "unknown section(s) colours (expected columns, values)" in problems
    assert any(p.startswith("columns.'Weight': 'mass' is not a legs column") for p in problems)
    assert "columns.'Gross (t)': unit 'stone' of mass_kg is not one of kg, t, lb" in problems
    assert "shipment_id is mapped from more than one column: 'Consignment', 'Shipment'" in problems
    assert any(p.startswith("columns.'Boxes': teu takes no unit") for p in problems)


def test_pass_through_columns_and_tags_are_targets():
    m = Mapping.from_dict({"columns": {"Client": "customer", "Branch": "tag_branch", "PO": "order_id"}})
    assert {h: t.to for h, t in m.columns.items()} == {"Client": "customer", "Branch": "tag_branch", "PO": "order_id"}
    with pytest.raises(MappingError, match="'tag_' is not a legs column"):
        Mapping.from_dict({"columns": {"X": "tag_"}})


def test_units_are_converted_and_cells_that_are_not_numbers_kept_as_written():
    m = Mapping.from_dict({"columns": {"Weight (t)": {"to": "mass_kg", "unit": "t"},
                                       "Miles": {"to": "distance_km", "unit": "mi"},
                                       "Pounds": {"to": "payload_capacity_kg", "unit": "lb"}}})
    raw = pl.DataFrame({"Weight (t)": ["12", " 0.35", "n/a", None], "Miles": ["255", "1", "", "x"],
                        "Pounds": ["1000", None, None, None], "other": ["a", "b", "c", "d"]})
    out = m.apply(raw)
    assert out.columns == ["mass_kg", "distance_km", "payload_capacity_kg", "other"]
    # 12 t = 12,000 kg; 255 mi × 1.609344 km/mi = 410.38272 km; 1,000 lb × 0.45359237 = 453.59237 kg
    assert out["mass_kg"].to_list()[:3] == ["12000.0", "350.0", "n/a"] and out["mass_kg"][3] is None
    assert float(out["distance_km"][0]) == pytest.approx(410.38272, abs=1e-9)
    assert out["distance_km"].to_list()[2:] == ["", "x"]
    assert float(out["payload_capacity_kg"][0]) == pytest.approx(453.59237, abs=1e-9)


def test_converted_numbers_never_read_as_thousands(tmp_path):
    # 1,234 m is 1.234 km: written "1.234" it could be read as 1234 (a thousand separator) in a file
    # whose decimal mark nothing tells; the mapping writes 1.2340
    legs = tmp_path / "legs.csv"
    legs.write_text("Consignment,Transport mode,Weight (kg),Distance (m)\nA,road,12000,1234\nB,road,1500,20000\n")
    m = Mapping.from_dict({"columns": {"Consignment": "shipment_id", "Transport mode": "mode",
                                       "Weight (kg)": "mass_kg", "Distance (m)": {"to": "distance_km", "unit": "m"}}})
    distance = Mapping.from_dict({"columns": {"Distance (m)": {"to": "distance_km", "unit": "m"}}})
    assert distance.apply(pl.DataFrame({"Distance (m)": ["1234", "20000"]}))["distance_km"].to_list() == ["1.2340", "20.0"]
    out = tmp_path / "r.parquet"
    run(legs, out, columns=m, defaults={"region": "EU", "vehicle": "artic_40t", "energy_carrier": "diesel"})
    results = pl.read_parquet(out)
    assert results["distance_km"].to_list() == [pytest.approx(1.234), pytest.approx(20.0)]
    assert results["error"].to_list() == [None, None]


def test_decimal_comma_cells_are_converted_and_written_back_with_a_comma():
    m = Mapping.from_dict({"columns": {"Gewicht (t)": {"to": "mass_kg", "unit": "t"}}})
    out = m.apply(pl.DataFrame({"Gewicht (t)": ["12,5", "1.200,25"]}), decimal_comma=True)
    assert out["mass_kg"].to_list() == ["12500,0", "1200250,0"]


def test_numeric_columns_of_a_parquet_file_are_converted_as_numbers():
    m = Mapping.from_dict({"columns": {"km_in_miles": {"to": "distance_km", "unit": "mi"}}})
    out = m.apply(pl.DataFrame({"km_in_miles": [100.0, None]}))
    assert out["distance_km"][0] == pytest.approx(160.9344) and out["distance_km"][1] is None


def test_vocabulary_cells_are_respelt():
    m = Mapping.from_dict({"columns": {"Art": "mode"}, "values": {"mode": {"LKW": "road", "Bahn": "rail"}}})
    assert m.apply(pl.DataFrame({"Art": ["LKW", " Bahn ", "Schiff"]}))["mode"].to_list() == ["road", "rail", "Schiff"]


def test_a_mapping_that_does_not_fit_the_file_is_refused():
    m = Mapping.from_dict({"columns": {"Weight (t)": {"to": "mass_kg", "unit": "t"}, "Shipment": "shipment_id"}})
    with pytest.raises(MappingError) as caught:
        m.check(["Shipment", "mass_kg", "mode"])
    assert caught.value.problems == [
        "the file has no column(s) 'Weight (t)' (its header: 'Shipment', 'mass_kg', 'mode')",
    ]
    with pytest.raises(MappingError, match="mass_kg would come from both 'Weight \\(t\\)' and the file's own column 'mass_kg'"):
        m.check(["Shipment", "Weight (t)", "mass_kg", "mode"])


def test_toml_round_trip(tmp_path):
    m = Mapping.read(TMS_COLUMNS)
    path = tmp_path / "again.toml"
    path.write_text(m.to_toml(), encoding="utf8")
    assert Mapping.read(path) == m
    assert m.columns["Weight (t)"].unit == "t" and m.values["mode"]["Ocean"] == "sea"


def test_a_broken_toml_file_says_where():
    with pytest.raises(logistics.InputError, match="not a valid column mapping"):
        Mapping.read(SAMPLES / "legs.csv")


def test_suggest_reads_names_and_units_from_a_header():
    header = read_header(TMS)
    m = suggest(header)
    assert m.columns["Weight (t)"].to == "mass_kg" and m.columns["Weight (t)"].unit == "t"
    assert m.columns["Distance (mi)"].to == "distance_km" and m.columns["Distance (mi)"].unit == "mi"
    assert m.columns["Consignment"].to == "shipment_id" and m.columns["Customer"].to == "customer"
    assert "Branch" not in m.columns  # a person names the tag
    # every legs column is suggested once at most
    targets = [t.to for t in m.columns.values()]
    assert len(targets) == len(set(targets))


def _mapped_result():
    mapping = Mapping.read(TMS_COLUMNS)
    return logistics.calculate(mapping.apply(read_table(TMS)))


def test_the_mapped_sample_gives_the_hand_calculated_figures():
    result = _mapped_result()
    first = result.legs.row(0, named=True)
    # 12 t × (255 mi × 1.609344) km × 95 g CO2e/tkm (GLEC v3.0 p.92, artic 40 t diesel, EU)
    assert first["mass_kg"] == 12000.0 and first["distance_km"] == pytest.approx(410.38272)
    assert first["co2e_wtw_kg"] == pytest.approx(12 * 410.38272 * 95 / 1000)
    # the business columns travel into the results and the shipments
    assert (first["customer"], first["order_id"], first["date"], first["tag_branch"]) == (
        "Acme Foods", "PO-7001", "2026-01-23", "Hamburg")
    assert result.shipments.filter(pl.col("shipment_id") == "C26-0001")["customer"].item() == "Acme Foods"


def test_batch_run_with_columns_keeps_the_cells_as_read_in_the_errors(tmp_path):
    out, ships, errors = tmp_path / "r.csv", tmp_path / "s.csv", tmp_path / "e.csv"
    # batches of 7 rows split shipments: they must still total once each, on the mapped shipment id
    summary = run(TMS, out, shipments_out=ships, errors_out=errors, columns=TMS_COLUMNS, batch_rows=7)
    expected = _mapped_result()
    assert summary.rejected == 2 and summary.computed == 48
    assert summary.total_t("co2e_wtw_kg") == pytest.approx(expected.summary()["co2e_wtw_t"], rel=1e-12)
    shipments = pl.read_csv(ships)
    assert shipments.height == expected.shipments.height == 29
    assert shipments.filter(pl.col("shipment_id") == "C26-0001")["co2e_wtw_kg"].item() == pytest.approx(
        expected.shipments.filter(pl.col("shipment_id") == "C26-0001")["co2e_wtw_kg"].item(), rel=5e-6)  # CSV: 6 digits
    rejected = pl.read_csv(errors, infer_schema=False)
    assert rejected["input_line"].to_list() == ["50", "51"]
    assert rejected["error_code"].to_list() == ["mass_kg.not_a_number", "mode.unknown_value"]
    assert rejected["Weight (t)"].to_list() == ["n/a", "2"] and rejected["Transport mode"].to_list() == ["Truck", "Zeppelin"]
    results = pl.read_csv(out, infer_schema=False)
    assert {"customer", "order_id", "date", "tag_branch"} <= set(results.columns)


def test_batch_run_refuses_a_mapping_that_does_not_fit(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\n"Gewicht" = { to = "mass_kg", unit = "t" }\n', encoding="utf8")
    with pytest.raises(MappingError, match="the file has no column\\(s\\) 'Gewicht'"):
        run(TMS, tmp_path / "r.csv", columns=bad)
    assert not (tmp_path / "r.csv").exists()


def test_cli_columns_and_map_columns(tmp_path):
    runner = CliRunner()
    written = tmp_path / "columns.toml"
    done = runner.invoke(app, ["map-columns", str(TMS), "--out", str(written)])
    assert done.exit_code == 0, done.output
    assert "16 of 17 column(s) mapped" in done.output
    assert Mapping.read(written).columns["Weight (t)"].unit == "t"
    out = tmp_path / "r.csv"
    done = runner.invoke(app, ["calculate", str(TMS), "--columns", str(TMS_COLUMNS), "--out", str(out), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "rejected       2" in done.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\n"Weight (t)" = "weight"\n', encoding="utf8")
    done = runner.invoke(app, ["calculate", str(TMS), "--columns", str(bad), "--out", str(out), "--no-progress"])
    assert done.exit_code == 2 and "'weight' is not a legs column" in done.output
