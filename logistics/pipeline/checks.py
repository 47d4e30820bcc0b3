"""Row checks as data: each check is (column, code, condition, message).

A stage evaluates the conditions of its checks on every row as one bit mask (cheap arithmetic);
the messages, which cost a string per row, are built afterwards for the failing rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Check:
    column: str  # the input column at fault
    code: str  # the reason, e.g. "not_a_number"; error_code = "<column>.<code>"
    condition: pl.Expr  # true where the row fails (null counts as passing)
    message: pl.Expr  # for people: names the column and the value

    @property
    def error_code(self) -> str:
        return f"{self.column}.{self.code}"


MAX_CHECKS = 64  # bits of a mask


def failure_mask(checks: Sequence[Check]) -> pl.Expr:
    """A UInt64 per row whose bit i is set when check i fails."""
    if len(checks) > MAX_CHECKS:
        raise ValueError(f"{len(checks)} checks do not fit a {MAX_CHECKS}-bit mask")
    if not checks:
        return pl.lit(0, pl.UInt64)
    return pl.sum_horizontal(
        pl.when(c.condition.fill_null(False)).then(pl.lit(1 << i, pl.UInt64)).otherwise(pl.lit(0, pl.UInt64))
        for i, c in enumerate(checks)
    ).cast(pl.UInt64)


def failed(mask: pl.Expr, i: int) -> pl.Expr:
    return (mask & pl.lit(1 << i, pl.UInt64)) != 0


def messages(checks: Sequence[Check], mask: pl.Expr) -> list[pl.Expr]:
    """One expression per check: its message where its bit is set in ``mask``, else null."""
    return [pl.when(failed(mask, i)).then(c.message) for i, c in enumerate(checks)]


def first_code(checks: Sequence[Check], mask: pl.Expr) -> pl.Expr:
    """The error code of the lowest failing check in ``mask`` (null when none failed)."""
    codes = pl.Series([c.error_code for c in checks], dtype=pl.String)
    lowest = mask.bitwise_trailing_zeros().cast(pl.UInt32).clip(upper_bound=len(codes) - 1)
    return pl.when(mask != 0).then(pl.lit(codes).gather(lowest))
