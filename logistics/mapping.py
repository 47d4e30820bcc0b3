"""A carrier's own column names and units, mapped to the legs table.

A TMS export never uses our column names. A mapping says which of the file's headers is which legs
column, in which unit its numbers are, and (optionally) how its vocabulary cells are spelt:

    # columns.toml: the file's header = our column (or a table with the unit)
    [columns]
    "Consignment" = "shipment_id"
    "Transport mode" = "mode"
    "Weight (t)" = { to = "mass_kg", unit = "t" }
    "Distance (mi)" = { to = "distance_km", unit = "mi" }
    "Customer" = "customer"
    "Branch" = "tag_branch"

    [values.mode]          # cells of a mapped column, as written -> as we spell them
    "LKW" = "road"
    "Bahn" = "rail"

``Mapping.apply`` renames and converts a frame with polars expressions, row for row: a cell that is
not a number is left as written, so the engine reports it with its line and value; columns the
mapping does not name are kept as they are. Unknown or duplicate target columns, and headers the
file does not have, are refused before anything is computed.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from .io import InputError, open_legs, parse_number
from .schema import LEG_COLUMNS, LINE_COLUMN, LINE_ERROR, PASS_THROUGH_COLUMNS, PASS_THROUGH_PREFIX, is_pass_through
from .vocabulary import FUEL_UNITS

MILE_KM: Final = 1.609344  # the international mile (1959): exactly 1,609.344 m
NAUTICAL_MILE_KM: Final = 1.852  # the international nautical mile: exactly 1,852 m
POUND_KG: Final = 0.45359237  # the international avoirdupois pound (1959): exactly 0.453 592 37 kg
US_GALLON_L: Final = FUEL_UNITS["us_gal"][1]
UK_GALLON_L: Final = 4.54609  # the imperial gallon: exactly 4.546 09 l

# The units a column's numbers may be given in, with the factor to the legs column's unit.
UNITS: Final[dict[str, dict[str, float]]] = {
    "mass_kg": {"kg": 1.0, "t": 1000.0, "lb": POUND_KG},
    "payload_capacity_kg": {"kg": 1.0, "t": 1000.0, "lb": POUND_KG},
    "distance_km": {"km": 1.0, "m": 0.001, "mi": MILE_KM, "nmi": NAUTICAL_MILE_KM},
    "fuel_economy_km_per_l": {"km_per_l": 1.0, "mpg_us": MILE_KM / US_GALLON_L, "mpg_uk": MILE_KM / UK_GALLON_L},
}


def is_target(column: str) -> bool:
    """A legs column the engine reads, or a pass-through column (customer, order_id, date, tag_*)."""
    return column in LEG_COLUMNS or (is_pass_through(column) and column != PASS_THROUGH_PREFIX)


def targets() -> list[str]:
    """Every column a header may be mapped to (``tag_<name>`` stands for any tag)."""
    return [*LEG_COLUMNS, *PASS_THROUGH_COLUMNS, f"{PASS_THROUGH_PREFIX}<name>"]


class MappingError(InputError):
    """A mapping that cannot be used; the message lists every problem."""

    def __init__(self, problems: list[str], where: str = "column mapping"):
        self.problems = problems
        super().__init__(f"{where}: " + "; ".join(problems))


@dataclass(frozen=True)
class Target:
    to: str  # the legs column
    unit: str | None = None  # the unit of the file's numbers (None: already the legs column's unit)

    @property
    def factor(self) -> float:
        return UNITS[self.to][self.unit] if self.unit else 1.0


@dataclass(frozen=True)
class Mapping:
    """The file's headers -> legs columns (with units), and spellings of vocabulary cells."""

    columns: dict[str, Target] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # legs column -> {as written: ours}

    # ------------------------------------------------------------------ reading and writing

    @classmethod
    def from_dict(cls, data: MappingType[str, Any], where: str = "column mapping") -> Mapping:
        """From the TOML/JSON shape (``{"columns": {...}, "values": {...}}``), checked: every problem
        is listed at once."""
        problems: list[str] = []
        unknown = sorted(set(data) - {"columns", "values"})
        if unknown:
            problems.append(f"unknown section(s) {', '.join(unknown)} (expected columns, values)")
        columns: dict[str, Target] = {}
        for header, spec in dict(data.get("columns") or {}).items():
            if isinstance(spec, str):
                spec = {"to": spec}
            if not isinstance(spec, MappingType) or not isinstance(spec.get("to"), str):
                problems.append(f"columns.{header!r}: give a legs column, or {{ to = \"column\", unit = \"...\" }}")
                continue
            extra = sorted(set(spec) - {"to", "unit"})
            if extra:
                problems.append(f"columns.{header!r}: unknown key(s) {', '.join(extra)} (expected to, unit)")
            to, unit = spec["to"].strip(), spec.get("unit")
            if not is_target(to):
                problems.append(f"columns.{header!r}: {to!r} is not a legs column "
                                f"(expected one of {', '.join(targets())})")
                continue
            if unit is not None:
                if to not in UNITS:
                    problems.append(f"columns.{header!r}: {to} takes no unit (units apply to {', '.join(UNITS)})")
                    continue
                if unit not in UNITS[to]:
                    problems.append(f"columns.{header!r}: unit {unit!r} of {to} is not one of {', '.join(UNITS[to])}")
                    continue
            columns[str(header)] = Target(to, unit)
        by_target: dict[str, list[str]] = {}
        for header, target in columns.items():
            by_target.setdefault(target.to, []).append(header)
        for to, headers in by_target.items():
            if len(headers) > 1:
                problems.append(f"{to} is mapped from more than one column: {', '.join(map(repr, headers))}")
        values: dict[str, dict[str, str]] = {}
        for to, spellings in dict(data.get("values") or {}).items():
            if not is_target(to):
                problems.append(f"values.{to}: {to!r} is not a legs column")
            elif not isinstance(spellings, MappingType) or not all(isinstance(v, str) for v in spellings.values()):
                problems.append(f"values.{to}: give cells as written = as we spell them, e.g. \"LKW\" = \"road\"")
            else:
                values[to] = {str(k): v for k, v in spellings.items()}
        if problems:
            raise MappingError(problems, where)
        return cls(columns, values)

    @classmethod
    def read(cls, path: str | os.PathLike) -> Mapping:
        """A mapping from a TOML file (or JSON, by its suffix)."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file")
        try:
            if path.suffix.lower() == ".json":
                import json

                data = json.loads(path.read_text(encoding="utf8"))
            else:
                data = tomllib.loads(path.read_text(encoding="utf8"))
        except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
            raise InputError(f"{path}: not a valid column mapping: {exc}") from exc
        return cls.from_dict(data, where=str(path))

    def to_dict(self) -> dict[str, Any]:
        columns = {h: (t.to if t.unit is None else {"to": t.to, "unit": t.unit}) for h, t in self.columns.items()}
        return {"columns": columns, **({"values": self.values} if self.values else {})}

    def to_toml(self) -> str:
        """The mapping as a TOML file ``read`` takes back."""
        lines = ["[columns]"]
        for header, t in self.columns.items():
            value = _toml_string(t.to) if t.unit is None else f"{{ to = {_toml_string(t.to)}, unit = {_toml_string(t.unit)} }}"
            lines.append(f"{_toml_string(header)} = {value}")
        for to, spellings in self.values.items():
            lines += ["", f"[values.{to}]", *(f"{_toml_string(k)} = {_toml_string(v)}" for k, v in spellings.items())]
        return "\n".join(lines) + "\n"

    def __bool__(self) -> bool:
        return bool(self.columns or self.values)

    # ------------------------------------------------------------------ using it

    def check(self, header: list[str] | tuple[str, ...], where: str = "legs file") -> None:
        """Refuse a mapping that does not fit a file's header: a mapped header the file lacks, or a
        legs column that would come both from a mapped header and from the file's own column."""
        problems = []
        missing = [h for h in self.columns if h not in header]
        if missing:
            problems.append(f"the file has no column(s) {', '.join(map(repr, missing))} "
                            f"(its header: {', '.join(map(repr, header))})")
        for h, t in self.columns.items():
            if h in header and t.to != h and t.to in header and t.to not in self.columns:
                problems.append(f"{t.to} would come from both {h!r} and the file's own column {t.to!r}: "
                                f"map one of them, or remove it")
        for to in self.values:
            if to not in header and to not in {t.to for t in self.columns.values()}:
                problems.append(f"values.{to}: the file has no column {to} and none is mapped to it")
        if LINE_COLUMN in {t.to for t in self.columns.values()}:
            problems.append(f"{LINE_COLUMN} is the engine's own column")
        if problems:
            raise MappingError(problems, where)

    def source_of(self, to: str) -> str:
        """The file's header that gives legs column ``to`` (``to`` itself when none is mapped to it)."""
        return next((h for h, t in self.columns.items() if t.to == to), to)

    def output_columns(self, header: list[str] | tuple[str, ...]) -> list[str]:
        """The columns of a frame with ``header`` once mapped."""
        return [self.columns[c].to if c in self.columns else c for c in header]

    def apply(self, frame: pl.DataFrame, *, decimal_comma: bool | None = False) -> pl.DataFrame:
        """``frame`` with the mapped headers renamed, their numbers converted to the legs columns'
        units and their vocabulary cells respelt; the same rows in the same order. Text cells that
        are not numbers are kept as written, so the engine names them in its row errors."""
        self.check(frame.columns)
        exprs = []
        for name in frame.columns:
            target = self.columns.get(name)
            expr = pl.col(name)
            to = target.to if target else name
            if target is not None and target.factor != 1.0:
                expr = _convert(expr, frame.schema[name], target.factor, decimal_comma)
            if to in self.values:
                expr = expr.cast(pl.String).str.strip_chars().replace(self.values[to])
            exprs.append(expr.alias(to))
        return frame.select(exprs)


def _convert(cell: pl.Expr, dtype: pl.DataType, factor: float, decimal_comma: bool | None) -> pl.Expr:
    """A number cell in the legs column's unit: numbers multiplied, written back as text the engine
    reads as meant (with the file's decimal mark, and never as ``1.234``, which could be a thousand
    separator: ``1.2340``); cells that are not numbers as written."""
    if dtype != pl.String:
        return cell.cast(pl.Float64) * factor
    value = parse_number(cell, decimal_comma=decimal_comma) * factor
    text = value.cast(pl.String)
    text = pl.when(text.str.contains(r"^-?\d+\.\d{3}$")).then(text + "0").otherwise(text)
    if decimal_comma:
        text = text.str.replace(".", ",", literal=True)
    return pl.when(value.is_not_null()).then(text).otherwise(cell)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def read_header(path: str | os.PathLike, *, encoding: str | None = None, separator: str | None = None) -> list[str]:
    """The column names of a legs file (CSV in any encoding ``logistics.io.open_legs`` reads, or
    Parquet)."""
    with open_legs(path, encoding=encoding, separator=separator, legs=False) as table:
        return list(table.columns)


def read_mapping(source: Mapping | str | os.PathLike | MappingType | None) -> Mapping | None:
    """A Mapping from itself, a TOML/JSON path or the dict shape; None stays None."""
    if source is None or isinstance(source, Mapping):
        return source
    if isinstance(source, (str, os.PathLike)):
        return Mapping.read(source)
    return Mapping.from_dict(source)


# ---------------------------------------------------------------------- suggestions for a header

_SYNONYMS: Final[dict[str, str]] = {
    "shipment": "shipment_id", "shipmentno": "shipment_id", "shipmentnumber": "shipment_id", "consignment": "shipment_id",
    "consignmentno": "shipment_id", "consignmentid": "shipment_id", "shipmentid": "shipment_id",
    "leg": "leg_seq", "legid": "leg_id", "legno": "leg_seq", "sequence": "leg_seq", "seq": "leg_seq", "stop": "leg_seq",
    "transportmode": "mode", "modeoftransport": "mode",
    "weight": "mass_kg", "grossweight": "mass_kg", "mass": "mass_kg", "weightkg": "mass_kg", "weightt": "mass_kg",
    "weighttonnes": "mass_kg", "weightlb": "mass_kg", "weightlbs": "mass_kg",
    "from": "origin", "origin": "origin", "pol": "origin", "pickup": "origin",
    "to": "destination", "destination": "destination", "pod": "destination", "delivery": "destination",
    "distance": "distance_km", "km": "distance_km", "distancekm": "distance_km", "miles": "distance_km",
    "distancemi": "distance_km", "distancemiles": "distance_km",
    "truck": "vehicle", "vehicletype": "vehicle", "fuel": "energy_carrier", "fueltype": "energy_carrier",
    "fuelused": "fuel_amount", "fuelconsumed": "fuel_amount", "fuelconsumption": "fuel_amount",
    "client": "customer", "customername": "customer", "account": "customer", "order": "order_id", "orderno": "order_id",
    "ordernumber": "order_id", "shipdate": "date", "pickupdate": "date", "departuredate": "date",
    # Japanese headers seen in shippers' and carriers' files
    "出荷番号": "shipment_id", "輸送モード": "mode", "重量kg": "mass_kg", "重量t": "mass_kg", "距離km": "distance_km",
    "出発地": "origin", "到着地": "destination", "荷主": "customer", "顧客": "customer", "日付": "date", "出荷日": "date",
}
_UNIT_HINTS: Final = (("tonnes", "t"), ("tonne", "t"), ("lbs", "lb"), ("lb", "lb"), ("miles", "mi"), ("mi", "mi"),
                      ("nmi", "nmi"), ("kg", "kg"), ("km", "km"), ("t", "t"))


def _normal(header: str) -> str:
    return re.sub(r"[\s_\-\.\(\)\[\]/（）]+", "", header.lower())


_OWN_NAMES: Final = {_normal(c): c for c in (*LEG_COLUMNS, *PASS_THROUGH_COLUMNS)}


def suggest(header: list[str] | tuple[str, ...]) -> Mapping:
    """A first guess for a file's header: our own names as they are, common TMS names and units
    from the header's words (``Weight (t)`` -> mass_kg in t). Each legs column is suggested once;
    a person checks the guess before it is used."""
    columns: dict[str, Target] = {}
    taken = {h for h in header if is_target(h)}
    for h in header:
        if h in taken:
            continue
        to = _OWN_NAMES.get(_normal(h)) or _SYNONYMS.get(_normal(h))
        if to is None or to in taken:
            continue
        unit = None
        if to in UNITS:
            words = re.findall(r"[a-z]+", h.lower())
            unit = next((u for hint, u in _UNIT_HINTS if hint in words and u in UNITS[to]), None)
            if unit is None and to == "distance_km" and "miles" in _normal(h):
                unit = "mi"
        columns[h] = Target(to, None if unit in ("kg", "km") else unit)
        taken.add(to)
    return Mapping(columns)


def unread_columns(header: list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """The columns of a legs header that the engine neither reads nor passes through (lean results
    drop them), each with the legs column it most likely means (``suggest``'s guess, else the
    nearest spelling), or None: a run names them, so that a misspelt column is not lost unseen."""
    unread = [h for h in header if not is_target(h) and h not in (LINE_COLUMN, LINE_ERROR)]
    guessed = {h: t.to for h, t in suggest(unread).columns.items()}
    own = list(_OWN_NAMES)
    out: dict[str, str | None] = {}
    for h in unread:
        near = difflib.get_close_matches(_normal(h), own, n=1, cutoff=0.75)
        out[h] = guessed.get(h) or (_OWN_NAMES[near[0]] if near else None)
    return out
