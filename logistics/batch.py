"""Files of any size: stream a legs file through the engine in batches, with memory independent of
the input size.

- CSV or Parquet in, read by ``logistics.io.open_legs`` (encodings, line endings, separators,
  decimal marks, broken lines as rows with their reason); CSV or Parquet out, chosen by extension,
  CSV with figures rounded for people and Parquet at full precision.
- A shipment's consecutive rows stay in one batch (rows of the batch's last shipment are carried to
  the next), so per-shipment checks see the whole shipment when the file is grouped by shipment.
- Per-leg results stream into polars' Parquet/CSV sink, which encodes them while the next batches
  are read and computed.
- Shipment totals are summed from per-batch partials, hash-partitioned on disk, so a shipment split
  across batches (an ungrouped file) still gets one correct row.
- Every input row is either in the results with its emissions or in the errors file with its line
  number and reason: the counts add up. A run that fails for any other reason (a polars panic
  included) leaves no output and raises RunFailed naming the lines it was computing.
- The factors behind the results (one row per ``factor_id``: pack, edition, source, page,
  licence, adjustments) are written beside them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

from . import factors as F
from .calculator import Calculator, Provenance
from .io import DEFAULT_PRECISION, InputError, LegsFile, format_for_people, open_legs
from .io import factors_path as default_factors_path
from .mapping import read_mapping, unread_columns
from .pipeline.shipments import TOTALS_ENGINE, finish, partials
from .schema import FACTOR_COLUMNS, LINE_COLUMN
from .summary import Summary

DEFAULT_BATCH_ROWS = 250_000
# Shipment partials are kept in memory up to this many rows, then spilled to disk by a hash of
# shipment_id, so that memory stays flat however many shipments a file has.
PARTIALS_IN_MEMORY = 2_000_000
Progress = Callable[[int, int | None], None]


def _batches(legs: LegsFile, batch_rows: int):
    """(schema of a batch, iterator of (frame, total rows or None)). The file's lines are counted on
    a thread of their own for the progress total while the first batches are computed."""

    def frames():
        for batch in legs.batches(batch_rows):
            yield batch, legs.total_rows()

    return legs.schema, frames()


def _prefetch(iterable, pool: ThreadPoolExecutor):
    """The items of ``iterable``, each fetched on ``pool`` while the previous one is being used."""
    it = iter(iterable)
    future = pool.submit(next, it, None)
    while (item := future.result()) is not None:
        future = pool.submit(next, it, None)
        yield item


def _grouped(batches, shipment_column: str = "shipment_id"):
    """Carry the trailing run of each batch's last shipment over to the next batch, so that a
    shipment whose rows are consecutive is computed in one piece (the last batch is never split).
    ``shipment_column``: the file's name of the shipment id column."""
    it = iter(batches)
    current, carry = next(it, None), None
    while current is not None:
        batch, total = current
        current = next(it, None)
        if carry is not None:
            batch, carry = pl.concat([carry, batch], how="vertical_relaxed"), None
        if current is not None and shipment_column in batch.columns and batch.height:
            ids = pl.col(shipment_column)
            runs = batch.select((ids != ids.shift()).fill_null(True).cum_sum())[:, 0]
            trailing = runs == runs[-1]
            if not trailing.all():
                carry, batch = batch.filter(trailing), batch.filter(~trailing)
        yield batch, total


class RunFailed(RuntimeError):
    """A run failed for a reason other than its input (its outputs were removed)."""


class _Writer:
    """Appends frames to a CSV or Parquet file (schema fixed by the first frame); for the small
    outputs (errors, shipments)."""

    def __init__(self, path: Path, precision: int = DEFAULT_PRECISION):
        self.path, self.kind = _output_kind(path)
        self.precision = precision
        self._pq: pq.ParquetWriter | None = None
        self._csv: BinaryIO | None = None
        self.schema: pl.Schema | None = None
        self._closed = False

    def write(self, df: pl.DataFrame) -> None:
        if self.schema is None:
            self.schema = df.schema
        else:
            df = _conform(df, self.schema)
        if self.kind == ".parquet":
            table = df.to_arrow()
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._pq.write_table(table)
        else:
            df = format_for_people(df, precision=self.precision)
            if self._csv is None:
                self._csv = open(self.path, "wb")
                df.write_csv(self._csv)
            else:
                df.write_csv(self._csv, include_header=False)

    def close(self, empty_schema: Mapping | None = None) -> None:
        """Finish the file (with ``empty_schema``'s columns if nothing was written); again: nothing."""
        if self._closed:
            return
        self._closed = True
        if self._pq is None and self._csv is None and empty_schema is not None:
            self.write(pl.DataFrame(schema=empty_schema))
        if self._pq is not None:
            self._pq.close()
        if self._csv is not None:
            self._csv.close()


def _output_kind(path: Path) -> tuple[Path, str]:
    kind = path.suffix.lower()
    if kind not in (".csv", ".parquet"):
        raise InputError(f"{path}: unknown output type {path.suffix!r} (expected .csv or .parquet)")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, kind


def _partial(path: Path) -> Path:
    """Where ``path`` is written until the run has succeeded (same folder, same file type)."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def _conform(df: pl.DataFrame, schema: Mapping) -> pl.DataFrame:
    """``df`` with exactly ``schema``'s columns and types (a batch may lack a pass-through column)."""
    return df.select(pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c) for c, t in schema.items())


def _sink(frames, path: Path, schema: Mapping, precision: int = DEFAULT_PRECISION) -> None:
    """Stream ``frames`` into a CSV or Parquet file of ``schema`` through polars' streaming writer,
    which encodes columns in parallel with the computing of the next frames; CSV figures are
    rounded to ``precision`` significant digits."""
    path, kind = _output_kind(path)

    def source(with_columns, predicate, n_rows, batch_size):
        for frame in frames:
            frame = _conform(frame, schema)
            yield frame if kind == ".parquet" else format_for_people(frame, precision=precision)

    lf = register_io_source(source, schema=schema)
    if kind == ".parquet":
        # zstd level 1: a run is CPU-bound, and level 3 costs 7% more time for 10% less size
        lf.sink_parquet(path, compression="zstd", compression_level=1)
    else:
        lf.sink_csv(path)


def run(
    legs: str | os.PathLike,
    out: str | os.PathLike,
    *,
    shipments_out: str | os.PathLike | None = None,
    errors_out: str | os.PathLike | None = None,
    factors_out: str | os.PathLike | bool | None = True,
    pack: str | F.Pack = F.DEFAULT_PACK,
    tocs=None,
    hocs=None,
    defaults: Mapping[str, str] | None = None,
    daf: Mapping[str, float] | None = None,
    jp_pack: str | F.Pack = "jp-guideline",
    provenance: Provenance = "lean",
    calculator: Calculator | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    decimal_comma: bool | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    precision: int = DEFAULT_PRECISION,
    columns=None,
) -> Summary:
    """Calculate a legs file of any size; returns the run's counts and totals. ``factors_out``: the
    factors table's path (True: beside ``out``; False/None: not written). ``calculator``: one to
    use instead of building one from ``pack``, ``tocs``, ``hocs``, ``defaults``, ``daf`` and
    ``jp_pack`` (the edition of the Japanese methods). ``encoding``, ``separator`` and
    ``decimal_comma`` are detected when not given (``logistics.io.open_legs``); CSV outputs carry
    figures rounded to ``precision`` significant digits. ``columns``: the file's own column names
    and units (a ``logistics.mapping.Mapping``, or its TOML path), applied to each batch before the
    engine; the errors file keeps the cells as read."""
    started = time.perf_counter()
    mapping = read_mapping(columns)
    calc = calculator or Calculator(pack, tocs=tocs, hocs=hocs, defaults=defaults, daf=daf, jp_pack=jp_pack)
    engine = calc.engine
    full = provenance == "full"
    source = open_legs(legs, encoding=encoding, separator=separator, decimal_comma=decimal_comma)
    report = Summary(encoding=source.encoding)
    factors_path = default_factors_path(out) if factors_out is True else (Path(factors_out) if factors_out else None)
    # Outputs are written under a temporary name and renamed when the run succeeds: a failed run
    # leaves no file that looks complete.
    outputs = {Path(p): _partial(Path(p)) for p in (out, shipments_out, errors_out, factors_path) if p}
    for output in outputs:
        _output_kind(output)
    errors_writer = _Writer(outputs[Path(errors_out)], precision) if errors_out else None
    workdir = Path(tempfile.mkdtemp(prefix="logistics-co2-"))
    shipment_partials = _Partials(workdir / "partials")
    factors: dict[str, dict] = {}
    state: dict = {"total": None, "lines": None}
    failure: list[BaseException] = []

    def keep(batch: pl.DataFrame, computed) -> None:
        """Everything of one batch but its per-leg results: errors, counts, shipment partials, factors."""
        legs = computed.legs
        failed = legs.get_column("error").is_not_null()
        if errors_writer is not None and failed.any():
            # the rejected lines as read, with the reason (results keep the batch's row order)
            errors_writer.write(pl.concat([
                legs.filter(failed).select(LINE_COLUMN, "shipment_id", "leg_id", "error_code", "error"),
                batch.filter(failed).drop(LINE_COLUMN, "shipment_id", "leg_id", strict=False).rechunk(),
            ], how="horizontal"))
        report.add(legs)
        if shipments_out:
            shipment_partials.add(partials(legs, computed.sums).collect(engine=TOTALS_ENGINE))
        if factors_path is not None:
            for row in computed.factors.iter_rows(named=True):
                factors.setdefault(row["factor_id"], row)
        if progress:
            progress(report.rows_read, state["total"])

    def results(batches):
        """Per-leg results, batch by batch. The sink pulls them from its own thread: a failure is
        kept and raised again once the sink has stopped."""
        try:
            for batch, batch_total in batches:
                state["total"] = batch_total if batch_total is not None else state["total"]
                if not batch.height:
                    continue
                state["lines"] = (batch[LINE_COLUMN].min(), batch[LINE_COLUMN].max())
                mapped = mapping.apply(batch, decimal_comma=source.decimal_comma) if mapping else batch
                computed = engine.compute(mapped, full=full, decimal_comma=source.decimal_comma)
                keep(batch, computed)
                yield computed.legs
        except BaseException as exc:  # re-raised by run()
            failure.append(exc)

    reader = ThreadPoolExecutor(1)  # reading the next batch overlaps with computing this one
    try:
        schema, batches = _batches(source, batch_rows)
        if mapping:
            mapping.check([c for c in schema if c != LINE_COLUMN], where=str(source.path))
            schema = mapping.apply(pl.DataFrame(schema=schema)).schema
        report.unread_columns = unread_columns(list(schema))
        # the results' columns, from the input's header (a missing required column stops here)
        empty = engine.compute(pl.DataFrame(schema=schema), full=full, decimal_comma=source.decimal_comma)
        grouped = _grouped(batches, mapping.source_of("shipment_id") if mapping else "shipment_id")
        _sink(results(_prefetch(grouped, reader)), outputs[Path(out)], empty.legs.schema, precision)
        if failure:
            raise failure[0]
        if errors_writer is not None:
            errors_writer.close(empty_schema={LINE_COLUMN: pl.Int64, "shipment_id": pl.String, "leg_id": pl.String,
                                              "error_code": pl.String, "error": pl.String})
        if shipments_out:
            report.shipments = shipment_partials.write(outputs[Path(shipments_out)], empty.sums, empty.legs, precision)
        if factors_path is not None:
            _write_factors(factors, outputs[factors_path], precision)
        for output, partial in outputs.items():
            os.replace(partial, output)
    except (InputError, F.PackError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a polars panic is a BaseException; the outputs go below
        lines = "" if state["lines"] is None else f" while computing lines {state['lines'][0]}–{state['lines'][1]}"
        raise RunFailed(f"{source.path}: the run failed{lines} and its outputs were removed: {type(exc).__name__}: {exc}") from exc
    finally:
        source.close()
        reader.shutdown(cancel_futures=True)
        if errors_writer is not None:
            errors_writer.close()  # idempotent; closes the file when the run failed
        for partial in outputs.values():
            partial.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _write_factors(factors: dict[str, dict], path: Path, precision: int = DEFAULT_PRECISION) -> None:
    table = pl.DataFrame(list(factors.values()), schema=FACTOR_COLUMNS) if factors else pl.DataFrame(schema=FACTOR_COLUMNS)
    writer = _Writer(path, precision)
    writer.write(table.sort("factor_id"))
    writer.close()


class _Partials:
    """Per-batch shipment partials: kept in memory, and spilled to disk by a hash of shipment_id
    once they exceed PARTIALS_IN_MEMORY rows, so that finishing one hash partition at a time keeps
    memory flat whatever the number of shipments."""

    def __init__(self, root: Path):
        self.root = root
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        self.spills = 0

    def add(self, partial: pl.DataFrame) -> None:
        self.frames.append(partial)
        self.rows += partial.height
        if self.rows > PARTIALS_IN_MEMORY:
            self._spill()

    def _spill(self) -> None:
        _write_partials(pl.concat(self.frames, how="vertical_relaxed"), self.root, self.spills)
        self.spills += 1
        self.frames, self.rows = [], 0

    def write(self, out: Path, sums: tuple[str, ...], empty_legs: pl.DataFrame, precision: int = DEFAULT_PRECISION) -> int:
        """Finish the shipments into ``out`` (one hash partition at a time once spilled); returns
        their count. ``empty_legs``: the results' columns, for the shipments' when there are none."""
        if self.spills and self.frames:
            self._spill()
        parts: Iterator[pl.DataFrame]
        if self.spills:
            parts = (pl.read_ipc(d / "*.arrow") for d in sorted(self.root.glob("p*")))
        else:
            parts = iter([pl.concat(self.frames, how="vertical_relaxed")] if self.frames else [])
        schema = finish(partials(empty_legs, sums), sums).collect_schema()
        count = [0]

        def shipments():
            for partial in parts:  # one chunk: the same sums whatever the batches were
                frame = finish(partial.rechunk(), sums).collect(engine=TOTALS_ENGINE)
                count[0] += frame.height
                yield frame

        _sink(shipments(), out, schema, precision)
        return count[0]


PARTITIONS = 16


def _write_partials(partial: pl.DataFrame, root: Path, batch: int) -> None:
    """Per-batch shipment sums, split by a hash of shipment_id so the final sum per partition fits in
    memory whatever the number of shipments."""
    part = partial.with_columns((pl.col("shipment_id").hash(seed=1) % PARTITIONS).alias("_part"))
    for (p,), frame in part.partition_by("_part", as_dict=True).items():
        d = root / f"p{p:02d}"
        d.mkdir(parents=True, exist_ok=True)
        frame.drop("_part").write_ipc(d / f"b{batch:06d}.arrow", compression="lz4")  # temporary: fast over small
