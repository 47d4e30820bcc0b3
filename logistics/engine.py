"""The vectorised transport-chain engine (GLEC Framework v3.0 / ISO 14083).

For every transport chain element (TCE):
    transport leg, activity-based:  E_x = tkm × EI_TOC,x × DAF × adjustment     (x = TTW, WTT, WTW)
    transport leg, container:       E_x = TEU × km × EI_TOC,x per TEU-km × DAF
    transport leg, measured fuel:   E_x = fuel × EF_x
    hub:                            E_x = outbound t (or TEU) × EI_HOC,x
    shipment:                       Σ over its TCEs; intensity = E_WTW / Σ tkm
(GLEC Framework v3.0 pp.20–27). Factors are resolved once per distinct key (descriptor combination,
TOC id, fuel) and joined back to the legs; nothing loops over legs in Python.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Callable, Mapping

import polars as pl

from . import factors as F
from .io import InputError, drop_raw, open_legs, read_legs, read_table, typed_columns
from .matching import match_rows
from .japan import JP_METHODS
from .model import DISTANCE_TYPES, FUEL_UNITS, LEG_COLUMNS, MODES, TEMPERATURE_CONTROLS, TRANSPORT_MODES, fuel_unit_table

METHODS = ("activity", "toc", "fuel", "hub", *JP_METHODS)
MAX_MASS_KG = 1e9  # 1,000,000 t: anything above is a unit mistake
MAX_DISTANCE_KM = 50_000.0
MAX_TEU = 1e6
MAX_DAF = 10.0
# Unit changes multiply by the reciprocal: polars divides a column of two rows or more by a number
# that way but a one-row column exactly, so a leg would differ in the last bit between a request
# and a file. Multiplying gives the same bits for any length (and logistics.small matches them).
T_PER_KG = 1 / 1000
FACTOR_COLUMNS = {
    "factor_id": pl.String,
    "factor_pack": pl.String,
    "factor_source": pl.String,
    "factor_source_page": pl.String,
    "fuel_factor_id": pl.String,
    "data_type": pl.String,
    "basis": pl.String,  # tkm | teu_km | fuel | t | teu: what the factor is per
    "fx_ttw": pl.Float64,  # kg CO2e per unit of basis
    "fx_wtt": pl.Float64,
    "fx_wtw": pl.Float64,
    "factor_multiplier": pl.Float64,
    "adjustment_ids": pl.String,
    "factor_error": pl.String,
}


@dataclass
class Result:
    """Per-leg results (input columns + distance, activity, factor provenance, emissions, error) and
    per-shipment totals."""

    legs: pl.DataFrame
    pack: F.Pack

    @cached_property
    def shipments(self) -> pl.DataFrame:
        """Totals per shipment, summed when first asked for (a batch run sums its own partials)."""
        return shipments(self.legs)

    def summary(self) -> dict[str, Any]:
        """Rows computed and rejected (by the column named first in the error), totals in t CO2e."""
        from .batch import Report

        report = Report()
        report.add(self.legs)
        report.shipments = self.shipments.height
        return report.as_dict()


DistanceResolver = Callable[..., pl.DataFrame]


def calculate(
    legs,
    pack: str | F.Pack = F.DEFAULT_PACK,
    *,
    tocs=None,
    hocs=None,
    defaults: Mapping[str, str] | None = None,
    daf: Mapping[str, float] | None = None,
    distance_resolver: DistanceResolver | None | bool = True,
    jp_pack: str | F.Pack = "jp-guideline",
    mix_japanese: bool = False,
    decimal_comma: bool | None = False,
) -> Result:
    """Emissions of every leg and shipment.

    legs: a polars or pandas DataFrame, or a CSV/Parquet path (columns: see ``logistics.model``).
    pack: a shipped pack name (``glec-v3.0``, ``desnz-2025``) or a pack directory.
    tocs / hocs: the carrier's own TOC / HOC tables (same schema as the pack's), used by ``toc_id`` /
        ``hoc_id``; a frame or a CSV/Parquet path.
    defaults: descriptor values for legs that give none, e.g. ``{"region": "EU"}``.
    daf: per-mode distance adjustment factor overriding the pack's for distances not given as actual.
    distance_resolver: how legs without ``distance_km`` get one (default: ``logistics.geo``);
        ``None``/``False`` makes them row errors.
    jp_pack: the pack of the Japanese methods, used by legs whose ``method`` is ``jp_*``. Their
        result is CO2 tank-to-wheel (``jp_co2_ttw_kg``), not CO2e, and stays out of the CO2e
        columns and totals unless ``mix_japanese=True`` asks for it explicitly.
    decimal_comma: the decimal mark of numbers given as text in a frame: False (a point, as Python
        writes them), True (a comma), None (either: see ``logistics.io.parse_number``). A file's is
        detected (``logistics.io.open_legs``).
    """
    pack = F.load_pack(pack)
    if isinstance(legs, (str, os.PathLike)):
        with open_legs(legs) as legs_file:
            raw, decimal_comma = legs_file.read(), legs_file.decimal_comma
    else:
        raw = read_legs(legs)
    df = _normalise(raw, defaults or {}, pack, decimal_comma)
    df = _distances(df, pack, daf or {}, distance_resolver)
    df = _activity(df, pack)
    df = resolve_factors(df, pack, *own_tables(pack, tocs, hocs))
    df = _emissions(df, pack)
    if df["method"].is_in(list(JP_METHODS)).any():
        jp_pack = _cached(pack, ("jp", str(jp_pack)), lambda: F.load_pack(jp_pack))
    df = _japanese(df, jp_pack, mix_japanese)
    return Result(legs=_finish(df, raw.columns), pack=pack)


# --------------------------------------------------------------------------------------------
# Input normalisation and row checks
#
# The vocabulary columns (mode, vehicle, region, ...) take few distinct values in any file, so
# their reading (trim, case, synonyms), their checks, the method a leg gets and the defaults it
# relies on are worked out once per distinct combination (a "vocabulary key") and joined back;
# only numbers and identifiers are read row by row.

# Text columns that identify a row; every other text leg column is vocabulary.
ROW_TEXT_COLUMNS = ("shipment_id", "leg_id", "origin", "destination")
VOCABULARY = tuple(c for c, t in LEG_COLUMNS.items() if t == pl.String and c not in ROW_TEXT_COLUMNS)
# Row facts the vocabulary-key work depends on (the method a leg defaults to, assumed vehicle).
KEY_ROW_FLAGS = {"_has_fuel": pl.col("fuel_amount").is_not_null(), "_has_teu": pl.col("teu").is_not_null()}


def _normalise(raw: pl.DataFrame, defaults: Mapping[str, str], pack: F.Pack, decimal_comma: bool | None = False) -> pl.DataFrame:
    missing = [c for c in ("shipment_id", "mode") if c not in raw.columns]
    if "mass_kg" not in raw.columns and "teu" not in raw.columns:
        missing.append("mass_kg (or teu)")
    if missing:
        raise InputError(
            f"missing required column(s): {', '.join(missing)}. Expected header (optional columns may be"
            f" left out): {','.join(LEG_COLUMNS)}"
        )
    unknown = [name for name in defaults if name not in LEG_COLUMNS]
    if unknown:
        raise InputError(f"defaults: unknown column {unknown[0]!r}")
    schema = tuple(raw.schema.items())
    cols, parse_checks = _reading_plan(schema, decimal_comma)
    vocabulary = [c for c in VOCABULARY if c in raw.columns]
    df = raw.with_row_index("_leg").with_columns(_error=pl.lit(None, pl.String))
    df = drop_raw(add_errors(df.with_columns(cols), parse_checks))
    row_defaults = [pl.col(n).fill_null(pl.lit(v).cast(LEG_COLUMNS[n])) for n, v in defaults.items() if n not in VOCABULARY]
    if row_defaults:
        df = df.with_columns(row_defaults)
    df = df.with_columns(leg_seq=pl.col("leg_seq").fill_null(_position_in_shipment(df)), **KEY_ROW_FLAGS).with_columns(
        leg_id=pl.col("leg_id").fill_null(pl.col("shipment_id") + "-" + pl.col("leg_seq").cast(pl.String)),
        _k=pl.struct(*vocabulary, *KEY_ROW_FLAGS).hash(seed=0),
    )
    known = vocabulary_keys(df.select("_k", *vocabulary, *KEY_ROW_FLAGS), schema, defaults, pack)
    df = df.drop(*vocabulary, *KEY_ROW_FLAGS).join(known, on="_k", how="left", maintain_order="left").drop("_k")
    df = merge_errors(df, "_key_error").drop("_key_error")
    # generated leg ids are unique by construction; given ones are checked
    return add_errors(df, _row_checks(leg_ids_given="leg_id" in raw.columns or "leg_seq" in raw.columns))


def _position_in_shipment(df: pl.DataFrame) -> pl.Expr:
    """1, 2, ... over each shipment's rows in file order. Files usually keep a shipment's rows
    together: then positions are counted along runs, which is much cheaper than grouping."""
    shipment = pl.col("shipment_id")
    runs, shipments = df.select((shipment.rle_id().max().fill_null(-1) + 1).alias("runs"), shipment.n_unique().alias("n")).row(0)
    if runs != shipments:
        return shipment.cum_count().over("shipment_id").cast(pl.Int64)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    run_start = pl.when(shipment.rle_id().diff().fill_null(1) != 0).then(row).forward_fill()
    return row - run_start + 1


# Expressions are built once per input schema: building them costs more than running them on a
# small request.
@lru_cache(maxsize=64)
def _reading_plan(schema: tuple, decimal_comma: bool | None) -> tuple[list[pl.Expr], list[tuple[pl.Expr, pl.Expr]]]:
    """Reading of the row columns (numbers, identifiers); the vocabulary is read per key."""
    row_columns = {c: t for c, t in LEG_COLUMNS.items() if c not in VOCABULARY}
    columns, checks = typed_columns(pl.DataFrame(schema=dict(schema)), row_columns, decimal_comma=decimal_comma)
    if "jp_input_error" in dict(schema):  # cells logistics.japan.read_japanese_csv could not read
        checks.insert(0, (pl.col("jp_input_error").is_not_null(), pl.col("jp_input_error")))
    return columns, checks


def vocabulary_keys(keys: pl.DataFrame, schema: tuple, defaults: Mapping[str, str], pack: F.Pack) -> pl.DataFrame:
    """Per vocabulary key ``_k`` (the hash of the raw vocabulary cells and KEY_ROW_FLAGS): the
    vocabulary read and defaulted, the method, the assumption flags, ``_kf`` (hash of the
    factor-relevant descriptors) and ``_key_error``. Keys seen before (same input schema and
    defaults) come from the pack's cache."""
    cache_key = ("vocabulary", tuple(sorted((c, str(t)) for c, t in schema if c in VOCABULARY)), tuple(sorted(defaults.items())))
    known = pack.cache.get(cache_key)
    new = keys if known is None else keys.join(known.select("_k"), on="_k", how="anti")
    if known is not None and not new.height:
        return known
    new = new.unique("_k")
    cols, _ = typed_columns(new, {c: LEG_COLUMNS[c] for c in VOCABULARY})
    k = new.with_columns(cols)
    vocabulary_defaults = {n: str(v) for n, v in defaults.items() if n in VOCABULARY}
    if vocabulary_defaults:  # read like the column they fill (trimmed, cased)
        given = pl.DataFrame({n: [v] for n, v in vocabulary_defaults.items()})
        read = given.select(typed_columns(given, dict.fromkeys(vocabulary_defaults, pl.String))[0]).row(0, named=True)
        k = k.with_columns(pl.col(n).fill_null(pl.lit(v, pl.String)) for n, v in read.items())
    k = k.with_columns(method=pl.col("method").fill_null(
        pl.when(pl.col("mode") == "hub").then(pl.lit("hub"))
        .when(pl.col("_has_fuel")).then(pl.lit("fuel"))
        .when(pl.col("toc_id").is_not_null()).then(pl.lit("toc"))
        .otherwise(pl.lit("activity"))
    ))
    checks = _key_checks()
    flags, fills = key_assumptions()
    k = k.with_columns(
        _key_error=pl.concat_str([pl.when(c.fill_null(False)).then(m) for c, m in checks], separator="; ", ignore_nulls=True)
        .replace("", None),
        **flags,
    ).with_columns(fills)
    k = k.with_columns(_kf=pl.struct(FACTOR_KEY_COLUMNS_BUT_FLIGHT).hash(seed=0)).select(
        "_k", *VOCABULARY, "_key_error", *flags, "_kf")
    known = k if known is None else pl.concat([known, k])
    if known.height <= MAX_CACHED_KEYS and (cache_key in pack.cache or len(pack.cache) < MAX_CACHE_ENTRIES):
        pack.cache[cache_key] = known
    return known


@lru_cache(maxsize=1)
def _key_checks() -> list[tuple[pl.Expr, pl.Expr]]:
    """(condition, message) for the rules on a leg's vocabulary; each message names the column and
    the value. (logistics.small uses their outcome per key, ``_key_error``.)"""
    mode = pl.col("mode")
    method = pl.col("method")
    return [
        (mode.is_null(), pl.lit("mode: missing")),
        (~mode.is_in(MODES), pl.format(f"mode: '{{}}' is not one of {', '.join(MODES)}", "mode")),
        (~pl.col("distance_type").is_in(DISTANCE_TYPES),
         pl.format(f"distance_type: '{{}}' is not one of {', '.join(DISTANCE_TYPES)}", "distance_type")),
        (~method.is_in(METHODS), pl.format(f"method: '{{}}' is not one of {', '.join(METHODS)}", "method")),
        ((method == "hub") != (mode == "hub"), pl.lit("method: hub goes with mode hub only")),
        (~pl.col("temperature_control").is_in(TEMPERATURE_CONTROLS),
         pl.format(f"temperature_control: '{{}}' is not one of {', '.join(TEMPERATURE_CONTROLS)}", "temperature_control")),
        ((method == "fuel") & ~pl.col("_has_fuel"), pl.lit("fuel_amount: missing for method fuel")),
        ((method == "fuel") & pl.col("fuel_unit").is_null(), pl.lit("fuel_unit: missing for fuel_amount")),
        (~pl.col("fuel_unit").is_in(list(FUEL_UNITS)), pl.format(f"fuel_unit: '{{}}' is not one of {', '.join(FUEL_UNITS)}", "fuel_unit")),
        ((method == "fuel") & pl.col("energy_carrier").is_null(), pl.lit("energy_carrier: missing for fuel_amount")),
        ((method == "toc") & pl.col("toc_id").is_null(), pl.lit("toc_id: missing for method toc")),
        ((mode == "hub") & pl.col("hub_type").is_null() & pl.col("hoc_id").is_null(),
         pl.lit("hub_type: missing (give hub_type or hoc_id)")),
    ]


@lru_cache(maxsize=2)
def _row_checks(leg_ids_given: bool) -> list[tuple[pl.Expr, pl.Expr]]:
    """(condition, message) for the rules on a leg's numbers and identifiers. logistics.small
    repeats their conditions (``SmallCalculator._computable``): change both."""
    checks = [
        (pl.col("shipment_id").is_null(), pl.lit("shipment_id: missing")),
        (pl.col("mass_kg").is_null() & pl.col("teu").is_null(), pl.lit("mass_kg: missing (give mass_kg or teu)")),
        (pl.col("mass_kg") <= 0, pl.format("mass_kg: {} must be greater than 0", "mass_kg")),
        (pl.col("mass_kg") > MAX_MASS_KG, pl.format("mass_kg: {} is over 1,000,000 t", "mass_kg")),
        (pl.col("teu") <= 0, pl.format("teu: {} must be greater than 0", "teu")),
        (pl.col("teu") > MAX_TEU, pl.format("teu: {} is over 1,000,000", "teu")),
        (pl.col("mode").is_in(TRANSPORT_MODES) & (pl.col("distance_km") <= 0),
         pl.format("distance_km: {} must be greater than 0", "distance_km")),
        (pl.col("distance_km") > MAX_DISTANCE_KM, pl.format("distance_km: {} is over 50,000 km", "distance_km")),
        ((pl.col("daf") <= 0) | (pl.col("daf") > MAX_DAF), pl.format("daf: {} is not between 0 and 10", "daf")),
        (pl.col("fuel_amount") < 0, pl.format("fuel_amount: {} is negative", "fuel_amount")),
    ]
    if leg_ids_given:
        checks.append((pl.struct("shipment_id", "leg_id").is_duplicated() & pl.col("shipment_id").is_not_null(),
                       pl.format("leg_id: '{}' appears more than once in shipment '{}'", "leg_id", "shipment_id")))
    return checks


@lru_cache(maxsize=1)
def key_assumptions() -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
    """Built-in defaults: flags saying which keys rely on them (see _assumptions; logistics.small
    reads the flags), and the fills."""
    mode, method_activity = pl.col("mode"), pl.col("method") == "activity"
    assumed = {
        "_a_temperature": (pl.col("temperature_control").is_null() & mode.is_not_null(), "temperature_control", "ambient"),
        "_a_load": (pl.col("load_type").is_null() & mode.is_in(["road", "rail"]) & method_activity, "load_type", "average"),
        "_a_vehicle": (pl.col("vehicle").is_null() & (mode == "sea") & pl.col("_has_teu") & method_activity,
                       "vehicle", "container_ship"),
    }
    flags = {flag: cond for flag, (cond, _, _) in assumed.items()}
    fills = [pl.when(pl.col(flag)).then(pl.lit(val)).otherwise(pl.col(col)).alias(col) for flag, (_, col, val) in assumed.items()]
    return flags, fills


def add_errors(df: pl.DataFrame, checks: list[tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """Append "column: reason" messages to ``_error`` for the rows failing each check. Conditions
    are evaluated on every row; messages are built only for failing rows (most rows pass)."""
    if not checks:
        return df
    new = df.filter(pl.any_horizontal(c.fill_null(False) for c, _ in checks)).select(
        "_leg", pl.concat_str([pl.when(c.fill_null(False)).then(m) for c, m in checks], separator="; ", ignore_nulls=True).alias("_new")
    )
    if not new.height:
        return df
    return merge_errors(df.join(new, on="_leg", how="left"), "_new").drop("_new")


def merge_errors(df: pl.DataFrame, column: str) -> pl.DataFrame:
    """``_error`` = ``_error; <column>`` (either may be null)."""
    return df.with_columns(_error=pl.when(pl.col(column).is_null()).then(pl.col("_error"))
                           .when(pl.col("_error").is_null()).then(pl.col(column))
                           .otherwise(pl.col("_error") + "; " + pl.col(column)))


def pack_label(pack: F.Pack) -> str:
    return f"{pack.name}@{pack.version}"


def _with_own(pack: F.Pack, table: str, own) -> pl.DataFrame:
    """The pack's table, with the carrier's own rows first; ids must not collide."""
    base = pack.table(table).with_columns(_pack=pl.lit(pack_label(pack)))
    if own is None:
        return base
    key = F.KEYS[table][0]
    raw = read_table(own)
    own_df = F.conform_table(raw.with_columns(pl.col(c).cast(pl.String) for c in raw.columns), table, f"own {table}")
    clash = own_df.join(base, on=key, how="semi")
    if clash.height:
        raise InputError(f"own {table}: {key} {clash[key][0]!r} is also in pack {pack.name}; use another id")
    label = str(own) if isinstance(own, (str, os.PathLike)) else f"own {table}"
    return pl.concat([own_df.with_columns(_pack=pl.lit(label)), base], how="vertical_relaxed")


# --------------------------------------------------------------------------------------------
# Distances and activity


# The pack parameter holding each mode's DAF on GCD distances (air: air_gcd_added_km instead).
GCD_DAF_PARAMETERS = {"road": "road_gcd_daf", "rail": "rail_gcd_daf", "inland_waterway": "inland_waterway_gcd_daf",
                      "sea": "sea_gcd_daf", "air": "air_gcd_added_km"}


def daf_rule(pack: F.Pack | None, overrides: Mapping[str, float]) -> pl.Expr:
    """DAF of a leg from its ``mode``, ``distance_type`` and ``distance_km`` (GLEC v3.0 §2): 1 for
    actual and SFD distances; on GCD, air adds ``air_gcd_added_km`` (95 km, p.38), sea multiplies by
    ``sea_gcd_daf`` (1.15, p.51) and road, rail and inland waterway by the pack's ``<mode>_gcd_daf``.
    ``overrides`` (mode -> DAF, ≥ 1) replace the pack's value for GCD legs. Null where neither gives
    one: the leg then gets an error instead of a guess."""
    for mode, value in overrides.items():
        if mode not in MODES[:-1]:
            raise InputError(f"daf: {mode!r} is not one of {', '.join(MODES[:-1])}")
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 1.0):
            raise InputError(f"daf[{mode!r}]: {value!r} is not a number >= 1")
    parameter = (lambda name: pack.parameter(name)) if pack is not None else (lambda name: None)
    gcd = pl.col("distance_type") == "gcd"
    expr = pl.when(pl.col("distance_type").is_in(["actual", "sfd"]) | pl.col("distance_type").is_null()).then(1.0)
    air_km = parameter("air_gcd_added_km")
    expr = expr.when(gcd & (pl.col("mode") == "air")).then(
        pl.lit(float(overrides["air"])) if "air" in overrides
        else ((pl.col("distance_km") + air_km) / pl.col("distance_km")) if air_km is not None else pl.lit(None, pl.Float64)
    )
    for mode in ("sea", "road", "rail", "inland_waterway"):
        value = overrides.get(mode, parameter(GCD_DAF_PARAMETERS[mode]))
        expr = expr.when(gcd & (pl.col("mode") == mode)).then(pl.lit(value, pl.Float64))
    return expr.otherwise(1.0)


def _distances(df: pl.DataFrame, pack: F.Pack, overrides: Mapping[str, float], resolver) -> pl.DataFrame:
    is_hub = pl.col("mode") == "hub"
    df = df.with_columns(
        distance_km=pl.when(is_hub).then(0.0).otherwise(pl.col("distance_km")),
        distance_type=pl.when(is_hub).then(None).when(pl.col("distance_km").is_not_null())
        .then(pl.col("distance_type").fill_null("actual")),
        distance_source=pl.when(is_hub).then(None).when(pl.col("distance_km").is_not_null()).then(pl.lit("given")),
    )
    need = df.filter(pl.col("distance_km").is_null() & ~is_hub & pl.col("mode").is_in(MODES) & pl.col("_error").is_null())
    if need.height:
        if resolver is True:
            from . import geo

            resolver = geo.resolve_distances
        if resolver:
            got = resolver(
                need.select("_leg", "mode", "origin", "destination", "origin_lat", "origin_lon", "destination_lat", "destination_lon"),
                pack=pack, daf=overrides,
            )
            got = got.select("_leg", pl.col("distance_km").alias("_d"), pl.col("distance_type").alias("_dt"),
                             pl.col("distance_source").alias("_ds"), pl.col("distance_error").alias("_de"))
            df = merge_errors(df.join(got, on="_leg", how="left"), "_de").with_columns(
                distance_km=pl.coalesce("distance_km", "_d"),
                distance_type=pl.coalesce("distance_type", "_dt"),
                distance_source=pl.coalesce("distance_source", "_ds"),
            ).drop("_d", "_dt", "_ds", "_de")
    df = df.with_columns(daf=pl.when(is_hub).then(None).otherwise(pl.col("daf").fill_null(daf_rule(pack, overrides))))
    return add_errors(df, [
        (pl.col("distance_km").is_null() & ~is_hub & pl.col("_error").is_null(),
         pl.lit("distance_km: missing, and origin/destination could not give one")),
        (pl.col("daf").is_null() & ~is_hub & pl.col("distance_km").is_not_null(),
         pl.format("daf: no DAF for {} distances on mode {} (pack parameter '{}' missing); give daf or an actual distance",
                   "distance_type", "mode", pl.col("mode").replace_strict(GCD_DAF_PARAMETERS, default=None))),
    ])


def _activity(df: pl.DataFrame, pack: F.Pack) -> pl.DataFrame:
    """mass in t, TEU, tkm and TEU-km; mass from TEU (or TEU from mass) with GLEC's 10 t/TEU when only
    one is known (GLEC v3.0 p.21, p.153), recorded as an assumption."""
    t_per_teu = pack.parameter("teu_mass_t_average", 10.0)
    short_max = pack.parameter("flight_short_haul_max_km", 1500.0)
    df = df.with_columns(
        mass_t=pl.coalesce(pl.col("mass_kg") * T_PER_KG, pl.col("teu") * t_per_teu),
        _a_mass=pl.col("mass_kg").is_null() & pl.col("teu").is_not_null(),
        flight_length=pl.when((pl.col("mode") == "air") & pl.col("flight_length").is_null() & pl.col("distance_km").is_not_null())
        .then(pl.when(pl.col("distance_km") < short_max).then(pl.lit("short_haul")).otherwise(pl.lit("long_haul")))
        .otherwise(pl.col("flight_length")),
    )
    return df.with_columns(
        tkm=pl.when(pl.col("mode") != "hub").then(pl.col("mass_t") * pl.col("distance_km")),
        _teu_eff=pl.coalesce("teu", pl.col("mass_t") * (1 / t_per_teu)),
    )


# --------------------------------------------------------------------------------------------
# Factor resolution: one row per leg with FACTOR_COLUMNS, computed per distinct key.


# The columns a leg's factor depends on (all methods together): legs equal in these and in method
# share one factor lookup.
FACTOR_KEY_COLUMNS = tuple(dict.fromkeys(
    ("method", *F.TOC_DESCRIPTORS, "toc_id", "fuel_unit", "fuel_region", "hoc_id", *F.HOC_DESCRIPTORS)))
# All but flight_length are fixed per vocabulary key (hashed there as ``_kf``); an air leg's flight
# length may come from its distance.
FACTOR_KEY_COLUMNS_BUT_FLIGHT = tuple(c for c in FACTOR_KEY_COLUMNS if c != "flight_length")


def resolve_factors(df: pl.DataFrame, pack: F.Pack, tocs: pl.DataFrame, hocs: pl.DataFrame, own) -> pl.DataFrame:
    """``df`` with FACTOR_COLUMNS: resolved once per distinct factor key (and kept on the pack for
    later calls with the same own tables), joined back on the key's hash."""
    df = df.with_columns(_fkey=pl.when(pl.col("_error").is_null()).then(pl.struct("_kf", "flight_length").hash(seed=0))).drop("_kf")
    empty = pl.DataFrame(schema={"_fkey": pl.UInt64, **FACTOR_COLUMNS})
    known = pack.cache.get(("factors", own), empty) if own is not None else empty
    keys = (df.filter(pl.col("_fkey").is_not_null()).join(known.select("_fkey"), on="_fkey", how="anti")
            .group_by("_fkey").agg(pl.col(FACTOR_KEY_COLUMNS).first()).rename({"_fkey": "_id"}))
    if keys.height:
        parts = [
            _activity_factors(keys.filter(pl.col("method") == "activity"), pack, tocs),
            _toc_factors(keys.filter(pl.col("method") == "toc"), tocs),
            fuel_factors(keys.filter(pl.col("method") == "fuel"), pack, pack.table("fuels")),
            _hub_factors(keys.filter(pl.col("method") == "hub"), hocs),
        ]
        parts = [p.select(pl.col("_id").alias("_fkey"), *[pl.col(c).cast(t) for c, t in FACTOR_COLUMNS.items()]) for p in parts if p.height]
        known = pl.concat([known, *parts])
        if own is not None and known.height <= MAX_CACHED_KEYS:
            pack.cache[("factors", own)] = known
    return df.join(known, on="_fkey", how="left").drop("_fkey")


MAX_CACHED_KEYS = 100_000  # distinct keys kept per pack and table; a file with more is resolved batch by batch
MAX_CACHE_ENTRIES = 64  # tables kept per pack (one per own-table signature, input schema and defaults)


def own_signature(*own) -> tuple | None:
    """What identifies the carrier's own tables between calls (a path and its modification time),
    or None when they cannot be identified (frames): their work is then not kept."""
    signature = []
    for o in own:
        if o is None:
            signature.append(None)
        elif isinstance(o, (str, os.PathLike)) and os.path.exists(o):
            signature.append((str(o), os.path.getmtime(o)))
        else:
            return None
    return tuple(signature)


def own_tables(pack: F.Pack, tocs, hocs) -> tuple[pl.DataFrame, pl.DataFrame, tuple | None]:
    """The TOC and HOC tables legs are resolved against (the carrier's own rows first), and the
    signature their cached work is kept under."""
    own = own_signature(tocs, hocs)
    toc_table = _cached(pack, ("tocs", own), lambda: _materialise_energy_tocs(_with_own(pack, "tocs", tocs), pack.table("fuels")))
    hoc_table = _cached(pack, ("hocs", own), lambda: _with_own(pack, "hocs", hocs))
    return toc_table, hoc_table, own


def _cached(pack: F.Pack, key: tuple, make):
    if key[-1] is None:
        return make()
    if key not in pack.cache:
        pack.cache[key] = make()
    return pack.cache[key]


def _toc_columns(tocs: pl.DataFrame) -> list[pl.Expr]:
    """Factor columns from a (materialised) TOC row: per tkm when given, else per TEU-km."""
    per_tkm = pl.col("wtw_g_co2e_per_tkm").is_not_null()
    per_teu = pl.col("wtw_g_co2e_per_teu_km").is_not_null()
    pick = lambda x: pl.when(per_tkm).then(pl.col(f"{x}_g_co2e_per_tkm")).otherwise(pl.col(f"{x}_g_co2e_per_teu_km")) * T_PER_KG
    return [
        pl.col("toc_id").alias("factor_id"),
        pl.col("_pack").alias("factor_pack"),
        pl.col("source").alias("factor_source"),
        pl.col("source_page").alias("factor_source_page"),
        pl.col("_fuel_factor_id").alias("fuel_factor_id"),
        pl.col("data_type"),
        pl.when(per_tkm).then(pl.lit("tkm")).when(per_teu).then(pl.lit("teu_km")).alias("basis"),
        pick("ttw").alias("fx_ttw"),
        pick("wtt").alias("fx_wtt"),
        pick("wtw").alias("fx_wtw"),
        pl.when(~per_tkm & ~per_teu).then(pl.format("factor {}: has no WTW intensity", "toc_id")).alias("_row_error"),
    ]


def _materialise_energy_tocs(tocs: pl.DataFrame, fuels: pl.DataFrame) -> pl.DataFrame:
    """TOC rows given as energy per tkm (e.g. kWh/tkm for battery-electric trucks, l/tkm from a
    carrier's fuel records) become g CO2e/tkm with the fuel factor of the row's first region."""
    tocs = tocs.with_columns(_fuel_factor_id=pl.lit(None, pl.String))
    energy = tocs.filter(pl.col("wtw_g_co2e_per_tkm").is_null() & pl.col("energy_per_tkm").is_not_null())
    if not energy.height:
        return tocs
    keys = energy.select(
        "toc_id", "energy_carrier", pl.col("energy_unit").alias("_unit"),
        pl.col("region").str.split("|").list.first().alias("_fuel_region"), pl.lit(False).alias("_explicit"),
    )
    f = _fuel_lookup(keys, fuels)
    energy = energy.join(f.select("toc_id", "factor_id", "ttw", "wtt", "wtw"), on="toc_id", how="left").with_columns(
        ttw_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("ttw") * 1000,
        wtt_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("wtt") * 1000,
        wtw_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("wtw") * 1000,
        _fuel_factor_id=pl.col("factor_id"),
    ).select(tocs.columns)
    return pl.concat([tocs.join(energy, on="toc_id", how="anti"), energy])


def _activity_factors(keys: pl.DataFrame, pack: F.Pack, tocs: pl.DataFrame) -> pl.DataFrame:
    """Default TOC per distinct key (``_id`` + descriptors), chosen by ``matching.match_rows``."""
    if not keys.height:
        return keys
    d = list(F.TOC_DESCRIPTORS)
    # Descriptor matching uses the pack's rows only; a carrier's own TOCs are chosen by toc_id.
    pack_rows = tocs.filter(pl.col("_pack") == pack_label(pack))
    matched = match_rows(keys.select("_id", *d), pack_rows, F.TOC_DESCRIPTORS, "toc_id", pack.table("adjustments"))
    matched = matched.with_columns(match_error=_explain_no_match(matched, pack_rows, pack))
    info = matched.join(tocs, left_on="match_id", right_on="toc_id", how="left", suffix="_toc").with_columns(toc_id=pl.col("match_id"))
    return info.with_columns(_toc_columns(info)).select(
        "_id", *FACTOR_COLUMNS.keys() - {"factor_multiplier", "adjustment_ids", "factor_error"},
        pl.col("multiplier").alias("factor_multiplier"), "adjustment_ids",
        pl.coalesce("match_error", "_row_error").alias("factor_error"),
    )


def _explain_no_match(matched: pl.DataFrame, tocs: pl.DataFrame, pack: F.Pack) -> pl.Series:
    """A readable reason per failed key (a loop over distinct failed keys only, an error path)."""
    from .matching import explode_alternatives

    rows = explode_alternatives(tocs, F.TOC_DESCRIPTORS)
    out = []
    for key in matched.iter_rows(named=True):
        if key["match_error"] is None:
            out.append(None)
            continue
        if key["match_error"] != "no match":
            out.append(f"factor: {key['match_error']} in pack {pack.name}; give more descriptors or a toc_id")
            continue
        given = ", ".join(f"{k}={key[k]}" for k in F.TOC_DESCRIPTORS if key[k] is not None)
        cand = rows
        reason = ""
        for k in F.TOC_DESCRIPTORS:
            narrowed = cand.filter(pl.col(k).is_null() | (pl.col(k) == key[k] if key[k] is not None else False))
            if not narrowed.height:
                known = sorted(v for v in cand[k].unique().to_list() if v is not None)
                reason = f"; {k} '{key[k]}' has no row (known: {', '.join(known[:20])})" if key[k] is not None else f"; {k} is needed (one of: {', '.join(known[:20])})"
                break
            cand = narrowed
        out.append(f"factor: no default in pack {pack.name} for {given}{reason}")
    return pl.Series(out, dtype=pl.String)


def _toc_factors(keys: pl.DataFrame, tocs: pl.DataFrame) -> pl.DataFrame:
    if not keys.height:
        return keys
    info = tocs.select(pl.col("toc_id").alias("_toc"), *_toc_columns(tocs))
    out = keys.select("_id", "toc_id").join(info, left_on="toc_id", right_on="_toc", how="left")
    return out.with_columns(
        factor_multiplier=pl.lit(1.0),
        adjustment_ids=pl.lit(None, pl.String),
        factor_error=pl.when(pl.col("factor_id").is_null()).then(pl.format("toc_id: '{}' is not in the TOC table", "toc_id"))
        .otherwise(pl.col("_row_error")),
    )


def _fuel_lookup(keys: pl.DataFrame, fuels: pl.DataFrame) -> pl.DataFrame:
    """Fuel factor per key (energy_carrier, _unit, _fuel_region, _explicit). Where the pack has no row
    for the region and the region was not given explicitly as fuel_region, GLEC's rule applies: the
    higher of the regional values (GLEC v3.0 p.76)."""
    f = fuels.select("energy_carrier", pl.col("unit").alias("_unit"), "fuel_region", "factor_id", "source", "source_page",
                     pl.col("ttw_kg_co2e_per_unit").alias("ttw"), pl.col("wtt_kg_co2e_per_unit").alias("wtt"),
                     pl.col("wtw_kg_co2e_per_unit").alias("wtw"))
    exact = keys.join(f, left_on=["energy_carrier", "_unit", "_fuel_region"], right_on=["energy_carrier", "_unit", "fuel_region"], how="left")
    highest = f.sort("wtw", descending=True).unique(["energy_carrier", "_unit"], keep="first").drop("fuel_region")
    fallback = keys.join(highest, on=["energy_carrier", "_unit"], how="left")
    use_fallback = pl.col("factor_id").is_null() & ~pl.col("_explicit")
    out = exact.with_columns(
        *(pl.when(use_fallback).then(fallback[c]).otherwise(pl.col(c)).alias(c)
          for c in ("factor_id", "source", "source_page", "ttw", "wtt", "wtw")),
        _fell_back=use_fallback & fallback["factor_id"].is_not_null(),
    )
    units = f.group_by("energy_carrier").agg(pl.col("_unit").unique().sort().str.join(", ").alias("_units"))
    return out.join(units, on="energy_carrier", how="left").with_columns(
        _fuel_error=pl.when(pl.col("factor_id").is_null() & pl.col("_units").is_null())
        .then(pl.format("energy_carrier: '{}' has no fuel factor", "energy_carrier"))
        .when(pl.col("factor_id").is_null() & ~pl.col("_units").str.contains(pl.col("_unit"), literal=True))
        .then(pl.format("fuel_unit: no factor for {} per {} (available: {})", "energy_carrier", "_unit", "_units"))
        .when(pl.col("factor_id").is_null())
        .then(pl.format("fuel_region: no factor for {} in region {}", "energy_carrier", "_fuel_region")),
    )


def fuel_factors(legs: pl.DataFrame, pack: F.Pack, fuels: pl.DataFrame) -> pl.DataFrame:
    """Fuel factor per row of ``legs`` (``_id``, energy_carrier, fuel_unit, fuel_region, region),
    in kg CO2e per unit as given (e.g. per kl = 1000 × per l)."""
    if not legs.height:
        return legs
    legs = legs.select("_id", "energy_carrier", "fuel_unit", "fuel_region", "region").join(fuel_unit_table(), on="fuel_unit", how="left").with_columns(
        _fuel_region=pl.coalesce("fuel_region", "region"), _explicit=pl.col("fuel_region").is_not_null()
    )
    keys = legs.select("energy_carrier", "_unit", "_fuel_region", "_explicit").unique()
    f = _fuel_lookup(keys, fuels)
    out = legs.join(f, on=["energy_carrier", "_unit", "_fuel_region", "_explicit"], how="left", nulls_equal=True)
    return out.with_columns(
        factor_pack=pl.lit(pack_label(pack)),
        factor_source=pl.col("source"),
        factor_source_page=pl.col("source_page"),
        fuel_factor_id=pl.col("factor_id"),
        data_type=pl.lit("primary"),
        basis=pl.lit("fuel"),
        fx_ttw=pl.col("ttw") * pl.col("_unit_mult"),
        fx_wtt=pl.col("wtt") * pl.col("_unit_mult"),
        fx_wtw=pl.col("wtw") * pl.col("_unit_mult"),
        factor_multiplier=pl.lit(1.0),
        adjustment_ids=pl.when(pl.col("_fell_back")).then(pl.lit("fuel_region=highest (GLEC v3.0 p.76)")),
        factor_error=pl.col("_fuel_error"),
    )


def _hub_factors(keys: pl.DataFrame, hocs: pl.DataFrame) -> pl.DataFrame:
    if not keys.height:
        return keys
    d = list(F.HOC_DESCRIPTORS)
    by_id = keys.filter(pl.col("hoc_id").is_not_null()).select("_id", pl.col("hoc_id").alias("_hoc"))
    by_desc = keys.filter(pl.col("hoc_id").is_null()).select("_id", *d)
    matched = pl.DataFrame(schema={"_id": keys.schema["_id"], "_hoc": pl.String, "_match_error": pl.String})
    if by_desc.height:
        keys = by_desc.select(d).unique()
        m = match_rows(keys, hocs.filter(pl.col("data_type") == "default"), F.HOC_DESCRIPTORS, "hoc_id")
        m = m.with_columns(
            _match_error=pl.when(pl.col("match_error") == "no match")
            .then(pl.format("factor: no hub default for hub_type={}, temperature_control={}", "hub_type", "temperature_control"))
            .otherwise(pl.format("factor: {}", "match_error"))
        )
        matched = by_desc.join(m, on=d, how="left", nulls_equal=True).select("_id", pl.col("match_id").alias("_hoc"), "_match_error")
    ids = pl.concat([by_id.with_columns(_match_error=pl.lit(None, pl.String)), matched])
    per_t = pl.col("wtw_kg_co2e_per_t").is_not_null()
    pick = lambda x: pl.when(per_t).then(pl.col(f"{x}_kg_co2e_per_t")).otherwise(pl.col(f"{x}_kg_co2e_per_teu"))
    out = ids.join(hocs, left_on="_hoc", right_on="hoc_id", how="left")
    return out.with_columns(
        factor_id=pl.col("_hoc"),
        factor_pack=pl.col("_pack"),
        factor_source=pl.col("source"),
        factor_source_page=pl.col("source_page"),
        fuel_factor_id=pl.lit(None, pl.String),
        basis=pl.when(per_t).then(pl.lit("t")).when(pl.col("wtw_kg_co2e_per_teu").is_not_null()).then(pl.lit("teu")),
        fx_ttw=pick("ttw"),
        fx_wtt=pick("wtt"),
        fx_wtw=pick("wtw"),
        factor_multiplier=pl.lit(1.0),
        adjustment_ids=pl.lit(None, pl.String),
        factor_error=pl.when(pl.col("_match_error").is_not_null()).then(pl.col("_match_error"))
        .when(pl.col("source").is_null()).then(pl.format("hoc_id: '{}' is not in the HOC table", "_hoc"))
        .when(pl.col("wtw_kg_co2e_per_t").is_null() & pl.col("wtw_kg_co2e_per_teu").is_null())
        .then(pl.format("factor {}: has no WTW intensity", "_hoc")),
    )


# --------------------------------------------------------------------------------------------
# Emissions, result and shipment tables


def _emissions(df: pl.DataFrame, pack: F.Pack) -> pl.DataFrame:
    activity = (
        pl.when(pl.col("basis") == "tkm").then(pl.col("tkm") * pl.col("daf"))
        .when(pl.col("basis") == "teu_km").then(pl.col("_teu_eff") * pl.col("distance_km") * pl.col("daf"))
        .when(pl.col("basis") == "fuel").then(pl.col("fuel_amount"))
        .when(pl.col("basis") == "t").then(pl.col("mass_t"))
        .when(pl.col("basis") == "teu").then(pl.col("_teu_eff"))
    ) * pl.col("factor_multiplier")
    ok = pl.col("_error").is_null()
    df = merge_errors(df, "factor_error").with_columns(
        _a_teu=pl.col("basis").is_in(["teu_km", "teu"]) & pl.col("teu").is_null(),
        _amount=pl.when(ok).then(activity),  # in units of the factor's basis; null for rejected legs
    )
    return df.with_columns(
        co2e_ttw_kg=pl.col("_amount") * pl.col("fx_ttw"),
        co2e_wtt_kg=pl.col("_amount") * pl.col("fx_wtt"),
        co2e_wtw_kg=pl.col("_amount") * pl.col("fx_wtw"),
        teu=pl.when(pl.col("basis").is_in(["teu_km", "teu"])).then(pl.col("_teu_eff")).otherwise(pl.col("teu")),
        tkm=pl.when(ok).then(pl.col("tkm")),
    ).with_columns(
        intensity_wtw_g_per_tkm=pl.when(pl.col("tkm") > 0).then(pl.col("co2e_wtw_kg") * 1000 / pl.col("tkm")),
        error=pl.col("_error"),
        assumptions=_assumptions(pack.parameter("teu_mass_t_average", 10.0)),
        data_type=pl.when(ok).then(pl.col("data_type")),
    )


def _japanese(df: pl.DataFrame, jp_pack, mix: bool) -> pl.DataFrame:
    """Legs whose method is a Japanese one (logistics.japan): CO2 TTW into ``jp_co2_ttw_kg``, their
    factor provenance into the factor columns, and their errors into ``error``."""
    df = df.with_columns(**{c: pl.lit(None, pl.Float64) for c in ("jp_co2_ttw_kg", "jp_fuel_l", "jp_energy_gj")})
    jp = df.filter(pl.col("method").is_in(list(JP_METHODS)) & pl.col("error").is_null())
    if not jp.height:
        return df
    from .japan import calculate_jp

    # The Japanese methods take the transport distance as it is: the GCD-based DAF goes into it.
    got = calculate_jp(jp.with_columns(distance_km=pl.col("distance_km") * pl.col("daf")), F.load_pack(jp_pack))
    got = got.select("_leg", pl.col("co2_ttw_kg").alias("_jp_co2"), pl.col("jp_fuel_l").alias("_jp_fuel"),
                     pl.col("jp_energy_gj").alias("_jp_gj"),
                     *[pl.col(c).alias(f"_jp_{c}") for c in ("factor_id", "factor_pack", "factor_source", "factor_source_page")],
                     "jp_error")
    df = merge_errors(df.join(got, on="_leg", how="left"), "jp_error").with_columns(
        *(pl.coalesce(f"_jp_{c}", c).alias(c) for c in ("factor_id", "factor_pack", "factor_source", "factor_source_page")),
        jp_co2_ttw_kg=pl.col("_jp_co2"),
        jp_fuel_l=pl.col("_jp_fuel"),
        jp_energy_gj=pl.col("_jp_gj"),
        data_type=pl.when(pl.col("_jp_co2").is_not_null())
        .then(pl.col("method").replace_strict(JP_DATA_TYPES, default=None)).otherwise(pl.col("data_type")),
    )
    if mix:
        df = df.with_columns(
            pl.coalesce(c, "_jp_co2").alias(c) for c in ("co2e_ttw_kg", "co2e_wtw_kg")
        ).with_columns(intensity_wtw_g_per_tkm=pl.when(pl.col("tkm") > 0).then(pl.col("co2e_wtw_kg") * 1000 / pl.col("tkm")))
    return df.with_columns(error=pl.col("_error")).drop(pl.selectors.starts_with("_jp_"), "jp_error")


# ISO 14083 data categories of the Japanese methods: measured fuel is primary; fuel economy and the
# improved ton-km regression model fuel from parameters; the conventional ton-km factor is a default.
JP_DATA_TYPES = {"jp_fuel": "primary", "jp_fuel_economy": "modelled", "jp_improved_tonkm": "modelled",
                 "jp_conventional_tonkm": "default"}


def assumption_texts(t_per_teu: float) -> dict[str, str]:
    """``_a_*`` flag -> the default a leg relied on, as readable text (in the order listed)."""
    return {
        "_a_temperature": "temperature_control=ambient",
        "_a_load": "load_type=average",
        "_a_vehicle": "vehicle=container_ship",
        "_a_mass": f"mass={t_per_teu:g} t/TEU",
        "_a_teu": f"teu=mass/{t_per_teu:g} t",
    }


def _assumptions(t_per_teu: float) -> pl.Expr:
    parts = assumption_texts(t_per_teu)
    return pl.concat_str([pl.when(pl.col(f)).then(pl.lit(text)) for f, text in parts.items()], separator="; ", ignore_nulls=True).replace("", None)


RESULT_COLUMNS = (
    "distance_km", "distance_type", "distance_source", "daf", "mass_t", "teu", "tkm", "method", "data_type",
    "factor_id", "factor_pack", "factor_source", "factor_source_page", "fuel_factor_id", "adjustment_ids",
    "factor_multiplier", "assumptions", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg", "intensity_wtw_g_per_tkm",
    "jp_co2_ttw_kg", "jp_fuel_l", "jp_energy_gj", "error",
)


# Leg columns every result carries (after defaults), whether or not the input had them.
IDENTITY_COLUMNS = (
    "shipment_id", "leg_id", "leg_seq", "mode", "mass_kg", "origin", "destination", "toc_id", "hoc_id",
    *(d for d in F.TOC_DESCRIPTORS if d != "mode"), "hub_type",
)


def result_columns(given) -> list[str]:
    """The columns of the per-leg result of an input with columns ``given``: the identity columns
    and the input's (typed), then the computed ones."""
    first = [c for c in dict.fromkeys([*IDENTITY_COLUMNS, *given]) if c not in RESULT_COLUMNS]
    return [*first, *RESULT_COLUMNS]


def _finish(df: pl.DataFrame, given: list[str]) -> pl.DataFrame:
    return df.sort("_leg").select(result_columns(given))


def shipment_partials(legs: pl.DataFrame) -> pl.DataFrame:
    """Additive per-shipment sums of a set of result legs; ``finish_shipments`` combines them (also
    across batches of a large file)."""
    ok = pl.col("error").is_null()
    return legs.group_by("shipment_id", maintain_order=True).agg(
        pl.len().alias("legs"),
        (~ok).sum().alias("error_legs"),
        pl.col("mass_t").filter(pl.col("mode") != "hub").max().mul(1000).alias("mass_kg"),
        pl.col("tkm").filter(ok).sum().alias("tkm"),
        pl.col("co2e_ttw_kg").filter(ok).sum().alias("co2e_ttw_kg"),
        pl.col("co2e_wtt_kg").filter(ok).sum().alias("co2e_wtt_kg"),
        pl.col("co2e_wtw_kg").filter(ok).sum().alias("co2e_wtw_kg"),
        pl.col("co2e_wtw_kg").filter(ok & pl.col("co2e_ttw_kg").is_null()).sum().alias("co2e_wtw_unsplit_kg"),
        pl.col("co2e_wtw_kg").filter(ok & (pl.col("data_type") == "primary")).sum().alias("primary_wtw_kg"),
        pl.col("jp_co2_ttw_kg").filter(ok).sum().alias("jp_co2_ttw_kg"),
    )


# The shipment table's columns, in order.
SHIPMENT_COLUMNS = (
    "shipment_id", "legs", "error_legs", "mass_kg", "tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg",
    "co2e_wtw_unsplit_kg", "jp_co2_ttw_kg", "intensity_wtw_g_per_tkm", "primary_data_share", "complete",
)
SUMMED = ("tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg", "co2e_wtw_unsplit_kg", "primary_wtw_kg", "jp_co2_ttw_kg")


def finish_shipments(partials: pl.DataFrame) -> pl.DataFrame:
    """One row per shipment: totals over its computed TCEs, tkm, intensity, the share of WTW from
    primary data, and how many of its legs could not be computed (its totals are then incomplete)."""
    return (
        partials.group_by("shipment_id", maintain_order=True)
        .agg(pl.col("legs", "error_legs", *SUMMED).sum(), pl.col("mass_kg").max())
        .with_columns(
            # a shipment none of whose legs could be computed has no totals, not zero totals
            pl.when(pl.col("legs") > pl.col("error_legs")).then(pl.col(c)).alias(c) for c in SUMMED
        )
        .with_columns(
            intensity_wtw_g_per_tkm=pl.when(pl.col("tkm") > 0).then(pl.col("co2e_wtw_kg") * 1000 / pl.col("tkm")),
            primary_data_share=pl.when(pl.col("co2e_wtw_kg") > 0).then(pl.col("primary_wtw_kg") / pl.col("co2e_wtw_kg")),
            complete=pl.col("error_legs") == 0,
        )
        .select(SHIPMENT_COLUMNS)
    )


def shipments(legs: pl.DataFrame) -> pl.DataFrame:
    return finish_shipments(shipment_partials(legs))
