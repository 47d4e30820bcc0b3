"""Reading legs tables (polars, pandas, CSV, Parquet) and writing results."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from .vocabulary import LOWER_CASE, MAX_NUMBER, TEMPERATURE_SYNONYMS, UPPER_CASE


class InputError(ValueError):
    """The input as a whole cannot be used (unreadable file, required columns missing)."""


def read_table(source, *, encoding: str = "utf8", separator: str | None = None) -> pl.DataFrame:
    """A legs table from a polars/pandas frame or a CSV/Parquet path. CSV cells are read as text so
    that a bad cell becomes a row error instead of failing the whole file."""
    if isinstance(source, pl.DataFrame):
        return source
    if isinstance(source, pl.LazyFrame):
        return source.collect()
    if type(source).__module__.startswith("pandas"):
        return pl.from_pandas(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                return pl.read_parquet(path)
            if suffix in (".csv", ".txt", ".tsv"):
                sep = separator or ("\t" if suffix == ".tsv" else sniff_separator(path, encoding))
                return pl.read_csv(path, infer_schema=False, separator=sep, encoding=encoding)
        except Exception as exc:
            raise InputError(f"{path}: cannot be read: {exc}") from exc
        raise InputError(f"{path}: unknown file type {suffix!r} (expected .csv or .parquet)")
    raise InputError(f"cannot read legs from {type(source).__name__}; give a DataFrame or a .csv/.parquet path")


def parse_number(text: pl.Expr, *, decimal_comma: bool = False, trimmed: bool = False) -> pl.Expr:
    """A text cell as a number (Float64), null when it is not one. With ``decimal_comma`` the cell
    is written the continental way: ``12.000,5`` is twelve thousand and a half. ``trimmed``: the
    cell has no surrounding spaces already."""
    cell = text if trimmed else text.str.strip_chars()
    if decimal_comma:
        cell = cell.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return cell.cast(pl.Float64, strict=False)


def bad_number(value: pl.Expr) -> pl.Expr:
    """True where a value read as a number is still no usable figure: NaN, ±inf or beyond
    ±MAX_NUMBER (a unit or encoding mistake)."""
    return ~value.is_finite() | (value.abs() > MAX_NUMBER)


RAW_PREFIX = "_raw_"  # text cells kept beside the numbers read from them, for the checks


def typed_columns(raw: pl.DataFrame, schema: dict[str, pl.DataType]) -> tuple[list[pl.Expr], list[tuple[pl.Expr, pl.Expr]]]:
    """Expressions that read each column of ``schema`` from ``raw`` as the engine wants it: text
    trimmed, empty cells null, numbers parsed, vocabulary case and spelling normalised, absent
    columns null; and (condition, message) checks naming the cells that are not numbers.

    The checks run on the columns' result: a number read from text keeps its cell as
    ``_raw_<name>`` (drop them with ``drop_raw``), so each cell is parsed once."""
    cols, checks = [], []
    for name, dtype in schema.items():
        if name not in raw.columns:
            cols.append(pl.lit(None, dtype).alias(name))
            continue
        c = pl.col(name)
        if raw.schema[name] == pl.String and dtype != pl.String:
            cols.append(c.str.strip_chars().cast(dtype, strict=False).alias(name))
            cols.append(c.alias(RAW_PREFIX + name))
            cell = pl.col(RAW_PREFIX + name)
            checks.append((pl.col(name).is_null() & cell.is_not_null() & (cell.str.strip_chars() != ""),
                           pl.format(f"{name}: '{{}}' is not a number", cell.str.strip_chars())))
            continue
        if raw.schema[name] == pl.String:
            c = c.str.strip_chars()
            c = pl.when(c == "").then(None).otherwise(c)
        c = c.cast(dtype, strict=False)
        if name in LOWER_CASE:
            c = c.str.to_lowercase()
        elif name in UPPER_CASE:
            c = c.str.to_uppercase()
        if name == "mode":
            c = c.str.replace_all(r"[ \-]", "_")
        elif name == "temperature_control":
            c = c.replace(TEMPERATURE_SYNONYMS)
        cols.append(c.alias(name))
    return cols, checks


def drop_raw(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop(pl.selectors.starts_with(RAW_PREFIX))


def sniff_separator(path: Path, encoding: str) -> str:
    """``;`` or ``,``: whichever splits the header line into more fields."""
    with open(path, encoding="utf-8-sig" if encoding in ("utf8", "utf-8") else encoding, errors="replace") as f:
        header = f.readline()
    return ";" if header.count(";") > header.count(",") else ","


def factors_path(results: str | os.PathLike) -> Path:
    """Where the factors table of a results file goes unless named: beside it, ``<stem>.factors<suffix>``."""
    results = Path(results)
    return results.with_name(f"{results.stem}.factors{results.suffix}")


def write_table(df: pl.DataFrame, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.write_parquet(path, compression="zstd")
    elif path.suffix.lower() == ".csv":
        df.write_csv(path)
    else:
        raise InputError(f"{path}: unknown output type {path.suffix!r} (expected .csv or .parquet)")
    return path
