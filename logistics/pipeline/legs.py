"""The per-leg computation, written once for both backends (``pipeline.backends``).

Given a leg's numbers as read, its vocabulary key's row, its place row and its factor row (gathered
by the engine), the stages below compute the transport-activity distance, the DAF, the activity,
the emissions and the intensity, and the conditions of every row check. Each stage is a dict of
column -> value that may use the columns of earlier stages (``b.col``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..rules import activity, distance, emissions
from ..rules.cleaning import cleaning_emissions_kg
from ..schema import ADDON_INPUTS, INTERNAL_PREFIX, LEG_COLUMNS
from ..vocabulary import MAX_DAF, MAX_DISTANCE_KM, MAX_FUEL_AMOUNT, MAX_MASS_KG, MAX_TEU, default_leg_id

Stage = dict[str, Any]
# A factor's basis (vocabulary.BASES) as a number, so that the per-leg choice compares numbers.
BASIS_CODES = {"tkm": 1.0, "teu_km": 2.0, "fuel": 3.0, "t": 4.0, "teu": 5.0}


def number(name: str) -> str:
    """The internal column holding input column ``name`` read as a number."""
    return f"{INTERNAL_PREFIX}{name}"


def out(name: str) -> str:
    """The internal column holding result column ``name`` until the final select."""
    return f"{INTERNAL_PREFIX}o_{name}"


# Gathered columns: a key row's (prefix __k_), a place row's (__p_), a factor row's (__f_).
def k(name: str) -> str:
    return f"__k_{name}"


def p(name: str) -> str:
    return f"__p_{name}"


def f(name: str) -> str:
    return f"__f_{name}"


@dataclass(frozen=True)
class Params:
    """What the computation needs beyond the columns: the input's columns, the pack's constants."""

    columns: frozenset[str]
    t_per_teu: float
    short_haul_max_km: float
    gcd_daf_by_mode: Mapping[str, float | None]  # GCD DAF of every transport mode but air
    air_gcd_daf: float | None  # an override of the air DAF on GCD distances
    air_added_km: float | None  # else (GCD + added km) / GCD (GLEC v3.0 p.38)
    bands: int  # factor rows per key
    # the input's add-on columns (schema.ADDON_INPUTS) with the pack's tce_addons row for each (None
    # when the pack has none)
    addons: tuple[tuple[str, Mapping[str, Any] | None], ...] = ()
    pack_name: str = ""


def num(b, params: Params, name: str):
    """Input column ``name`` read as a number, or missing when the input has no such column."""
    return b.col(number(name)) if name in params.columns else b.none()


def before_factors(b, params: Params, text: Callable[[str], Any], position: Any) -> Iterator[Stage]:
    """Distance, mass, leg position and id, DAF, tkm, TEU and the leg's factor row index ``__f``.
    ``text(name)``: an identifier or place cell, trimmed, empty as missing; ``position``: 1, 2, ...
    over each shipment's rows."""
    col = b.col
    hub, transport = b.condition(col(k("__hub"))), b.condition(col(k("__transport")))
    given_km = num(b, params, "distance_km")
    given_present = b.present(given_km)
    yield {out(c): text(c) for c in ("shipment_id", "leg_id", "origin", "destination")}
    yield {
        out("distance_km"): b.where(hub, 0.0, b.coalesce(given_km, col(p("__p_distance_km")))),
        out("distance_type"): b.where(hub, None, b.where(given_present, b.coalesce(col(k("distance_type")), "actual"),
                                                           col(p("__p_distance_type")))),
        out("distance_source"): b.where(hub, None, b.where(given_present, "given", col(p("__p_distance_source")))),
        "__is_gcd": b.where(given_present, b.condition(col(k("__gcd"))), b.condition(col(p("__p_gcd")))),
        "__mass_t": b.coalesce(activity.mass_t(num(b, params, "mass_kg")),
                               activity.mass_t_from_teu(num(b, params, "teu"), params.t_per_teu)),
        out("leg_seq"): b.integer(b.coalesce(num(b, params, "leg_seq"), position)),
    }
    yield {
        out("daf"): b.where(hub, b.none(), b.coalesce(
            num(b, params, "daf"), distance.daf_rule(
            b, col(k("__air")), col("__is_gcd"), col(out("distance_km")), col(k("__gcd_daf")),
            air_gcd_daf=params.air_gcd_daf, air_added_km=params.air_added_km))),
        "__tkm": b.where(transport, activity.tonne_km(col("__mass_t"), col(out("distance_km"))), b.none()),
        "__teu_used": b.coalesce(num(b, params, "teu"), activity.teu_from_mass_t(col("__mass_t"), params.t_per_teu)),
        # an air leg's flight band, when its key leaves it to the distance (GLEC v3.0 p.38: short haul
        # below the pack's flight_short_haul_max_km); 0: the key's own flight_length
        "__band": b.where(b.condition(col(k("__needs_band"))),
                          b.where(b.condition(col(out("distance_km")) < params.short_haul_max_km), 1, 2), 0),
        out("leg_id"): b.coalesce(col(out("leg_id")), default_leg_id(col(out("shipment_id")), col(out("leg_seq")))),
    }
    yield {"__f": col("__k") * params.bands + col("__band")}


@dataclass(frozen=True)
class CheckSpec:
    """A row check: the column at fault, a reason code, the condition (backend-neutral) and the
    message (polars: messages are written for failing rows only, by the polars backend)."""

    column: str
    code: str
    condition: Callable[[Any], Any]  # backend -> true where the row fails
    message: Callable[[], pl.Expr]

    @property
    def error_code(self) -> str:
        return f"{self.column}.{self.code}"


def read_checks(params: Params, extra: Sequence[CheckSpec] = (), number_message: Callable[[str], pl.Expr] | None = None,
                ) -> list[CheckSpec]:
    """The rules on a leg's numbers and identifiers, in the order they are reported (``extra``:
    the input's own problems, reported first)."""
    columns = params.columns
    n = lambda b, c: num(b, params, c)
    shown = lambda c: pl.col(number(c))
    checks = list(extra)
    checks += [_number_check(c, number_message) for c, t in LEG_COLUMNS.items() if t in (pl.Float64, pl.Int64) and c in columns]

    def has(c: str) -> bool:
        return c in columns

    checks += [
        CheckSpec("shipment_id", "missing", lambda b: b.missing(b.col(out("shipment_id"))), lambda: pl.lit("shipment_id: missing")),
        CheckSpec("mass_kg", "missing", lambda b: ~_given(b, "mass_kg", columns) & ~_given(b, "teu", columns),
                  lambda: pl.lit("mass_kg: missing (give mass_kg or teu)")),
    ]
    if has("mass_kg"):
        checks += [
            CheckSpec("mass_kg", "not_positive", lambda b: b.condition(n(b, "mass_kg") <= 0),
                      lambda: pl.format("mass_kg: {} must be greater than 0", shown("mass_kg"))),
            CheckSpec("mass_kg", "too_large", lambda b: b.condition(n(b, "mass_kg") > MAX_MASS_KG),
                      lambda: pl.format("mass_kg: {} is over 1,000,000 t", shown("mass_kg"))),
        ]
    if has("teu"):
        checks += [
            CheckSpec("teu", "not_positive", lambda b: b.condition(n(b, "teu") <= 0),
                      lambda: pl.format("teu: {} must be greater than 0", shown("teu"))),
            CheckSpec("teu", "too_large", lambda b: b.condition(n(b, "teu") > MAX_TEU),
                      lambda: pl.format("teu: {} is over 1,000,000", shown("teu"))),
        ]
    if has("distance_km"):
        checks += [
            CheckSpec("distance_km", "not_positive",
                      lambda b: b.condition(b.col(k("__transport"))) & b.condition(n(b, "distance_km") <= 0),
                      lambda: pl.format("distance_km: {} must be greater than 0", shown("distance_km"))),
            CheckSpec("distance_km", "too_large", lambda b: b.condition(n(b, "distance_km") > MAX_DISTANCE_KM),
                      lambda: pl.format("distance_km: {} is over 50,000 km", shown("distance_km"))),
        ]
    if has("daf"):
        checks.append(CheckSpec("daf", "out_of_range", lambda b: b.condition(n(b, "daf") <= 0) | b.condition(n(b, "daf") > MAX_DAF),
                                lambda: pl.format("daf: {} is not between 0 and 10", shown("daf"))))
    if has("fuel_amount"):
        checks += [
            CheckSpec("fuel_amount", "negative", lambda b: b.condition(n(b, "fuel_amount") < 0),
                      lambda: pl.format("fuel_amount: {} is negative", shown("fuel_amount"))),
            CheckSpec("fuel_amount", "too_large", lambda b: b.condition(n(b, "fuel_amount") > MAX_FUEL_AMOUNT),
                      lambda: pl.format("fuel_amount: {} is over 1e12", shown("fuel_amount"))),
        ]
    # the ignores: mypy cannot infer a lambda whose default (c=column) binds the loop variable
    for column, addon in params.addons:
        checks.append(CheckSpec(column, "negative", lambda b, c=column: b.condition(n(b, c) < 0),  # type: ignore[misc]
                                lambda c=column: pl.format(f"{c}: {{}} is negative", shown(c))))  # type: ignore[misc]
        if addon is None:
            checks.append(CheckSpec(column, "no_factor", lambda b, c=column: b.condition(n(b, c) > 0),  # type: ignore[misc]
                                    lambda c=column: pl.lit(  # type: ignore[misc]
                                        f"{c}: pack {params.pack_name} has no {ADDON_INPUTS[c]} factor (tce_addons)")))
    if has("leg_id") or has("leg_seq"):  # generated leg ids are unique by construction
        checks.append(CheckSpec(
            "leg_id", "duplicate",
            lambda b: b.duplicated(b.col(out("shipment_id")), b.col(out("leg_id"))) & b.present(b.col(out("shipment_id"))),
            lambda: pl.format("leg_id: '{}' appears more than once in shipment '{}'", pl.col(out("leg_id")), pl.col(out("shipment_id")))))
    return checks


def given(name: str) -> str:
    """The internal column saying whether the input gives a cell in number column ``name``."""
    return f"{INTERNAL_PREFIX}given_{name}"


def _given(b, name: str, columns: frozenset[str]):
    """True where the input gives a cell in column ``name`` (read or not)."""
    return b.col(given(name)) if name in columns else b.false()


def _number_check(name: str, message: Callable[[str], pl.Expr] | None) -> CheckSpec:
    """A number cell that was given but gives no usable number (text, NaN, infinite, absurd, a
    boolean); ``message(name)``: why, as ``logistics.io.number_message`` says it."""
    return CheckSpec(name, "not_a_number", lambda b: b.col(given(name)) & b.missing(b.col(number(name))),
                     (lambda: message(name)) if message else
                     (lambda: pl.format(f"{name}: '{{}}' is not a number", pl.col(f"{INTERNAL_PREFIX}s_{name}"))))


def distance_checks() -> list[CheckSpec]:
    """Rules on the distance a leg got: none at all, or no DAF for its type."""
    def key_ok(b):
        return b.missing(b.col(k("key_error_code")))

    return [
        CheckSpec("distance_km", "missing",
                  lambda b: b.condition(b.col(k("__transport"))) & b.missing(b.col(out("distance_km"))) & key_ok(b)
                  & b.missing(b.col(p("__p_error"))) & (b.col("__read_mask") == 0),
                  lambda: pl.lit("distance_km: missing, and origin/destination could not give one")),
        CheckSpec("daf", "missing",
                  lambda b: b.condition(b.col(k("__transport"))) & b.missing(b.col(out("daf")))
                  & b.present(b.col(out("distance_km"))) & key_ok(b),
                  lambda: pl.format("daf: no DAF for {} distances on mode {} (pack parameter '{}' missing); give daf or an"
                                    " actual distance", pl.col(out("distance_type")), pl.col(k("mode")),
                                    pl.col(k("mode")).replace_strict(distance.GCD_DAF_PARAMETERS, default=None))),
    ]


def after_factors(b, params: Params) -> Iterator[Stage]:
    """Activity by the factor's basis, emissions per scope, and the result columns. ``__ok``: the
    row passed every check and has a factor."""
    col = b.col
    basis, ok = col(f("__basis")), b.condition(col("__ok"))  # as BASIS_CODES
    is_ = lambda value: b.condition(basis == BASIS_CODES[value])
    per_km = is_("tkm") | is_("teu_km")
    amount = b.where(is_("tkm"), col("__tkm"),
                     b.where(is_("teu_km"), activity.teu_km(col("__teu_used"), col(out("distance_km"))),
                             b.where(is_("fuel"), num(b, params, "fuel_amount") * col(k("__unit_mult")),
                                     b.where(is_("t"), col("__mass_t"),
                                             b.where(is_("teu"), col("__teu_used"), b.none())))))

    def scope(x: str):
        factor = col(f(f"fx_{x}"))
        return b.where(ok, b.where(per_km, emissions.transport_kg(amount, factor, col(out("daf"))),
                                   b.where(is_("fuel"), emissions.fuel_kg(amount, factor), emissions.hub_kg(amount, factor))),
                       b.none())

    def addon(x: str):
        """Emissions of the leg's add-on operations in scope ``x`` (missing when a factor has no
        figure for it, e.g. GLEC's tank cleaning, WTW only)."""
        total = 0.0
        for column, row in params.addons:
            factor = row and row[f"{x}_kg_co2e_per_unit"]
            if factor is None:
                return b.none()
            total = total + cleaning_emissions_kg(b.coalesce(num(b, params, column), 0.0), factor)
        return b.where(ok, total, b.none())

    transport = b.condition(col(k("__transport")))
    if params.addons:
        # the add-on a leg counts some of (one add-on input exists, schema.ADDON_INPUTS)
        ids = b.none(pl.String)
        for column, row in params.addons:
            if row is not None:
                ids = b.where(b.condition(b.coalesce(num(b, params, column), 0.0) > 0), row["addon_id"], ids)
        yield {out(f"addon_co2e_{x}_kg"): addon(x) for x in ("ttw", "wtt", "wtw")} | {out("addon_ids"): ids}
    yield {
        **{out(f"co2e_{x}_kg"): b.where(b.missing(col(out(f"addon_co2e_{x}_kg"))), scope(x), scope(x) + col(out(f"addon_co2e_{x}_kg")))
           if params.addons else scope(x) for x in ("ttw", "wtt", "wtw")},
        out("mass_kg"): b.coalesce(num(b, params, "mass_kg"), col("__mass_t") * activity.KG_PER_T),
        out("teu"): b.where(is_("teu_km") | is_("teu"), col("__teu_used"), num(b, params, "teu")),
        out("tkm"): b.where(ok, col("__tkm"), b.none()),
        out("emissions_distance_km"): b.where(transport, distance.emissions_distance_km(col(out("distance_km")), col(out("daf"))),
                                              b.none()),
        out("mode"): col(k("mode")),
        out("method"): col(k("method")),
        out("data_type"): b.where(ok, col(f("data_type")), None),
        out("factor_id"): col(f("factor_id")),
        out("assumptions"): col(f("__assumed")),
    }
    yield {out("intensity_wtw_g_per_tkm"): b.where(b.condition(col(out("tkm")) > 0),
                                               emissions.intensity_g_per_tkm(col(out("co2e_wtw_kg")), col(out("tkm"))), b.none())}


def ok_condition(b):
    """The row passed every check and has a factor (before plug-ins)."""
    col = b.col
    return ((col("__read_mask") == 0) & (col("__distance_mask") == 0) & b.missing(col(k("key_error_code")))
        & b.missing(col(p("__p_error"))) & b.missing(col(f("factor_error_code"))))
