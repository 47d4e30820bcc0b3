"""The engine: legs in, per-leg results and the factors behind them out, as one query per batch.

For every transport chain element (TCE), GLEC Framework v3.0 pp.20–27 / ISO 14083:2023 §6:

    transport leg, per tkm:     E_x = tkm × EI_TOC,x × DAF           (x = TTW, WTT, WTW)
    transport leg, per TEU-km:  E_x = TEU × km × EI_TOC,x × DAF
    measured fuel:              E_x = fuel × EF_x
    hub:                        E_x = outbound t (or TEU) × EI_HOC,x

Work that depends on few distinct values is done once per distinct value and kept between calls
(``ResolvedStore``): the reading of vocabulary cells and the factor of each vocabulary key, the
distance between places. A call then runs:

1. one collect: numbers read, vocabulary and place keys hashed, and the distinct keys found;
2. the distinct keys looked up (and resolved when new) in the stores;
3. one query: the stores' rows gathered by a dense index, then the per-leg computation of
   ``pipeline.legs`` (activity, DAF, emissions) and every row check as a bit mask;
4. for failing rows only, the messages; plug-in methods for their legs.

The query's expressions depend only on the input's columns and types, so they are built once per
input schema (``Plan``). A call of up to ``SMALL_ROWS`` legs takes the same computation on NumPy
arrays (``Plan.small``), since a polars query has a fixed cost of tens of milliseconds; a leg the
small path cannot finish (a failed check needs its message) sends the call to the query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from .. import factors as F
from ..backends import NumpyBackend, PolarsBackend
from ..io import LINE_ERROR, InputError, bad_number, number_message, parse_number
from ..rules import distance
from ..rules.distance import check_overrides, gcd_daf_by_mode
from ..schema import (
    ADDON_COLUMNS,
    ADDON_INPUTS,
    ERROR_COLUMNS,
    FACTOR_COLUMNS,
    IDENTITY_COLUMNS,
    INTERNAL_PREFIX,
    LEG_COLUMNS,
    LINE_COLUMN,
    NUMBER_COLUMNS,
    PLACE_COLUMNS,
    REQUIRED_COLUMNS,
    RESULT_COLUMNS,
    VOCABULARY_COLUMNS,
    is_pass_through,
)
from ..vocabulary import CORE_METHODS, MAX_NUMBER, read_vocabulary
from . import checks as C
from . import legs as L
from .distances import PLACE_KEY, PLACE_RESULT, place_key_expr, resolve_places
from .factors import FLIGHT_BANDS, LEG_FACTOR_COLUMNS, FactorTables, resolve_factors
from .keys import KEY, KEY_FLAGS, key_expr, raw_cell, resolve_keys
from .plugins import MethodPlugin
from .store import ResolvedStore

ROW = "__row"  # position of the row in the frame given
JP_INPUT_ERROR = "jp_input_error"  # set by logistics.japan.read_japanese_csv on cells it could not read
BANDS = len(FLIGHT_BANDS)  # factor rows per key: one per flight band (see factors.FLIGHT_BANDS)
# Frames up to this many legs take the NumPy path: it costs about 2 ms plus 10 µs a leg, the query
# about 25 ms whatever the legs (bench/bench_engine.py prints both at 3 to 3,000 legs).
SMALL_ROWS = 1000
# Columns of the stores' rows that the query gathers (as __k_<name>, __f_<name>).
KEY_GATHERED = ("mode", "method", "distance_type", "__transport", "__hub", "__air", "__gcd", "__gcd_daf", "__needs_band",
                "__unit_mult",
                "key_error_code", "key_error")
FACTOR_GATHERED = (*LEG_FACTOR_COLUMNS, "__basis", "__assumed")
PLACE_TUPLE = ("mode", *PLACE_COLUMNS)  # what identifies a place key
KEY_TUPLE = (*VOCABULARY_COLUMNS, *KEY_FLAGS)  # what identifies a vocabulary key
number, out = L.number, L.out


@dataclass(frozen=True)
class Settings:
    """What a calculator computes with; fixed for its lifetime."""

    tables: FactorTables
    defaults: Mapping[str, str] = field(default_factory=dict)
    daf: Mapping[str, float] = field(default_factory=dict)
    resolver: Callable[..., pl.DataFrame] | None = None
    plugins: tuple[MethodPlugin, ...] = ()

    @property
    def pack(self) -> F.Pack:
        return self.tables.pack


@dataclass
class Computed:
    """A call's per-leg results, and the factor rows its keys used (``factors`` builds the
    factors table from them when asked for)."""

    legs: pl.DataFrame
    factor_rows: pl.DataFrame | list[dict]  # as a frame, or as the store's records (the NumPy path)
    plugin_factors: list[pl.DataFrame]
    sums: tuple[str, ...]  # plug-in columns totalled per shipment

    @cached_property
    def factors(self) -> pl.DataFrame:
        """One row per factor_id the legs use (schema.FACTOR_COLUMNS)."""
        used = self.legs["factor_id"].drop_nulls().unique().implode()
        if not isinstance(self.factor_rows, pl.DataFrame) and not self.plugin_factors:
            # the NumPy path's few records: picked in Python, a frame built of those only
            ids = set(used.explode().to_list())
            picked = {r["factor_id"]: r for r in reversed(self.factor_rows) if r["factor_id"] in ids}  # the first of each id
            return pl.DataFrame([picked[i] for i in sorted(picked)], schema=FACTOR_COLUMNS)
        rows = self.factor_rows if isinstance(self.factor_rows, pl.DataFrame) else pl.DataFrame(
            self.factor_rows, schema={**FACTOR_COLUMNS, **{c: t for c, t in LEG_FACTOR_COLUMNS.items() if c not in FACTOR_COLUMNS}})
        rows = pl.concat([rows.select(list(FACTOR_COLUMNS)), *self.plugin_factors], how="diagonal_relaxed")
        return (rows.select(list(FACTOR_COLUMNS)).filter(pl.col("factor_id").is_in(used))
                .unique("factor_id", keep="first").sort("factor_id"))


class Engine:
    """The pipeline with its resolution stores. Thread-safe: the stores lock while they resolve;
    the query of each call is its own."""

    def __init__(self, settings: Settings):
        unknown = [n for n in settings.defaults if n not in LEG_COLUMNS]
        if unknown:
            raise InputError(f"defaults: unknown column {unknown[0]!r}")
        check_overrides(settings.daf)
        self.settings = settings
        pack = settings.pack
        self.t_per_teu = float(pack.parameter("teu_mass_t_average", 10.0) or 10.0)
        self.short_haul_max_km = float(pack.parameter(distance.SHORT_HAUL_MAX_KM_PARAMETER, 1500.0) or 1500.0)
        self.gcd_daf_by_mode = gcd_daf_by_mode(pack, settings.daf)
        self.air_added_km = pack.parameter(distance.GCD_DAF_PARAMETERS["air"])
        self.methods = (*CORE_METHODS, *(m for p in settings.plugins for m in p.methods))
        addons = pack.table("tce_addons")
        self.addons = {row["input_column"]: row for row in addons.iter_rows(named=True)}  # by the input column they count
        self.keys = ResolvedStore()
        self.factors = ResolvedStore()
        self.places = ResolvedStore()
        self._plans: dict[tuple, Plan] = {}

    def plan(self, schema: Mapping[str, pl.DataType], full: bool, decimal_comma: bool | None = False) -> Plan:
        """The query of inputs with this schema and decimal mark (built once, then reused)."""
        key = (tuple(schema.items()), full, decimal_comma)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 64:
                self._plans.clear()
            plan = self._plans[key] = Plan(self, dict(schema), full, decimal_comma)
        return plan

    def compute(self, frame: pl.DataFrame, *, full: bool = False, decimal_comma: bool | None = False) -> Computed:
        """The results of ``frame`` (legs as ``logistics.io`` reads them); ``decimal_comma``: how its
        text numbers are written (``io.parse_number``: False a point, True a comma, None either)."""
        plan = self.plan(frame.schema, full, decimal_comma)
        # an empty frame takes the query: it gives the results' columns without resolving any key
        small = plan.small(frame) if 0 < frame.height <= SMALL_ROWS else None
        if small is not None:
            return small
        prepared, uniq_keys, uniq_places, grouped = plan.prepare(frame)
        key_tuples = uniq_keys.select(KEY_TUPLE).rows()
        key_rows = self.key_rows(key_tuples)
        factor_rows = self.factor_rows(key_tuples, key_rows["__needs_band"].to_list(), self.key_rows)
        place_rows = self.place_rows(uniq_places.select(PLACE_TUPLE).rows())
        legs = plan.query(prepared, uniq_keys[KEY], key_rows, factor_rows, uniq_places[PLACE_KEY], place_rows, grouped).collect()
        legs, plugin_factors = self._plugins(legs, plan)
        return Computed(legs=plan.finish(legs), factor_rows=factor_rows, plugin_factors=plugin_factors,
                        sums=tuple(s for p in plan.plugins for s in p.sums))

    def result_schema(self, columns: Sequence[str], *, full: bool = False) -> dict[str, pl.DataType]:
        """The columns and types of the results of legs with ``columns`` (the header of a file)."""
        empty = pl.DataFrame(schema={c: pl.String for c in columns})
        return dict(self.compute(empty, full=full).legs.schema)

    # ------------------------------------------------------------------ the stores

    @staticmethod
    def _lookup(store: ResolvedStore, keys: list, resolve: Callable[[list], pl.DataFrame], records: bool):
        if records:
            return store.records(keys, resolve)
        return store.rows(keys, resolve) if keys else resolve([])

    def key_rows(self, keys: list[tuple], *, records: bool = False):
        """The vocabulary read of each key (a tuple of raw cells and KEY_FLAGS), in order (a frame,
        or dicts with ``records``)."""
        s = self.settings

        def resolve(missing: list) -> pl.DataFrame:
            raw = pl.DataFrame(missing, schema={**{c: pl.String for c in VOCABULARY_COLUMNS},
                                                **{c: pl.Boolean for c in KEY_FLAGS}}, orient="row")
            read = resolve_keys(raw, defaults=s.defaults, methods=self.methods, teu_mass_t=self.t_per_teu)
            return read.with_columns(  # what the DAF rule needs of the key (rules.distance.daf_rule)
                __air=(pl.col("mode") == "air").fill_null(False),
                __gcd=(pl.col("distance_type") == "gcd").fill_null(False),
                __gcd_daf=pl.col("mode").replace_strict(self.gcd_daf_by_mode, default=None, return_dtype=pl.Float64),
            )

        return self._lookup(self.keys, keys, resolve, records)

    def factor_rows(self, keys: list[tuple], needs_band: list[bool], key_rows: Callable[[list[tuple]], pl.DataFrame], *,
                    records: bool = False):
        """The factor of each key and flight band: BANDS rows per key, in key order (a key without
        flight bands repeats its factor). ``__assumed``: the built-in defaults a leg of that key and
        band relies on (its key's, and TEU from mass for a per-TEU factor)."""
        wanted = [(key, b) for key, nb in zip(keys, needs_band, strict=True) for b in ((1, 1, 2) if nb else (0, 0, 0))]
        fields = [*LEG_FACTOR_COLUMNS, *(c for c in FACTOR_COLUMNS if c not in LEG_FACTOR_COLUMNS), "__basis", "__assumed"]

        def resolve(missing: list) -> pl.DataFrame:
            ask = key_rows([key for key, _ in missing]).with_columns(
                pl.Series("__band", [b for _, b in missing], dtype=pl.UInt8), pl.int_range(len(missing), dtype=pl.UInt32).alias("__i"))
            core = ask.filter(pl.col("key_error_code").is_null() & pl.col("method").is_in(list(CORE_METHODS))).with_columns(
                flight_length=pl.when(pl.col("__band") == 0).then(pl.col("flight_length"))
                .otherwise(pl.col("__band").replace_strict(FLIGHT_BANDS, default=None, return_dtype=pl.String)))
            got = resolve_factors(core.with_columns(pl.col("__i").cast(pl.UInt64).alias("__key")), self.settings.tables)
            joined = ask.select("__i", "__assumed", "__has_teu").join(
                got.with_columns(pl.col("__key").cast(pl.UInt32).alias("__i")), on="__i", how="left", maintain_order="left")
            teu_from_mass = pl.col("basis").is_in(["teu_km", "teu"]).fill_null(False) & ~pl.col("__has_teu")
            return joined.with_columns(
                __assumed=pl.concat_str(["__assumed", pl.when(teu_from_mass).then(pl.lit(f"teu=mass/{self.t_per_teu:g} t"))],
                                        separator="; ", ignore_nulls=True).replace("", None),
                __basis=pl.col("basis").replace_strict(L.BASIS_CODES, default=None, return_dtype=pl.Float64),
            ).select(fields)

        return self._lookup(self.factors, wanted, resolve, records)

    def place_rows(self, places: list[tuple], *, records: bool = False):
        """The distance of each place key (a tuple of the raw mode and PLACE_COLUMNS), in order."""
        s = self.settings

        def resolve(missing: list) -> pl.DataFrame:
            ask = pl.DataFrame(missing, schema={"mode": pl.String, **{c: LEG_COLUMNS[c] for c in PLACE_COLUMNS}}, orient="row")
            ask = ask.with_row_index(PLACE_KEY).with_columns(
                pl.col(PLACE_KEY).cast(pl.UInt64), read_vocabulary("mode", pl.col("mode")),
                *(pl.col(c).str.strip_chars() for c in ("origin", "destination")))
            got = resolve_places(ask.filter(pl.col("mode") != "hub"), s.resolver, s.pack, s.daf)  # hubs have no distance
            return ask.select(PLACE_KEY).join(got, on=PLACE_KEY, how="left", maintain_order="left").select(
                *list(PLACE_RESULT)[:-1], (pl.col("__p_distance_type") == "gcd").fill_null(False).alias("__p_gcd"))

        return self._lookup(self.places, places, resolve, records)

    # ------------------------------------------------------------------ plug-ins

    def _plugins(self, legs: pl.DataFrame, plan: Plan) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        """Legs whose method is a plug-in's, computed by it and merged into the results."""
        factor_rows: list[pl.DataFrame] = []
        for plugin in plan.plugins:
            legs = legs.with_columns(pl.lit(None, t).alias(out(c)) for c, t in plugin.columns.items())
            ready = (pl.col(L.k("method")).is_in(list(plugin.methods)) & (pl.col("__read_mask") == 0)
                     & (pl.col("__distance_mask") == 0) & pl.col(L.k("key_error_code")).is_null())
            todo = legs.filter(ready)
            if not todo.height:
                continue
            given = todo.select(
                ROW, pl.col(L.k("method")).alias("method"), pl.col(L.k("mode")).alias("mode"),
                pl.col(out("mass_kg")).alias("mass_kg"), pl.col(out("emissions_distance_km")).alias("distance_km"),
                plan.number("fuel_amount").alias("fuel_amount"), pl.col(L.k("fuel_unit")).alias("fuel_unit"),
                pl.col(L.k("energy_carrier")).alias("energy_carrier"),
                *((plan.number(c) if c in NUMBER_COLUMNS else pl.col(L.k(c))).alias(c) for c in plugin.inputs),
            )
            got, factors = plugin.compute(given)
            factor_rows.append(factors)
            got = got.select(ROW, *(pl.col(c).alias(f"__g_{c}") for c in got.columns if c != ROW))
            legs = legs.join(got, on=ROW, how="left", maintain_order="left")
            done = pl.col("__g_error").is_null() & pl.col(ROW).is_in(got[ROW].implode())
            legs = legs.with_columns(
                *(pl.col(f"__g_{c}").alias(out(c)) for c in plugin.columns),
                pl.coalesce("__g_factor_id", out("factor_id")).alias(out("factor_id")),
                pl.when(done).then(pl.col(L.k("method")).replace_strict(dict(plugin.methods), default=None))
                .otherwise(pl.col(out("data_type"))).alias(out("data_type")),
                *(pl.coalesce(f"__g_co2e_{x}_kg", out(f"co2e_{x}_kg")).alias(out(f"co2e_{x}_kg")) for x in ("ttw", "wtw")),
                pl.coalesce("__g_error_code", "__plugin_error_code").alias("__plugin_error_code"),
                pl.coalesce("__g_error", "__plugin_error").alias("__plugin_error"),
            ).with_columns(
                (pl.col("__ok") & pl.col("__plugin_error").is_null()).alias("__ok"),
                pl.when(pl.col(out("tkm")) > 0).then(pl.col(out("co2e_wtw_kg")) * 1000.0 / pl.col(out("tkm")))
                .alias(out("intensity_wtw_g_per_tkm")),
            ).drop(pl.selectors.starts_with("__g_"))
            if plan.full:  # the plug-in's factors' provenance on its legs
                provenance = [c for c in FACTOR_COLUMNS if c not in ("factor_id", "data_type") and c in factors.columns]
                legs = legs.join(factors.select(pl.col("factor_id").alias("__g_id"), *(pl.col(c).alias(f"__g_{c}") for c in provenance)),
                                 left_on=out("factor_id"), right_on="__g_id", how="left", maintain_order="left")
                legs = legs.with_columns(pl.coalesce(f"__g_{c}", L.f(c)).alias(L.f(c)) for c in provenance
                                         ).drop(pl.selectors.starts_with("__g_"))
        return legs, factor_rows


class Plan:
    """The query of inputs of one schema, built once: its expressions, its checks, its outputs."""

    def __init__(self, engine: Engine, schema: dict[str, pl.DataType], full: bool, decimal_comma: bool | None = False):
        s = engine.settings
        columns = list(schema)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns and c not in s.defaults]
        if "mass_kg" not in columns and "teu" not in columns:
            missing.append("mass_kg (or teu)")
        if missing:
            raise InputError(
                f"missing required column(s): {', '.join(missing)}. Expected header (optional columns may be"
                f" left out): {','.join(LEG_COLUMNS)}")
        reserved = [c for c in columns if c.startswith(INTERNAL_PREFIX)]
        if reserved:
            raise InputError(f"column {reserved[0]!r}: names starting with {INTERNAL_PREFIX!r} are reserved; rename it")
        self.engine, self.columns, self.schema, self.full = engine, columns, schema, full
        self.decimal_comma = decimal_comma
        numbers = [c for c in NUMBER_COLUMNS if c in columns or c in s.defaults]
        self.params = L.Params(
            columns=frozenset([*columns, *numbers]), t_per_teu=engine.t_per_teu, short_haul_max_km=engine.short_haul_max_km,
            gcd_daf_by_mode=engine.gcd_daf_by_mode, air_gcd_daf=s.daf.get("air"), air_added_km=engine.air_added_km, bands=BANDS,
            addons=tuple((c, engine.addons.get(c)) for c in ADDON_INPUTS if c in columns), pack_name=s.pack.name)
        self.numbers = numbers
        self.addon_columns = tuple(ADDON_COLUMNS) if self.params.addons else ()
        # plug-ins whose columns the results carry: those the input could ask for (a method column or
        # a default method), so that a file's results keep one schema from batch to batch
        self.plugins = s.plugins if ("method" in columns or "method" in s.defaults) else ()
        self.key_gathered = (*KEY_GATHERED, *(c for c in VOCABULARY_COLUMNS if c not in KEY_GATHERED)) \
            if (full or self.plugins) else KEY_GATHERED
        self.factor_gathered = (*FACTOR_GATHERED, *(c for c in FACTOR_COLUMNS if c not in FACTOR_GATHERED)) if full \
            else FACTOR_GATHERED
        extra = []
        if LINE_ERROR in columns:
            extra.append(L.CheckSpec("line", "fields", lambda b: b.present(b.col(LINE_ERROR)), lambda: pl.col(LINE_ERROR)))
        if JP_INPUT_ERROR in columns:
            extra.append(L.CheckSpec("jp_input", "unreadable", lambda b: b.present(b.col(JP_INPUT_ERROR)), lambda: pl.col(JP_INPUT_ERROR)))
        self.read_specs = L.read_checks(
            self.params, extra, lambda c: number_message(c, pl.col(c), schema[c], decimal_comma if schema[c] == pl.String else False,
                                                         whole=LEG_COLUMNS[c] == pl.Int64))
        self.distance_specs = L.distance_checks()
        b = PolarsBackend
        self.read_checks = [C.Check(c.column, c.code, c.condition(b), c.message()) for c in self.read_specs]
        self.distance_checks = [C.Check(c.column, c.code, c.condition(b), c.message()) for c in self.distance_specs]
        self._prepare = self._prepare_expressions()
        self._after = [
            {"__read_mask": C.failure_mask(self.read_checks)},
            {"__distance_mask": C.failure_mask(self.distance_checks)},
            {"__ok": L.ok_condition(b), "__plugin_error_code": pl.lit(None, pl.String), "__plugin_error": pl.lit(None, pl.String)},
            *L.after_factors(b, self.params),
        ]
        self._before = {grouped: list(L.before_factors(b, self.params, text=lambda c: _read_text(c, columns),
                                                         position=_position(grouped))) for grouped in (False, True)}
        self._output = self._output_columns()
        self._small_output = (*IDENTITY_COLUMNS[1:], *(c for c in columns if is_pass_through(c) and c not in IDENTITY_COLUMNS),
                              *(c for c in RESULT_COLUMNS if c not in ERROR_COLUMNS), *self.addon_columns, *ERROR_COLUMNS)
        # the NumPy path takes inputs whose numbers are typed and whose cells need no file reading
        self.small_ready = (not full and not self.plugins and JP_INPUT_ERROR not in columns
                            and all(schema[c].is_numeric() for c in NUMBER_COLUMNS if c in columns)
                            and all(schema[c] == pl.String for c in (*VOCABULARY_COLUMNS, "shipment_id", "leg_id", "origin", "destination")
                                    if c in columns))

    def number(self, name: str) -> pl.Expr:
        """Number column ``name`` as read (null when the input has no such column)."""
        return pl.col(number(name)) if name in self.numbers else pl.lit(None, pl.Float64)

    # ------------------------------------------------------------------ 1. prepare

    def _parse_number(self, name: str) -> pl.Expr:
        """A number column's cells as numbers: text parsed (its trimmed cell in ``__s_<name>``, see
        _prepare_expressions), numbers cast."""
        dtype = self.schema.get(name)
        if dtype is None:
            return pl.lit(None, pl.Float64)
        if dtype == pl.String or not (dtype.is_numeric() or dtype == pl.Boolean):
            return parse_number(pl.col(_trimmed(name)), decimal_comma=self.decimal_comma if dtype == pl.String else False)
        if dtype == pl.Boolean:  # true is no mass: refused by the number check
            return pl.lit(None, pl.Float64)
        return pl.col(name).cast(pl.Float64)

    def _read_number(self, name: str) -> pl.Expr:
        """A number column as read, from its parsed cells (``_parse_number``, a stage before: an
        expression that used them twice would parse twice): NaN, infinite and absurd values
        missing; missing cells take the column's default."""
        default = self.engine.settings.defaults.get(name)
        if name not in self.schema:
            return pl.lit(None if default is None else float(default), pl.Float64)
        value = pl.col(number(name))
        value = pl.when(bad_number(value)).then(None).otherwise(value)
        return value if default is None else pl.when(pl.col(L.given(name))).then(value).otherwise(pl.lit(float(default)))

    def _prepare_expressions(self) -> list[list[pl.Expr]]:
        present = [c for c in self.numbers if c in self.columns]
        return [
            [pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW),
             *(_trim(c, self.schema[c]).alias(_trimmed(c)) for c in present)],
            [*(_given(c).alias(L.given(c)) for c in present), *(self._parse_number(c).alias(number(c)) for c in present)],
            [*(self._read_number(c).alias(number(c)) for c in self.numbers)],
            [*([pl.col(number("leg_seq")).cast(pl.Int64, strict=False)] if "leg_seq" in self.numbers else []),
             key_expr(self.columns, [self._flag(n) for n in KEY_FLAGS]).alias(KEY),
             (pl.when(pl.col(number("distance_km")).is_null()) if "distance_km" in self.numbers else pl.when(True))
             .then(place_key_expr(self.columns)).alias(PLACE_KEY)],
        ]

    def prepare(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, bool]:
        """(the frame with its numbers read and keys hashed, its distinct vocabulary keys with their
        raw cells, its distinct place keys with theirs, whether each shipment's rows are
        consecutive)."""
        columns = self.columns
        lf = frame.lazy()
        for stage in self._prepare:
            lf = lf.with_columns(stage)
        prepared = lf.collect()
        lf = prepared.lazy()
        # each key's first row (a filter before the select: several times faster than a unique())
        keys = lf.filter(pl.col(KEY).is_first_distinct()).select(
            KEY, *(raw_cell(c, columns).alias(c) for c in VOCABULARY_COLUMNS), *(self._flag(n).alias(n) for n in KEY_FLAGS))
        places = lf.filter(pl.col(PLACE_KEY).is_not_null() & pl.col(PLACE_KEY).is_first_distinct()).select(
            PLACE_KEY, raw_cell("mode", columns).alias("mode"),
            *((pl.col(c).cast(LEG_COLUMNS[c]) if c in columns else pl.lit(None, LEG_COLUMNS[c])).alias(c) for c in PLACE_COLUMNS),
        )
        # consecutive when no shipment starts two runs of rows
        shipment = pl.col("shipment_id").cast(pl.String) if "shipment_id" in columns else pl.lit("", pl.String)
        starts = shipment.ne_missing(shipment.shift(1)) | (pl.int_range(pl.len()) == 0)
        runs = lf.select((shipment.filter(starts).n_unique() == starts.sum()).alias("grouped"))
        keys_df, places_df, runs_df = pl.collect_all([keys, places, runs])
        return prepared, keys_df, places_df, bool(runs_df.item())

    def _flag(self, name: str) -> pl.Expr:
        """A key flag (the leg has fuel / TEU / mass), false when the input has no such column."""
        column = KEY_FLAGS[name]
        return pl.col(number(column)).is_not_null() if column in self.numbers else pl.lit(False)

    # ------------------------------------------------------------------ 2. the query

    def query(self, prepared: pl.DataFrame, key_hashes: pl.Series, key_rows: pl.DataFrame, factor_rows: pl.DataFrame,
              place_hashes: pl.Series, place_rows: pl.DataFrame, grouped: bool) -> pl.LazyFrame:
        """The legs with the stores' rows gathered by dense index (``__k`` per vocabulary key,
        ``__f`` per key and flight band, ``__p`` per place key), then every computed column."""
        def dense(column: str, keys: pl.Series) -> pl.Expr:
            if not keys.len():
                return pl.lit(None, pl.UInt32)
            return pl.col(column).replace_strict(keys, pl.int_range(keys.len(), dtype=pl.UInt32, eager=True), default=None,
                                                 return_dtype=pl.UInt32)

        def gathered(rows: pl.DataFrame, columns: Sequence[str], prefix: str, index: str) -> pl.Expr:
            struct = rows.select(pl.col(c).alias(f"{prefix}{c}") for c in columns).to_struct(prefix)
            return pl.lit(struct).gather(pl.col(index))

        lf = prepared.lazy().with_columns(dense(KEY, key_hashes).alias("__k"), dense(PLACE_KEY, place_hashes).alias("__p")).with_columns(
            gathered(key_rows, self.key_gathered, "__k_", "__k"), gathered(place_rows, list(PLACE_RESULT), "__p_", "__p"),
        ).unnest("__k_", "__p_")
        for stage in self._before[grouped]:
            lf = lf.with_columns(**stage)
        lf = lf.with_columns(gathered(factor_rows, self.factor_gathered, "__f_", "__f")).unnest("__f_")
        for stage in self._after:
            lf = lf.with_columns(**stage)
        return lf

    # ------------------------------------------------------------------ 2'. a few legs, on NumPy

    def small(self, frame: pl.DataFrame) -> Computed | None:
        """The results of a few legs computed on NumPy arrays from the same stores and the same
        per-leg computation (``pipeline.legs``); None when a leg needs the query (a failed check,
        a bad number, a key with an error or a plug-in's method), which then computes them all."""
        if not self.small_ready or (LINE_ERROR in self.columns and frame.get_column(LINE_ERROR).null_count() < frame.height):
            return None
        engine, h = self.engine, frame.height
        cols: dict[str, Any] = {LINE_ERROR: np.full(h, None, object)}  # no broken line (checked above)
        for c in self.numbers:
            if c not in self.columns:
                cols[number(c)] = np.full(h, float(engine.settings.defaults[c]))
                continue
            series = frame.get_column(c)
            values = series.to_numpy().astype(float, copy=False)
            given = np.ones(h, bool) if not series.null_count() else np.array([v is not None for v in series.to_list()])
            if np.any(given & (~np.isfinite(values) | (np.abs(values) > MAX_NUMBER))):
                return None  # its message is written by the query
            default = engine.settings.defaults.get(c)
            cols[number(c)] = values if default is None else np.where(given, values, float(default))
            cols[L.given(c)] = given
        text = {c: frame.get_column(c).to_list() if c in self.columns else [None] * h
                for c in (*VOCABULARY_COLUMNS, "shipment_id", "leg_id", "origin", "destination")}
        flags = [(~np.isnan(cols[number(c)])).tolist() if c in self.numbers else [False] * h for c in KEY_FLAGS.values()]
        key_of_row = list(zip(*(text[c] for c in VOCABULARY_COLUMNS), *flags, strict=True))
        keys = list(dict.fromkeys(key_of_row))
        key_recs = engine.key_rows(keys, records=True)
        if any(r["key_error_code"] is not None or r["method"] not in CORE_METHODS for r in key_recs):
            return None
        factor_recs = engine.factor_rows(keys, [r["__needs_band"] for r in key_recs], engine.key_rows, records=True)
        position = {key: i for i, key in enumerate(keys)}
        cols["__k"] = np.array([position[key] for key in key_of_row], np.int64)
        given_km = cols.get(number("distance_km"), np.full(h, np.nan))
        place_cells = [frame.get_column(c).to_list() if c in self.columns else [None] * h for c in PLACE_COLUMNS]
        place_of_row = [None if given_km[i] == given_km[i] else (text["mode"][i], *(cells[i] for cells in place_cells))
                        for i in range(h)]
        places = list(dict.fromkeys(p for p in place_of_row if p is not None))
        place_recs = engine.place_rows(places, records=True) if places else []
        place_index = {p: i for i, p in enumerate(places)}
        key_types, factor_types = engine.keys.schema, engine.factors.schema
        if key_types is None or factor_types is None:
            raise RuntimeError("the key and factor stores are empty after resolving this batch's keys")
        for c in self.key_gathered:
            cols[L.k(c)] = _array([r[c] for r in key_recs], key_types[c])[cols["__k"]]
        empty_place = dict.fromkeys(PLACE_RESULT)
        place_of_leg = [place_recs[place_index[p]] if p is not None else empty_place for p in place_of_row]
        for c in PLACE_RESULT:
            cols[L.p(c)] = _array([r[c] for r in place_of_leg], PLACE_RESULT[c])
        with np.errstate(divide="ignore", invalid="ignore"):  # branches not taken are computed too
            b = NumpyBackend(cols, h)
            for stage in L.before_factors(b, self.params, text=lambda c: _strip(text[c]), position=_occurrence(text["shipment_id"])):
                cols.update(stage)
            for c in self.factor_gathered:
                cols[L.f(c)] = _array([r[c] for r in factor_recs], factor_types[c])[cols["__f"].astype(np.int64)]
            cols["__read_mask"] = np.zeros(h, np.int64)
            for spec in self.read_specs:
                if b.condition(spec.condition(b)).any():
                    return None
            cols["__distance_mask"] = np.zeros(h, np.int64)
            for spec in self.distance_specs:
                if b.condition(spec.condition(b)).any():
                    return None
            cols["__ok"] = ok = L.ok_condition(b)
            if not ok.all():
                return None
            for stage in L.after_factors(b, self.params):
                cols.update(stage)
        legs = self._small_frame(frame, cols, h)
        return Computed(legs=legs, factor_rows=factor_recs, plugin_factors=[], sums=())

    def _small_frame(self, frame: pl.DataFrame, cols: dict[str, Any], h: int) -> pl.DataFrame:
        """The results of the NumPy path, in the columns and types of the query's."""
        types = {LINE_COLUMN: pl.Int64, **{c: LEG_COLUMNS[c] for c in IDENTITY_COLUMNS[1:]}, **RESULT_COLUMNS, **ADDON_COLUMNS}
        # The computed columns of each type go into one Series, then sliced: on a few legs, building
        # a Series costs more than its values, and a frame from a dict with a schema more still.
        values: dict[Any, list] = {}
        for c in self._small_output:
            if c in types:
                dtype = pl.String if c in ERROR_COLUMNS else types[c]
                values.setdefault(dtype, []).append((c, [None] * h if c in ERROR_COLUMNS else _values(cols[out(c)], dtype)))
        computed: dict[str, pl.Series] = {}
        for dtype, named in values.items():
            flat = np.concatenate([v for _, v in named]) if dtype == pl.Float64 else [x for _, v in named for x in v]
            whole = pl.Series("", flat, dtype, nan_to_null=True)
            computed.update((c, whole.slice(i * h, h).alias(c)) for i, (c, _) in enumerate(named))
        line = frame.get_column(LINE_COLUMN) if LINE_COLUMN in self.columns else pl.Series(LINE_COLUMN, np.arange(1, h + 1), pl.Int64)
        return pl.DataFrame([line, *(computed[c] if c in computed else frame.get_column(c) for c in self._small_output)])

    # ------------------------------------------------------------------ 3. after the query

    def finish(self, legs: pl.DataFrame) -> pl.DataFrame:
        """The result columns, with ``error_code`` and ``error`` written for the failing rows."""
        ok = legs.get_column("__ok")
        if ok.all():
            legs = legs.with_columns(pl.lit(None, pl.String).alias(out(c)) for c in ERROR_COLUMNS)
        else:
            legs = self._describe_errors(legs, ~ok)
        return legs.select(self._output)

    def _describe_errors(self, legs: pl.DataFrame, bad: pl.Series) -> pl.DataFrame:
        """``error_code`` and ``error`` of the failing rows, built on those rows only."""
        n = pl.col
        key_ok = n(L.k("key_error_code")).is_null()
        place_ok = n(L.p("__p_error")).is_null()
        others_ok = key_ok & (n("__read_mask") == 0) & (n("__distance_mask") == 0) & place_ok
        read, dist = self.read_checks, self.distance_checks
        # rechunk: polars 2.1 panics ("assertion failed: i < self.len()") formatting a text column
        # whose filtered chunks begin with an empty one (e.g. chunks of 1, 1, 1, 3 rows filtered
        # to 0, 1, 1, 2), as a multi-chunk batch gives
        described = legs.filter(bad).rechunk().select(
            ROW,
            pl.concat_str([
                n(L.k("key_error")), *C.messages(read, n("__read_mask")), pl.when(key_ok).then(n(L.p("__p_error"))),
                *C.messages(dist, n("__distance_mask")), pl.when(others_ok).then(n(L.f("factor_error"))), n("__plugin_error"),
            ], separator="; ", ignore_nulls=True).replace("", None).alias("error"),
            pl.coalesce(
                n(L.k("key_error_code")), C.first_code(read, n("__read_mask")),
                pl.when(key_ok & ~place_ok).then(pl.lit("places.unresolved")),
                C.first_code(dist, n("__distance_mask")), pl.when(others_ok).then(n(L.f("factor_error_code"))),
                n("__plugin_error_code"),
            ).alias("error_code"),
        )
        empty = pl.Series(dtype=pl.String).extend_constant(None, legs.height)
        rows = described.get_column(ROW)
        return legs.with_columns(
            empty.scatter(rows, described.get_column("error_code")).alias(out("error_code")),
            empty.scatter(rows, described.get_column("error")).alias(out("error")),
        )

    def _output_columns(self) -> list[pl.Expr]:
        """The result columns: identity, pass-through, computed (plug-ins' before the errors); with
        ``full``, the input as read and the factor's provenance too."""
        columns = self.columns
        line = pl.col(LINE_COLUMN).cast(pl.Int64) if LINE_COLUMN in columns else (pl.col(ROW).cast(pl.Int64) + 1)
        first = [line.alias(LINE_COLUMN), *(pl.col(out(c)).alias(c) for c in IDENTITY_COLUMNS[1:])]
        passed = [pl.col(c) for c in columns if is_pass_through(c) and c not in IDENTITY_COLUMNS]
        computed = [c for c in RESULT_COLUMNS if c not in ERROR_COLUMNS]
        plugin_columns = [*self.addon_columns, *(c for p in self.plugins for c in p.columns)]
        body = [pl.col(out(c)).alias(c) for c in (*computed, *plugin_columns)]
        errors = [pl.col(out(c)).alias(c) for c in ERROR_COLUMNS]
        if not self.full:
            return [*first, *passed, *body, *errors]
        taken = {*IDENTITY_COLUMNS, *RESULT_COLUMNS, *plugin_columns, LINE_COLUMN, LINE_ERROR}
        band = pl.col("__band").replace_strict(FLIGHT_BANDS, default=None, return_dtype=pl.String)
        read = {c: pl.col(L.k(c)) for c in VOCABULARY_COLUMNS}
        read["flight_length"] = pl.coalesce(band, read["flight_length"])  # as the distance decided it
        vocabulary = [read[c].alias(c) for c in VOCABULARY_COLUMNS if c not in taken]
        numbers = [self.number(c).alias(c) for c in NUMBER_COLUMNS if c not in taken]
        others = [pl.col(c) for c in columns if c not in LEG_COLUMNS and c not in taken and not is_pass_through(c)]
        provenance = [pl.col(L.f(c)).alias(c) for c in FACTOR_COLUMNS if c not in ("factor_id", "data_type")]
        return [*first, *passed, *vocabulary, *numbers, *others, *body, *provenance, *errors]


def _read_text(name: str, columns: Sequence[str]) -> pl.Expr:
    """An identifier or place cell: trimmed, empty as missing."""
    if name not in columns:
        return pl.lit(None, pl.String)
    cell = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(cell == "").then(None).otherwise(cell)


def _trimmed(name: str) -> str:
    """The internal column holding number column ``name``'s cell as trimmed text."""
    return f"{INTERNAL_PREFIX}s_{name}"


def _trim(name: str, dtype: pl.DataType) -> pl.Expr:
    """A number cell as trimmed text (typed numbers as they are written)."""
    cell = pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)
    return cell.str.strip_chars()


def _given(name: str) -> pl.Expr:
    """True where the input gives a cell in number column ``name`` (read or not)."""
    cell = pl.col(_trimmed(name))
    return cell.is_not_null() & (cell != "")

def _position(grouped: bool) -> pl.Expr:
    """1, 2, ... over each shipment's rows in input order. Files usually keep a shipment's rows
    together: then positions are counted along runs, which is much cheaper than grouping."""
    shipment = pl.col(out("shipment_id"))
    if not grouped:
        return pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(shipment)  # rows without an id too
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    run_start = pl.when(shipment.rle_id().diff().fill_null(1) != 0).then(row).forward_fill()
    return row - run_start + 1


# ---------------------------------------------------------------------- NumPy helpers

def _strip(values: list) -> np.ndarray:
    """Text cells trimmed, empty as missing (as ``_read_text``)."""
    stripped = [None if v is None else v.strip() for v in values]
    return np.array([None if v == "" else v for v in stripped], object)


def _occurrence(shipments: list) -> np.ndarray:
    """1, 2, ... over each shipment's rows in input order (as ``_position``), on trimmed ids."""
    seen: dict = {}
    positions = np.empty(len(shipments), float)
    for i, s in enumerate(_strip(shipments)):
        seen[s] = seen.get(s, 0) + 1
        positions[i] = seen[s]
    return positions


def _array(values: list, dtype) -> np.ndarray:
    """Store values of type ``dtype`` as an array: floats (NaN missing), booleans, or objects."""
    if dtype == pl.Float64:
        return np.array([np.nan if v is None else v for v in values], float)
    if dtype == pl.Boolean:
        return np.array([bool(v) for v in values], bool)
    return np.array(values, object)


def _values(values, dtype):
    """An array of the NumPy path as the values of a result column (NaN, None: missing)."""
    if dtype == pl.Float64:
        return np.asarray(values, float)
    if dtype == pl.Int64:
        return [None if v != v else int(v) for v in np.asarray(values, float).tolist()]
    return values.tolist() if isinstance(values, np.ndarray) else list(values)
