"""The engine on Apache Spark: the library's own engine run on each partition through Arrow, for
legs tables too large for one machine (a lakehouse holding many carriers' years).

    from logistics.spark import calculate
    result = calculate(spark.read.parquet("s3://.../legs/"), pack="glec-v3.0", tocs="our_tocs.csv")
    result.legs.write.parquet("s3://.../results/")          # per-leg results, the library's columns
    result.shipments.write.parquet("s3://.../shipments/")   # one row per shipment, summed by Spark

How it runs:

- The pack, the own TOC/HOC tables and the options are resolved and checked on the driver (a
  ``Calculator``), serialised once and broadcast; each executor process builds one engine from them
  and keeps it for every task (``_engine``), with its per-key stores.
- Legs: ``mapInArrow`` hands each partition's rows to the engine in batches of ``batch_rows``,
  keeping a shipment's consecutive rows in one batch (as ``logistics.batch`` does for files).
- Shipments: each partition of results gives its shipment partials (``pipeline.shipments.partials``,
  per batch); Spark groups them by a hash of ``shipment_id`` and ``applyInArrow`` runs
  ``pipeline.shipments.finish`` on each group, so totals are the engine's own function. A shipment
  whose legs are consecutive in one partition has one partial: its totals have the bits of the
  single-machine engine's. One split over partitions (or not consecutive) adds its partials in the
  order of their first ``input_line``: the same figures up to float rounding (a relative 1e-12 for
  shipments of up to thousands of legs).
- Leg positions (``leg_seq`` of legs that give none, and so the ``<shipment_id>-<leg_seq>`` leg ids)
  count a shipment's rows in input order. Without a ``leg_seq`` column, Spark first brings each
  shipment's rows together in one partition, in ``input_line`` order (one shuffle of the legs);
  with one, nothing moves. Give ``leg_seq`` (or ``leg_id`` and ``leg_seq``) for ids that do not
  depend on the order Spark reads files in, and to save that shuffle.
- ``input_line``: kept when the input has it; otherwise numbered 1, 2, ... in the order of the
  input's partitions (``read_legs`` numbers a Parquet directory's rows in file-name order).

Limits of a distributed run, as for an unsorted file in ``logistics.batch``: the duplicate
``leg_id`` check sees the legs of one batch, and cells left empty in a ``leg_seq`` column are
numbered within their batch.

Spark has no unsigned integers: the shipments' ``legs`` and ``error_legs`` (UInt32 in the library)
are ``bigint`` here; every other column has the library's name, order and type.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from typing import cast

import polars as pl
import pyarrow as pa

try:
    from pyspark import cloudpickle
    from pyspark.accumulators import AccumulatorParam
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql import functions as SF
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
    from pyspark.sql.types import StructType
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError("logistics.spark needs PySpark: pip install 'logistics-co2[spark]'") from exc

from . import factors as F
from .batch import DEFAULT_BATCH_ROWS, _grouped
from .calculator import Calculator, Provenance
from .io import InputError
from .pipeline.engine import Engine, Settings
from .pipeline.shipments import TOTALS_ENGINE, finish, partials
from .schema import FACTOR_COLUMNS, LINE_COLUMN, DType, is_pass_through
from .summary import Summary

# Columns a shipment partial carries beside ``partials``' own: where it comes from, to add a
# shipment's partials in a fixed order.
FIRST_LINE, PARTITION, BATCH, BUCKET = "__first_line", "__partition", "__batch", "__bucket"
# The result columns that shipment totals and the summary read (pipeline.shipments.SUMMED's inputs).
FIGURES = ("mode", "mass_kg", "error", "error_code", "data_type", "tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg")
# Engines built on an executor process, by the hash of what the driver shipped.
_ENGINES: OrderedDict[str, Engine] = OrderedDict()
_ENGINES_LOCK = threading.Lock()
MAX_ENGINES = 4
_BUILT: Counter[str] = Counter()  # engines built in this process, by digest: once each unless evicted


def session(master: str | None = None, *, app_name: str = "logistics-co2",
            config: Mapping[str, str] | None = None) -> SparkSession:
    """The active Spark session, or a new one. ``master``: e.g. ``local[2]``, ``yarn``,
    ``k8s://...``; None leaves it to ``spark-submit`` (``local[*]`` outside it). A local master runs
    its Python workers on this interpreter, binds the driver to 127.0.0.1 and has no web UI."""
    builder = SparkSession.builder.appName(app_name).config("spark.ui.showConsoleProgress", "false")
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # read when the JVM starts, before the config
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false"))
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


# ---------------------------------------------------------------------- schemas


def _spark_arrow_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark takes for a polars column's Arrow type (Spark has no large or view
    strings in this path, and no unsigned integers)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    return t


def spark_schema(schema: Mapping[str, DType]) -> StructType:
    """The Spark schema of a polars schema (same names and order; UInt32 as bigint)."""
    arrow = pl.DataFrame(schema=dict(schema)).to_arrow().schema
    return from_arrow_schema(pa.schema([pa.field(f.name, _spark_arrow_type(f.type)) for f in arrow]))


def _from_arrow(data: pa.Table | pa.RecordBatch) -> pl.DataFrame:
    """pl.from_arrow of a table or a record batch, which is a DataFrame (a Series only from an array)."""
    return cast(pl.DataFrame, pl.from_arrow(data))


def polars_schema(schema: StructType) -> dict[str, DType]:
    """The polars schema of the frames a Spark schema's rows arrive as through Arrow."""
    return dict(_from_arrow(to_arrow_schema(schema, timezone="UTC").empty_table()).schema)


def _to_batches(frame: pl.DataFrame, target: pa.Schema) -> Iterator[pa.RecordBatch]:
    """``frame`` as Arrow record batches of exactly ``target``'s columns and types."""
    table = frame.select(target.names).to_arrow()
    yield from table.cast(target).to_batches()


# ---------------------------------------------------------------------- shipping the engine


class _FactorRows(AccumulatorParam):
    """The factors behind the legs, gathered from the tasks: factor_id -> row (a union, so a task
    run twice adds nothing)."""

    def zero(self, value):
        return {}

    def addInPlace(self, value1, value2):
        value1.update(value2)
        return value1


def _engine(shipped) -> Engine:
    """This process's engine for what the driver shipped (a broadcast of (hash, settings bytes)),
    built on first use and kept for later tasks."""
    digest, payload = shipped.value
    with _ENGINES_LOCK:
        engine = _ENGINES.get(digest)
        if engine is not None:
            _ENGINES.move_to_end(digest)
            return engine
    settings: Settings = cloudpickle.loads(payload)
    engine = Engine(settings)
    with _ENGINES_LOCK:
        if digest not in _ENGINES:
            _BUILT[digest] += 1
        engine = _ENGINES.setdefault(digest, engine)
        while len(_ENGINES) > MAX_ENGINES:
            _ENGINES.popitem(last=False)
    return engine


def _ship(spark: SparkSession, calc: Calculator):
    """The calculator's settings (pack tables, own tables, options) serialised once on the driver
    and broadcast, with their hash as the executors' cache key."""
    settings = calc.engine.settings
    for plugin in settings.plugins:  # a plug-in's pack is loaded here, not from executors' disks
        getattr(plugin, "pack", None)
    payload = cloudpickle.dumps(settings)
    return spark.sparkContext.broadcast((hashlib.sha256(payload).hexdigest(), payload))


def _batches(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pl.DataFrame]:
    """The rows of a partition as frames of at least ``rows`` rows (the last may be shorter), with a
    shipment's consecutive rows never cut between two frames."""
    def joined():
        pending: list[pl.DataFrame] = []
        size = 0
        for batch in batches:
            if batch.num_rows:
                pending.append(_from_arrow(batch))
                size += batch.num_rows
            if size >= rows:
                yield pl.concat(pending), None
                pending, size = [], 0
        if pending:
            yield pl.concat(pending), None

    for frame, _ in _grouped(joined()):
        yield frame


# ---------------------------------------------------------------------- legs


class SparkResult:
    """Per-leg results and per-shipment totals as Spark DataFrames (lazy, like any DataFrame: cache
    or write ``legs`` before using ``shipments`` too, or the engine runs twice)."""

    def __init__(self, legs: DataFrame, sums: tuple[str, ...], factor_rows, batch_rows: int, digest: str):
        self.legs = legs
        self.sums = sums  # plug-in columns totalled per shipment (e.g. jp_co2_ttw_kg)
        self.digest = digest  # the hash of the settings shipped to the executors
        self._factor_rows = factor_rows
        self._batch_rows = batch_rows

    @property
    def shipments(self) -> DataFrame:
        return shipments(self.legs, self.sums, batch_rows=self._batch_rows)

    def factors(self) -> pl.DataFrame:
        """The factors behind the legs computed so far (one row per ``factor_id``, as
        ``Result.factors``): complete once an action has computed every leg (e.g. writing them)."""
        rows = list(self._factor_rows.value.values())
        table = pl.DataFrame(rows, schema=FACTOR_COLUMNS, orient="row") if rows else pl.DataFrame(schema=FACTOR_COLUMNS)
        return table.sort("factor_id")


def calculate(legs: DataFrame, pack: str | os.PathLike | F.Pack = F.DEFAULT_PACK, *, tocs=None, hocs=None,
              defaults: Mapping[str, str] | None = None, daf: Mapping[str, float] | None = None,
              provenance: Provenance = "lean", distance_resolver: bool = True, jp_pack: str | F.Pack = "jp-guideline",
              mix_japanese: bool = False, decimal_comma: bool | None = False,
              batch_rows: int = DEFAULT_BATCH_ROWS) -> SparkResult:
    """Emissions of every leg of a Spark DataFrame (the legs table's columns), computed by the
    library's engine on each partition; the options are ``Calculator``'s, and ``decimal_comma`` how
    numbers in text cells are written (``Engine.compute``). Rejected rows stay rows with their
    ``error_code`` and ``error``. Raises ``InputError`` on the driver when a required column is
    missing, ``PackError`` for a bad pack."""
    if provenance not in ("lean", "full"):
        raise ValueError(f"provenance: {provenance!r} is not one of lean, full")
    full = provenance == "full"
    spark = legs.sparkSession
    calc = Calculator(pack, tocs=tocs, hocs=hocs, defaults=defaults, daf=daf, distance_resolver=distance_resolver,
                      jp_pack=jp_pack, mix_japanese=mix_japanese)
    shipped = _ship(spark, calc)
    # the results' columns and types, from the input's (a missing required column stops here)
    columns = polars_schema(legs.schema)
    columns.setdefault(LINE_COLUMN, pl.Int64)  # as _ordered adds it
    empty = calc.engine.compute(pl.DataFrame(schema=columns), full=full, decimal_comma=decimal_comma)
    ordered = _ordered(legs)
    schema = spark_schema(empty.legs.schema)
    target = to_arrow_schema(schema, timezone="UTC")
    factor_rows = spark.sparkContext.accumulator({}, _FactorRows())

    def compute(batches):
        engine = _engine(shipped)
        for frame in _batches(batches, batch_rows):
            computed = engine.compute(frame, full=full, decimal_comma=decimal_comma)
            factor_rows.add({row["factor_id"]: row for row in computed.factors.iter_rows(named=True)})
            yield from _to_batches(computed.legs, target)

    return SparkResult(ordered.mapInArrow(compute, schema), empty.sums, factor_rows, batch_rows, shipped.value[0])


def _ordered(legs: DataFrame) -> DataFrame:
    """The legs with an ``input_line`` (numbered in partition order when they have none) and, when
    they have no ``leg_seq``, each shipment's rows brought together in one partition in
    ``input_line`` order, so that the engine numbers them as it would in one file."""
    if LINE_COLUMN not in legs.columns:
        legs = _numbered(legs)
    if "leg_seq" in legs.columns or "shipment_id" not in legs.columns:
        return legs
    # the engine counts a shipment's rows by its trimmed id: group at least as coarsely
    shipment = SF.regexp_replace(SF.col("shipment_id").cast("string"), r"(?U)^\s+|\s+$", "")
    return legs.repartition(shipment).sortWithinPartitions(shipment, SF.col(LINE_COLUMN).cast("long"))


def _numbered(legs: DataFrame) -> DataFrame:
    """The legs with ``input_line`` 1, 2, ... in the order of their partitions (one small job
    counts each partition's rows)."""
    partition = SF.spark_partition_id()
    counts: dict[int, int] = dict(legs.select(partition.alias("p")).groupBy("p").count().collect())
    starts, total = [], 0
    for p in range(legs.rdd.getNumPartitions()):
        starts.append(total)
        total += counts.get(p, 0)
    if not starts:
        return legs.withColumn(LINE_COLUMN, SF.lit(None).cast("long"))
    # monotonically_increasing_id: the partition id in the upper 31 bits, the row's index in it below
    index = SF.monotonically_increasing_id() - SF.shiftleft(partition.cast("long"), 33)
    start = SF.element_at(SF.array(*(SF.lit(s).cast("long") for s in starts)), partition + 1)
    return legs.withColumn(LINE_COLUMN, start + index + 1)


# ---------------------------------------------------------------------- shipments


def shipments(legs: DataFrame, sums: tuple[str, ...] = (), *, buckets: int | None = None,
              batch_rows: int = DEFAULT_BATCH_ROWS) -> DataFrame:
    """One row per shipment of a DataFrame of result legs (``SparkResult.legs``, or results read
    back from Parquet): each partition's partials, grouped by a hash of ``shipment_id`` into
    ``buckets`` groups (default: ``spark.sql.shuffle.partitions``), finished per group by the
    engine's ``finish``. ``sums``: plug-in columns totalled too (``SparkResult.sums``)."""
    spark = legs.sparkSession
    needed = ["shipment_id", *(c for c in legs.columns if is_pass_through(c)), *FIGURES, *sums, LINE_COLUMN]
    missing = [c for c in needed if c not in legs.columns]
    if missing:
        raise InputError(f"shipments need the result legs' column(s) {', '.join(missing)}")
    legs = legs.select(*dict.fromkeys(needed))
    empty = pl.DataFrame(schema=polars_schema(legs.schema))
    partial_schema: dict[str, DType] = {**partials(empty, sums).collect_schema(),
                                        FIRST_LINE: pl.Int64, PARTITION: pl.Int64, BATCH: pl.Int64}
    partial_spark = spark_schema(partial_schema)
    partial_target = to_arrow_schema(partial_spark, timezone="UTC")
    shipment_spark = spark_schema(finish(partials(empty, sums), sums).collect_schema())
    shipment_target = to_arrow_schema(shipment_spark, timezone="UTC")

    def partition_partials(batches):
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is None:
            raise RuntimeError("partition_partials runs in a Spark task only")
        partition = context.partitionId()
        for i, frame in enumerate(_batches(batches, batch_rows)):
            first = frame.group_by("shipment_id").agg(pl.col(LINE_COLUMN).min().alias(FIRST_LINE))
            part = (partials(frame, sums).collect(engine=TOTALS_ENGINE)
                    .join(first, on="shipment_id", how="left", nulls_equal=True, maintain_order="left")
                    .with_columns(pl.lit(partition, pl.Int64).alias(PARTITION), pl.lit(i, pl.Int64).alias(BATCH)))
            yield from _to_batches(part, partial_target)

    def finish_group(table):
        # a shipment's partials in a fixed order: float sums depend on it
        part = _from_arrow(table).sort(FIRST_LINE, PARTITION, BATCH, nulls_last=True).rechunk()
        done = finish(part, sums).collect(engine=TOTALS_ENGINE)
        return pa.Table.from_batches(list(_to_batches(done, shipment_target)), schema=shipment_target)

    if not buckets:
        partitions = spark.conf.get("spark.sql.shuffle.partitions")
        if partitions is None:
            raise ValueError("give buckets: spark.sql.shuffle.partitions is not set")
        buckets = int(partitions)
    parts = legs.mapInArrow(partition_partials, partial_spark)
    bucketed = parts.withColumn(BUCKET, SF.pmod(SF.xxhash64("shipment_id"), SF.lit(buckets)))
    return bucketed.groupBy(BUCKET).applyInArrow(finish_group, shipment_spark)


# ---------------------------------------------------------------------- summary and the command


def summarize(legs: DataFrame) -> Summary:
    """The run's summary (rows, rejected by reason, totals) of a DataFrame of result legs: a
    ``Summary`` per partition, merged on the driver."""
    legs = legs.select(*FIGURES)
    schema = "rows_read long, computed long, rejected long, reasons string, totals string"

    def partition_summary(batches):
        s = Summary()
        for batch in batches:
            if batch.num_rows:
                s.add(_from_arrow(batch))
        yield pa.RecordBatch.from_pylist([{
            "rows_read": s.rows_read, "computed": s.computed, "rejected": s.rejected,
            "reasons": json.dumps(dict(s.rejected_by_reason)), "totals": json.dumps(s.totals)}])

    total = Summary(encoding="parquet")
    for row in legs.mapInArrow(partition_summary, schema).collect():
        total.merge(Summary(rows_read=row.rows_read, computed=row.computed, rejected=row.rejected,
                            rejected_by_reason=Counter(json.loads(row.reasons)), totals=json.loads(row.totals)))
    return total


def read_legs(spark: SparkSession, path: str) -> DataFrame:
    """A Parquet file or directory of legs, with ``input_line`` numbering its rows in the order of
    the files' names, then of rows in each file (as if the files were one, concatenated), unless
    the files have that column."""
    legs = spark.read.parquet(path)
    if LINE_COLUMN in legs.columns:
        return legs
    file, row = SF.col("_metadata.file_path"), SF.col("_metadata.row_index")
    counts = sorted(legs.groupBy(file.alias("f")).count().collect())
    starts, total = {}, 0
    for name, count in counts:
        starts[name] = total
        total += count
    start = SF.create_map(*(x for name, s in starts.items() for x in (SF.lit(name), SF.lit(s).cast("long"))))
    return legs.withColumn(LINE_COLUMN, start[file] + row + 1)


def run(legs: str, out: str, *, shipments_out: str | None = None, errors_out: str | None = None,
        factors_out: str | None = None, pack: str | F.Pack = F.DEFAULT_PACK, tocs=None, hocs=None,
        defaults: Mapping[str, str] | None = None, daf: Mapping[str, float] | None = None,
        jp_pack: str | F.Pack = "jp-guideline", provenance: Provenance = "lean", decimal_comma: bool | None = False,
        master: str | None = None, batch_rows: int = DEFAULT_BATCH_ROWS) -> Summary:
    """``logistics-co2 calculate --engine spark``: a Parquet file or directory of legs in; Parquet
    directories out: the results, the shipments, the errors (the rejected rows' line, ids and
    reason) and the factors table (default ``<out>.factors``). Paths are Spark's (a local path,
    ``s3a://``, ``abfss://``, ...); outputs are replaced. Returns the run's summary (its ``seconds``
from when the Spark session has started)."""
    owned = SparkSession.getActiveSession() is None
    spark = session(master)
    started = time.perf_counter()  # the run's seconds: after the session has started
    try:
        result = calculate(read_legs(spark, legs), pack, tocs=tocs, hocs=hocs, defaults=defaults, daf=daf, jp_pack=jp_pack,
                           provenance=provenance, decimal_comma=decimal_comma, batch_rows=batch_rows)
        result.legs.write.mode("overwrite").parquet(out)
        written = spark.read.parquet(out)  # shipments and summary from the results: the engine runs once
        report = summarize(written)
        if shipments_out:
            shipments(written, result.sums, batch_rows=batch_rows).write.mode("overwrite").parquet(shipments_out)
            report.shipments = spark.read.parquet(shipments_out).count()
        if errors_out:
            rejected = written.filter(SF.col("error").isNotNull())
            (rejected.select(LINE_COLUMN, "shipment_id", "leg_id", "error_code", "error")
             .write.mode("overwrite").parquet(errors_out))
        factors = result.factors()
        schema = spark_schema(factors.schema)
        (spark.createDataFrame(factors.to_arrow().cast(to_arrow_schema(schema)), schema=schema).coalesce(1)
         .write.mode("overwrite").parquet(factors_out or f"{out.rstrip('/')}.factors"))
    finally:
        if owned:
            spark.stop()
    report.seconds = time.perf_counter() - started
    return report
