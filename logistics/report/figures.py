"""The figures of a report, from the engine's results: what ISO 14083:2023 §13 and the GLEC
Framework v3.0 (pp.57–61) ask a reporting party to disclose.

- totals WTW, TTW and WTT, transport activity and intensity (p.57: absolute and intensity side by
  side); per mode and per kind of TCE (transport, hub) with their activity and intensity, the
  distance types behind them (p.60), and hub operations per HOC;
- the share of emissions from primary, modelled and default data (p.59), also per month;
- the methodology: packs and editions, distance basis and DAFs, allocation, assumptions, and what
  was left out (rows not computed, with their reasons);
- breakdowns by any business column (customer, lane, month, mode, tag_*).

Totals are the engine's shipment sums (``pipeline.shipments.SUMMED``) over computed legs, grouped:
a total over no figure is empty, not zero. Everything is computed per group with polars.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import polars as pl

from .. import __version__
from .. import factors as F
from ..io import InputError, factors_path
from ..pipeline.shipments import OK, shipments, summed
from ..rules.emissions import intensity_g_per_tkm, share
from ..schema import ADDON_COLUMNS, FACTOR_COLUMNS, LINE_COLUMN, RESULT_COLUMNS, SHIPMENT_COLUMNS, DType, is_pass_through
from ..vocabulary import DATA_TYPES, MODES

# The groupings a report knows besides the pass-through columns themselves.
DERIVED_GROUPS = ("lane", "month", "mode", "kind", "data_type", "distance_type")
NO_VALUE = "—"  # the group of legs without a value of the grouping column
PLUGIN_SUMS = ("jp_co2_ttw_kg",)  # plug-in columns totalled per shipment, when the results have them


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def pack_tables_sha256(pack: F.Pack) -> str:
    """A hash of a pack's tables as loaded (the same whether read from Parquet or CSV): SHA-256
    over each table's name and its rows written as CSV, tables in name order (kept with the pack)."""
    if "tables_sha256" in pack.cache:
        return pack.cache["tables_sha256"]
    digest = hashlib.sha256()
    for name in sorted(pack.tables):
        digest.update(name.encode() + b"\n")
        digest.update(pack.tables[name].write_csv().encode())
    pack.cache["tables_sha256"] = digest.hexdigest()
    return pack.cache["tables_sha256"]


# ---------------------------------------------------------------------- reading results

@dataclass
class Results:
    """What a report or a calculation sheet is made from."""

    legs: pl.DataFrame
    factors: pl.DataFrame
    shipments: pl.DataFrame
    results_path: Path | None = None
    input_path: Path | None = None  # the legs file the results were calculated from, when known
    packs: dict[str, F.Pack] = field(default_factory=dict)  # factor_pack label -> the pack, when loadable
    # input_line counts rows (1-based) as logistics.calculate does, not a CSV file's lines (header = 1)
    # as a batch run's results do
    lines_are_rows: bool = False

    @property
    def rounded(self) -> bool:
        """The figures were read from a CSV, where they are rounded for people (``logistics.io``'s
        precision); Parquet and frames keep full precision."""
        return self.results_path is not None and self.results_path.suffix.lower() == ".csv"

    @property
    def sums(self) -> tuple[str, ...]:
        return tuple(c for c in PLUGIN_SUMS if c in self.legs.columns)


def _read(source, schema: dict[str, DType], keep: Callable[[str], bool] | None = None) -> pl.DataFrame:
    """Our own output (a frame or a CSV/Parquet path) with its known columns typed; a CSV is read as
    text first so that identifiers keep their leading zeros. ``keep``: the columns worth reading
    from a Parquet file (results with full provenance carry many a report does not use)."""
    if isinstance(source, pl.DataFrame):
        df = source
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.suffix.lower() == ".parquet":
            lf = pl.scan_parquet(path)
            df = lf.select([c for c in lf.collect_schema().names() if keep is None or keep(c)]).collect()
        elif path.suffix.lower() == ".csv":
            df = pl.read_csv(path, infer_schema=False)
        else:
            raise InputError(f"{path}: unknown file type {path.suffix!r} (expected .csv or .parquet)")
    casts = []
    for name, dtype in schema.items():
        if name in df.columns and df.schema[name] != dtype:
            cell = pl.col(name).cast(pl.String).str.strip_chars()
            if dtype == pl.Boolean:
                casts.append(cell.str.to_lowercase().replace_strict({"true": True, "false": False}, default=None).alias(name))
            else:
                casts.append(pl.when(cell == "").then(None).otherwise(cell).cast(dtype, strict=False).alias(name))
    return df.with_columns(casts) if casts else df


RESULT_TYPES: dict[str, DType] = {
    LINE_COLUMN: pl.Int64, "shipment_id": pl.String, "leg_id": pl.String, "leg_seq": pl.Int64, "mode": pl.String,
    **RESULT_COLUMNS, **ADDON_COLUMNS, "jp_co2_ttw_kg": pl.Float64, "jp_fuel_l": pl.Float64, "jp_energy_gj": pl.Float64,
    "fuel_amount": pl.Float64,
}
# Input columns a report or a sheet shows when the results carry them (full provenance).
SHOWN_INPUTS = ("energy_carrier", "fuel_unit")


def _wanted(column: str) -> bool:
    return column in RESULT_TYPES or column in SHOWN_INPUTS or is_pass_through(column)


def load_results(results, factors=None, shipments_table=None, *, legs_file: str | os.PathLike | None = None) -> Results:
    """Results of ``logistics.calculate`` (a ``Result``) or of ``logistics-co2 calculate`` (a
    results file, with the factors table written beside it unless ``factors`` names it). The
    shipments are read from ``shipments_table`` when given, else totalled from the legs.
    ``legs_file``: the input the results were calculated from (for its hash and the cells as read)."""
    from ..calculator import Result

    packs: dict[str, F.Pack] = {}
    results_path = None
    if isinstance(results, Result):
        legs, factor_table = results.legs, results.factors
        packs[f"{results.pack.name}@{results.pack.version}"] = results.pack
        table = results.shipments if shipments_table is None else None
    else:
        if not isinstance(results, pl.DataFrame):
            results_path = Path(results)
        legs = _read(results, RESULT_TYPES, _wanted)
        if factors is None and results_path is not None and factors_path(results_path).exists():
            factors = factors_path(results_path)
        if factors is None:
            raise InputError("the factors table of the results is needed: give it, or keep it beside the results "
                             "(logistics-co2 calculate writes <results>.factors.csv)")
        factor_table = _read(factors, dict(FACTOR_COLUMNS))
        table = None
    missing = [c for c in ("shipment_id", "mode", "tkm", "data_type", "factor_id", "co2e_wtw_kg", "error") if c not in legs.columns]
    if missing:
        raise InputError(f"not an engine result table: missing column(s) {', '.join(missing)}")
    sums = tuple(c for c in PLUGIN_SUMS if c in legs.columns)
    if table is None:
        table = (_read(shipments_table, {"shipment_id": pl.String, **SHIPMENT_COLUMNS}) if shipments_table is not None
                 else shipments(legs, sums))
    for label in factor_table["factor_pack"].drop_nulls().unique().sort().to_list():
        if label in packs or "@" not in label:
            continue
        name, version = label.split("@", 1)
        try:
            pack = F.load_pack(name)
        except F.PackError:
            continue
        if pack.version == version:
            packs[label] = pack
    return Results(legs=legs, factors=factor_table, shipments=table, results_path=results_path,
                   input_path=Path(legs_file) if legs_file else None, packs=packs, lines_are_rows=isinstance(results, Result))


# ---------------------------------------------------------------------- derived columns

def _days(legs: pl.DataFrame) -> pl.Series | None:
    """Each leg's day: its ``date``, else the UTC day of its ``departure_at``, as the exchange
    documents date a leg (``exchange.ileap.leg_dates``); None when the results have neither."""
    if "date" not in legs.columns and "departure_at" not in legs.columns:
        return None
    from ..exchange.ileap import leg_dates

    return leg_dates(legs.select([c for c in ("leg_id", "date", "departure_at") if c in legs.columns]))["_date"]


def _month(legs: pl.DataFrame) -> pl.Expr:
    """``YYYY-MM`` of each leg's day; a leg without one takes its shipment's first."""
    days = _days(legs)
    if days is None:
        return pl.lit(None, pl.String)
    month = pl.lit(days.dt.strftime("%Y-%m"))
    return month.fill_null(month.drop_nulls().first().over("shipment_id"))


def _lane(legs: pl.DataFrame) -> pl.Expr:
    """A shipment's lane: where its first transport leg starts and its last one ends."""
    transport = pl.col("mode") != "hub"
    order = pl.col("leg_seq") if "leg_seq" in legs.columns else pl.int_range(pl.len())
    first = pl.col("origin").filter(transport).sort_by(order.filter(transport)).first()
    last = pl.col("destination").filter(transport).sort_by(order.filter(transport)).last()
    return pl.format("{} → {}", first.fill_null("?"), last.fill_null("?")).over("shipment_id")


def with_groups(legs: pl.DataFrame) -> pl.DataFrame:
    """The legs with the derived grouping columns (lane, month, kind) and the pass-through columns
    filled per shipment (a leg that leaves ``customer`` empty belongs to its shipment's)."""
    passed = [c for c in legs.columns if is_pass_through(c) and c != "date"]
    return legs.with_columns(
        *(pl.col(c).cast(pl.String).fill_null(pl.col(c).cast(pl.String).drop_nulls().first().over("shipment_id"))
          for c in passed),
        lane=_lane(legs) if {"origin", "destination"} <= set(legs.columns) else pl.lit(None, pl.String),
        month=_month(legs),
        kind=pl.when(pl.col("mode") == "hub").then(pl.lit("hub")).otherwise(pl.lit("transport")),
    )


def group_columns(legs: pl.DataFrame) -> list[str]:
    """The columns a report can be broken down by for these results."""
    return [*DERIVED_GROUPS, *(c for c in legs.columns if is_pass_through(c) and c != "date")]


# ---------------------------------------------------------------------- totals per group

def _totals_exprs(columns: Sequence[str]) -> list[pl.Expr]:
    """Sums over computed legs, empty where no leg gave a figure (as the shipment totals)."""
    out = []
    for name, expr in summed(columns).items():
        out.append(pl.when(expr.filter(OK).count() > 0).then(expr.filter(OK).sum()).alias(name))
    return out


def totals_by(legs: pl.DataFrame, keys: Sequence[str], *, sort_by_wtw: bool = True) -> pl.DataFrame:
    """Per group of ``keys``: shipments, TCEs (computed and not), tkm, TTW/WTT/WTW (kg), the WTW
    with no split, intensities (g per tkm, WTW and TTW), primary data share and the group's share
    of the total WTW."""
    keys = list(keys)
    grouped = legs.with_columns(pl.col(k).cast(pl.String).fill_null(NO_VALUE) for k in keys)
    total_wtw = legs.filter(OK)["co2e_wtw_kg"].sum()
    out = grouped.group_by(keys, maintain_order=True).agg(
        pl.col("shipment_id").n_unique().alias("shipments"),
        OK.sum().cast(pl.UInt32).alias("computed"),
        (~OK).sum().cast(pl.UInt32).alias("rejected"),
        pl.col("mass_kg").filter(OK & (pl.col("mode") == "hub")).sum().alias("hub_outbound_kg"),
        *_totals_exprs(legs.columns),
    ).with_columns(
        intensity_wtw_g_per_tkm=pl.when(pl.col("tkm") > 0).then(intensity_g_per_tkm(pl.col("co2e_wtw_kg"), pl.col("tkm"))),
        intensity_ttw_g_per_tkm=pl.when(pl.col("tkm") > 0).then(intensity_g_per_tkm(pl.col("co2e_ttw_kg"), pl.col("tkm"))),
        primary_data_share=pl.when(pl.col("co2e_wtw_kg") > 0).then(share(pl.col("primary_wtw_kg").fill_null(0.0), pl.col("co2e_wtw_kg"))),
        share_of_wtw=pl.when(pl.lit(total_wtw) > 0).then(share(pl.col("co2e_wtw_kg"), pl.lit(total_wtw))),
    )
    if sort_by_wtw:
        out = out.sort("co2e_wtw_kg", *keys, descending=[True, *[False] * len(keys)], nulls_last=True)
    else:
        out = out.sort(keys)
    return out


def _distance_types(legs: pl.DataFrame) -> pl.DataFrame:
    """Per mode: the distance types behind its transport activity, with their share of its tkm."""
    transport = legs.filter(OK & (pl.col("mode") != "hub") & pl.col("distance_type").is_not_null())
    return (transport.group_by("mode", "distance_type").agg(pl.col("tkm").sum(), pl.len().alias("legs"))
            .with_columns(share=share(pl.col("tkm"), pl.col("tkm").sum().over("mode")))
            .sort("mode", "distance_type"))


def _dafs(legs: pl.DataFrame) -> pl.DataFrame:
    """Per mode and distance type: the DAFs applied (min, max, legs)."""
    transport = legs.filter(OK & (pl.col("mode") != "hub") & pl.col("daf").is_not_null())
    return (transport.group_by("mode", "distance_type").agg(
        pl.col("daf").min().alias("daf_min"), pl.col("daf").max().alias("daf_max"), pl.len().alias("legs"))
        .sort("mode", "distance_type"))


def _assumptions(legs: pl.DataFrame) -> pl.DataFrame:
    """Each assumption the engine made, with the TCEs that relied on it."""
    if "assumptions" not in legs.columns:
        return pl.DataFrame(schema={"assumption": pl.String, "legs": pl.UInt32})
    return (legs.filter(OK).select(pl.col("assumptions").str.split("; ").alias("assumption"))
            .explode("assumption").drop_nulls().filter(pl.col("assumption") != "")
            .group_by("assumption").agg(pl.len().cast(pl.UInt32).alias("legs")).sort("legs", "assumption", descending=[True, False]))


def _rejected(legs: pl.DataFrame, lines: int) -> pl.DataFrame:
    """Rows not computed, per reason: how many, the first lines, and one message."""
    line = pl.col(LINE_COLUMN) if LINE_COLUMN in legs.columns else pl.int_range(1, pl.len() + 1)
    failed = legs.with_columns(__line=line).filter(~OK)
    return (failed.group_by(pl.col("error_code").fill_null("other")).agg(
        pl.len().cast(pl.UInt32).alias("rows"), pl.col("__line").head(lines).alias("lines"),
        pl.col("error").first().alias("example"))
        .sort("rows", "error_code", descending=[True, False]))


def _data_types(legs: pl.DataFrame) -> pl.DataFrame:
    """Share of WTW from each data type, all three listed."""
    table = totals_by(legs, ["data_type"], sort_by_wtw=False).select("data_type", "computed", "co2e_wtw_kg", "share_of_wtw")
    order = pl.DataFrame({"data_type": list(DATA_TYPES)})
    return order.join(table, on="data_type", how="left").with_columns(
        pl.col("computed").fill_null(0), pl.col("share_of_wtw").fill_null(0.0))


def _data_types_by_month(legs: pl.DataFrame) -> pl.DataFrame:
    """Per month: the share of its WTW from each data type."""
    ok = legs.filter(OK & pl.col("month").is_not_null())
    if not ok.height:
        return pl.DataFrame(schema={"month": pl.String, **{d: pl.Float64 for d in DATA_TYPES}})
    wide = (ok.group_by("month", "data_type").agg(pl.col("co2e_wtw_kg").sum())
            .with_columns(share=share(pl.col("co2e_wtw_kg"), pl.col("co2e_wtw_kg").sum().over("month")))
            .pivot(on="data_type", index="month", values="share").sort("month"))
    return wide.select("month", *(pl.col(d).fill_null(0.0) if d in wide.columns else pl.lit(0.0).alias(d) for d in DATA_TYPES))


# ---------------------------------------------------------------------- the report's figures

@dataclass
class Figures:
    entity: str | None
    period: tuple[str | None, str | None]
    generated: str
    totals: dict[str, Any]
    by_mode: pl.DataFrame
    by_kind: pl.DataFrame
    hubs: pl.DataFrame
    distance_types: pl.DataFrame
    dafs: pl.DataFrame
    by_energy_carrier: pl.DataFrame | None
    data_types: pl.DataFrame
    data_types_by_month: pl.DataFrame
    groups: dict[str, pl.DataFrame]
    packs: pl.DataFrame
    factors: pl.DataFrame
    assumptions: pl.DataFrame
    rejected: pl.DataFrame
    japanese: pl.DataFrame | None
    shipments: pl.DataFrame
    stamp: dict[str, Any]
    iso_statement: bool = False


def reproducibility(results: Results, pack_labels: Sequence[str]) -> dict[str, Any]:
    """What makes the figures reproducible: the project's version, each pack used with its edition
    and a hash of its tables, and hashes of the input and results files when known."""
    return {
        "version": __version__,
        "packs": [{"label": label, "edition": pack.meta.get("edition"), "tables_sha256": pack_tables_sha256(pack)}
                  for label, pack in sorted(results.packs.items()) if label in set(pack_labels)],
        "input_sha256": sha256_file(results.input_path) if results.input_path and results.input_path.exists() else None,
        "input_name": results.input_path.name if results.input_path else None,
        "results_sha256": sha256_file(results.results_path) if results.results_path else None,
        "results_name": results.results_path.name if results.results_path else None,
    }


def _period(legs: pl.DataFrame, given: tuple[str | None, str | None] | None) -> tuple[str | None, str | None]:
    """The reporting period: as given, else the first and last day of the legs."""
    if given:
        return given
    days = _days(legs)
    if days is None or not days.drop_nulls().len():
        return (None, None)
    first, last = cast(date, days.min()), cast(date, days.max())  # a Date column's min and max
    return (first.isoformat(), last.isoformat())


def figures(results: Results, *, by: Sequence[str] = ("customer", "lane", "month"), entity: str | None = None,
            period: tuple[str | None, str | None] | None = None, iso_statement: bool = False,
            rejected_lines: int = 20, now: datetime | None = None) -> Figures:
    """Everything a report shows, computed from ``results``. ``by``: the breakdowns (derived
    groups ``lane``, ``month``, ``mode``, ``kind``, ``data_type``, ``distance_type`` or any
    pass-through column such as ``customer`` or ``tag_region``)."""
    legs = with_groups(results.legs)
    known = group_columns(legs)
    unknown = [b for b in by if b not in known]
    if unknown:
        raise InputError(f"--by: {', '.join(unknown)} not in these results (one of {', '.join(known)})")
    overall = totals_by(legs.with_columns(__all=pl.lit("all")), ["__all"]).row(0, named=True)
    summary_rows = legs.height
    totals = {
        **{k: overall[k] for k in ("shipments", "computed", "rejected", "tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg",
                                   "co2e_wtw_unsplit_kg", "intensity_wtw_g_per_tkm", "intensity_ttw_g_per_tkm",
                                   "primary_data_share")},
        "rows": summary_rows,
        "shipments_complete": int(results.shipments["complete"].sum()) if "complete" in results.shipments.columns else None,
    }
    by_mode = totals_by(legs, ["mode"]).with_columns(
        pl.col("mode").replace_strict({m: i for i, m in enumerate(MODES)}, default=len(MODES)).alias("__order")
    ).sort("__order").drop("__order")
    by_kind = totals_by(legs, ["kind"]).with_columns(
        activity=pl.when(pl.col("kind") == "hub").then(pl.col("hub_outbound_kg") / 1000).otherwise(pl.col("tkm")),
        hub_intensity_kg_per_t=pl.when((pl.col("kind") == "hub") & (pl.col("hub_outbound_kg") > 0))
        .then(pl.col("co2e_wtw_kg") / (pl.col("hub_outbound_kg") / 1000)),
    ).sort("kind", descending=True)
    hub_legs = legs.filter(pl.col("mode") == "hub")
    hubs = (totals_by(hub_legs, ["factor_id"]).with_columns(
        outbound_t=pl.col("hub_outbound_kg") / 1000,
        intensity_kg_per_t=pl.when(pl.col("hub_outbound_kg") > 0).then(pl.col("co2e_wtw_kg") / (pl.col("hub_outbound_kg") / 1000)))
        if hub_legs.height else pl.DataFrame())
    groups = {b: totals_by(legs, [b], sort_by_wtw=b != "month") for b in by}
    factor_table = results.factors
    used = legs.filter(OK).group_by("factor_id").agg(pl.len().alias("legs"), pl.col("co2e_wtw_kg").sum())
    factors_used = factor_table.join(used, on="factor_id", how="inner").sort("co2e_wtw_kg", descending=True, nulls_last=True)
    packs = (factors_used.group_by("factor_pack").agg(
        pl.col("edition").drop_nulls().first(), pl.col("licence").drop_nulls().first(),
        pl.col("legs").sum(), pl.col("co2e_wtw_kg").sum())
        .with_columns(share_of_wtw=pl.when(pl.col("co2e_wtw_kg").sum() > 0).then(share(pl.col("co2e_wtw_kg"), pl.col("co2e_wtw_kg").sum())))
        .sort("co2e_wtw_kg", descending=True, nulls_last=True))
    japanese = None
    if "jp_co2_ttw_kg" in legs.columns:
        jp = legs.filter(OK & pl.col("jp_co2_ttw_kg").is_not_null())
        if jp.height:
            japanese = jp.group_by("method", "mode").agg(pl.len().alias("legs"), pl.col("tkm").sum(),
                                                          pl.col("jp_co2_ttw_kg").sum()).sort("method", "mode")
    energy = totals_by(legs, ["energy_carrier"]) if "energy_carrier" in legs.columns else None
    stamp = reproducibility(results, packs["factor_pack"].to_list())
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return Figures(
        entity=entity, period=_period(legs, period), generated=generated, totals=totals, by_mode=by_mode, by_kind=by_kind,
        hubs=hubs, distance_types=_distance_types(legs), dafs=_dafs(legs), by_energy_carrier=energy,
        data_types=_data_types(legs), data_types_by_month=_data_types_by_month(legs), groups=groups, packs=packs,
        factors=factors_used, assumptions=_assumptions(legs), rejected=_rejected(legs, rejected_lines), japanese=japanese,
        shipments=results.shipments, stamp=stamp, iso_statement=iso_statement,
    )


def parse_period(text: str | None) -> tuple[str | None, str | None] | None:
    """``2026-01-01..2026-03-31`` (either side may be left out) as a pair of ISO dates."""
    if not text:
        return None
    start, sep, end = text.partition("..")
    if not sep:
        raise InputError(f"--period: {text!r} is not START..END (e.g. 2026-01-01..2026-12-31)")
    out = []
    for side in (start.strip(), end.strip()):
        if side:
            try:
                date.fromisoformat(side)
            except ValueError as exc:
                raise InputError(f"--period: {side!r} is not a date (YYYY-MM-DD)") from exc
        out.append(side or None)
    return (out[0], out[1])


__all__ = [
    "Figures",
    "Results",
    "figures",
    "group_columns",
    "load_results",
    "pack_tables_sha256",
    "parse_period",
    "reproducibility",
    "sha256_file",
    "totals_by",
    "with_groups",
]
