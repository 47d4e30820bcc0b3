"""Vocabulary keys: a leg's descriptor cells read once per distinct combination.

The vocabulary columns (mode, vehicle, region, ...) take few distinct values in any file, so their
reading (trim, case, synonyms), the defaults they take, the method a leg gets, the checks on them
and the built-in assumptions are worked out once per distinct combination of raw cells and of the
row facts they depend on (``KEY_FLAGS``), then gathered back to the legs by a dense index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache, reduce

import polars as pl

from ..schema import VOCABULARY_COLUMNS
from ..vocabulary import (
    DISTANCE_TYPES,
    FUEL_UNITS,
    MODES,
    TEMPERATURE_CONTROLS,
    TRANSPORT_MODES,
    read_vocabulary,
)
from .checks import Check

KEY = "__key"  # the hash of a row's raw vocabulary cells and KEY_FLAGS
# Row facts the reading of a key depends on (the method a leg defaults to, the assumptions it
# relies on): whether the leg gives a number in each column, as read.
KEY_FLAGS: dict[str, str] = {"__has_fuel": "fuel_amount", "__has_teu": "teu", "__has_mass": "mass_kg"}


def raw_cell(name: str, columns: Sequence[str]) -> pl.Expr:
    """A vocabulary cell as text (null when the column is absent), before any reading."""
    return pl.col(name).cast(pl.String) if name in columns else pl.lit(None, pl.String)


def key_expr(columns: Sequence[str], flags: Sequence[pl.Expr]) -> pl.Expr:
    """The vocabulary key of each row of a frame with ``columns``: a hash of its raw vocabulary
    cells (those the frame has: the others are missing on every row) and of ``flags`` (the
    KEY_FLAGS as expressions). It tells a frame's keys apart; the stores key on the cells."""
    return hash_cells([*(raw_cell(c, columns) for c in VOCABULARY_COLUMNS if c in columns), *flags])


def hash_cells(cells: Sequence[pl.Expr]) -> pl.Expr:
    """A 64-bit hash of each row's ``cells`` (equal cells, equal hash; nulls included): each
    column hashed on its own and combined, about three times faster than hashing a struct."""
    return reduce(lambda a, h: a * 31 + h, (cell.hash(seed=i) for i, cell in enumerate(cells)))


def read_defaults(defaults: Mapping[str, str]) -> dict[str, str]:
    """Vocabulary defaults read like the cells they fill (``eu`` -> ``EU``)."""
    given = {n: str(v) for n, v in defaults.items() if n in VOCABULARY_COLUMNS}
    if not given:
        return {}
    frame = pl.DataFrame({n: [v] for n, v in given.items()})
    return frame.select(read_vocabulary(n, pl.col(n)) for n in given).row(0, named=True)


# Built-in defaults: (column, value, when a key relies on it). The text of each goes into the
# leg's ``assumptions``.
ASSUMPTIONS: tuple[tuple[str, str, pl.Expr], ...] = (
    ("temperature_control", "ambient", pl.col("temperature_control").is_null() & pl.col("mode").is_not_null()),
    ("load_type", "average",
     pl.col("load_type").is_null() & pl.col("mode").is_in(["road", "rail"]) & (pl.col("method") == "activity")),
    ("vehicle", "container_ship",
     pl.col("vehicle").is_null() & (pl.col("mode") == "sea") & pl.col("__has_teu") & (pl.col("method") == "activity")),
)


def mass_from_teu_assumed() -> pl.Expr:
    return ~pl.col("__has_mass") & pl.col("__has_teu")


@lru_cache(maxsize=8)
def key_checks(methods: tuple[str, ...]) -> tuple[Check, ...]:
    """The rules on a leg's vocabulary, in the order they are reported."""
    mode, method = pl.col("mode"), pl.col("method")

    def not_one_of(column: str, allowed: Sequence[str]) -> Check:
        return Check(column, "unknown_value", ~pl.col(column).is_in(list(allowed)),
                     pl.format(f"{column}: '{{}}' is not one of {', '.join(allowed)}", column))

    return (
        Check("mode", "missing", mode.is_null(), pl.lit("mode: missing")),
        not_one_of("mode", MODES),
        not_one_of("distance_type", DISTANCE_TYPES),
        not_one_of("method", methods),
        Check("method", "hub_mismatch", (method == "hub") != (mode == "hub"), pl.lit("method: hub goes with mode hub only")),
        not_one_of("temperature_control", TEMPERATURE_CONTROLS),
        Check("fuel_amount", "missing", (method == "fuel") & ~pl.col("__has_fuel"), pl.lit("fuel_amount: missing for method fuel")),
        Check("fuel_unit", "missing", (method == "fuel") & pl.col("fuel_unit").is_null(), pl.lit("fuel_unit: missing for fuel_amount")),
        not_one_of("fuel_unit", list(FUEL_UNITS)),
        Check("energy_carrier", "missing", (method == "fuel") & pl.col("energy_carrier").is_null(),
              pl.lit("energy_carrier: missing for fuel_amount")),
        Check("toc_id", "missing", (method == "toc") & pl.col("toc_id").is_null(), pl.lit("toc_id: missing for method toc")),
        Check("hub_type", "missing", (mode == "hub") & pl.col("hub_type").is_null() & pl.col("hoc_id").is_null(),
              pl.lit("hub_type: missing (give hub_type or hoc_id)")),
    )


def resolve_keys(raw: pl.DataFrame, *, defaults: Mapping[str, str], methods: tuple[str, ...],
                 teu_mass_t: float) -> pl.DataFrame:
    """Per distinct key (``raw``: KEY, the raw vocabulary cells, KEY_FLAGS): the vocabulary read
    and defaulted, the method, ``key_error_code`` / ``key_error`` and the built-in assumptions the
    key relies on (``__assumed``; a per-TEU factor may add one, see factors)."""
    k = raw.with_columns(read_vocabulary(c, pl.col(c)) for c in VOCABULARY_COLUMNS)
    filled = read_defaults(defaults)
    if filled:
        k = k.with_columns(pl.col(n).fill_null(pl.lit(v, pl.String)) for n, v in filled.items())
    k = k.with_columns(method=pl.col("method").fill_null(
        pl.when(pl.col("mode") == "hub").then(pl.lit("hub"))
        .when(pl.col("__has_fuel")).then(pl.lit("fuel"))
        .when(pl.col("toc_id").is_not_null()).then(pl.lit("toc"))
        .otherwise(pl.lit("activity"))
    ))
    checks = key_checks(methods)
    failing = [pl.when(c.condition.fill_null(False)) for c in checks]
    assumed = [(column, value, condition.fill_null(False)) for column, value, condition in ASSUMPTIONS]
    texts = [pl.when(cond).then(pl.lit(f"{column}={value}")) for column, value, cond in assumed]
    texts.append(pl.when(mass_from_teu_assumed()).then(pl.lit(f"mass={teu_mass_t:g} t/TEU")))
    k = k.with_columns(
        key_error_code=pl.coalesce(w.then(pl.lit(c.error_code)) for w, c in zip(failing, checks, strict=True)),
        key_error=pl.concat_str([w.then(c.message) for w, c in zip(failing, checks, strict=True)], separator="; ",
                                ignore_nulls=True).replace("", None),
        __assumed=pl.concat_str(texts, separator="; ", ignore_nulls=True).replace("", None),
    ).with_columns(
        pl.when(cond).then(pl.lit(value)).otherwise(pl.col(column)).alias(column) for column, value, cond in assumed
    )
    return k.with_columns(
        __transport=pl.col("mode").is_in(list(TRANSPORT_MODES)).fill_null(False),
        __hub=(pl.col("mode") == "hub").fill_null(False),
        __needs_band=((pl.col("mode") == "air") & pl.col("flight_length").is_null()
                      & (pl.col("method") == "activity")).fill_null(False),
        __unit_mult=pl.col("fuel_unit").replace_strict({u: m for u, (_, m) in FUEL_UNITS.items()}, default=None,
                                                        return_dtype=pl.Float64),
    )

