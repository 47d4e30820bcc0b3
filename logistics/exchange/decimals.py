"""Numbers as the exchange formats want them: decimal strings such as ``"95.16"``.

PACT and iLEAP carry quantities as JSON strings matching ``^-?\\d+(\\.\\d+)?$`` (no exponent, no
``+``). The engine keeps full float precision; only here, when a document is written, is a value
rounded to ``SIGNIFICANT_DIGITS`` significant digits, which removes binary noise
(``95.16000000000001`` → ``"95.16"``) while keeping far more precision than any input has.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

import polars as pl

SIGNIFICANT_DIGITS = 12
DECIMAL_PATTERN = re.compile(r"^-?\d+(\.\d+)?$")


def decimal_string(value: float | int | Decimal) -> str:
    """One number as a plain decimal string, rounded to ``SIGNIFICANT_DIGITS`` digits."""
    if isinstance(value, Decimal):
        text = format(value, "f")
    else:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as a decimal")
        text = format(Decimal(format(value, f".{SIGNIFICANT_DIGITS}g")), "f")
    return _tidy(text)


def _tidy(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decimal_strings(values: pl.Series) -> pl.Series:
    """A whole column as decimal strings (nulls stay null). Polars formats the column; the few
    values it writes in exponent form (very small or very large) are redone in Python, once per
    distinct value."""
    if values.dtype == pl.String:
        return values
    floats = values.cast(pl.Float64)
    if not floats.drop_nulls().is_finite().all():
        bad = floats.filter(~floats.is_finite())[0]
        raise ValueError(f"{values.name}: {bad!r} cannot be written as a decimal")
    text = floats.round_sig_figs(SIGNIFICANT_DIGITS).cast(pl.String)
    exponent = text.str.contains("e", literal=True).fill_null(False)
    if exponent.any():
        redo = {v: decimal_string(v) for v in floats.filter(exponent).unique().to_list()}
        text = pl.select(
            pl.when(pl.lit(exponent)).then(pl.lit(floats).replace_strict(redo, default=None, return_dtype=pl.String))
            .otherwise(pl.lit(text))
        ).to_series()
    tidy = text.str.replace(r"(\.\d*?)0+$", "$1").str.replace(r"\.$", "").str.replace(r"^-0$", "0")
    return tidy.alias(values.name)


def decimal_expr(expr: pl.Expr) -> pl.Expr:
    """``decimal_strings`` as an expression, for use inside ``select``/``with_columns``."""
    return expr.map_batches(decimal_strings, return_dtype=pl.String)


def parse_decimal(text: object) -> Decimal | None:
    """The value of a decimal string, or None when it is not one (the schema check reports it)."""
    if isinstance(text, str) and DECIMAL_PATTERN.match(text.lstrip("+")):
        return Decimal(text)
    return None


def half_last_digit(text: str) -> Decimal:
    """Half a unit in the last written place: how far a correctly rounded value may be off."""
    places = len(text.split(".", 1)[1]) if "." in text else 0
    return Decimal(5) * Decimal(10) ** -(places + 1)
