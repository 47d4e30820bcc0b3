"""logistics.spark: the library's engine on Apache Spark (local mode, one session for the module)
gives the single-machine engine's results: legs to the last bit, factors, and shipment totals,
also when a shipment's legs fall into different partitions.

Shipment totals: a shipment whose legs are consecutive in one partition has one partial, so its
totals are the engine's to the last bit. A shipment split over partitions (or scattered in one) is
the sum of its partials, added in the order of their first input line: the same legs summed in
another grouping, which moves a float total by a few units in the last place (each addition
rounds, at most 2^-53 of the running sum). These are compared within a relative 1e-12: far above
that rounding for shipments of a few legs, far below any real difference (the smallest figure a
leg changes a total by is some 1e-6 of it here).
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import reduce
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (bash .ci/java.sh installs one)", allow_module_level=True)

import logistics
from logistics import spark as LS
from logistics.cli import SAMPLES
from logistics.io import read_table
from logistics.schema import LINE_COLUMN

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from synthetic import legs as synthetic_legs

# All slow: starting Spark and its first jobs (JVM warm-up, Python workers importing the library)
# takes 30-60 s on the project's 2-core machine, more than the quick loop's budget.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")]
REL = 1e-12  # shipments split over partitions (see the module's docstring)
FIGURES = ("mass_kg", "tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg", "co2e_wtw_unsplit_kg",
           "intensity_wtw_g_per_tkm", "primary_data_share")


@pytest.fixture(scope="module")
def spark():
    session = LS.session("local[2]", app_name="logistics-co2-tests", config={
        "spark.sql.shuffle.partitions": "3", "spark.default.parallelism": "2", "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "false"})
    yield session
    session.stop()


@pytest.fixture
def partitioned(spark, tmp_path):
    """``partitioned(frame, cuts)``: ``frame`` as a Spark DataFrame whose partitions are its row
    ranges between ``cuts``, in order (one Parquet file each, read one by one)."""
    def make(frame: pl.DataFrame, cuts=()):
        bounds = [0, *cuts, frame.height]
        paths = [str(tmp_path / f"part-{i}.parquet") for i in range(len(bounds) - 1)]
        for path, a, b in zip(paths, bounds[:-1], bounds[1:], strict=True):
            frame[a:b].write_parquet(path)
        schema = LS.spark_schema(frame.schema)  # given: no schema inference per file
        df = reduce(lambda x, y: x.union(y), [spark.read.schema(schema).parquet(p) for p in paths])
        assert df.rdd.getNumPartitions() == len(paths)
        return df

    return make


def split_shipments(frame: pl.DataFrame, cuts) -> set:
    """The shipments of ``frame`` whose rows are not one run inside one of the ranges between ``cuts``."""
    part = pl.Series([sum(i >= c for c in cuts) for i in range(frame.height)])
    rows = frame.select(pl.col("shipment_id").str.strip_chars()).with_columns(part=part, row=pl.int_range(pl.len()))
    spans = rows.group_by("shipment_id").agg(pl.col("part").n_unique().alias("parts"), pl.len().alias("n"),
                                             (pl.col("row").max() - pl.col("row").min() + 1).alias("span"))
    return set(spans.filter((pl.col("parts") > 1) | (pl.col("span") != pl.col("n")))["shipment_id"].to_list())


def legs_of(result) -> pl.DataFrame:
    return pl.from_arrow(result.legs.toArrow()).sort(LINE_COLUMN)


def check_shipments(got: pl.DataFrame, expected: pl.DataFrame, split: set) -> None:
    """Every shipment once; counts and flags equal; totals equal to the bit, or within REL for
    ``split`` shipments."""
    expected = expected.with_columns(pl.col("legs", "error_legs").cast(pl.Int64)).sort("shipment_id")
    got = got.sort("shipment_id")
    assert got.columns == expected.columns
    assert got.schema == expected.schema
    whole = ~pl.col("shipment_id").is_in(sorted(split))
    assert_frame_equal(got.filter(whole), expected.filter(whole), check_exact=True)
    assert_frame_equal(got.filter(~whole).drop(FIGURES), expected.filter(~whole).drop(FIGURES), check_exact=True)
    for column in FIGURES:
        for a, b in zip(got.filter(~whole)[column], expected.filter(~whole)[column], strict=True):
            assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, rel=REL, abs=0)), (column, a, b)


def test_sample_equals_the_engine_with_a_shipment_split_over_partitions(partitioned):
    frame = read_table(SAMPLES / "legs.csv")  # text cells, as the library reads a CSV file
    expected = logistics.calculate(frame)
    cuts = [2, 11]  # SHP-001's three legs: two in the first partition, one in the second
    split = split_shipments(frame, cuts)
    assert split == {"SHP-001"}
    result = LS.calculate(partitioned(frame, cuts))

    assert LS.polars_schema(result.legs.schema) == dict(expected.legs.schema)
    got = legs_of(result)
    # no input_line given: numbered 1, 2, ... in partition order, as the library numbers rows
    assert_frame_equal(got, expected.legs, check_exact=True)
    shipments = pl.from_arrow(result.shipments.toArrow())
    check_shipments(shipments, expected.shipments, split)
    # SHP-001 by hand, WTW: EU artic 40 t diesel 12 t × 410 km × 95 g/tkm, transshipment hub
    # 12 t × 0.6 kg/t, EU rigid 12-20 t diesel 12 t × 510 km × 179 g/tkm (GLEC v3.0 pp.87, 91-92)
    total = shipments.filter(pl.col("shipment_id") == "SHP-001")["co2e_wtw_kg"][0]
    assert total == pytest.approx(467.4 + 7.2 + 1095.48, rel=1e-12)
    assert_frame_equal(result.factors(), expected.factors, check_exact=True)


def with_bad_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as text cells (as read from a CSV file) with a bad cell every 97th row."""
    text = frame.with_columns(pl.all().cast(pl.String))
    row = pl.int_range(pl.len())
    bad = (row % 97 == 5)
    kind = (row // 97) % 6
    return text.with_columns(
        mass_kg=pl.when(bad & (kind == 0)).then(pl.lit("abc")).when(bad & (kind == 1)).then(pl.lit("-5"))
        .otherwise(pl.col("mass_kg")),
        mode=pl.when(bad & (kind == 2)).then(pl.lit("truck")).otherwise(pl.col("mode")),
        distance_km=pl.when(bad & (kind == 3)).then(pl.lit("0")).when(bad & (kind == 4)).then(pl.lit("60000"))
        .otherwise(pl.col("distance_km")),
        shipment_id=pl.when(bad & (kind == 5)).then(pl.lit(" ")).otherwise(pl.col("shipment_id")),
    )


@pytest.mark.parametrize("layout", ["one partition", "halves, a shipment split", "four, shipments split",
                                    "scattered", "scattered, no leg_seq", "bad rows, no leg_seq"])
def test_100k_legs_equal_the_engine_however_partitioned(partitioned, layout):
    frame = synthetic_legs(100_000, seed=11)
    if "no leg_seq" not in layout:  # 3 legs per shipment, numbered in order
        frame = frame.with_columns(leg_seq=pl.int_range(pl.len()) % 3 + 1)
    if "bad rows" in layout:
        frame = with_bad_rows(frame)
    cuts = {"one partition": [], "halves, a shipment split": [50_000], "four, shipments split": [10_000, 33_334, 77_777],
            "scattered": [30_000, 60_000], "scattered, no leg_seq": [30_000, 60_000], "bad rows, no leg_seq": [50_001]}[layout]
    if "scattered" in layout:  # a shipment's legs spread over the input and the partitions
        frame = frame.sample(fraction=1.0, shuffle=True, seed=2)
    expected = logistics.calculate(frame)
    result = LS.calculate(partitioned(frame, cuts))

    assert_frame_equal(legs_of(result), expected.legs, check_exact=True)
    # without leg_seq, Spark gathers each shipment's legs in input order first: nothing is split
    split = set() if "no leg_seq" in layout else split_shipments(frame, cuts)
    if layout == "halves, a shipment split":
        assert split == {"0000016666"}  # rows 49,998 and 49,999 | 50,000
    check_shipments(pl.from_arrow(result.shipments.toArrow()), expected.shipments, split)
    assert_frame_equal(result.factors(), expected.factors, check_exact=True)
    if "bad rows" in layout:
        errors = expected.legs.filter(pl.col("error").is_not_null())
        assert 1_000 < errors.height <= 100_000 // 97 + 1  # a hub's distance of 0 is no error
        assert set(errors["error_code"]) == {"mass_kg.not_a_number", "mass_kg.not_positive", "mode.unknown_value",
                                            "distance_km.not_positive", "distance_km.too_large", "shipment_id.missing"}


def test_a_plug_in_method_and_its_shipment_sum(partitioned):
    frame = pl.DataFrame({
        "shipment_id": ["J1", "J1", "J2"], "leg_seq": ["1", "2", "1"], "method": ["jp_fuel", None, "jp_fuel"],
        "mode": ["road"] * 3, "vehicle": [None, "artic_40t", None], "energy_carrier": ["diesel"] * 3,
        "region": [None, "EU", None], "fuel_amount": ["100", None, "50"], "fuel_unit": ["l", None, "l"],
        "mass_kg": ["2000", "2000", "1000"], "distance_km": ["30", "100", "20"]})
    expected = logistics.calculate(frame, jp_pack="jp-moe-2007")
    result = LS.calculate(partitioned(frame, [1]), jp_pack="jp-moe-2007")
    assert result.sums == expected.sums == ("jp_co2_ttw_kg",)
    got = legs_of(result)
    # jp_energy_gj = fuel_l × heat_mj / 1000: polars 2.1 may round that product-then-quotient
    # differently by a row's place in a frame (a unit in the last place), so the plug-in's figure
    # depends on the batch it is computed in, on one machine as on Spark
    assert_frame_equal(got.drop("jp_energy_gj"), expected.legs.drop("jp_energy_gj"), check_exact=True)
    assert_frame_equal(got.select("jp_energy_gj"), expected.legs.select("jp_energy_gj"), rel_tol=1e-15, abs_tol=0)
    shipments = pl.from_arrow(result.shipments.toArrow())
    check_shipments(shipments, expected.shipments, split={"J1"})
    # 100 l × 38.2 MJ/l × 0.0187 kg-C/MJ × 44/12 = 261.925 kg CO2 TTW (環境省 2007 edition), kept
    # out of CO2e; J1's CO2e is its GLEC leg alone: 2 t × 100 km × 95 g/tkm (GLEC v3.0 p.92)
    j1 = shipments.filter(pl.col("shipment_id") == "J1").row(0, named=True)
    assert j1["jp_co2_ttw_kg"] == pytest.approx(261.925, abs=1e-3) and j1["co2e_wtw_kg"] == pytest.approx(19.0)


def test_the_engine_is_built_once_per_executor_process(spark, partitioned):
    frame = synthetic_legs(20_000, seed=3).with_columns(leg_seq=pl.int_range(pl.len()) % 3 + 1)
    result = LS.calculate(partitioned(frame, [2_000 * i for i in range(1, 10)]), batch_rows=1_000)
    assert result.legs.count() == 20_000  # 10 tasks of 2 batches each, on 2 cores

    def built(batches):
        import os

        import pyarrow as pa

        from logistics import spark as worker

        yield pa.RecordBatch.from_pylist([{"pid": os.getpid(), "built": worker._BUILT[digest]}])

    digest = result.digest
    seen = dict(spark.range(0, 8, numPartitions=8).mapInArrow(built, "pid long, built long").collect())
    # each Python worker (reused from task to task) built this run's engine once at most, not once
    # per task or batch
    assert set(seen.values()) <= {0, 1} and sum(seen.values()) >= 1


def test_cli_on_a_parquet_directory_equals_the_batch_cli(spark, tmp_path):
    from typer.testing import CliRunner

    from logistics.cli import app

    frame = read_table(SAMPLES / "legs.csv")
    (tmp_path / "legs").mkdir()
    frame[:4].write_parquet(tmp_path / "legs" / "part-0.parquet")  # SHP-002's two legs in two files
    frame[4:].write_parquet(tmp_path / "legs" / "part-1.parquet")
    frame.write_parquet(tmp_path / "legs.parquet")
    runner = CliRunner()
    single = runner.invoke(app, ["calculate", str(tmp_path / "legs.parquet"), "--out", str(tmp_path / "one.parquet"),
                                 "--shipments-out", str(tmp_path / "one_s.parquet"), "--no-progress"])
    assert single.exit_code == 0, single.output
    r = runner.invoke(app, ["calculate", str(tmp_path / "legs"), "--out", str(tmp_path / "out"), "--shipments-out",
                            str(tmp_path / "shipments"), "--errors-out", str(tmp_path / "errors"), "--engine", "spark",
                            "--master", "local[2]", "--summary-json", str(tmp_path / "summary.json")])
    assert r.exit_code == 0, r.output
    assert "rows read      19" in r.output and "rejected       0" in r.output and "shipments      " in r.output
    got = pl.read_parquet(tmp_path / "out" / "*.parquet").sort(LINE_COLUMN)
    assert_frame_equal(got, pl.read_parquet(tmp_path / "one.parquet"), check_exact=True)
    check_shipments(pl.read_parquet(tmp_path / "shipments" / "*.parquet"), pl.read_parquet(tmp_path / "one_s.parquet"),
                    split={"SHP-002"})
    assert pl.read_parquet(tmp_path / "errors" / "*.parquet").height == 0
    factors = pl.read_parquet(tmp_path / "out.factors" / "*.parquet")
    assert_frame_equal(factors, pl.read_parquet(tmp_path / "one.factors.parquet"), check_exact=True)


def test_cli_refuses_csv_options_and_reports_missing_columns(spark, tmp_path):
    from typer.testing import CliRunner

    from logistics.cli import app

    pl.DataFrame({"shipment_id": ["a"], "mass_kg": [1.0]}).write_parquet(tmp_path / "legs.parquet")
    runner = CliRunner()
    r = runner.invoke(app, ["calculate", str(tmp_path / "legs.parquet"), "--out", str(tmp_path / "out"), "--engine", "spark",
                            "--encoding", "cp932"])
    assert r.exit_code == 2 and "--engine spark reads Parquet" in r.output
    r = runner.invoke(app, ["calculate", str(tmp_path / "legs.parquet"), "--out", str(tmp_path / "out"), "--engine", "spark"])
    assert r.exit_code == 2 and "missing required column(s): mode" in r.output
