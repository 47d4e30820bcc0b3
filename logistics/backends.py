"""Two ways to evaluate the per-leg computation written once in ``pipeline.legs`` (and the
branching rules of ``rules``): as polars
expressions (one lazy query per batch, for files of any size) or as NumPy arrays (for a request of a
few legs, where a polars query's fixed cost of a few milliseconds would dominate).

A backend gives the few operations arithmetic operators cannot express: choosing by a condition,
the first non-missing value, missing-ness, membership, a mapping of values, duplicates. Missing
numbers are null in polars and NaN in NumPy; missing text is null / None; conditions are never
missing (a missing comparison is false in both)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl


class PolarsBackend:
    """Expressions over the columns of a lazy frame."""

    @staticmethod
    def col(name: str) -> pl.Expr:
        return pl.col(name)

    @staticmethod
    def where(condition, then, otherwise) -> pl.Expr:
        return pl.when(_cond(condition)).then(_value(then)).otherwise(_value(otherwise))

    @staticmethod
    def coalesce(*values) -> pl.Expr:
        return pl.coalesce(*(_value(v) for v in values))

    @staticmethod
    def missing(value: pl.Expr) -> pl.Expr:
        return value.is_null()

    @staticmethod
    def present(value: pl.Expr) -> pl.Expr:
        return value.is_not_null()

    @staticmethod
    def isin(value: pl.Expr, values: Sequence) -> pl.Expr:
        return value.is_in(list(values)).fill_null(False)

    @staticmethod
    def condition(value: pl.Expr) -> pl.Expr:
        """A comparison as a definite truth value (missing -> false)."""
        return value.fill_null(False)

    @staticmethod
    def lookup(value: pl.Expr, mapping: Mapping[Any, Any], dtype) -> pl.Expr:
        """``mapping[value]``, missing for other values; ``dtype``: a polars type or ``float``/``str``."""
        return value.replace_strict(dict(mapping), default=None, return_dtype=_POLARS_TYPES.get(dtype, dtype))

    @staticmethod
    def duplicated(*values: pl.Expr) -> pl.Expr:
        return pl.struct(*values).is_duplicated()

    @staticmethod
    def none(dtype: type[pl.DataType] = pl.Float64) -> pl.Expr:
        return pl.lit(None, dtype)

    @staticmethod
    def false() -> pl.Expr:
        return pl.lit(False)

    @staticmethod
    def integer(value: pl.Expr) -> pl.Expr:
        return value.cast(pl.Int64)


def _cond(condition):
    return condition.fill_null(False) if isinstance(condition, pl.Expr) else condition


_POLARS_TYPES = {float: pl.Float64, str: pl.String, bool: pl.Boolean}


def _value(value):
    """A constant as a literal (polars reads a bare string as a column name)."""
    return pl.lit(value) if isinstance(value, str) or value is None else value


class NumpyBackend:
    """Arrays of one small frame: float64 (NaN missing), bool, or object (None missing)."""

    def __init__(self, columns: Mapping[str, np.ndarray], height: int):
        self.columns = columns
        self.height = height

    def col(self, name: str) -> np.ndarray:
        return self.columns[name]

    def where(self, condition, then, otherwise) -> np.ndarray:
        then, otherwise = self._array(then), self._array(otherwise)
        kind = object if then.dtype == object or otherwise.dtype == object else None
        result = np.where(self._array(condition).astype(bool), then, otherwise)
        return result.astype(kind) if kind is object else result

    def coalesce(self, *values) -> np.ndarray:
        result = self._array(values[0])
        for value in values[1:]:
            result = self.where(self.missing(result), value, result)
        return result

    def missing(self, value) -> np.ndarray:
        value = self._array(value)
        if value.dtype == object:
            return np.fromiter((v is None for v in value), bool, len(value))
        if value.dtype.kind == "f":
            return np.isnan(value)
        return np.zeros(len(value), bool)

    def present(self, value) -> np.ndarray:
        return ~self.missing(value)

    def isin(self, value, values: Sequence) -> np.ndarray:
        allowed = set(values)
        return np.fromiter((v in allowed for v in self._array(value)), bool, self.height)

    @staticmethod
    def condition(value) -> np.ndarray:
        return np.asarray(value, bool)

    def lookup(self, value, mapping: Mapping[Any, Any], dtype) -> np.ndarray:
        looked = [mapping.get(v) for v in self._array(value)]
        if dtype in (pl.Float64, float):
            return np.array([np.nan if v is None else v for v in looked], float)
        return np.array(looked, object)

    def duplicated(self, *values) -> np.ndarray:
        rows = list(zip(*(self._array(v) for v in values), strict=True))
        seen: dict = {}
        for row in rows:
            seen[row] = seen.get(row, 0) + 1
        return np.fromiter((seen[row] > 1 for row in rows), bool, len(rows))

    def none(self, dtype=pl.Float64) -> np.ndarray:
        return np.full(self.height, np.nan) if dtype == pl.Float64 else np.full(self.height, None, object)

    def false(self) -> np.ndarray:
        return np.zeros(self.height, bool)

    @staticmethod
    def integer(value) -> np.ndarray:
        return np.asarray(value, float)  # whole numbers; NaN stays missing (the result is typed Int64)

    def _array(self, value) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        if value is None:
            return np.full(self.height, None, object)
        if isinstance(value, str):
            return np.full(self.height, value, object)
        return np.full(self.height, value)
