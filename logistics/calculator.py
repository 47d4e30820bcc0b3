"""The entry point for embedding: a calculator holding a pack, the carrier's own TOC/HOC tables,
fixed options and the work it has resolved per distinct key; and the results it returns.

    import logistics
    calc = logistics.Calculator("glec-v3.0", tocs="our_tocs.csv")
    result = calc.calculate(legs)          # thread-safe; keys seen before cost nothing again
    result.legs, result.shipments, result.factors

``logistics.calculate(legs, ...)`` keeps a few calculators by their options, so calling it in a
loop does not load a pack or resolve a key twice.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import polars as pl

from . import factors as F
from .io import open_legs, read_legs
from .mapping import unread_columns
from .pipeline.engine import Computed, Engine, Settings
from .pipeline.factors import FactorTables
from .pipeline.shipments import shipments
from .schema import FACTOR_COLUMNS
from .summary import Summary

Provenance = Literal["lean", "full"]
DistanceResolver = Callable[..., pl.DataFrame]


class Result:
    """Per-leg results and, when first asked for, the factors behind them (one row per
    ``factor_id``) and the per-shipment totals."""

    def __init__(self, computed: Computed, pack: F.Pack, input_columns: Sequence[str] = ()):
        self._computed = computed
        self.pack = pack  # the pack the legs were calculated with
        self.input_columns = tuple(input_columns)
        self.legs: pl.DataFrame = computed.legs
        self.sums: tuple[str, ...] = computed.sums  # plug-in columns totalled per shipment (e.g. jp_co2_ttw_kg)

    @property
    def factors(self) -> pl.DataFrame:
        return self._computed.factors

    @cached_property
    def shipments(self) -> pl.DataFrame:
        return shipments(self.legs, self.sums)

    def with_provenance(self) -> pl.DataFrame:
        """The legs with their factor's provenance joined on ``factor_id`` (one wide table)."""
        extra = [c for c in FACTOR_COLUMNS if c not in self.legs.columns]
        if not extra:
            return self.legs
        return self.legs.join(self.factors.select("factor_id", *extra), on="factor_id", how="left", maintain_order="left")

    def summary(self) -> dict[str, Any]:
        """Rows computed and rejected (by reason and by column), totals in t CO2e."""
        s = Summary(unread_columns=unread_columns(self.input_columns))
        s.add(self.legs)
        s.shipments = self.shipments.height
        return s.as_dict()


class Calculator:
    """Calculates legs with a fixed pack, own tables and options, keeping its per-key work.

    pack: a shipped pack name (``glec-v3.0``, ``desnz-2025``), a pack directory or a loaded Pack.
    tocs / hocs: the carrier's own TOC / HOC tables (the pack's schema), used by ``toc_id`` /
        ``hoc_id``; a frame or a CSV/Parquet path.
    defaults: values for cells a leg leaves empty, e.g. ``{"region": "EU"}``.
    daf: per-mode distance adjustment factor for great-circle distances, replacing the pack's.
    distance_resolver: how legs without ``distance_km`` get one from their places (default:
        ``logistics.geo``); ``None`` makes them row errors.
    jp_pack / mix_japanese: the pack of the Japanese methods (legs whose ``method`` is ``jp_*``);
        their CO2 TTW stays out of the CO2e columns unless ``mix_japanese``.
    """

    def __init__(self, pack: str | os.PathLike | F.Pack = F.DEFAULT_PACK, *, tocs=None, hocs=None,
                 defaults: Mapping[str, str] | None = None, daf: Mapping[str, float] | None = None,
                 distance_resolver: DistanceResolver | bool | None = True, jp_pack: str | F.Pack = "jp-guideline",
                 mix_japanese: bool = False):
        from .japan import JapaneseMethods

        if distance_resolver is True:
            from .geo import resolve_distances

            distance_resolver = resolve_distances
        loaded = F.load_pack(pack)
        self.pack = loaded
        self.engine = Engine(Settings(
            tables=FactorTables.of(loaded, tocs, hocs),
            defaults=dict(defaults or {}),
            daf=dict(daf or {}),
            resolver=distance_resolver or None,
            plugins=(JapaneseMethods(jp_pack, mix=mix_japanese),),
        ))

    def calculate(self, legs, *, provenance: Provenance = "lean", decimal_comma: bool | None = None) -> Result:
        """Emissions of every leg and shipment of ``legs`` (a polars or pandas frame, or a CSV or
        Parquet path). ``decimal_comma``: how text numbers are written (``logistics.io``); by
        default a file's is detected and a frame's are read with a decimal point."""
        if provenance not in ("lean", "full"):
            raise ValueError(f"provenance: {provenance!r} is not one of lean, full")
        if isinstance(legs, (str, os.PathLike)):
            with open_legs(legs, decimal_comma=decimal_comma) as source:
                frame, decimal_comma = source.read(), source.decimal_comma
        else:
            frame = read_legs(legs)
            decimal_comma = False if decimal_comma is None else decimal_comma
        return Result(self.engine.compute(frame, full=provenance == "full", decimal_comma=decimal_comma), self.pack, frame.columns)

    def result_schema(self, columns, *, provenance: Provenance = "lean") -> dict[str, pl.DataType]:
        """The result columns (and types) for legs with ``columns``."""
        return self.engine.result_schema(list(columns), full=provenance == "full")


# Calculators of logistics.calculate, by their options: a loop of calls loads nothing twice.
_CALCULATORS: OrderedDict[tuple, Calculator] = OrderedDict()
_CALCULATORS_LOCK = threading.Lock()
MAX_CALCULATORS = 8


def _signature(value) -> Any:
    """What identifies an option between calls, or None when it cannot be (a frame, a function)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
        return (value, os.path.getmtime(value)) if os.path.exists(value) else value
    if isinstance(value, Mapping):
        items = tuple(sorted((str(k), _signature(v)) for k, v in value.items()))
        return None if any(v is None and value[k] is not None for k, v in items) else items
    if isinstance(value, F.Pack):
        return ("pack", id(value))
    return None


def calculator_for(pack=F.DEFAULT_PACK, **options) -> Calculator:
    """A calculator for these options, kept for the next call with the same ones (own tables given
    as paths are identified by path and modification time; frames are never kept)."""
    parts = {"pack": pack, **options}
    signature = []
    for name, value in sorted(parts.items()):
        if isinstance(value, str) and name in ("tocs", "hocs"):
            value = os.fspath(value)
            sig = (value, os.path.getmtime(value)) if os.path.exists(value) else value
        else:
            sig = _signature(value)
        if sig is None and value is not None:
            return Calculator(pack, **options)
        signature.append((name, sig))
    key = tuple(signature)
    with _CALCULATORS_LOCK:
        calc = _CALCULATORS.get(key)
        if calc is not None:
            _CALCULATORS.move_to_end(key)
            return calc
    calc = Calculator(pack, **options)
    with _CALCULATORS_LOCK:
        _CALCULATORS[key] = calc
        while len(_CALCULATORS) > MAX_CALCULATORS:
            _CALCULATORS.popitem(last=False)
    return calc


def calculate(legs, pack=F.DEFAULT_PACK, *, provenance: Provenance = "lean", **options) -> Result:
    """Emissions of every leg and shipment (see ``Calculator`` for the options)."""
    return calculator_for(pack, **options).calculate(legs, provenance=provenance)
