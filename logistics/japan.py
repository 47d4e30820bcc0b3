"""Japanese transport CO2 methods of the Energy Conservation Act (省エネ法) and the METI/MLIT joint
guideline (共同ガイドライン): 燃料法, 燃費法, 改良トンキロ法 and 従来トンキロ法.

    燃料法 (jp_fuel):                 CO2 = fuel [l] × EF [kg-CO2/l]
    燃費法 (jp_fuel_economy):         CO2 = distance [km] / fuel economy [km/l] × EF
    改良トンキロ法 (jp_improved_tonkm): CO2 = t·km × y × EF,  ln y = a + b·ln(x) + c·ln(z)
                                      (x load factor, floored at the pack's minimum; z payload kg)
    従来トンキロ法 (jp_conventional_tonkm): CO2 = t·km × g-CO2/t·km of the mode
    EF = heat value × carbon factor × 44/12   (heat values: 省エネ法施行規則 別表第1; carbon factors: 環境省)

Results are **CO2, tank-to-wheel** (combustion only): not CO2e, not well-to-wheel, so they are
never summed with GLEC / ISO 14083 figures. Every factor comes from the ``jp-guideline`` pack, whose
README lists what is shipped and which published tables are left out because they are unverified.

``read_japanese_csv`` reads a shipper's CSV (UTF-8 or Shift_JIS, Japanese headers), and
``annual_summary`` totals t·km and t-CO2 per method and mode for the annual shipper report.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping

import polars as pl

from .factors import Pack, load_pack
from .io import open_legs
from .rules import activity as A
from .schema import DType
from .vocabulary import FUEL_UNITS, fuel_unit_table

JP_PACK = "jp-guideline"
JP_METHODS: dict[str, str] = {
    "jp_fuel": "燃料法",
    "jp_fuel_economy": "燃費法",
    "jp_improved_tonkm": "改良トンキロ法",
    "jp_conventional_tonkm": "従来トンキロ法",
}
EMISSION_BASIS = "CO2 TTW (Japanese method)"
# No truck carries less than 100 kg: a smaller 最大積載量 was almost certainly given in tonnes.
MIN_PAYLOAD_KG = 100.0
# Unit changes multiply by a reciprocal, as in ``rules.activity``: the same bits for a leg whatever
# the length of the frame it is computed in.
KG_PER_G = 1 / 1000
GJ_PER_MJ = 1 / 1000

_INPUTS: dict[str, DType] = {
    "method": pl.String,
    "mode": pl.String,
    "mass_kg": pl.Float64,
    "distance_km": pl.Float64,
    "fuel_amount": pl.Float64,
    "fuel_unit": pl.String,
    "energy_carrier": pl.String,
    "load_factor": pl.Float64,
    "payload_capacity_kg": pl.Float64,
    "fuel_economy_km_per_l": pl.Float64,
    "jp_input_error": pl.String,
}

RESULT_SCHEMA: dict[str, DType] = {
    "_leg": pl.UInt32,
    "co2_ttw_kg": pl.Float64,
    "jp_fuel_l": pl.Float64,
    "jp_energy_gj": pl.Float64,
    "jp_fuel_l_per_tkm": pl.Float64,
    "jp_load_factor_applied": pl.Float64,
    "jp_method_ja": pl.String,
    "emission_basis": pl.String,
    "factor_id": pl.String,
    "factor_pack": pl.String,
    "factor_source": pl.String,
    "factor_source_page": pl.String,
    "jp_error": pl.String,
}


def calculate_jp(legs: pl.DataFrame, pack: Pack | str = JP_PACK) -> pl.DataFrame:
    """CO2 (TTW) of legs whose ``method`` is one of ``JP_METHODS``: one row per input row, in input
    order, with the columns of ``RESULT_SCHEMA``. A row that cannot be computed has null figures and
    a ``jp_error`` naming the column and value; it never stops the other rows."""
    pack = load_pack(pack)
    df = legs.select(
        "_leg",
        *[
            (pl.col(c).cast(t, strict=False) if c in legs.columns else pl.lit(None, t)).alias(c)
            for c, t in _INPUTS.items()
        ],
    ).with_columns(
        _unit_key=pl.col("fuel_unit").str.strip_chars().str.to_lowercase(),
        tkm=A.tonne_km(A.mass_t(pl.col("mass_kg")), pl.col("distance_km")),
    )
    fuels = pack.table("jp_fuels").select(
        "energy_carrier",
        pl.col("factor_id").alias("_fuel_id"),
        pl.col("unit").alias("_fuel_unit"),
        pl.col("heat_value_mj_per_unit").alias("_heat_mj"),
        pl.col("co2_kg_per_unit").alias("_ef"),
        pl.col("source").alias("_fuel_source"),
        pl.col("source_page").alias("_fuel_page"),
    )
    regressions = pack.table("jp_improved_tonkm").select(
        "energy_carrier",
        pl.col("factor_id").alias("_ikt_id"),
        pl.col("intercept").alias("_a"),
        pl.col("ln_load_factor_coef").alias("_b"),
        pl.col("ln_payload_kg_coef").alias("_c"),
        pl.col("min_load_factor").alias("_x_min"),
        pl.col("source").alias("_ikt_source"),
        pl.col("source_page").alias("_ikt_page"),
    )
    per_mode = pack.table("jp_conventional_tonkm").select(
        "mode",
        pl.col("factor_id").alias("_ctk_id"),
        pl.col("g_co2_per_tkm").alias("_g_per_tkm"),
        pl.col("source").alias("_ctk_source"),
        pl.col("source_page").alias("_ctk_page"),
    )
    units = fuel_unit_table("_unit_key")
    df = (
        df.join(fuels, on="energy_carrier", how="left", maintain_order="left")
        .join(regressions, on="energy_carrier", how="left", maintain_order="left")
        .join(per_mode, on="mode", how="left", maintain_order="left")
        .join(units, on="_unit_key", how="left", maintain_order="left")
    )
    known = {
        "fuels": ", ".join(fuels["energy_carrier"].to_list()),
        "regressions": ", ".join(regressions["energy_carrier"].to_list()),
        "modes": ", ".join(per_mode["mode"].to_list()),
    }
    df = df.with_columns(jp_error=_first_error(pack.name, known))

    method = pl.col("method")
    load_factor = pl.max_horizontal("load_factor", "_x_min")
    litres_per_tkm = (
        pl.col("_a") + pl.col("_b") * load_factor.log() + pl.col("_c") * pl.col("payload_capacity_kg").log()
    ).exp()
    fuel_l = (
        pl.when(method == "jp_fuel")
        .then(pl.col("fuel_amount") * pl.col("_unit_mult"))
        .when(method == "jp_fuel_economy")
        .then(pl.col("distance_km") / pl.col("fuel_economy_km_per_l"))
        .when(method == "jp_improved_tonkm")
        .then(pl.col("tkm") * litres_per_tkm)
    )
    co2_kg = pl.when(method == "jp_conventional_tonkm").then(pl.col("tkm") * pl.col("_g_per_tkm") * KG_PER_G).otherwise(
        fuel_l * pl.col("_ef")
    )
    improved = method == "jp_improved_tonkm"
    conventional = method == "jp_conventional_tonkm"

    def provenance(fuel_col: str, ikt_col: str, ctk_col: str) -> pl.Expr:
        return (
            pl.when(improved)
            .then(pl.concat_str(pl.col(ikt_col), pl.col(fuel_col), separator=" + "))
            .when(conventional)
            .then(pl.col(ctk_col))
            .otherwise(pl.col(fuel_col))
        )

    ok = pl.col("jp_error").is_null()
    outputs = {
        "co2_ttw_kg": co2_kg,
        "jp_fuel_l": fuel_l,
        "jp_energy_gj": fuel_l * pl.col("_heat_mj") * GJ_PER_MJ,
        "jp_fuel_l_per_tkm": pl.when(improved).then(litres_per_tkm),
        "jp_load_factor_applied": pl.when(improved).then(load_factor),
        "jp_method_ja": method.replace_strict(JP_METHODS, default=None),
        "emission_basis": pl.lit(EMISSION_BASIS),
        "factor_id": provenance("_fuel_id", "_ikt_id", "_ctk_id"),
        "factor_pack": pl.lit(f"{pack.name}@{pack.version}"),
        "factor_source": provenance("_fuel_source", "_ikt_source", "_ctk_source"),
        "factor_source_page": provenance("_fuel_page", "_ikt_page", "_ctk_page"),
    }
    return df.select(
        "_leg",
        *[pl.when(ok).then(expr).alias(name) for name, expr in outputs.items()],
        "jp_error",
    ).cast(pl.Schema(RESULT_SCHEMA))


def _first_error(pack_name: str, known: dict[str, str]) -> pl.Expr:
    """The first problem of each row, as a message naming the column and the value."""
    m = pl.col("method")
    method_ja = m.replace_strict(JP_METHODS, default=None)
    fuel_based = m.is_in(["jp_fuel", "jp_fuel_economy", "jp_improved_tonkm"])
    by_tonkm = m.is_in(["jp_improved_tonkm", "jp_conventional_tonkm"])
    needs_distance = by_tonkm | (m == "jp_fuel_economy")
    improved = m == "jp_improved_tonkm"

    def required(column: str, why: str = "") -> pl.Expr:
        return pl.format(f"{column}: required for {{}} ({{}}){why}", m, method_ja)

    def bad(column: str, text: str) -> pl.Expr:
        return pl.format(f"{column}: {{}} {text}", pl.col(column))

    checks: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col("jp_input_error").is_not_null(), pl.col("jp_input_error")),
        (m.is_null(), pl.lit(f"method: required (one of {', '.join(JP_METHODS)})")),
        (~m.is_in(list(JP_METHODS)), pl.format(f"method: '{{}}' is not one of {', '.join(JP_METHODS)}", m)),
        (by_tonkm & pl.col("mass_kg").is_null(), required("mass_kg")),
        (pl.col("mass_kg") < 0, bad("mass_kg", "is negative")),
        (needs_distance & pl.col("distance_km").is_null(), required("distance_km")),
        (pl.col("distance_km") < 0, bad("distance_km", "is negative")),
        # the fuel and its CO2 factor
        (fuel_based & pl.col("energy_carrier").is_null(), required("energy_carrier")),
        (
            fuel_based & pl.col("_ef").is_null(),
            pl.format(
                f"energy_carrier: '{{}}' has no verified CO2 factor in pack {pack_name} (it has {known['fuels']})",
                "energy_carrier",
            ),
        ),
        # 燃料法
        ((m == "jp_fuel") & pl.col("fuel_amount").is_null(), required("fuel_amount")),
        ((m == "jp_fuel") & (pl.col("fuel_amount") < 0), bad("fuel_amount", "is negative")),
        ((m == "jp_fuel") & pl.col("fuel_unit").is_null(), required("fuel_unit", "; e.g. l or kl")),
        (
            (m == "jp_fuel") & pl.col("_unit").is_null(),
            pl.format(f"fuel_unit: '{{}}' is not one of {', '.join(FUEL_UNITS)}", "fuel_unit"),
        ),
        (
            (m == "jp_fuel") & (pl.col("_unit") != pl.col("_fuel_unit")),
            pl.format(
                "fuel_unit: '{}' does not convert to the factor's unit '{}' for {}", "fuel_unit", "_fuel_unit", "energy_carrier"
            ),
        ),
        # 燃費法
        (
            (m == "jp_fuel_economy") & pl.col("fuel_economy_km_per_l").is_null(),
            required(
                "fuel_economy_km_per_l",
                "; the guideline's default km/l table is not in the pack because its values are unverified",
            ),
        ),
        (
            (m == "jp_fuel_economy") & (pl.col("fuel_economy_km_per_l") <= 0),
            bad("fuel_economy_km_per_l", "must be greater than 0"),
        ),
        # 改良トンキロ法
        (
            improved & (pl.col("mode") != "road"),
            pl.format(
                "mode: '{}' cannot use 改良トンキロ法, which is for trucks (road); rail, sea and air use jp_conventional_tonkm",
                "mode",
            ),
        ),
        (
            improved & pl.col("_a").is_null(),
            pl.format(
                f"energy_carrier: '{{}}' has no 改良トンキロ法 regression in pack {pack_name}"
                f" (it has {known['regressions']});"
                " non-fossil vehicles such as EVs report by 燃料法 or 燃費法",
                "energy_carrier",
            ),
        ),
        (
            improved & pl.col("load_factor").is_null(),
            required(
                "load_factor",
                "; the notice's default load factors (みなし積載率) are not in the pack because they are unverified",
            ),
        ),
        (improved & (pl.col("load_factor") < 0), bad("load_factor", "is negative")),
        (improved & (pl.col("load_factor") > 1), bad("load_factor", "is above 1: give a fraction (0.58 for 58 %)")),
        (improved & pl.col("payload_capacity_kg").is_null(), required("payload_capacity_kg", " (最大積載量, kg)")),
        (improved & (pl.col("payload_capacity_kg") <= 0), bad("payload_capacity_kg", "must be greater than 0")),
        (
            improved & (pl.col("payload_capacity_kg") < MIN_PAYLOAD_KG),
            bad("payload_capacity_kg", f"is below {MIN_PAYLOAD_KG:g} kg: 最大積載量 must be in kg, not tonnes"),
        ),
        # 従来トンキロ法
        (
            (m == "jp_conventional_tonkm") & pl.col("_g_per_tkm").is_null(),
            pl.format(
                f"mode: '{{}}' has no verified 従来トンキロ法 factor in pack {pack_name} (it has {known['modes']});"
                " trucks use jp_improved_tonkm",
                "mode",
            ),
        ),
    ]
    return pl.coalesce(pl.when(cond.fill_null(False)).then(msg) for cond, msg in checks)


def calculate_jp_table(legs: pl.DataFrame, pack: Pack | str = JP_PACK) -> pl.DataFrame:
    """The legs with ``tkm`` and the ``calculate_jp`` result columns appended, for use without the
    engine (e.g. straight from ``read_japanese_csv``)."""
    indexed = legs.with_row_index("_leg")
    tkm = (
        A.tonne_km(A.mass_t(pl.col("mass_kg").cast(pl.Float64, strict=False)), pl.col("distance_km").cast(pl.Float64, strict=False))
        if {"mass_kg", "distance_km"} <= set(legs.columns)
        else pl.lit(None, pl.Float64)
    )
    return (
        indexed.with_columns(tkm=tkm)
        .join(calculate_jp(indexed, pack), on="_leg", how="left", maintain_order="left")
        .drop("_leg")
    )


# --------------------------------------------------------------------------------------------
# The shipper's annual figures


def crude_oil_equivalent_kl(energy_gj, kl_per_gj):
    """Crude-oil equivalent (原油換算) of an energy use, in kL, for the specified-shipper report under
    省エネ法: GJ × 0.0258 kL/GJ (the pack parameter ``crude_oil_kl_per_gj``)."""
    return energy_gj * kl_per_gj


def annual_summary(results: pl.DataFrame, period: str | None = "fiscal_year", date_column: str = "date",
                   pack: Pack | str = JP_PACK) -> pl.DataFrame:
    """Total t·km, t-CO2 (TTW), energy (GJ) and its crude-oil equivalent (kL) per method and mode, per
    period when ``date_column`` is present (dates as ``read_japanese_csv`` reads them, 和暦 included).

    period: ``fiscal_year`` (Japanese fiscal year, April–March, labelled ``FY2023`` for 2023-04-01 to
    2024-03-31, the reporting year of 省エネ法: 資源エネルギー庁 「荷主の省エネ法 スケジュールと報告事例」),
    ``calendar_year``, ``month`` or None.
    ``results`` holds ``method``, ``mode``, ``co2_ttw_kg`` and ``tkm`` (or ``mass_kg`` and
    ``distance_km``), e.g. from ``calculate_jp_table`` or the engine. t·km are on the distance the
    CO2 rests on: the engine computes a Japanese method on its distance × ``daf`` (a great-circle
    distance adjusted to the road), so the summary's t·km are ``tkm × daf`` where ``daf`` is given.
    Results of one edition only (``factor_pack``, e.g. ``jp-guideline@0.2.0``) are summed; its name
    is in ``jp_pack``; ``pack`` gives ``crude_oil_kl_per_gj``. Rows with an error (``jp_error`` or ``error``) are counted in
    ``error_legs`` and left out of the totals. A total that some computed leg cannot supply (t·km
    of a fuel-only leg, energy of 従来トンキロ法) is null rather than understated. Rows of any other
    method are GLEC CO2e figures and are refused: the two bases are never added together.
    """
    results = _as_jp_results(results)
    other = results.filter(~pl.col("method").is_in(list(JP_METHODS)) | pl.col("method").is_null())
    if other.height:
        methods = sorted({str(v) for v in other["method"].to_list()})
        raise ValueError(
            f"annual_summary: {other.height} row(s) have method {', '.join(methods)}, not a Japanese method;"
            f" their figures are GLEC CO2e and cannot be totalled with {EMISSION_BASIS}. Summarise them separately."
        )
    df = results
    if "tkm" not in df.columns:
        df = df.with_columns(tkm=A.tonne_km(A.mass_t(pl.col("mass_kg")), pl.col("distance_km")))
    if "daf" in df.columns:
        df = df.with_columns(tkm=pl.col("tkm") * pl.col("daf").cast(pl.Float64, strict=False).fill_null(1.0))
    editions = sorted(df["factor_pack"].drop_nulls().unique().to_list()) if "factor_pack" in df.columns else []
    if len(editions) > 1:
        raise ValueError(f"annual_summary: the results mix editions {', '.join(editions)}; summarise each edition apart")
    kl_per_gj = load_pack(pack).parameter("crude_oil_kl_per_gj")
    if "jp_energy_gj" not in df.columns:
        df = df.with_columns(jp_energy_gj=pl.lit(None, pl.Float64))
    if period not in _PERIODS:
        raise ValueError(f"period: {period!r} is not one of {', '.join(map(str, _PERIODS))}")
    keys = ["method", "mode"]
    if period is not None and date_column in df.columns:
        date = pl.col(date_column)
        if df.schema[date_column] == pl.String:
            date = _parse_date(date)
        df = df.with_columns(period=_period(date, period))
        keys = ["period", *keys]

    # Errors from calculate_jp (jp_error) or from the engine's result table (error).
    ok = pl.all_horizontal(pl.lit(True), *[pl.col(c).is_null() for c in ("jp_error", "error") if c in df.columns])

    def complete_sum(column: str) -> pl.Expr:
        c = pl.col(column).filter(ok)
        return pl.when(c.is_null().any()).then(None).otherwise(c.sum())

    order = {m: i for i, m in enumerate(JP_METHODS)}
    return (
        df.group_by(keys)
        .agg(
            pl.len().alias("legs"),
            (~ok).sum().alias("error_legs"),
            complete_sum("tkm").alias("tkm"),
            (pl.col("co2_ttw_kg").filter(ok).sum() / 1000).alias("co2_ttw_t"),
            complete_sum("jp_energy_gj").alias("energy_gj"),
        )
        .with_columns(
            # a group none of whose legs could be computed has no totals, not zero totals
            pl.when(pl.col("legs") > pl.col("error_legs")).then(pl.col(c)).alias(c)
            for c in ("tkm", "co2_ttw_t", "energy_gj")
        )
        .with_columns(
            method_ja=pl.col("method").replace_strict(JP_METHODS),
            crude_oil_kl=crude_oil_equivalent_kl(pl.col("energy_gj"), kl_per_gj) if kl_per_gj is not None else pl.lit(None, pl.Float64),
            emission_basis=pl.lit(EMISSION_BASIS),
            jp_pack=pl.lit(editions[0] if editions else None, pl.String),
            _order=pl.col("method").replace_strict(order),
        )
        .sort([*(["period"] if "period" in keys else []), "_order", "mode"], nulls_last=True)
        .select(
            *keys[:-2], "method", "method_ja", "mode", "legs", "error_legs", "tkm", "co2_ttw_t", "energy_gj", "crude_oil_kl",
            "emission_basis", "jp_pack",
        )
    )


# Japanese eras (和暦): the Gregorian year before each era's first year (令和元年 = 2019).
ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925, "大正": 1911, "T": 1911}
_WAREKI = r"^(令和|平成|昭和|大正|[RHST])\s*(元|\d{1,2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?$"
DATE_FORMATS = "YYYY/MM/DD, YYYY-MM-DD, YYYY年M月D日, YYYYMMDD, or 和暦 such as 令和5年4月1日 or R5.4.1"


def _parse_date(text: pl.Expr) -> pl.Expr:
    """A date from text: ISO and Japanese Gregorian forms, or 和暦 (令和5年4月1日, 令和元年5月1日, R5.4.1,
    H31/4/30); full-width digits are read too."""
    text = text.str.normalize("NFKC").str.strip_chars()
    parts = text.str.to_uppercase().str.extract_groups(_WAREKI)
    era_year = pl.when(parts.struct.field("2") == "元").then(pl.lit("1")).otherwise(parts.struct.field("2")).cast(pl.Int32, strict=False)
    wareki = pl.format("{}-{}-{}", parts.struct.field("1").replace_strict(ERAS, default=None, return_dtype=pl.Int32) + era_year,
                       parts.struct.field("3"), parts.struct.field("4")).str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(*(text.str.to_date(fmt, strict=False) for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d")), wareki)


_PERIODS = ("fiscal_year", "calendar_year", "month", None)


def _period(date: pl.Expr, period: str) -> pl.Expr:
    if period == "fiscal_year":
        return pl.format("FY{}", date.dt.year() - (date.dt.month() < 4).cast(pl.Int32))
    if period == "calendar_year":
        return date.dt.year().cast(pl.String)
    return date.dt.strftime("%Y-%m")


def _as_jp_results(df: pl.DataFrame) -> pl.DataFrame:
    """Engine results (``jp_co2_ttw_kg``, ``jp_energy_gj``, ``error``) in the shape of
    ``calculate_jp_table`` output (``co2_ttw_kg``, ``jp_error``)."""
    if "co2_ttw_kg" not in df.columns and "jp_co2_ttw_kg" in df.columns:
        df = df.rename({"jp_co2_ttw_kg": "co2_ttw_kg"})
    if "jp_error" not in df.columns and "error" in df.columns:
        df = df.with_columns(jp_error=pl.col("error"))
    return df


def glec_inputs(legs: pl.DataFrame, pack: Pack | str, defaults: dict[str, str] | None = None) -> tuple[pl.DataFrame, dict[str, str]]:
    """The legs of a Japanese-method file made ready for a GLEC calculation of the same legs, and the
    defaults left for the engine, so that every leg with enough data gets a GLEC figure:

    - the Japanese ``method`` is dropped (the GLEC engine chooses its own);
    - a 燃費法 leg (distance and its own fuel economy, no measured fuel) becomes a fuel-based leg on
      distance / km per l litres of its fuel: the leg's own vehicle data come before a default
      intensity (GLEC Framework v3.0 p.29);
    - a ``vehicle`` default applies only to legs of the modes that have that vehicle in the pack's
      TOC table (``vehicle=rigid_7.5-12t`` is for trucks, not for a rail leg of the same file); the
      other defaults apply to every leg."""
    pack = load_pack(pack)
    defaults = dict(defaults or {})
    df = legs
    if "method" in df.columns and {"fuel_economy_km_per_l", "distance_km"} <= set(df.columns):
        by_economy = ((pl.col("method") == "jp_fuel_economy") & pl.col("fuel_economy_km_per_l").is_not_null()
                      & (pl.col("fuel_economy_km_per_l") > 0) & pl.col("distance_km").is_not_null())
        if "fuel_amount" in df.columns:
            by_economy = by_economy & pl.col("fuel_amount").is_null()
        df = df.with_columns(
            fuel_amount=pl.when(by_economy).then(pl.col("distance_km") / pl.col("fuel_economy_km_per_l"))
            .otherwise(pl.col("fuel_amount") if "fuel_amount" in df.columns else None),
            fuel_unit=pl.when(by_economy).then(pl.lit("l"))
            .otherwise(pl.col("fuel_unit") if "fuel_unit" in df.columns else pl.lit(None, pl.String)),
        )
    df = df.drop("method", strict=False)
    vehicle = defaults.pop("vehicle", None)
    if vehicle is not None:
        modes = pack.table("tocs").filter(pl.col("vehicle").str.split("|").list.contains(vehicle))["mode"].unique().to_list()
        if not modes:
            raise ValueError(f"vehicle: {vehicle!r} is not a vehicle of pack {pack.name}")
        given = pl.col("vehicle") if "vehicle" in df.columns else pl.lit(None, pl.String)
        df = df.with_columns(vehicle=pl.when(given.is_null() & pl.col("mode").is_in(modes)).then(pl.lit(vehicle)).otherwise(given))
    return df, defaults


def side_by_side(jp: pl.DataFrame, glec: pl.DataFrame, on: str | list[str] = "leg_id") -> pl.DataFrame:
    """One row per leg with the Japanese-method CO2 (TTW) next to the GLEC CO2e figures of the same
    leg. The column names carry the basis (``jp_co2_ttw_kg`` vs ``glec_co2e_wtw_kg``) so that neither
    is mistaken for the other; nothing is added across the two."""
    keys = [on] if isinstance(on, str) else list(on)
    jp = _as_jp_results(jp)
    left = jp.select(
        *keys,
        pl.col("method").alias("jp_method"),
        pl.col("method").replace_strict(JP_METHODS, default=None).alias("jp_method_ja"),
        pl.col("co2_ttw_kg").alias("jp_co2_ttw_kg"),
        pl.col("factor_id").alias("jp_factor_id"),
        pl.col("jp_error"),
    )
    right = glec.select(
        *keys,
        *([pl.col("method").alias("glec_method")] if "method" in glec.columns else []),
        pl.col("co2e_ttw_kg").alias("glec_co2e_ttw_kg"),
        pl.col("co2e_wtw_kg").alias("glec_co2e_wtw_kg"),
        pl.col("factor_id").alias("glec_factor_id"),
        pl.col("error").alias("glec_error"),
    )
    return left.join(right, on=keys, how="full", coalesce=True, maintain_order="left")


# --------------------------------------------------------------------------------------------
# Japanese CSV input

# Japanese header (NFKC-normalised, without its unit in brackets) -> our column.
JP_HEADERS: dict[str, str] = {
    "出荷番号": "shipment_id",
    "伝票番号": "shipment_id",
    "送り状番号": "shipment_id",
    "区間番号": "leg_id",
    "区間順": "leg_seq",
    "日付": "date",
    "輸送日": "date",
    "出荷日": "date",
    "運行日": "date",
    "算定方法": "method",
    "算定手法": "method",
    "輸送モード": "mode",
    "輸送機関": "mode",
    "輸送手段": "mode",
    "発地": "origin_name",
    "出発地": "origin_name",
    "着地": "destination_name",
    "到着地": "destination_name",
    "発地都道府県": "origin_prefecture",
    "発地都道府県コード": "origin_prefecture",
    "着地都道府県": "destination_prefecture",
    "着地都道府県コード": "destination_prefecture",
    "輸送距離": "distance_km",
    "走行距離": "distance_km",
    "距離": "distance_km",
    "重量": "mass_kg",
    "貨物重量": "mass_kg",
    "輸送重量": "mass_kg",
    "輸送トン数": "mass_kg",
    "積載率": "load_factor",
    "平均積載率": "load_factor",
    "最大積載量": "payload_capacity_kg",
    "最大積載量1": "payload_capacity_kg",
    "燃費": "fuel_economy_km_per_l",
    "実燃費": "fuel_economy_km_per_l",
    "燃料使用量": "fuel_amount",
    "燃料消費量": "fuel_amount",
    "燃料単位": "fuel_unit",
    "燃料種別": "energy_carrier",
    "燃料種類": "energy_carrier",
    "燃料の種類": "energy_carrier",
    "車種": "vehicle_class_ja",
    "車格": "vehicle_class_ja",
}
# Headers whose unit is implied by the word itself (トン数 = tonnes).
_IMPLIED_UNITS = {"輸送トン数": "t"}
# Units a header may carry in brackets, per column: multiplier to the column's own unit.
_HEADER_UNITS: dict[str, dict[str, float]] = {
    "mass_kg": {"kg": 1.0, "t": 1000.0, "トン": 1000.0},
    "payload_capacity_kg": {"kg": 1.0, "t": 1000.0, "トン": 1000.0},
    "distance_km": {"km": 1.0, "m": 0.001},
    "fuel_amount": {"l": 1.0, "リットル": 1.0, "kl": 1000.0},
    "fuel_economy_km_per_l": {"km/l": 1.0},
    "load_factor": {"%": 0.01},
}
_MODE_VALUES = {
    "トラック": "road",
    "貨物自動車": "road",
    "自動車": "road",
    "鉄道": "rail",
    "貨物鉄道": "rail",
    "JR貨物": "rail",
    "船舶": "sea",
    "船": "sea",
    "内航船": "sea",
    "内航海運": "sea",
    "フェリー": "sea",
    "RORO船": "sea",
    "航空": "air",
    "航空機": "air",
}
_ENERGY_CARRIER_VALUES = {
    "軽油": "diesel",
    "ガソリン": "gasoline",
    "揮発油": "gasoline",
    "電気": "electricity",
    "電力": "electricity",
    "LPG": "lpg",
    "液化石油ガス": "lpg",
    "LNG": "lng",
    "液化天然ガス": "lng",
    "CNG": "cng",
    "圧縮天然ガス": "cng",
}
_METHOD_VALUES = {ja: method for method, ja in JP_METHODS.items()}
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[(\[](?P<unit>[^)\]]*)[)\]]$")


def read_japanese_csv(
    path: str | os.PathLike, encoding: str | None = None, *, pack: Pack | str = JP_PACK
) -> pl.DataFrame:
    """A legs table from a shipper's CSV with Japanese headers (see ``JP_HEADERS`` and the pack README).

    encoding: None detects it (UTF-8 with or without BOM, or Shift_JIS read as cp932, its Windows
    superset: ``logistics.io.open_legs``); or give it (``shift_jis`` is read as cp932 too). Numbers
    in headers' units (``輸送重量(t)``, ``積載率(%)``) become
    our units; Japanese values of 輸送機関, 燃料種別 and 算定方法 become our vocabulary; prefecture
    codes or names give ``origin_lat``/``origin_lon`` (and destination) from the pack's
    ``jp_prefectures``. Cells that cannot be read become a message in ``jp_input_error``.
    """
    with open_legs(path, encoding=encoding) as source:  # cells as text, each row with its line
        raw = source.read()
    renamed, scales = _map_headers(raw.columns)
    df = raw.rename(renamed)
    # Every parsed column and its error are computed from the text cells in one pass.
    parsed: list[pl.Expr] = []
    errors: list[pl.Expr] = []
    for header, column in renamed.items():
        if column in _HEADER_UNITS:
            value, error = _number(column, header, scales.get(column))
            parsed.append(value.alias(column))
            errors.append(error)
    if "date" in df.columns:
        date = _parse_date(pl.col("date"))
        parsed.append(date.alias("date"))
        errors.append(
            pl.when(pl.col("date").is_not_null() & date.is_null()).then(
                pl.format(f"date: '{{}}' is not a date ({DATE_FORMATS})", "date")
            )
        )
    df = df.with_columns(*parsed, jp_input_error=_join_messages(errors))
    if "fuel_amount" in df.columns and "fuel_unit" not in df.columns:
        df = df.with_columns(fuel_unit=pl.when(pl.col("fuel_amount").is_not_null()).then(pl.lit("l")))
    df = df.with_columns(
        pl.col(c).str.normalize("NFKC").str.strip_chars().replace(values)
        for c, values in (("mode", _MODE_VALUES), ("energy_carrier", _ENERGY_CARRIER_VALUES))
        if c in df.columns
    )
    if "method" in df.columns:
        df = df.with_columns(method=_method_expr("mode" in df.columns))
    return resolve_prefectures(df, pack)


def _join_messages(messages: list[pl.Expr]) -> pl.Expr:
    if not messages:
        return pl.lit(None, pl.String)
    joined = pl.concat_list(messages).list.drop_nulls().list.join("; ")
    return pl.when(joined != "").then(joined)


def _map_headers(headers: list[str]) -> tuple[dict[str, str], dict[str, float]]:
    """Original header -> our column, and column -> multiplier for headers that carry a unit."""
    renamed: dict[str, str] = {}
    scales: dict[str, float] = {}
    for header in headers:
        normal = unicodedata.normalize("NFKC", header).strip()
        match = _HEADER_UNIT.match(normal)
        name, unit = (match["name"], match["unit"].strip().lower()) if match else (normal, None)
        column = JP_HEADERS.get(name)
        if column is None:
            continue
        if column in renamed.values():
            other = next(h for h, c in renamed.items() if c == column)
            raise ValueError(f"headers {other!r} and {header!r} both mean {column}; keep one")
        renamed[header] = column
        unit = unit or _IMPLIED_UNITS.get(name)
        if unit is not None and column in _HEADER_UNITS:
            if unit not in _HEADER_UNITS[column]:
                raise ValueError(f"header {header!r}: unit {unit!r} is not one of {', '.join(_HEADER_UNITS[column])}")
            scales[column] = _HEADER_UNITS[column][unit]
    return renamed, scales


def _number(column: str, header: str, scale: float | None) -> tuple[pl.Expr, pl.Expr]:
    """A numeric column from text: full-width digits, thousands separators, a trailing ``%`` on load
    factors, and the 車検証 form ``350(250)`` of 最大積載量 (the first, larger figure)."""
    text = pl.col(column).str.normalize("NFKC").str.replace_all(r"[,\s]", "")
    text = pl.when(text == "").then(None).otherwise(text)
    if column == "payload_capacity_kg":
        text = text.str.replace(r"^([0-9.]+)\([0-9.]+\)$", "$1")
    percent_cell = text.str.ends_with("%")
    value = text.str.strip_suffix("%").cast(pl.Float64, strict=False)
    error = pl.when(text.is_not_null() & value.is_null()).then(pl.format(f"{header}: '{{}}' is not a number", pl.col(column)))
    if column == "load_factor" and scale is None:
        # 積載率 without a unit: a cell ending in % is a percent; otherwise the whole column is in
        # percent when any value exceeds 1 (a fraction never does), else it is a fraction.
        in_percent = percent_cell | (value.filter(~percent_cell).max() > 1)
        return pl.when(in_percent).then(value / 100).otherwise(value), error
    return value * (scale or 1.0), error


def _method_expr(has_mode: bool) -> pl.Expr:
    """Japanese method names to ours; bare トンキロ法 is 改良 for trucks and 従来 for rail, ship and
    air, as the notice defines it (平成18年経済産業省告示第66号
    「貨物輸送事業者に行わせる貨物の輸送に係るエネルギーの使用量の算定の方法」, 2006-03-29)."""
    name = pl.col("method").str.normalize("NFKC").str.strip_chars()
    tonkm = pl.lit("jp_conventional_tonkm")
    if has_mode:
        tonkm = pl.when(pl.col("mode") == "road").then(pl.lit("jp_improved_tonkm")).otherwise(tonkm)
    return pl.when(name == "トンキロ法").then(tonkm).otherwise(name.replace(_METHOD_VALUES))


def resolve_prefectures(legs: pl.DataFrame, pack: Pack | str = JP_PACK) -> pl.DataFrame:
    """``origin_prefecture``/``destination_prefecture`` (a JIS X 0401 code such as ``13`` or ``JP-13``,
    or a name such as ``東京都``, ``東京`` or ``Tokyo``) become the JIS code, and fill
    ``<side>_lat``/``<side>_lon`` with the prefectural office's position where those are empty. An
    unknown prefecture adds a message to ``jp_input_error``."""
    sides = [s for s in ("origin", "destination") if f"{s}_prefecture" in legs.columns]
    if not sides:
        return legs
    lookup = _prefecture_lookup(load_pack(pack))
    df = legs if "jp_input_error" in legs.columns else legs.with_columns(jp_input_error=pl.lit(None, pl.String))
    for side in sides:
        column = f"{side}_prefecture"
        key = pl.col(column).cast(pl.String).str.normalize("NFKC").str.strip_chars().str.to_lowercase()
        key = pl.when(key.str.contains(r"^\d$")).then(pl.lit("0") + key).otherwise(key)
        found = lookup.rename({"jis_code": "_code", "latitude": "_lat", "longitude": "_lon"})
        df = df.with_columns(_key=key).join(found, on="_key", how="left", maintain_order="left")
        unknown = pl.col(column).is_not_null() & pl.col("_code").is_null()
        message = pl.format(f"{column}: '{{}}' is not a JIS X 0401 prefecture code (01-47) or name", column)
        df = df.with_columns(
            pl.coalesce("_code", pl.col(column).cast(pl.String)).alias(column),
            *[
                pl.coalesce(*([f"{side}_{axis}"] if f"{side}_{axis}" in df.columns else []), f"_{axis}").alias(f"{side}_{axis}")
                for axis in ("lat", "lon")
            ],
            jp_input_error=pl.when(unknown)
            .then(pl.concat_str(pl.col("jp_input_error"), message, separator="; ", ignore_nulls=True))
            .otherwise(pl.col("jp_input_error")),
        ).drop("_key", "_code", "_lat", "_lon")
    return df


def _prefecture_lookup(pack: Pack) -> pl.DataFrame:
    """Every accepted spelling of a prefecture (lower-cased) -> its code and point."""
    prefs = pack.table("jp_prefectures").select("jis_code", "name_ja", "name_en", "latitude", "longitude")
    spellings = [
        pl.col("jis_code"),
        pl.lit("jp-") + pl.col("jis_code"),
        pl.col("name_ja"),
        pl.col("name_ja").str.replace(r"[都府県]$", ""),  # 東京, 大阪, 愛知 (北海道 stays whole)
        pl.col("name_en").str.to_lowercase(),
    ]
    return (
        pl.concat([prefs.select(s.alias("_key"), "jis_code", "latitude", "longitude") for s in spellings])
        .unique("_key", keep="first", maintain_order=True)
    )


# --------------------------------------------------------------------------------------------
# The engine plug-in


class JapaneseMethods:
    """The Japanese methods as an engine plug-in (``logistics.pipeline.plugins.MethodPlugin``):
    legs whose ``method`` is one of ``JP_METHODS`` get CO2 TTW in ``jp_co2_ttw_kg``, kept out of the
    CO2e columns and totals unless ``mix`` asks for it. The distance they take is the one the
    emissions rest on (DAF applied to a great-circle distance)."""

    # ISO 14083 data categories: measured fuel is primary; fuel economy and the improved ton-km
    # regression model fuel from parameters; the conventional ton-km factor is a default.
    methods: Mapping[str, str] = {"jp_fuel": "primary", "jp_fuel_economy": "modelled", "jp_improved_tonkm": "modelled",
                                  "jp_conventional_tonkm": "default"}
    inputs: tuple[str, ...] = ("load_factor", "payload_capacity_kg", "fuel_economy_km_per_l")
    columns: Mapping[str, DType] = {"jp_co2_ttw_kg": pl.Float64, "jp_fuel_l": pl.Float64, "jp_energy_gj": pl.Float64}
    sums: tuple[str, ...] = ("jp_co2_ttw_kg",)

    def __init__(self, pack: Pack | str = JP_PACK, *, mix: bool = False):
        self._pack_name = pack
        self._pack: Pack | None = pack if isinstance(pack, Pack) else None
        self.mix = mix

    @property
    def pack(self) -> Pack:
        if self._pack is None:
            self._pack = load_pack(self._pack_name)
        return self._pack

    def compute(self, legs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        got = calculate_jp(legs.rename({"__row": "_leg"}), self.pack)
        co2 = pl.col("co2_ttw_kg")
        rows = got.select(
            pl.col("_leg").alias("__row"),
            co2.alias("jp_co2_ttw_kg"), "jp_fuel_l", "jp_energy_gj", "factor_id",
            (co2 if self.mix else pl.lit(None, pl.Float64)).alias("co2e_ttw_kg"),
            (co2 if self.mix else pl.lit(None, pl.Float64)).alias("co2e_wtw_kg"),
            pl.when(pl.col("jp_error").is_not_null()).then(pl.lit("method.jp_input")).alias("error_code"),
            pl.col("jp_error").alias("error"),
        )
        factors = got.filter(pl.col("factor_id").is_not_null()).select(
            "factor_id", pl.col("factor_id").alias("base_factor_id"), "factor_pack",
            pl.lit(self.pack.meta.get("edition"), pl.String).alias("edition"),
            pl.col("factor_source").alias("source"), pl.col("factor_source_page").alias("source_page"),
            pl.lit(self.pack.meta.get("licence"), pl.String).alias("licence"),
            pl.col("emission_basis").alias("notes"),
        ).unique("factor_id", keep="first")
        return rows, factors
