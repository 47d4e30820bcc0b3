"""End-to-end CLI runs on small files: outputs, errors with line numbers, encodings, separators,
streaming in many batches equal to one batch."""

import subprocess
import sys

import polars as pl
import pytest
from typer.testing import CliRunner

from logistics.cli import SAMPLES, app

runner = CliRunner()
HEADER = "shipment_id,mode,mass_kg,distance_km,vehicle,energy_carrier,region"


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_sample_run_writes_results_shipments_and_summary(tmp_path):
    r = run("calculate", SAMPLES / "legs.csv", "--out", tmp_path / "legs.parquet", "--shipments-out", tmp_path / "s.csv",
            "--errors-out", tmp_path / "e.csv", "--no-progress", "--summary-json", tmp_path / "summary.json")
    assert r.exit_code == 0, r.output
    legs = pl.read_parquet(tmp_path / "legs.parquet")
    sample = pl.read_csv(SAMPLES / "legs.csv")
    assert legs.height == sample.height
    assert legs["error"].null_count() == legs.height
    shipments = pl.read_csv(tmp_path / "s.csv")
    assert shipments["shipment_id"].to_list() == sample["shipment_id"].unique(maintain_order=True).to_list()
    assert shipments["co2e_wtw_kg"].sum() == pytest.approx(legs["co2e_wtw_kg"].sum())
    # SHP-001 leg 1 by hand: 12 t × 410 km × 95 g/tkm (GLEC v3.0 p.92) = 467.4 kg
    assert legs["co2e_wtw_kg"][0] == pytest.approx(467.4)
    assert "rows read      19" in r.output and "rejected       0" in r.output
    # hub defaults give WTW only (GLEC v3.0 p.87): 12 t × 0.6 + 0.8 TEU × 12.6 + 2 TEU × 10.7 + 900 t × 2.1 kg
    # = 1,928.68 kg, printed to 6 significant digits
    assert "no split 1.92868 t" in r.output
    assert pl.read_csv(tmp_path / "e.csv").height == 0


def test_rejected_rows_have_line_numbers_and_counts_add_up(tmp_path):
    legs = write(tmp_path / "legs.csv", "\n".join([
        HEADER,
        "a,road,10000,500,artic_40t,diesel,EU",   # line 2: fine, 475 kg
        "b,truck,10000,500,artic_40t,diesel,EU",  # line 3: unknown mode
        "c,road,-1,500,artic_40t,diesel,EU",      # line 4: negative mass
        "d,road,2000000000,500,artic_40t,diesel,EU",  # line 5: over 1,000,000 t
        "e,road,abc,500,artic_40t,diesel,EU",     # line 6: not a number
        "f,road,10000,500,artic_40t,diesel,EU",   # line 7: fine
    ]) + "\n")
    r = run("calculate", legs, "--out", tmp_path / "out.csv", "--errors-out", tmp_path / "err.csv", "--no-progress")
    assert r.exit_code == 0, r.output  # rejected rows are not fatal
    err = pl.read_csv(tmp_path / "err.csv")
    assert err["input_line"].to_list() == [3, 4, 5, 6]
    assert err["error"][0].startswith("mode: 'truck'")
    assert err["error"][2] == "mass_kg: 2000000000.0 is over 1,000,000 t"
    out = pl.read_csv(tmp_path / "out.csv")
    assert out.height == 6 and out.filter(pl.col("error").is_null()).height + err.height == 6
    assert "rows read      6" in r.output and "computed       2" in r.output
    assert ("rejected       4  (mass_kg.not_a_number: 1, mass_kg.not_positive: 1, mass_kg.too_large: 1,"
            " mode.unknown_value: 1)") in r.output
    assert "total WTW      0.95 t CO2e" in r.output


def test_missing_columns_is_fatal_with_expected_header(tmp_path):
    legs = write(tmp_path / "legs.csv", "shipment_id,distance_km\na,10\n")
    r = run("calculate", legs, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2
    assert "missing required column(s): mode, mass_kg (or teu)" in r.output
    assert "Expected header" in r.output


def test_unreadable_inputs_are_fatal(tmp_path):
    assert run("calculate", tmp_path / "nope.csv", "--out", tmp_path / "o.csv").exit_code == 2
    bad = tmp_path / "legs.xlsx"
    bad.write_text("x")
    r = run("calculate", bad, "--out", tmp_path / "o.csv")
    assert r.exit_code == 2 and "unknown file type" in r.output
    r = run("calculate", SAMPLES / "legs.csv", "--out", tmp_path / "o.csv", "--pack", "no-such-pack", "--no-progress")
    assert r.exit_code == 2 and "pack 'no-such-pack' not found" in r.output


@pytest.mark.parametrize("encoding,sep,bom", [("utf-8", ",", False), ("utf-8", ";", True), ("cp932", ",", False)])
def test_encodings_and_separators(tmp_path, encoding, sep, bom):
    text = "\n".join([HEADER, "出荷-1,road,10000,500,artic_40t,diesel,EU"]).replace(",", sep) + "\n"
    legs = tmp_path / "legs.csv"
    legs.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    r = run("calculate", legs, "--out", tmp_path / "o.csv", "--no-progress")
    assert r.exit_code == 0, r.output
    out = pl.read_csv(tmp_path / "o.csv")
    assert out["shipment_id"][0] == "出荷-1"
    assert out["co2e_wtw_kg"][0] == pytest.approx(475.0)


def _run_batches(tmp_path, df, batch_rows):
    df.write_csv(tmp_path / "legs.csv")
    outs = {}
    for rows in batch_rows:
        d = tmp_path / str(rows)
        r = run("calculate", tmp_path / "legs.csv", "--out", d / "legs.parquet", "--shipments-out", d / "s.parquet",
                "--batch-rows", rows, "--no-progress")
        assert r.exit_code == 0, r.output
        outs[rows] = (pl.read_parquet(d / "legs.parquet"), pl.read_parquet(d / "s.parquet"))
    return outs


def test_streaming_in_many_batches_equals_one_batch(tmp_path):
    sys.path.insert(0, str(SAMPLES.parents[2] / "bench"))
    from synthetic import legs as synthetic_legs

    df = synthetic_legs(5_000, seed=7)  # 3 legs per shipment; 1,000-row batches cut shipments apart
    outs = _run_batches(tmp_path, df, (1_000_000, 1_000))
    one, many = outs[1_000_000], outs[1_000]
    assert one[0].equals(many[0])
    # a multi-batch run writes shipments partition by partition: same rows, another order
    assert one[1].sort("shipment_id").equals(many[1].sort("shipment_id"))
    assert one[1].height == df["shipment_id"].n_unique()


def test_ungrouped_file_still_gets_one_row_per_shipment(tmp_path):
    sys.path.insert(0, str(SAMPLES.parents[2] / "bench"))
    from synthetic import legs as synthetic_legs

    df = synthetic_legs(5_000, seed=7).with_columns(leg_id=pl.int_range(pl.len()).cast(pl.String))
    df = df.sample(fraction=1.0, shuffle=True, seed=1)  # a shipment's legs are scattered over the file
    outs = _run_batches(tmp_path, df, (1_000_000, 1_000))
    one, many = (outs[k][1].sort("shipment_id") for k in (1_000_000, 1_000))
    assert many.height == one.height == df["shipment_id"].n_unique()
    assert many["legs"].equals(one["legs"])
    for c in ("co2e_wtw_kg", "tkm"):  # the same legs summed in another order: equal to rounding
        assert many[c].to_list() == pytest.approx(one[c].to_list(), rel=1e-12)


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "logistics.cli", "calculate", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "--shipments-out" in out.stdout and "Examples" in out.stdout


def test_packs_commands():
    r = run("packs", "list")
    assert "glec-v3.0" in r.output and "desnz-2025" in r.output
    r = run("packs", "show", "glec-v3.0")
    assert "tocs" in r.output and "non-profit" in r.output


FIXTURES = SAMPLES.parents[2] / "tests" / "fixtures"


def test_jp_calculate_side_by_side_and_summary(tmp_path):
    # Issue #7's done criterion: a Shift_JIS CSV with Japanese headers gives 改良トンキロ法 and GLEC
    # figures side by side, each labelled.
    r = run("jp", "calculate", FIXTURES / "japan" / "shipper_sjis.csv", "--out", tmp_path / "jp.csv",
            "--glec-out", tmp_path / "both.csv", "--default", "vehicle=rigid_7.5-12t", "--default", "region=AS")
    assert r.exit_code == 0, r.output
    both = pl.read_csv(tmp_path / "both.csv")
    a001 = both.filter(pl.col("leg_id") == "A001-1").row(0, named=True)
    # 798.08 t·km × 0.124451 l/t·km × 2.584963 kg/l = 256.743 kg CO2 (the mesus.jp 「CO2排出量計算方法」 example)
    assert a001["jp_method_ja"] == "改良トンキロ法" and a001["jp_co2_ttw_kg"] == pytest.approx(256.743, abs=1e-3)
    # GLEC rigid 7.5–12 t, Asia: 798.08 × 210 g × 1.22 = 204.468 kg CO2e WTW (GLEC v3.0 pp.92, 94)
    assert a001["glec_co2e_wtw_kg"] == pytest.approx(204.468, abs=1e-3)
    jp = pl.read_csv(tmp_path / "jp.csv")
    assert jp["co2e_wtw_kg"].null_count() == jp.height  # never mixed into CO2e
    r = run("jp", "summary", tmp_path / "jp.csv", "--out", tmp_path / "summary.csv")
    assert r.exit_code == 0, r.output
    s = pl.read_csv(tmp_path / "summary.csv")
    fy23 = s.filter((pl.col("period") == "FY2023") & (pl.col("method") == "jp_improved_tonkm")).row(0, named=True)
    # A001 + A005 (798.08 + 5,760 t·km; 256.743 + 549.990 kg), A006 and A007 rejected
    assert fy23["tkm"] == pytest.approx(6558.08) and fy23["co2_ttw_t"] == pytest.approx(0.806733, abs=1e-6)
    assert fy23["error_legs"] == 2


def test_tocs_derive_then_calculate(tmp_path):
    # GLEC v3.0 pp.149–150, example 1: 561 l diesel over 29,455 tkm × 3.44 kg/l = 65.52 g/tkm
    r = run("tocs", "derive", FIXTURES / "derive" / "w16_ex1_groupage.csv", "--out", tmp_path / "tocs.csv")
    assert r.exit_code == 0, r.output
    tocs = pl.read_csv(tmp_path / "tocs.csv")
    assert tocs["wtw_g_co2e_per_tkm"][0] == pytest.approx(561 * 3.44 / 29_455 * 1000)
    legs = write(tmp_path / "legs.csv", f"shipment_id,mode,mass_kg,distance_km,toc_id\nA-C,road,10000,260,{tocs['toc_id'][0]}\n")
    r = run("calculate", legs, "--out", tmp_path / "out.csv", "--tocs", tmp_path / "tocs.csv", "--no-progress")
    assert r.exit_code == 0, r.output
    # consignment 10 t A→C via B: 2,600 tkm × 65.5182 g/tkm = 170.3474 kg, in the CSV to 6 significant digits
    assert 2600 * 561 * 3.44 / 29_455 == pytest.approx(170.3474, abs=1e-4)
    assert pl.read_csv(tmp_path / "out.csv")["co2e_wtw_kg"][0] == 170.347


def test_export_and_validate_commands(tmp_path):
    # 10 t road 500 km (artic ≤40 t diesel EU: 475 kg WTW, GLEC v3.0 p.92) then a transshipment hub
    legs = write(tmp_path / "legs.csv", "shipment_id,mode,mass_kg,distance_km,vehicle,energy_carrier,region,hub_type,date\n"
                 "S1,road,10000,500,artic_40t,diesel,EU,,2025-05-06\nS1,hub,10000,,,,,transshipment,\n")
    assert run("calculate", legs, "--out", tmp_path / "r.parquet", "--no-progress").exit_code == 0
    # No energy mix written by hand: the pack's rows name theirs; the period is the legs' dates.
    config = write(tmp_path / "exchange.toml", 'company_name = "Example Carrier"\n'
                   'company_ids = ["urn:pathfinder:company:customcode:vendor-assigned:example-carrier"]\n')
    r = run("export", tmp_path / "r.parquet", "--format", "pact-v2", "--out", tmp_path / "fp.json", "--config", config)
    out = r.output
    assert r.exit_code == 0, out
    # Without a config: the placeholder company is refused (exit 2, an input error, saying why).
    anonymous = run("export", tmp_path / "r.parquet", "--format", "pact-v2", "--out", tmp_path / "anon.json")
    assert anonymous.exit_code == 2 and "placeholders" in anonymous.output
    r2 = run("validate", tmp_path / "fp.json")
    assert r2.exit_code == 0, r2.output + out
    assert "valid" in r2.output
    import json

    docs = json.loads((tmp_path / "fp.json").read_text())["data"]
    shipment = next(d for d in docs if d["extensions"][0]["dataSchema"].endswith("shipment-footprint.json"))
    # iLEAP mapping: pCfExcludingBiogenic = Σ WTW = 475 + 0.6 kg/t × 10 t; unitaryProductAmount = Σ tkm
    assert float(shipment["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(481.0)
    assert float(shipment["pcf"]["unitaryProductAmount"]) == pytest.approx(5000.0)
    assert shipment["pcf"]["referencePeriodStart"] == "2025-05-06T00:00:00Z"
    bad = write(tmp_path / "bad.json", json.dumps({"data": [{**shipment, "specVersion": "9.9"}]}))
    r3 = run("validate", bad)
    assert r3.exit_code == 1 and "specVersion" in r3.output


def test_a_run_that_fails_midway_leaves_no_output_that_looks_complete(tmp_path, monkeypatch):
    from logistics import batch
    from logistics.pipeline.engine import Engine

    sys.path.insert(0, str(SAMPLES.parents[2] / "bench"))
    from synthetic import legs as synthetic_legs

    synthetic_legs(3_000, seed=3).write_csv(tmp_path / "legs.csv")
    real, calls = Engine.compute, []

    def failing_on_the_third_batch(self, frame, *args, **kwargs):
        calls.append(frame.height)
        if len(calls) == 4:  # the first call only gives the results' columns (an empty frame)
            raise OSError("disk gone")
        return real(self, frame, *args, **kwargs)

    monkeypatch.setattr(Engine, "compute", failing_on_the_third_batch)
    outs = [tmp_path / "out" / name for name in ("legs.parquet", "shipments.csv", "errors.csv")]
    with pytest.raises(batch.RunFailed, match="while computing lines 2000–3001 and its outputs were removed: OSError: disk gone"):
        batch.run(tmp_path / "legs.csv", outs[0], shipments_out=outs[1], errors_out=outs[2], batch_rows=1_000)
    assert calls[0] == 0 and len(calls) == 4
    assert list((tmp_path / "out").iterdir()) == []  # neither the outputs nor their partial files


@pytest.mark.parametrize("kind, records", [
    ("tocs", "toc_id,mode,region,tkm,fuel_amount,fuel_unit,energy_carrier\nt1,road,EU,1000,abc,l,diesel\n"
             "t2,road,EU,,50,l,diesel\n"),
    ("hocs", "hoc_id,hub_type,fuel_amount,fuel_unit,energy_carrier,region,outbound_t\nh1,transshipment,12000,kWh,"
             "electricity,EU,lots\n"),
])
def test_derive_fails_when_every_record_is_rejected(tmp_path, kind, records):
    r = run(kind, "derive", write(tmp_path / "records.csv", records), "--out", tmp_path / "derived.csv",
            "--errors-out", tmp_path / "errors.csv")
    label = {"tocs": "TOCs", "hocs": "HOCs"}[kind]
    rejected = records.count("\n") - 1
    assert r.exit_code == 2, r.output
    assert f"error: no {label} derived: every record ({rejected}) was rejected; {tmp_path / 'derived.csv'} not written" in r.output
    assert not (tmp_path / "derived.csv").exists()
    assert pl.read_csv(tmp_path / "errors.csv").height == rejected  # the reasons are kept


def test_a_misspelt_column_is_named_in_the_summary(tmp_path):
    legs = write(tmp_path / "legs.csv", "shipment_id,mode,mass_kg,distance_km,vehicle_typ,energy_carrier,region\n"
                                         "S1,road,1000,100,artic_40t,diesel,EU\n")
    r = run("calculate", legs, "--out", tmp_path / "out.csv", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "not read       vehicle_typ (vehicle?)" in r.output
    assert "rejected       1  (factor.no_match: 1)" in r.output  # the vehicle was not read, so no factor
