"""Shipment totals: the sum over a shipment's transport chain elements (GLEC v3.0 pp.26–27;
ISO 14083:2023 §7), written once and used by every path (a call, a batch run, Spark).

Totals are built in two steps so that a shipment whose legs arrive in several batches (or Spark
partitions) still gets one row: ``partials`` are additive per batch; ``finish`` adds them up.
A total over no figure is empty, not zero: a shipment whose legs give no TTW/WTT split has no TTW
total, and one computed only by a Japanese method has no CO2e total. A call of a few legs sums the
same figures on NumPy arrays, in the same order, and derives the same totals through the backend
(``logistics.backends``): the same bits, without a polars query's fixed cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from ..backends import NumpyBackend, PolarsBackend
from ..rules.emissions import intensity_g_per_tkm, share
from ..schema import SHIPMENT_COLUMNS, is_pass_through

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

OK = pl.col("error").is_null()


def summed(columns: Sequence[str]) -> dict[str, pl.Expr]:
    """What is summed per shipment (and per run) over computed legs with ``columns``; each sum has a
    count of the legs that gave it, so that a sum over none stays empty. The WTW with no TTW/WTT
    split: a leg's whole WTW when its factor has no split (e.g. GLEC hub defaults), else the
    add-on emissions that have none (e.g. tank cleaning)."""
    unsplit: Then | ChainedThen = pl.when(pl.col("co2e_ttw_kg").is_null()).then(pl.col("co2e_wtw_kg"))
    if "addon_co2e_wtw_kg" in columns:
        addon = pl.col("addon_co2e_wtw_kg")
        unsplit = unsplit.when(pl.col("addon_co2e_ttw_kg").is_null() & (addon != 0)).then(addon)
    return {
        "tkm": pl.col("tkm"),
        "co2e_ttw_kg": pl.col("co2e_ttw_kg"),
        "co2e_wtt_kg": pl.col("co2e_wtt_kg"),
        "co2e_wtw_kg": pl.col("co2e_wtw_kg"),
        "co2e_wtw_unsplit_kg": unsplit,
        "primary_wtw_kg": pl.when(pl.col("data_type") == "primary").then(pl.col("co2e_wtw_kg")),
    }


SUMMED = tuple(summed(()))  # their names


def _sum(values: pl.Expr) -> pl.Expr:
    """The sum of a group's values, always in their order and by one kernel. Polars' own grouped sum
    adds a group's floats in another order when the key column is flagged sorted, so the same legs
    would give totals differing in the last bit by how they came; nulls (legs not counted) are
    zero here, the count says whether any leg gave a figure."""
    return values.implode().list.sum()


def _counted(name: str) -> str:
    return f"{name}__n"


def partials(legs: pl.DataFrame | pl.LazyFrame, extra_sums: Sequence[str] = ()) -> pl.LazyFrame:
    """Additive per-shipment sums of a set of result legs (``extra_sums``: plug-in columns such as
    ``jp_co2_ttw_kg``), with the first value of each pass-through column."""
    if isinstance(legs, pl.DataFrame):  # one chunk: a float sum depends on how its values are chunked
        legs = legs.rechunk()
    figures, aggregations = _partial_expressions(tuple(legs.collect_schema().names()), tuple(extra_sums))
    return legs.lazy().select(*figures).group_by("shipment_id", maintain_order=True).agg(*aggregations)


@lru_cache(maxsize=64)
def _partial_expressions(columns: tuple[str, ...], extra_sums: tuple[str, ...]) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """(the figures of each leg, their per-shipment aggregations) for legs with ``columns``; kept,
    as building them costs more than summing a call's few legs."""
    passed = [c for c in columns if is_pass_through(c)]
    sums = {**summed(columns), **{c: pl.col(c) for c in extra_sums}}
    # each figure of the computed legs only, as a column, so that the grouping sums and counts
    # plain columns
    figures: list[pl.Expr] = [
        pl.col("shipment_id"), *(pl.col(c) for c in passed), OK.alias("__ok"),
        pl.when(pl.col("mode") != "hub").then(pl.col("mass_kg")).alias("__transport_mass_kg"),
        *(pl.when(OK).then(expr).alias(f"__{name}") for name, expr in sums.items()),
    ]
    aggregations = [
        *(pl.col(c).drop_nulls().first().alias(c) for c in passed),
        pl.len().cast(pl.UInt32).alias("legs"),
        (~pl.col("__ok")).sum().cast(pl.UInt32).alias("error_legs"),
        pl.col("__transport_mass_kg").max().alias("mass_kg"),
        *(_sum(pl.col(f"__{name}").fill_null(0.0)).alias(name) for name in sums),
        *(pl.col(f"__{name}").count().cast(pl.UInt32).alias(_counted(name)) for name in sums),
    ]
    return figures, aggregations


def finish(partial: pl.DataFrame | pl.LazyFrame, extra_sums: Sequence[str] = ()) -> pl.LazyFrame:
    """One row per shipment from its partials: totals over its computed legs (empty where no leg
    gave a figure), tkm, intensity, the share of WTW from primary data, and whether every leg was
    computed (``complete``)."""
    columns = partial.collect_schema().names()
    passed = [c for c in columns if is_pass_through(c)]
    summed = [*SUMMED, *extra_sums]
    regrouped = partial.lazy().group_by("shipment_id", maintain_order=True).agg(
        *(pl.col(c).drop_nulls().first() for c in passed), pl.col("legs", "error_legs").sum(),
        pl.col("mass_kg").max(), *(_sum(pl.col(c)) for c in summed), *(pl.col(_counted(c)).sum() for c in summed))
    return _totals(regrouped, passed, extra_sums)


def _totals(partial: pl.LazyFrame, passed: Sequence[str], extra_sums: Sequence[str]) -> pl.LazyFrame:
    """The shipments table from one partial per shipment."""
    totals, derived, columns = _total_expressions(tuple(passed), tuple(extra_sums))
    return partial.with_columns(*totals).with_columns(*derived).select(*columns)


@lru_cache(maxsize=64)
def _total_expressions(passed: tuple[str, ...], extra_sums: tuple[str, ...]) -> tuple[list[pl.Expr], list[pl.Expr], list[str]]:
    """(the totals, what is derived from them, the table's columns); kept, as ``_partial_expressions``."""
    b = PolarsBackend
    totals = [total(b, b.col(c), b.col(_counted(c))).alias(c) for c in [*SUMMED, *extra_sums]]
    derived = [expr.alias(name) for name, expr in derived_totals(b, b.col).items()]
    return totals, derived, ["shipment_id", *passed, *shipment_columns(extra_sums)]


def total(b, summed_value, count):
    """A shipment's total: its legs' sum, empty when no leg gave a figure."""
    return b.where(count > 0, summed_value, b.none())


def derived_totals(b, col) -> dict:
    """What a shipment's totals give (``col``: a total by name): the intensity over its tkm, the share
    of WTW from primary data, and whether every leg was computed."""
    wtw, tkm = col("co2e_wtw_kg"), col("tkm")
    return {
        "intensity_wtw_g_per_tkm": b.where(tkm > 0, intensity_g_per_tkm(wtw, tkm), b.none()),
        "primary_data_share": b.where(wtw > 0, share(b.coalesce(col("primary_wtw_kg"), 0.0), wtw), b.none()),
        "complete": col("error_legs") == 0,
    }


def shipment_columns(extra_sums: Sequence[str] = ()) -> list[str]:
    """The computed columns of the shipments table (plug-in sums after co2e_wtw_unsplit_kg)."""
    names = list(SHIPMENT_COLUMNS)
    at = names.index("co2e_wtw_unsplit_kg") + 1
    return [*names[:at], *extra_sums, *names[at:]]


# Totals are summed by the in-memory engine on one chunk, so a shipment's total has the same bits
# whatever path or batch size gave its legs (the streaming engine may combine partial sums in any
# order).
TOTALS_ENGINE: Final = "in-memory"


# Up to this many legs, totals are summed on NumPy arrays: a polars query's fixed cost (about 2 ms)
# is more than a call's whole calculation (bench/bench_engine.py, "with their totals").
NUMPY_ROWS = 1000


def shipments(legs: pl.DataFrame, extra_sums: Sequence[str] = ()) -> pl.DataFrame:
    """One row per shipment of ``legs`` (see ``finish``): one partial per shipment, totalled without
    grouping again (the same sums as ``finish``'s)."""
    passed = [c for c in legs.columns if is_pass_through(c)]
    if legs.height <= NUMPY_ROWS:
        return _numpy_shipments(legs, passed, tuple(extra_sums))
    return _totals(partials(legs, extra_sums), passed, extra_sums).collect(engine=TOTALS_ENGINE)


def _numpy_shipments(legs: pl.DataFrame, passed: Sequence[str], extra_sums: tuple[str, ...]) -> pl.DataFrame:
    """``shipments`` of a few legs: the same figures (``_partial_expressions``), summed per shipment
    in the legs' order as polars sums them (left to right from zero: the same bits), and the same
    totals (``total``, ``derived_totals``) on NumPy arrays."""
    figures, _ = _partial_expressions(tuple(legs.columns), extra_sums)
    f = legs.select(*figures)
    first_row: dict = {}
    group = np.fromiter((first_row.setdefault(s, len(first_row)) for s in f.get_column("shipment_id").to_list()),
                        np.int64, f.height)
    k = len(first_row)
    columns: dict[str, Any] = {"shipment_id": pl.Series("shipment_id", list(first_row), pl.String)}
    # Series methods here would each run a polars query: the columns are read as arrays once
    for c in passed:  # the first value given
        values = f.get_column(c)
        given = np.flatnonzero(values.is_not_null().to_numpy()) if values.null_count() else np.arange(f.height)
        first = np.full(k, -1)
        first[group[given[::-1]]] = given[::-1]  # from the last: the first one is written last
        columns[c] = values.gather(pl.Series([int(i) if i >= 0 else None for i in first], dtype=pl.Int64))
    ok = f.get_column("__ok").to_numpy()
    columns["legs"] = np.bincount(group, minlength=k)
    columns["error_legs"] = np.bincount(group, weights=~ok, minlength=k)
    mass = np.full(k, -np.inf)
    np.fmax.at(mass, group, f.get_column("__transport_mass_kg").to_numpy().astype(float))
    columns["mass_kg"] = np.where(np.isneginf(mass), np.nan, mass)
    b = NumpyBackend(columns, k)
    for name in [*SUMMED, *extra_sums]:
        figure = f.get_column(f"__{name}").to_numpy().astype(float)  # null: NaN (a figure is never NaN)
        given = ~np.isnan(figure)
        summed_value = np.zeros(k)
        np.add.at(summed_value, group, np.where(given, figure, 0.0))
        count = np.bincount(group, weights=given, minlength=k)
        columns[name] = total(b, summed_value, count)
    columns.update(derived_totals(b, columns.__getitem__))
    types = {"legs": pl.UInt32, "error_legs": pl.UInt32, "complete": pl.Boolean}
    return pl.DataFrame([
        columns[c] if isinstance(columns[c], pl.Series) else pl.Series(c, columns[c], types.get(c, pl.Float64), nan_to_null=True)
        for c in ["shipment_id", *passed, *shipment_columns(extra_sums)]])

