"""Reading tables, and writing figures for people: the one place that knows about encodings, line
endings, separators, quotes, decimal marks and numbers in cells.

An input is read as written or refused clearly, never misread or lost:

- ``open_legs`` opens a CSV or Parquet legs file. For CSV it works out the encoding, the line
  ending, the separator and the decimal mark from a sample at the start of the file (or takes them
  as given), checks the header, and streams the rows in batches of text cells, each with the line
  it starts on. A line that cannot be split into the header's fields is still a row, with the
  reason in ``line_error``: it is never dropped and never ends the run.
- ``read_legs`` reads a whole legs table: a path, or a polars/pandas frame. ``read_table`` reads
  any other table (own TOCs and HOCs, results) the same way, refusing it as a whole if a line is
  broken.
- ``typed_columns`` reads cells as the engine's types; ``parse_number`` and ``bad_number`` are
  the rules for numbers: which text is a number, and which numbers are refused anyway.
- ``format_for_people`` rounds figures for CSV, JSON and summaries; Parquet keeps full precision.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import polars.selectors as cs

from .schema import INTERNAL_PREFIX, LINE_COLUMN, LINE_ERROR, DType
from .vocabulary import LOWER_CASE, MAX_NUMBER, UPPER_CASE, read_vocabulary


class InputError(ValueError):
    """The input as a whole cannot be used (unreadable file, bad header, required columns missing)."""


# The columns every legs table gets from its reader: LINE_COLUMN (the line the row starts on,
# header = 1; Parquet and frames: the row number, 1-based) and LINE_ERROR (schema).
# Input columns may not start with this: the engine's own working columns do.
RESERVED_PREFIX = INTERNAL_PREFIX
MAX_COLUMNS = 1_000  # a wider header is not a legs table: refused before anything else is read
SAMPLE_BYTES = 1 << 20  # encoding, line ending, separator and decimal mark are detected on this much
MAX_RECORD_LINES = 1_000  # a quoted cell may span this many lines; a quote open longer is a broken line
DEFAULT_PRECISION = 6  # significant digits of figures for people
BATCH_ROWS = 250_000  # rows per batch when a whole table is read

SEPARATORS = (",", ";", "\t", "|")
# Characters used to split a file into lines (as the separator of a one-column read): the first one
# absent from the sample. A line that contains it after all is a broken line, not a misread one.
_MARKS = ("\x1f", "\x1e", "\x1d", "\x1c")
_QUOTED_FIELD = r'"(?:[^"]|"")*"'

# Encodings by the names users give them -> (the name reported, the Python codec).
_ENCODINGS = {
    "utf8": ("utf8", "utf-8"), "utf-8": ("utf8", "utf-8"), "utf-8-sig": ("utf8", "utf-8"),
    "cp932": ("cp932", "cp932"), "shift_jis": ("cp932", "cp932"), "shift-jis": ("cp932", "cp932"),
    "sjis": ("cp932", "cp932"), "ms932": ("cp932", "cp932"), "windows-31j": ("cp932", "cp932"),
    "cp1252": ("cp1252", "cp1252"), "windows-1252": ("cp1252", "cp1252"),
    "latin-1": ("latin-1", "latin-1"), "latin1": ("latin-1", "latin-1"), "iso-8859-1": ("latin-1", "latin-1"),
    "utf-16": ("utf-16", "utf-16"), "utf16": ("utf-16", "utf-16"),
}


def _codec(encoding: str) -> tuple[str, str]:
    """(name reported, Python codec) of an encoding given by a user; files saved as "Shift_JIS" on
    Windows are cp932 (its superset with NEC/IBM extensions such as ①, ㈱)."""
    known = _ENCODINGS.get(encoding.strip().lower().replace("_", "-"), _ENCODINGS.get(encoding.strip().lower()))
    if known:
        return known
    try:
        return encoding, codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"encoding {encoding!r} is unknown (e.g. utf8, cp932, cp1252)") from None


# --------------------------------------------------------------------------------------------
# Encoding detection

_JAPANESE = re.compile(r"[\u3000-\u30ff\uff01-\uff5e]")  # CJK punctuation, kana, full-width forms
_HALF_KANA = re.compile(r"[\uff61-\uff9f]")
_LATIN_LETTERS = set("ŠšŽžŒœŸ") | {chr(c) for c in range(0xC0, 0x100) if chr(c) not in "×÷"}
_LATIN_PUNCTUATION = set("‘’“”–—…€°«»·•ºª¿¡§")


def _japanese_chars(text: str) -> tuple[int, int]:
    """(common Japanese characters, other non-ASCII ones) in a cp932 reading. Common: kana, CJK and
    full-width punctuation, and the JIS level-1 kanji (lead byte below 0x98); Latin text read as
    cp932 gives half-width kana, level-2 and extension kanji and user-defined characters instead."""
    common = other = 0
    for ch in text:
        if ch < "\x80":
            continue
        if _JAPANESE.match(ch) or ("\u4e00" <= ch <= "\u9fff" and ch.encode("cp932")[0] < 0x98):
            common += 1
        else:
            other += 1
    return common, other


def _odd_latin_chars(text: str) -> int:
    """Non-ASCII characters of a cp1252 reading that Western text hardly has: symbols of the C1
    range, and letters in runs of three or more (Japanese bytes read as cp1252 come in runs)."""
    odd = run = 0
    for ch in text + "\n":
        if ch >= "\x80":
            run += 1
            if ch not in _LATIN_LETTERS and ch not in _LATIN_PUNCTUATION:
                odd += 1
            continue
        if run >= 3:
            odd += run
        run = 0
    return odd


def detect_encoding(sample: bytes, *, whole: bool = True, name: str = "input") -> str:
    """The encoding of a file from its first bytes: ``utf8`` (with or without BOM), ``utf-16``
    (with BOM), ``cp932`` (Shift_JIS as written by Japanese systems) or ``cp1252`` (Latin-1 as
    written by Western Windows and Excel). ``whole``: the sample is the whole file (else it may
    end inside a character).

    Text that is valid UTF-8 is UTF-8. Otherwise the sample is read as cp932 and as cp1252: if only
    one reading is valid it is the one; if both are, cp932 is chosen when its reading has Japanese
    characters and the cp1252 reading has symbols Western text hardly has, cp1252 when the cp932
    reading has no Japanese characters and the cp1252 one nothing odd. Anything else raises
    InputError asking for ``--encoding``, with both readings of the first such line."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise InputError(f"{name}: contains NUL bytes (UTF-16 without a byte-order mark, or not a text file); "
                         "save it as UTF-8 or give --encoding")

    def reading(codec: str) -> str | None:
        try:
            return codecs.getincrementaldecoder(codec)().decode(sample, final=whole)
        except UnicodeDecodeError:
            return None

    if reading("utf-8") is not None:
        return "utf8"
    jp, latin = reading("cp932"), reading("cp1252")
    if jp is None and latin is None:
        raise InputError(f"{name}: neither UTF-8, Shift_JIS (cp932) nor Windows-1252 text; give --encoding")
    if latin is None:
        return "cp932"
    if jp is None:
        return "cp1252"
    japanese, _ = _japanese_chars(jp)
    odd = _odd_latin_chars(latin)
    if japanese and odd:
        return "cp932"
    if not japanese and not odd:
        return "cp1252"
    line = next(i for i, ln in enumerate(re.split(rb"\r\n|\r|\n", sample)) if max(ln, default=0) >= 0x80)
    jp_line, latin_line = (re.split(r"\r\n|\r|\n", reading)[line].strip()[:80] for reading in (jp, latin))
    raise InputError(f"{name}: the encoding is unclear: line {line + 1} reads {jp_line!r} as Shift_JIS (cp932) and "
                     f"{latin_line!r} as Windows-1252; give --encoding cp932 or --encoding cp1252")


# --------------------------------------------------------------------------------------------
# Numbers

_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space: thousands separators in either convention
_POINT_GROUPED = rf"^[+-]?[1-9][0-9]{{0,2}}(?:[,{_SPACES}][0-9]{{3}})+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"
_COMMA_GROUPED = rf"^[+-]?[1-9][0-9]{{0,2}}(?:[.{_SPACES}][0-9]{{3}})+(?:,[0-9]+)?(?:[eE][+-]?[0-9]+)?$"
_COMMA_OR_GROUPS = r",|^[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:[eE][+-]?[0-9]+)?$"


def _read_series(text: pl.Series, comma: bool) -> pl.Series:
    """Trimmed text cells read with a decimal point (``1234.5``, ``1e-3``, grouped ``1,234.5`` or
    ``1 234.5``) or a decimal comma (``1234,5``, ``1,5E-3``, grouped ``1.234,5``; a point is a
    thousands separator only, so ``12.5`` is not a number): Float64, null where it reads none.
    Polars' own reading first (``nan`` and ``inf`` read too: ``bad_number`` refuses them); the
    grouped forms only for the few cells that one leaves."""
    if comma:
        plain = pl.select(pl.when(~text.str.contains(".", literal=True))
                          .then(text.str.replace(",", ".", literal=True))).to_series().cast(pl.Float64, strict=False)
    else:
        plain = text.cast(pl.Float64, strict=False)
    left = (plain.is_null() & text.is_not_null()).arg_true()
    if len(left):
        cells = text.gather(left)
        pattern, separators = (_COMMA_GROUPED, f"[.{_SPACES}]") if comma else (_POINT_GROUPED, f"[,{_SPACES}]")
        digits = cells.str.replace_all(separators, "")
        digits = digits.str.replace(",", ".", literal=True) if comma else digits
        grouped = pl.select(pl.when(cells.str.contains(pattern)).then(digits.cast(pl.Float64, strict=False))).to_series()
        plain = plain.scatter(left, grouped)
    return plain


def _parse_series(cells: pl.Series, decimal_comma: bool | None) -> pl.Series:
    text = cells.cast(pl.String).str.strip_chars()
    if decimal_comma is not None:
        return _read_series(text, decimal_comma)
    point = _read_series(text, False)
    # a decimal comma reads a cell otherwise only if the point reads none, or it has a comma, or its
    # points could group thousands (12.000)
    differ = (point.is_null() & text.is_not_null()) | text.str.contains(_COMMA_OR_GROUPS).fill_null(False)
    cells = differ.arg_true()
    if len(cells):
        p, c = point.gather(cells), _read_series(text.gather(cells), True)
        point = point.scatter(cells, pl.select(pl.when(p.is_null() | (p == c)).then(c).when(c.is_null()).then(p)).to_series())
    return point


def _numbers(text: pl.Expr, function, dtype: DType = pl.Float64) -> pl.Expr:
    """``function`` (Series of cells -> Series of ``dtype``) as an expression, so that each step of
    a reading runs once, and on the few cells it concerns."""
    return text.map_batches(function, return_dtype=dtype, is_elementwise=True)


def parse_number(text: pl.Expr, *, decimal_comma: bool | None) -> pl.Expr:
    """A text cell as a Float64, or null when it is not a number by the file's convention.

    decimal_comma: False: decimal point, ``,`` or spaces group thousands (``1,234.5``);
    True: decimal comma, ``.`` or spaces group thousands (``1.234,5``, as German Excel writes);
    None: not known: each cell is read by whichever convention reads it, and is null when both read
    it, differently (``12.000``: 12 or 12000; ``ambiguous_number`` tells these apart).
    Surrounding whitespace is ignored. ``nan``/``inf`` read as such: ``bad_number`` refuses them."""
    return _numbers(text, lambda cells: _parse_series(cells, decimal_comma))


def _ambiguous_series(cells: pl.Series) -> pl.Series:
    text = cells.cast(pl.String).str.strip_chars()
    point, comma = _read_series(text, False), _read_series(text, True)
    return point.is_not_null() & comma.is_not_null() & (point != comma)


def ambiguous_number(text: pl.Expr) -> pl.Expr:
    """True where a text cell is a number with either decimal mark, and not the same one."""
    return _numbers(text, _ambiguous_series, pl.Boolean)


def bad_number(value: pl.Expr, dtype: DType | None = None) -> pl.Expr:
    """True where a cell read as a number must still be refused: NaN, ±inf, magnitudes over
    MAX_NUMBER; and any value of a column whose type (``dtype``, for typed input columns) is not a
    number at all, such as booleans (``true`` is not 1 kg) or dates. Null stays null."""
    if dtype is not None and not (dtype.is_numeric() or dtype in (pl.String, pl.Null)):
        return value.is_not_null()
    return ~value.is_finite() | (value.abs() > MAX_NUMBER)


def number_message(name: str, cell: pl.Expr, dtype: DType, decimal_comma: bool | None, *, whole: bool = False) -> pl.Expr:
    """Why a given number cell of column ``name`` (as it came: text, a typed number, a boolean, a
    date, ...) gives no usable number; build it for the failing rows only."""
    if dtype.is_numeric():
        return pl.format(f"{name}: {{}} is not " + ("a whole number" if whole else "a finite number") + f" up to {MAX_NUMBER:.0e}",
                         cell.cast(pl.String))
    if dtype not in (pl.String, pl.Null):  # booleans, dates, ...: not numbers, whatever a cast would make of them
        return pl.format(f"{name}: {{}} is a {dtype}, not a number", cell.cast(pl.String))
    text = cell.str.strip_chars()
    value = parse_number(text, decimal_comma=decimal_comma)
    in_use = {True: "a decimal comma", False: "a decimal point", None: ""}[decimal_comma]
    otherwise = parse_number(text, decimal_comma=not decimal_comma) if decimal_comma is not None else pl.lit(None, pl.Float64)
    return (
        pl.when(value.is_nan() | value.is_infinite()).then(pl.format(f"{name}: '{{}}' is not a finite number", text))
        .when(value.is_not_null() & (value.abs() > MAX_NUMBER))
        .then(pl.format(f"{name}: '{{}}' is out of range (over {MAX_NUMBER:.0e})", text))
        .when(value.is_not_null() & pl.lit(whole)).then(pl.format(f"{name}: '{{}}' is not a whole number", text))
        .when(pl.lit(decimal_comma is None) & ambiguous_number(text)).then(pl.format(
            f"{name}: '{{}}' is ambiguous (a decimal point and a decimal comma read it differently); "
            "give the file's decimal mark", text))
        .when(otherwise.is_not_null())
        .then(pl.format(f"{name}: '{{}}' is not a number with {in_use}, the decimal mark in use", text))
        .otherwise(pl.format(f"{name}: '{{}}' is not a number", text))
    )


def _accepted_number(cells: pl.Series, decimal_comma: bool | None, whole: bool) -> pl.Series:
    """The numbers of text cells, null where ``bad_number`` refuses them (or, ``whole``, where
    they have a fraction)."""
    value = _parse_series(cells, decimal_comma).alias("v")
    v = pl.col("v")
    refused = bad_number(v) | ((v != v.floor()) if whole else pl.lit(False))
    return value.to_frame().select(pl.when(refused).then(None).otherwise(v)).to_series()


VOCABULARY_CASES = frozenset((*LOWER_CASE, *UPPER_CASE))  # the columns read_vocabulary reads
RAW_PREFIX = "_raw_"  # cells kept beside the values read from them, for the checks


def typed_columns(raw: pl.DataFrame, schema: dict[str, DType], *, decimal_comma: bool | None = False,
                  ) -> tuple[list[pl.Expr], list[tuple[pl.Expr, pl.Expr]]]:
    """Expressions that read each column of ``schema`` from ``raw`` as the engine wants it: text
    trimmed, empty cells null, numbers parsed (``parse_number`` with ``decimal_comma``: a file's, or
    by default the decimal point with which Python writes numbers), numbers
    that ``bad_number`` refuses null, vocabulary case and spelling normalised, absent columns null;
    and (condition, message) checks naming each cell that could not be read, and each line that
    could not be split (``line_error``, checked first).

    The checks run on the columns' result: a number column keeps its cell as ``_raw_<name>`` (drop
    them with ``drop_raw``), so each cell is parsed once."""
    cols, checks = [], []
    if LINE_ERROR in raw.columns:
        cols.append(pl.col(LINE_ERROR).alias(RAW_PREFIX + LINE_ERROR))
        checks.append((pl.col(RAW_PREFIX + LINE_ERROR).is_not_null(), pl.col(RAW_PREFIX + LINE_ERROR)))
    for name, dtype in schema.items():
        if name not in raw.columns:
            cols.append(pl.lit(None, dtype).alias(name))
            continue
        c, given = pl.col(name), raw.schema[name]
        if dtype.is_numeric():
            cell = pl.col(RAW_PREFIX + name)
            whole = dtype.is_integer()
            if given in (pl.String, pl.Null):
                cols.append(c.cast(pl.String).alias(RAW_PREFIX + name))
                cols.append(_numbers(c, partial(_accepted_number, decimal_comma=decimal_comma, whole=whole)).cast(dtype).alias(name))
                text = cell.str.strip_chars()
                checks.append((pl.col(name).is_null() & cell.is_not_null() & (text != ""),
                               number_message(name, cell, given, decimal_comma, whole=whole)))
            elif given.is_numeric():
                as_float = c.cast(pl.Float64)
                refused = bad_number(as_float) | ((as_float != as_float.floor()) if whole else pl.lit(False))
                cols.append(c.alias(RAW_PREFIX + name))
                cols.append(pl.when(refused).then(None).otherwise(c).cast(dtype).alias(name))
                checks.append((pl.col(name).is_null() & cell.is_not_null(), number_message(name, cell, given, decimal_comma, whole=whole)))
            else:  # booleans, dates, ...: not numbers, whatever a cast would make of them
                cols.append(c.alias(RAW_PREFIX + name))
                cols.append(pl.lit(None, dtype).alias(name))
                checks.append((bad_number(cell, given), number_message(name, cell, given, decimal_comma)))
            continue
        if name in VOCABULARY_CASES and dtype == pl.String:
            cols.append(read_vocabulary(name, c.cast(pl.String)))
            continue
        if given == pl.String:
            c = c.str.strip_chars()
            c = pl.when(c == "").then(None).otherwise(c)
        cols.append(c.cast(dtype, strict=False).alias(name))
    return cols, checks


def drop_raw(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop(pl.selectors.starts_with(RAW_PREFIX))


# --------------------------------------------------------------------------------------------
# Headers


def check_header(columns: list[str], name: str, *, legs: bool = True) -> None:
    """Refuse a header that is not a table's: too wide, unnamed or repeated columns; for legs,
    names the engine keeps for itself (RESERVED_PREFIX, LINE_COLUMN, LINE_ERROR)."""
    if len(columns) > MAX_COLUMNS:
        raise InputError(f"{name}: the header has {len(columns):,} columns, more than the {MAX_COLUMNS:,} a table may have")
    seen: dict[str, int] = {}
    for i, column in enumerate(columns, start=1):
        if not column:
            raise InputError(f"{name}: column {i} of the header has no name")
        if column in seen:
            raise InputError(f"{name}: column {column!r} appears twice in the header (columns {seen[column]} and {i})")
        seen[column] = i
        if legs and (column.startswith(RESERVED_PREFIX) or column in (LINE_COLUMN, LINE_ERROR)):
            raise InputError(f"{name}: column {column!r}: names starting with {RESERVED_PREFIX!r} and the names "
                             f"{LINE_COLUMN!r} and {LINE_ERROR!r} are the engine's own; rename the column")


# --------------------------------------------------------------------------------------------
# Splitting lines into cells. A batch of physical lines comes as a frame of the line's text
# (_TEXT; null for an empty line), the rest of a line after a mark character (_REST: non-null when
# the line contains one) and the line's number (_LINE). Out come rows of cells c0..c{n-1}, the
# line each row starts on, and why it could not be split (_ERR).

_TEXT, _REST, _LINE, _ERR, _BAD = "__text", "__rest", "__line", "__error", "__bad"


def _cell(i: int) -> str:
    return f"__c{i}"


def _records(lines: pl.DataFrame, n: int, sep: str, mark: str, final: bool) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(rows of cells, lines left over for the next batch) of a batch of lines. A record spans
    several lines while a quote is open, up to MAX_RECORD_LINES; a record still open at the end of
    a batch is carried to the next (``final``: there is none)."""
    t = pl.col(_TEXT)
    carry = None
    has_quotes = lines.height and lines.select(t.str.contains('"', literal=True).any()).item()
    if has_quotes:
        lines = lines.with_columns(pl.lit(False).alias(_BAD))
        quotes = lines.select(t.str.count_matches('"', literal=True).fill_null(0)).to_series().to_numpy()
        spans, broken, open_at = [], [], None
        for i in np.flatnonzero(quotes % 2).tolist():  # lines that open or close a quoted cell
            if open_at is None:
                open_at = i
            elif i - open_at >= MAX_RECORD_LINES:
                broken.append(open_at)
                open_at = i
            else:
                spans.append((open_at, i))
                open_at = None
        if open_at is not None:
            if final or lines.height - open_at > MAX_RECORD_LINES:
                broken.append(open_at)
            else:
                carry, lines = lines[open_at:], lines[:open_at]
        if broken:
            bad = np.zeros(lines.height, dtype=bool)
            bad[broken] = True
            lines = lines.with_columns(pl.Series(_BAD, bad))
        if spans:
            starts, ends = np.array(spans).T
            delta = np.zeros(lines.height + 1, dtype=np.int64)
            np.add.at(delta, starts + 1, 1)
            np.add.at(delta, ends + 1, -1)
            record = np.cumsum(np.cumsum(delta)[:-1] == 0)
            lines = (lines.with_columns(pl.Series("__record", record))
                     .group_by("__record", maintain_order=True)
                     .agg(pl.when(pl.len() > 1).then(t.fill_null("").str.join("\n")).otherwise(t.first()),
                          pl.col(_REST).drop_nulls().first(), pl.col(_LINE).first(),
                          pl.col(_BAD).first())
                     .drop("__record"))
    if lines[_TEXT].null_count():
        lines = lines.filter(t.is_not_null())  # empty lines carry nothing: not rows
    broken_quote = "line: a quote (\") opened on this line is not closed"
    control = pl.format("line: contains the control character U+{}", pl.lit(f"{ord(mark):04X}"))
    if has_quotes:
        is_quoted = t.str.contains('"', literal=True)
        plain = _split_plain(lines.filter(~is_quoted), n, sep, control)
        quoted = _split_quoted(lines.filter(is_quoted), n, sep, mark, control, broken_quote)
        rows = pl.concat([plain, quoted]).sort(_LINE)
    else:
        rows = _split_plain(lines, n, sep, control)
    return rows, carry


def _blank_to_null(names: list[str]) -> list[pl.Expr]:
    return [pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c) for c in names]


def _split_plain(lines: pl.DataFrame, n: int, sep: str, control: pl.Expr) -> pl.DataFrame:
    """Lines without quotes: split at every separator."""
    cells = [_cell(i) for i in range(n)]
    parts = lines.select(
        pl.col(_TEXT).str.split_exact(sep, n).struct.rename_fields([*cells, "__more"]).alias("__parts"), _TEXT, _REST, _LINE)
    parts = parts.unnest("__parts")
    ragged = pl.col("__more").is_not_null() | pl.col(cells[-1]).is_null()
    fields = pl.when(ragged).then(pl.col(_TEXT)).str.count_matches(sep, literal=True) + 1
    return parts.select(
        *_blank_to_null(cells), _LINE,
        pl.when(pl.col(_REST).is_not_null()).then(control)
        .when(ragged).then(pl.format(f"line: {{}} fields, the header has {n}", fields)).alias(_ERR),
    )


def _split_quoted(lines: pl.DataFrame, n: int, sep: str, mark: str, control: pl.Expr, broken_quote: str) -> pl.DataFrame:
    """Records with quotes (RFC 4180: a quoted field is the whole field, ``""`` inside is a quote):
    counted and checked with expressions, split by polars' CSV parser."""
    cells = [_cell(i) for i in range(n)]
    masked = pl.col(_TEXT).str.replace_all(_QUOTED_FIELD, mark)
    other = re.escape(sep)
    checked = lines.with_columns(
        __fields=masked.str.count_matches(sep, literal=True) + 1,
        __stray=masked.str.contains('"', literal=True) | masked.str.contains(f"[^{other}]{mark}|{mark}[^{other}]"),
    ).with_columns(
        pl.when(pl.col(_REST).is_not_null()).then(control)
        .when(pl.col(_BAD)).then(pl.lit(broken_quote))
        .when(pl.col("__stray")).then(pl.lit("line: a quote (\") inside a field; quote whole fields and double the quotes within them"))
        .when(pl.col("__fields") != n).then(pl.format(f"line: {{}} fields, the header has {n}", "__fields"))
        .alias(_ERR)
    )
    good = checked.filter(pl.col(_ERR).is_null())
    split = pl.DataFrame(schema=dict.fromkeys(cells, pl.String))
    if good.height:
        text = "\n".join(good[_TEXT].to_list()).encode("utf-8")
        split = pl.read_csv(io.BytesIO(text), has_header=False, separator=sep, quote_char='"', eol_char="\n",
                            schema=dict.fromkeys(cells, pl.String), raise_if_empty=False)
        if split.height != good.height:  # the two splittings disagree: refuse these lines rather than guess
            good, split = good.clear(), pl.DataFrame(schema=dict.fromkeys(cells, pl.String))
            checked = checked.with_columns(pl.coalesce(_ERR, pl.lit("line: could not be split into fields")).alias(_ERR))
    bad = checked.filter(pl.col(_ERR).is_not_null())
    # a broken line keeps the cells a split at every separator gives, so that it can be found
    best_effort = _split_plain(bad.select(_TEXT, _REST, _LINE), n, sep, control).drop(_ERR)
    return pl.concat([
        pl.concat([split, good.select(_LINE, _ERR)], how="horizontal").select(*_blank_to_null(cells), _LINE, _ERR),
        pl.concat([best_effort, bad.select(_ERR)], how="horizontal"),
    ])


# --------------------------------------------------------------------------------------------
# Legs files


@dataclass
class LegsFile:
    """A CSV or Parquet legs file opened for reading (see ``open_legs``); close it (or use it as a
    context manager) to remove the UTF-8 copy of a file in another encoding."""

    path: Path
    kind: str  # "csv" | "parquet"
    encoding: str  # "utf8", "cp932", "cp1252", ...; "parquet" for Parquet
    separator: str | None
    decimal_comma: bool | None  # None: not known; each number is read by the convention that reads it (parse_number)
    columns: list[str]  # the header, checked
    line_ending: str | None = None  # "\n" (LF or CRLF) | "\r" (CR)
    legs: bool = True  # add LINE_COLUMN and LINE_ERROR to each batch (other tables: a broken line is an InputError)
    _mark: str = "\x1f"
    _schema: dict[str, DType] = field(default_factory=dict)
    _workdir: Path | None = None
    _counter: Future | None = None

    @property
    def schema(self) -> dict[str, DType]:
        """The batches' columns and types."""
        schema: dict[str, DType] = dict(self._schema) if self.kind == "parquet" else dict.fromkeys(self.columns, pl.String)
        return {**schema, LINE_COLUMN: pl.Int64, LINE_ERROR: pl.String} if self.legs else schema

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """The file's rows in batches of about ``rows``: the columns as text (pl.String) for CSV,
        as stored for Parquet, and for legs LINE_COLUMN and LINE_ERROR. Each batch is one chunk."""
        for batch in self._batches(rows):
            if not self.legs:
                if batch[_ERR].is_not_null().any():
                    line, error = batch.filter(pl.col(_ERR).is_not_null()).select(_LINE, _ERR).row(0)
                    raise InputError(f"{self.path}: line {line}: {error.removeprefix('line: ')}")
                # other tables are read with a decimal point
                if self.decimal_comma is None and self.kind == "csv" and _decimal_mark(batch, self.columns, str(self.path)):
                    raise InputError(f"{self.path}: numbers with a decimal comma; this table is read with decimal "
                                     "points: save it so")
                batch = batch.drop(_LINE, _ERR)
            yield batch.rename(self._names(), strict=False).rechunk()

    def read(self) -> pl.DataFrame:
        """The whole table (``batches`` concatenated)."""
        frames = list(self.batches())
        return pl.concat(frames).rechunk() if frames else pl.DataFrame(schema=self.schema)

    def total_rows(self) -> int | None:
        """The number of rows, for progress: Parquet's count, or the file's lines counted on a
        thread of their own (None until counted; blank lines and quoted line breaks included)."""
        if self.kind == "parquet" and self._counter is None:
            self._counter = Future()
            self._counter.set_result(pl.scan_parquet(self.path).select(pl.len()).collect().item())
        if self._counter is None:
            pool = ThreadPoolExecutor(1)
            self._counter = pool.submit(_count_lines, self.path, self.line_ending or "\n")
            pool.shutdown(wait=False)
        return self._counter.result() if self._counter.done() else None

    def close(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> LegsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _names(self) -> dict[str, str]:
        if self.kind == "parquet":
            return {_LINE: LINE_COLUMN, _ERR: LINE_ERROR}
        return {**{_cell(i): c for i, c in enumerate(self.columns)}, _LINE: LINE_COLUMN, _ERR: LINE_ERROR}

    def _batches(self, rows: int) -> Iterator[pl.DataFrame]:
        """Batches with the internal names: cells ``_cell(i)`` (CSV), _LINE and _ERR."""
        return self._parquet_batches(rows) if self.kind == "parquet" else self._csv_batches(rows)

    def _parquet_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        row = 1
        for batch in pl.scan_parquet(self.path).collect_batches(chunk_size=rows):
            yield batch.with_columns(pl.int_range(row, row + batch.height, dtype=pl.Int64).alias(_LINE),
                                     pl.lit(None, pl.String).alias(_ERR))
            row += batch.height

    def _utf8(self) -> Path:
        """The file, or a UTF-8 copy of it made in streaming chunks."""
        if self.encoding == "utf8":
            return self.path
        self._workdir = self._workdir or Path(tempfile.mkdtemp(prefix="logistics-co2-"))
        out = self._workdir / "input.utf8.csv"
        if not out.exists():
            _transcode(self.path, _codec(self.encoding)[1], out, self.line_ending or "\n")
        return out

    def _csv_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        lf = pl.scan_csv(self._utf8(), has_header=False, skip_lines=1, separator=self._mark, quote_char=None,
                         schema={_TEXT: pl.String, _REST: pl.String}, eol_char=self.line_ending or "\n",
                         truncate_ragged_lines=True, missing_columns="insert", extra_columns="ignore",
                         raise_if_empty=False, encoding="utf8")
        n, sep = len(self.columns), self.separator or ","
        line, carry = 2, None
        try:
            for chunk in lf.collect_batches(chunk_size=rows):
                lines = chunk.with_columns(pl.int_range(line, line + chunk.height, dtype=pl.Int64).alias(_LINE))
                line += chunk.height
                if carry is not None:
                    lines, carry = pl.concat([carry.drop(_BAD), lines]), None
                records, carry = _records(lines, n, sep, self._mark, final=False)
                if records.height:
                    yield records
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower():
                raise
            raise InputError(_invalid_utf8(self.path, self.line_ending or "\n")) from exc
        if carry is not None:
            records, _ = _records(carry.drop(_BAD), n, sep, self._mark, final=True)
            if records.height:
                yield records


def _count_lines(path: Path, eol: str) -> int:
    """Data lines of a file (its line breaks, less the header's; one more when the last line has none)."""
    mark, n, last = eol.encode(), 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(mark)
            last = chunk[-1:]
    return max(n - 1 + (last not in (mark, b"")), 0)


def _transcode(path: Path, codec: str, out: Path, eol: str) -> None:
    """A UTF-8 copy of a file in another encoding, converted in streaming chunks; a byte that is not
    valid in ``codec`` is an InputError naming its line."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        offset = lines = 0
        while chunk := src.read(1 << 24):
            try:
                dst.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                line = lines + chunk[:exc.start].count(eol.encode()) + 1
                raise InputError(f"{path}: line {line} (byte {offset + exc.start}) is not valid {codec}; give --encoding") from exc
            offset += len(chunk)
            lines += chunk.count(eol.encode())
        dst.write(decoder.decode(b"", final=True))


def _invalid_utf8(path: Path, eol: str) -> str:
    """The message for a file read as UTF-8 that turns out not to be, naming the first bad line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk[:exc.start].count(eol.encode()) + 1
                return (f"{path}: line {line} (byte {offset + exc.start}) is not valid UTF-8, though the first "
                        f"{SAMPLE_BYTES >> 20} MiB were; give --encoding")
            offset += len(chunk)
            lines += chunk.count(eol.encode())
    return f"{path}: not valid UTF-8; give --encoding"


def _line_ending(text: str, name: str) -> str:
    """"\\n" for LF and CRLF files (polars drops the CR), "\\r" for CR-only files."""
    text = text.removesuffix("\r")  # the sample may end between CR and LF
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    if cr and (lf or crlf):
        raise InputError(f"{name}: mixed line endings (CR alone, and LF); save the file with one kind of line ending")
    return "\r" if cr else "\n"


def open_legs(path: str | os.PathLike, *, encoding: str | None = None, separator: str | None = None,
              decimal_comma: bool | None = None, legs: bool = True) -> LegsFile:
    """Open a CSV (``.csv``, ``.txt``, ``.tsv``) or Parquet legs file for reading in batches.

    For CSV, from the first SAMPLE_BYTES (or as given): the encoding (``detect_encoding``), the
    line ending (LF, CRLF or CR), the separator (``,``, ``;``, tab or ``|``, whichever splits the
    header most; tab for ``.tsv``) and the decimal mark (``decimal_comma``: see ``parse_number``;
    detected from the cells that are numbers: a file where some read only with a point and others
    only with a comma, or where numbers such as ``12.000`` read differently and nothing tells, is
    refused). The header is checked (``check_header``). ``legs=False`` opens any other table."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            schema: dict[str, DType] = dict(pl.scan_parquet(path).collect_schema())
        except Exception as exc:
            raise InputError(f"{path}: cannot be read as Parquet: {exc}") from exc
        check_header(list(schema), str(path), legs=legs)
        return LegsFile(path, "parquet", "parquet", None, None, list(schema), legs=legs, _schema=schema)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError(f"{path}: unknown file type {suffix!r} (expected .csv or .parquet)")
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
        whole = not f.read(1)
    name = str(path)
    if encoding is None:
        encoding = detect_encoding(sample, whole=whole, name=name)
    reported, codec = _codec(encoding)
    try:
        text = codecs.getincrementaldecoder(codec)().decode(sample, final=whole)
    except UnicodeDecodeError as exc:
        line = len(re.findall(rb"\r\n|\r|\n", sample[:exc.start])) + 1
        raise InputError(f"{path}: line {line} is not valid {reported}; give --encoding") from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError(f"{path}: empty file (a header line is needed)")
    eol = _line_ending(text, name)
    lines = text.split(eol)
    if len(lines) == 1 and not whole:
        raise InputError(f"{path}: the first line is longer than {SAMPLE_BYTES >> 20} MiB: not a table")
    header = lines[0].removesuffix("\r")
    if separator is None:
        separator = "\t" if suffix == ".tsv" else max(SEPARATORS, key=lambda s: (header.count(s), s == ","))
    if len(separator) != 1 or separator in '"\r\n':
        raise InputError(f"separator {separator!r}: give one character other than a quote or a line break")
    if header.count('"') % 2:
        raise InputError(f"{path}: the header line has an unclosed quote")
    columns = [c.strip() for c in next(csv.reader([header], delimiter=separator))]
    check_header(columns, name, legs=legs)
    mark = next((m for m in _MARKS if m not in text and m != separator), None)
    if mark is None:
        raise InputError(f"{path}: contains the control characters U+001C to U+001F: not a text table")
    legs_file = LegsFile(path, "csv", reported, separator, decimal_comma, columns, eol, legs, mark)
    if decimal_comma is None:
        body = [ln.removesuffix("\r") for ln in (lines[1:] if whole else lines[1:-1])]  # a sample's last line may be cut
        frame = pl.DataFrame({_TEXT: body, _REST: [None] * len(body)}, schema={_TEXT: pl.String, _REST: pl.String})
        frame = frame.with_columns(pl.when(pl.col(_TEXT).str.len_bytes() > 0).then(pl.col(_TEXT)).alias(_TEXT),
                                   pl.int_range(2, 2 + len(body), dtype=pl.Int64).alias(_LINE))
        records, _ = _records(frame, len(columns), separator, mark, final=True)
        legs_file.decimal_comma = _decimal_mark(records, columns, name)
    return legs_file


def _decimal_mark(sample: pl.DataFrame, columns: list[str], name: str) -> bool | None:
    """True (decimal comma), False (decimal point) or None (nothing tells) from the columns of a
    sample (cells ``_cell(i)`` of ``columns``, _LINE, _ERR) whose every cell is a number by one
    convention or the other; an InputError when they tell both, or read differently and nothing tells."""
    found: dict[str, tuple[str, int, str]] = {}  # kind -> (cell, line, column), the first one seen
    sample = sample.filter(pl.col(_ERR).is_null())
    for i, column in enumerate(columns):
        text = pl.col(_cell(i)).str.strip_chars()
        point, comma = parse_number(text, decimal_comma=False), parse_number(text, decimal_comma=True)
        cells = sample.select(text.alias("cell"), pl.col(_LINE), point.alias("p"), comma.alias("c")).filter(
            pl.col("cell").is_not_null() & (pl.col("cell") != ""))
        if not cells.height or cells.filter(pl.col("p").is_null() & pl.col("c").is_null()).height:
            continue  # not a column of numbers
        for kind, rows in (("point", cells.filter(pl.col("c").is_null())), ("comma", cells.filter(pl.col("p").is_null())),
                           ("either", cells.filter(pl.col("p") != pl.col("c")))):
            if rows.height and kind not in found:
                found[kind] = (rows["cell"][0], rows[_LINE][0], column)
    if "point" in found and "comma" in found:
        (p, pl_, pc), (c, cl, cc) = found["point"], found["comma"]
        raise InputError(f"{name}: numbers with both decimal marks: {p!r} (line {pl_}, {pc}) reads only with a decimal point, "
                         f"{c!r} (line {cl}, {cc}) only with a decimal comma; correct the file or give its decimal mark")
    if "point" in found or "comma" in found:
        return "comma" in found
    if "either" in found:
        cell, line, column = found["either"]
        raise InputError(f"{name}: {cell!r} (line {line}, {column}) reads differently with a decimal point and with a "
                         "decimal comma, and no number in the first lines tells which the file uses; give its decimal mark "
                         "(--decimal-comma or --decimal-point)")
    return None


# --------------------------------------------------------------------------------------------
# Whole tables


def _from_pandas(frame) -> pl.DataFrame:
    """A pandas frame in polars. Object columns (mixed types) become text cells, so that one cell
    of the wrong type is a row error, not a conversion failure of the whole frame."""
    import pandas as pd

    frame = frame.copy(deep=False)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                                          else str(v)).astype("string")
    try:
        return pl.from_pandas(frame)
    except Exception as exc:
        raise InputError(f"the pandas frame cannot be read: {exc}") from exc


def _frame(source, *, legs: bool) -> pl.DataFrame:
    """A polars or pandas frame, checked, in one chunk (``pl.format`` panics on a string column
    with an empty chunk, which filtering a frame of unequally chunked columns leaves; polars 2.1)."""
    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    elif not isinstance(source, pl.DataFrame):
        source = _from_pandas(source)
    ours = legs and source.schema.get(LINE_COLUMN) == pl.Int64 and source.schema.get(LINE_ERROR) == pl.String
    check_header([c for c in source.columns if not (ours and c in (LINE_COLUMN, LINE_ERROR))], "legs", legs=legs)
    if legs and not ours:
        source = source.hstack([pl.Series(LINE_COLUMN, np.arange(1, source.height + 1), pl.Int64),
                                pl.Series(LINE_ERROR, [None], pl.String).new_from_index(0, source.height)])
    return source.rechunk()


def _is_frame(source) -> bool:
    return isinstance(source, (pl.DataFrame, pl.LazyFrame)) or type(source).__module__.startswith("pandas")


def read_legs(source, *, encoding: str | None = None, separator: str | None = None,
              decimal_comma: bool | None = None) -> pl.DataFrame:
    """A whole legs table with LINE_COLUMN and LINE_ERROR: a CSV/Parquet path (``open_legs``), or a
    polars/pandas frame (LINE_COLUMN = the row number). Number cells stay as given (CSV: text):
    ``typed_columns`` reads them, with the file's ``decimal_comma`` (``open_legs`` tells it)."""
    if _is_frame(source):
        return _frame(source, legs=True)
    if isinstance(source, (str, os.PathLike)):
        with open_legs(source, encoding=encoding, separator=separator, decimal_comma=decimal_comma) as legs_file:
            return legs_file.read()
    raise InputError(f"cannot read legs from {type(source).__name__}; give a DataFrame or a .csv/.parquet path")


def read_table(source, *, encoding: str | None = None, separator: str | None = None,
               decimal_comma: bool | None = None) -> pl.DataFrame:
    """Any other table (own TOCs and HOCs, records, results): a CSV/Parquet path read like a legs
    file, or a polars/pandas frame. CSV cells stay text, which their readers read with a decimal
    point: ``decimal_comma=None`` checks the whole table for numbers that read otherwise with a
    decimal comma (and refuses it then), ``False`` skips the check (our own outputs). A line that
    cannot be split is an InputError too."""
    if decimal_comma:
        raise InputError("read_table reads numbers with a decimal point only")
    if _is_frame(source):
        return _frame(source, legs=False)
    if isinstance(source, (str, os.PathLike)):
        with open_legs(source, encoding=encoding, separator=separator, decimal_comma=False, legs=False) as table:
            table.decimal_comma = decimal_comma  # None: each batch is checked (LegsFile.batches)
            return table.read()
    raise InputError(f"cannot read a table from {type(source).__name__}; give a DataFrame or a .csv/.parquet path")


# --------------------------------------------------------------------------------------------
# Figures for people


def round_figure(value: Any, precision: int = DEFAULT_PRECISION) -> Any:
    """A finite float rounded to ``precision`` significant digits (decimally: 350.00000000000006
    -> 350.0); anything else as it is."""
    if isinstance(value, float) and math.isfinite(value) and value:
        return float(f"{value:.{precision}g}")
    return value


def format_for_people(data, *, precision: int = DEFAULT_PRECISION):
    """Figures as people read them (CSV, JSON, summaries), rounded to ``precision`` significant
    digits: the float columns of a polars frame, or the floats of a JSON-like value (dict, list).
    Parquet is written at full precision."""
    if isinstance(data, pl.DataFrame):
        return data.with_columns(cs.float().round_sig_figs(precision))
    if isinstance(data, dict):
        return {k: format_for_people(v, precision=precision) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [format_for_people(v, precision=precision) for v in data]
    return round_figure(data, precision)


def write_table(df: pl.DataFrame, path: str | os.PathLike, *, precision: int = DEFAULT_PRECISION) -> Path:
    """Write a table: Parquet at full precision, CSV with figures for people (``format_for_people``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.write_parquet(path, compression="zstd")
    elif path.suffix.lower() == ".csv":
        format_for_people(df, precision=precision).write_csv(path)
    else:
        raise InputError(f"{path}: unknown output type {path.suffix!r} (expected .csv or .parquet)")
    return path


def factors_path(results: str | os.PathLike) -> Path:
    """Where the factors table of a results file goes unless named: beside it, ``<stem>.factors<suffix>``."""
    results = Path(results)
    return results.with_name(f"{results.stem}.factors{results.suffix}")
