"""Factor resolution: the factor of each distinct key, and the factors table that explains it.

A key's factor comes, by its method, from the pack's default TOCs chosen by descriptors
(``matching``), a TOC or HOC named by id (the carrier's own rows first), the pack's fuel factors
for measured fuel, or the pack's hub defaults. Every factor gets a ``factor_id``: the id of the row
it comes from, suffixed ``~<adjustment>`` when an adjustment derived it (e.g. Asia road = Europe road
× 1.22, GLEC v3.0 p.94). Its intensities are per unit of its basis (schema.FACTOR_COLUMNS), with
any multiplier already applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from .. import factors as F
from ..grids import grid_table, resolve_grid_factors
from ..io import InputError, read_table
from ..matching import explode_alternatives, match_rows
from ..rules.activity import T_PER_KG
from ..schema import FACTOR_COLUMNS, DType
from ..vocabulary import FUEL_UNITS, fuel_unit_table

# What a factor row of each key carries to the legs (per key and flight band).
LEG_FACTOR_COLUMNS: dict[str, DType] = {
    "factor_id": pl.String,
    "data_type": pl.String,
    "basis": pl.String,
    "fx_ttw": pl.Float64,  # kg CO2e per unit of basis (multiplier applied)
    "fx_wtt": pl.Float64,
    "fx_wtw": pl.Float64,
    "factor_error_code": pl.String,
    "factor_error": pl.String,
}
FLIGHT_BANDS = {0: None, 1: "short_haul", 2: "long_haul"}  # band 0: the key's own flight_length
FUEL_FALLBACK_ADJUSTMENT = "fuel_region=highest (GLEC v3.0 p.76)"
FUEL_FALLBACK_SUFFIX = "~fuel_region_highest"


def pack_label(pack: F.Pack) -> str:
    return f"{pack.name}@{pack.version}"


@dataclass(frozen=True)
class FactorTables:
    """The tables keys are resolved against: the pack's, with the carrier's own TOC/HOC rows first."""

    pack: F.Pack
    tocs: pl.DataFrame  # energy-based rows turned into CO2e with the fuel factors; column _pack
    hocs: pl.DataFrame

    @cached_property
    def grid(self) -> pl.DataFrame:
        """Location-based grid factors (the pack's, else the shipped ``grid-electricity`` pack's),
        loaded when a key first names a country."""
        return grid_table(self.pack)

    @classmethod
    def of(cls, pack: F.Pack, own_tocs=None, own_hocs=None) -> FactorTables:
        tocs = _materialise_energy_tocs(_with_own(pack, "tocs", own_tocs), pack.table("fuels"))
        return cls(pack=pack, tocs=tocs, hocs=_with_own(pack, "hocs", own_hocs))


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


def resolve_factors(keys: pl.DataFrame, tables: FactorTables) -> pl.DataFrame:
    """For keys (``__key``, ``__band`` and the vocabulary read): their LEG_FACTOR_COLUMNS and the
    factors-table columns (FACTOR_COLUMNS) of the factor each uses."""
    parts = [
        _activity_factors(keys.filter(pl.col("method") == "activity"), tables),
        _toc_factors(keys.filter(pl.col("method") == "toc"), tables),
        _fuel_factors(keys.filter(pl.col("method") == "fuel"), tables.pack, lambda: tables.grid),
        _hub_factors(keys.filter(pl.col("method") == "hub"), tables),
    ]
    schema = {"__key": pl.UInt64, "__band": pl.UInt8, **LEG_FACTOR_COLUMNS, **FACTOR_COLUMNS}
    frames = [p.select(pl.col(c).cast(t) for c, t in schema.items()) for p in parts if p.height]
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _provenance(pack_column: str = "_pack") -> list[pl.Expr]:
    """Factors-table columns from a pack or own-table row (source, page, licence, notes)."""
    return [pl.col(pack_column).alias("factor_pack"), pl.col("source"), pl.col("source_page"), pl.col("licence"),
            pl.col("notes")]


def _edition(pack: F.Pack) -> pl.Expr:
    """The pack's edition for its own rows; an own table's rows have none."""
    return pl.when(pl.col("factor_pack") == pack_label(pack)).then(pl.lit(pack.meta.get("edition"), pl.String))


def _derived_id(base: str, adjustments: str) -> pl.Expr:
    """``base~a~b`` for a factor derived from row ``base`` by adjustments ``a+b``."""
    return pl.when(pl.col(adjustments).is_null()).then(pl.col(base)).otherwise(
        pl.col(base) + "~" + pl.col(adjustments).str.replace_all("+", "~", literal=True))


def _toc_intensities(per_tkm: pl.Expr) -> dict[str, pl.Expr]:
    """kg CO2e per tkm (or per TEU-km when the row has no per-tkm figure) of a TOC row."""
    pick = lambda x: pl.when(per_tkm).then(pl.col(f"{x}_g_co2e_per_tkm")).otherwise(pl.col(f"{x}_g_co2e_per_teu_km"))
    return {f"fx_{x}": pick(x) * T_PER_KG for x in ("ttw", "wtt", "wtw")}


def _toc_rows(keys: pl.DataFrame, tocs: pl.DataFrame, id_column: str, grid, *, multiplier: str | None = None,
              adjustments: str | None = None) -> pl.DataFrame:
    """Keys joined to the TOC rows named in ``id_column``, with leg-factor and factors-table columns.
    An electricity TOC given in kWh/tkm takes the grid factor of the key's country (``grid``: a
    callable giving the grid table) where the key names one."""
    out = keys.join(tocs, left_on=id_column, right_on="toc_id", how="left", suffix="_toc")
    per_tkm = pl.col("wtw_g_co2e_per_tkm").is_not_null()
    per_teu = pl.col("wtw_g_co2e_per_teu_km").is_not_null()
    mult = pl.col(multiplier) if multiplier else pl.lit(1.0)
    adj = pl.col(adjustments) if adjustments else pl.lit(None, pl.String)
    out = _with_grid(out.with_columns(_mult=mult, _adj=adj, _base=pl.col(id_column)), grid,
                     pl.col("energy_per_tkm").is_not_null() & (pl.col("energy_unit") == "kWh"))
    on_grid = pl.col("_grid_id").is_not_null()
    out = out.with_columns(
        **{k: pl.when(on_grid).then(g).otherwise(v) * pl.col("_mult")
           for (k, v), g in zip(_toc_intensities(per_tkm).items(), _grid_intensities(), strict=True)},
        basis=pl.when(per_tkm).then(pl.lit("tkm")).when(per_teu).then(pl.lit("teu_km")),
        data_type=pl.col("data_type"),
        base_factor_id=pl.col("_base"),
        multiplier=pl.col("_mult"),
        adjustment_ids=pl.col("_adj"),
        fuel_factor_id=pl.coalesce("_grid_id", "_fuel_factor_id"),
        **{e.meta.output_name(): e for e in _provenance()},
    ).with_columns(
        factor_id=pl.when(on_grid).then(_derived_id("_base", "_adj") + "~" + pl.col("_grid_id")).otherwise(_derived_id("_base", "_adj")),
        notes=pl.when(on_grid).then(pl.format("{} kWh/tkm × grid {}; {}", "energy_per_tkm", "_grid_note", "notes")).otherwise("notes"),
        unit=pl.when(per_tkm).then(pl.lit("tkm")).when(per_teu).then(pl.lit("TEU-km")),
        ttw_kg_per_unit=pl.col("fx_ttw"), wtt_kg_per_unit=pl.col("fx_wtt"), wtw_kg_per_unit=pl.col("fx_wtw"),
    )
    return out


def _activity_factors(keys: pl.DataFrame, tables: FactorTables) -> pl.DataFrame:
    """Default TOC per key, chosen by ``matching.match_rows`` among the pack's rows (a carrier's
    own TOCs are chosen by toc_id only)."""
    if not keys.height:
        return keys
    d = list(F.TOC_DESCRIPTORS)
    pack = tables.pack
    pack_rows = tables.tocs.filter(pl.col("_pack") == pack_label(pack))
    distinct = keys.select(d).unique()
    matched = match_rows(distinct, pack_rows, F.TOC_DESCRIPTORS, "toc_id", pack.table("adjustments"))
    matched = matched.with_columns(_explain=_explain_no_match(matched, pack_rows, pack))
    out = _toc_rows(keys.join(matched, on=d, how="left", nulls_equal=True), tables.tocs, "match_id", lambda: tables.grid,
                    multiplier="multiplier", adjustments="adjustment_ids")
    return out.with_columns(
        pl.when(pl.col("_explain").is_not_null()).then(pl.lit(None, pl.String)).otherwise(pl.col("factor_id")).alias("factor_id"),
        factor_error_code=pl.when(pl.col("match_error") == "no match").then(pl.lit("factor.no_match"))
        .when(pl.col("match_error").is_not_null()).then(pl.lit("factor.ambiguous"))
        .when(pl.col("_grid_error").is_not_null()).then(pl.col("_grid_error_code"))
        .when(pl.col("basis").is_null()).then(pl.lit("factor.no_intensity")),
        factor_error=pl.coalesce("_explain", "_grid_error", pl.when(pl.col("basis").is_null())
                                 .then(pl.format("factor {}: has no WTW intensity", "match_id"))),
        edition=_edition(pack),
    )


def _explain_no_match(matched: pl.DataFrame, tocs: pl.DataFrame, pack: F.Pack) -> pl.Series:
    """A readable reason per failed key (a loop over distinct failed keys only, an error path)."""
    rows = explode_alternatives(tocs, F.TOC_DESCRIPTORS)
    out: list[str | None] = []
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
                reason = (f"; {k} '{key[k]}' has no row (known: {', '.join(known[:20])})" if key[k] is not None
                          else f"; {k} is needed (one of: {', '.join(known[:20])})")
                break
            cand = narrowed
        out.append(f"factor: no default in pack {pack.name} for {given}{reason}")
    return pl.Series(out, dtype=pl.String)


def _toc_factors(keys: pl.DataFrame, tables: FactorTables) -> pl.DataFrame:
    if not keys.height:
        return keys
    out = _toc_rows(keys, tables.tocs, "toc_id", lambda: tables.grid)
    known = pl.col("source").is_not_null()
    return out.with_columns(
        pl.when(known).then(pl.col("factor_id")).alias("factor_id"),
        factor_error_code=pl.when(~known).then(pl.lit("toc_id.unknown"))
        .when(pl.col("_grid_error").is_not_null()).then(pl.col("_grid_error_code"))
        .when(pl.col("basis").is_null()).then(pl.lit("factor.no_intensity")),
        factor_error=pl.when(~known).then(pl.format("toc_id: '{}' is not in the TOC table", "toc_id"))
        .when(pl.col("_grid_error").is_not_null()).then(pl.col("_grid_error"))
        .when(pl.col("basis").is_null()).then(pl.format("factor {}: has no WTW intensity", "toc_id")),
        edition=_edition(tables.pack),
    )


def fuel_lookup(keys: pl.DataFrame, fuels: pl.DataFrame) -> pl.DataFrame:
    """Fuel factor per key (energy_carrier, _unit, _fuel_region, _explicit), per the canonical unit.
    Where the pack has no row for the region and the region was not given explicitly as
    fuel_region, GLEC's rule applies: the higher of the regional values (GLEC v3.0 p.76)."""
    f = fuels.select("energy_carrier", pl.col("unit").alias("_unit"), "fuel_region", pl.col("factor_id").alias("_fuel_id"),
                     "source", "source_page", "licence", "notes",
                     pl.col("ttw_kg_co2e_per_unit").alias("ttw"), pl.col("wtt_kg_co2e_per_unit").alias("wtt"),
                     pl.col("wtw_kg_co2e_per_unit").alias("wtw"))
    exact = keys.join(f, left_on=["energy_carrier", "_unit", "_fuel_region"], right_on=["energy_carrier", "_unit", "fuel_region"],
                      how="left", maintain_order="left")
    highest = f.sort("wtw", descending=True).unique(["energy_carrier", "_unit"], keep="first").drop("fuel_region")
    fallback = keys.join(highest, on=["energy_carrier", "_unit"], how="left", maintain_order="left")
    use_fallback = pl.col("_fuel_id").is_null() & ~pl.col("_explicit")
    took = ("_fuel_id", "source", "source_page", "licence", "notes", "ttw", "wtt", "wtw")
    out = exact.with_columns(
        *(pl.when(use_fallback).then(fallback[c]).otherwise(pl.col(c)).alias(c) for c in took),
        _fell_back=use_fallback & fallback["_fuel_id"].is_not_null(),
    )
    units = f.group_by("energy_carrier").agg(pl.col("_unit").unique().sort().str.join(", ").alias("_units"))
    missing = pl.col("_fuel_id").is_null()
    return out.join(units, on="energy_carrier", how="left", maintain_order="left").with_columns(
        _fuel_error_code=pl.when(missing & pl.col("_units").is_null()).then(pl.lit("energy_carrier.no_fuel_factor"))
        .when(missing & ~pl.col("_units").str.contains(pl.col("_unit"), literal=True)).then(pl.lit("fuel_unit.no_factor"))
        .when(missing).then(pl.lit("fuel_region.no_factor")),
        _fuel_error=pl.when(missing & pl.col("_units").is_null())
        .then(pl.format("energy_carrier: '{}' has no fuel factor", "energy_carrier"))
        .when(missing & ~pl.col("_units").str.contains(pl.col("_unit"), literal=True))
        .then(pl.format("fuel_unit: no factor for {} per {} (available: {})", "energy_carrier", "_unit", "_units"))
        .when(missing)
        .then(pl.format("fuel_region: no factor for {} in region {}", "energy_carrier", "_fuel_region")),
    )


def canonical_fuel_units(column: str = "fuel_unit") -> pl.Expr:
    """A fuel unit as written (``kl``) -> the unit factors are per (``l``)."""
    return pl.col(column).replace_strict({u: c for u, (c, _) in FUEL_UNITS.items()}, default=None, return_dtype=pl.String)


def _fuel_factors(keys: pl.DataFrame, pack: F.Pack, grid) -> pl.DataFrame:
    if not keys.height:
        return keys
    k = keys.with_columns(_unit=canonical_fuel_units(), _fuel_region=pl.coalesce("fuel_region", "region"),
                          _explicit=pl.col("fuel_region").is_not_null())
    out = _with_grid(fuel_lookup(k, pack.table("fuels")), grid,
                     (pl.col("energy_carrier") == "electricity") & pl.col("_unit").is_in(["kWh", "MJ"]))
    # measured electricity of a named country: its grid factor (per kWh, or per MJ = kWh / 3.6)
    per_unit = pl.col("_grid_kg_per_kwh") * pl.when(pl.col("_unit") == "MJ").then(1 / 3.6).otherwise(1.0)
    on_grid = pl.col("_grid_id").is_not_null()
    out = out.with_columns(
        _fuel_id=pl.coalesce("_grid_id", "_fuel_id"), _fell_back=pl.col("_fell_back") & ~on_grid,
        ttw=pl.when(on_grid).then(0.0).otherwise("ttw"), wtt=pl.when(on_grid).then(per_unit).otherwise("wtt"),
        wtw=pl.when(on_grid).then(per_unit).otherwise("wtw"),
        source=pl.when(on_grid).then("_grid_source").otherwise("source"),
        source_page=pl.when(on_grid).then("_grid_page").otherwise("source_page"),
        licence=pl.when(on_grid).then("_grid_licence").otherwise("licence"), notes=pl.when(on_grid).then("_grid_note").otherwise("notes"),
        _fuel_error_code=pl.when(pl.col("_grid_error").is_not_null()).then("_grid_error_code").when(on_grid).then(None)
        .otherwise("_fuel_error_code"),
        _fuel_error=pl.when(pl.col("_grid_error").is_not_null()).then("_grid_error").when(on_grid).then(None).otherwise("_fuel_error"),
    )
    label = pack_label(pack)
    return out.with_columns(
        factor_id=pl.when(pl.col("_fell_back")).then(pl.col("_fuel_id") + FUEL_FALLBACK_SUFFIX).otherwise(pl.col("_fuel_id")),
        base_factor_id=pl.col("_fuel_id"),
        data_type=pl.lit("primary"),
        basis=pl.lit("fuel"),
        fx_ttw=pl.col("ttw"), fx_wtt=pl.col("wtt"), fx_wtw=pl.col("wtw"),
        ttw_kg_per_unit=pl.col("ttw"), wtt_kg_per_unit=pl.col("wtt"), wtw_kg_per_unit=pl.col("wtw"),
        unit=pl.format("{} of {}", "_unit", "energy_carrier"),
        multiplier=pl.lit(1.0),
        adjustment_ids=pl.when(pl.col("_fell_back")).then(pl.lit(FUEL_FALLBACK_ADJUSTMENT)),
        fuel_factor_id=pl.col("_fuel_id"),
        factor_pack=pl.when(on_grid).then(pl.col("_grid_pack")).otherwise(pl.lit(label)),
        edition=pl.when(on_grid).then(None).otherwise(pl.lit(pack.meta.get("edition"), pl.String)),
        factor_error_code=pl.col("_fuel_error_code"),
        factor_error=pl.col("_fuel_error"),
    )


def _hub_factors(keys: pl.DataFrame, tables: FactorTables) -> pl.DataFrame:
    if not keys.height:
        return keys
    hocs = tables.hocs
    d = list(F.HOC_DESCRIPTORS)
    by_desc = keys.filter(pl.col("hoc_id").is_null()).select(d).unique()
    matched = match_rows(by_desc, hocs.filter(pl.col("data_type") == "default"), F.HOC_DESCRIPTORS, "hoc_id")
    matched = matched.select(*d, pl.col("match_id").alias("_matched"), pl.col("match_error"))
    k = keys.join(matched, on=d, how="left", nulls_equal=True).with_columns(
        _hoc=pl.coalesce("hoc_id", "_matched"),
        _match_error=pl.when(pl.col("hoc_id").is_not_null()).then(None)
        .when(pl.col("match_error") == "no match")
        .then(pl.format("factor: no hub default for hub_type={}, temperature_control={}", "hub_type", "temperature_control"))
        .when(pl.col("match_error").is_not_null()).then(pl.format("factor: {}", "match_error")),
    )
    out = k.join(hocs.rename({"data_type": "_dt"}), left_on="_hoc", right_on="hoc_id", how="left", suffix="_hoc")
    per_t = pl.col("wtw_kg_co2e_per_t").is_not_null()
    per_teu = pl.col("wtw_kg_co2e_per_teu").is_not_null()
    pick = lambda x: pl.when(per_t).then(pl.col(f"{x}_kg_co2e_per_t")).otherwise(pl.col(f"{x}_kg_co2e_per_teu"))
    unknown = pl.col("_match_error").is_null() & pl.col("source").is_null()
    return out.with_columns(
        factor_id=pl.when(pl.col("source").is_not_null()).then(pl.col("_hoc")),
        base_factor_id=pl.col("_hoc"),
        data_type=pl.col("_dt"),
        basis=pl.when(per_t).then(pl.lit("t")).when(per_teu).then(pl.lit("teu")),
        unit=pl.when(per_t).then(pl.lit("outbound t")).when(per_teu).then(pl.lit("outbound TEU")),
        fx_ttw=pick("ttw"), fx_wtt=pick("wtt"), fx_wtw=pick("wtw"),
        ttw_kg_per_unit=pick("ttw"), wtt_kg_per_unit=pick("wtt"), wtw_kg_per_unit=pick("wtw"),
        multiplier=pl.lit(1.0),
        adjustment_ids=pl.lit(None, pl.String),
        fuel_factor_id=pl.lit(None, pl.String),
        **{e.meta.output_name(): e for e in _provenance()},
    ).with_columns(
        edition=_edition(tables.pack),
        factor_error_code=pl.when(pl.col("_match_error").is_not_null())
        .then(pl.when(pl.col("match_error") == "no match").then(pl.lit("factor.no_match")).otherwise(pl.lit("factor.ambiguous")))
        .when(unknown).then(pl.lit("hoc_id.unknown"))
        .when(pl.col("basis").is_null()).then(pl.lit("factor.no_intensity")),
        factor_error=pl.when(pl.col("_match_error").is_not_null()).then(pl.col("_match_error"))
        .when(unknown).then(pl.format("hoc_id: '{}' is not in the HOC table", "_hoc"))
        .when(pl.col("basis").is_null()).then(pl.format("factor {}: has no WTW intensity", "_hoc")),
    )


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
    f = fuel_lookup(keys, fuels)
    energy = energy.join(f.select("toc_id", "_fuel_id", "ttw", "wtt", "wtw"), on="toc_id", how="left").with_columns(
        ttw_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("ttw") * 1000,
        wtt_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("wtt") * 1000,
        wtw_g_co2e_per_tkm=pl.col("energy_per_tkm") * pl.col("wtw") * 1000,
        _fuel_factor_id=pl.col("_fuel_id"),
    ).select(tocs.columns)
    return pl.concat([tocs.join(energy, on="toc_id", how="anti"), energy])


def fuel_factors(legs: pl.DataFrame, pack: F.Pack, fuels: pl.DataFrame) -> pl.DataFrame:
    """Fuel factor per row of ``legs`` (``_id``, energy_carrier, fuel_unit, fuel_region, region), in
    kg CO2e per unit as written (per kl = 1000 × per l): ``fuel_factor_id``, ``fx_ttw`` /
    ``fx_wtt`` / ``fx_wtw``, ``_unit`` and ``_unit_mult`` (to the factor's unit),
    ``adjustment_ids`` (the region fallback) and ``factor_error``. For records that are not legs
    (e.g. a carrier's fuel records in ``logistics.derive``)."""
    if not legs.height:
        return legs
    keys = legs.select("_id", "energy_carrier", "fuel_unit", "fuel_region", "region").join(
        fuel_unit_table(), on="fuel_unit", how="left").with_columns(
        _fuel_region=pl.coalesce("fuel_region", "region"), _explicit=pl.col("fuel_region").is_not_null())
    found = fuel_lookup(keys, fuels)
    return found.select(
        "_id", "_unit", "_unit_mult",
        pl.col("_fuel_id").alias("fuel_factor_id"),
        *((pl.col(x) * pl.col("_unit_mult")).alias(f"fx_{x}") for x in ("ttw", "wtt", "wtw")),
        pl.when(pl.col("_fell_back")).then(pl.lit(FUEL_FALLBACK_ADJUSTMENT)).alias("adjustment_ids"),
        pl.col("_fuel_error").alias("factor_error"),
    )


GRID_COLUMNS = {"_grid_id": pl.String, "_grid_kg_per_kwh": pl.Float64, "_grid_note": pl.String, "_grid_source": pl.String,
                "_grid_page": pl.String, "_grid_licence": pl.String, "_grid_pack": pl.String,
                "_grid_error_code": pl.String, "_grid_error": pl.String}


def _with_grid(frame: pl.DataFrame, grid, electric: pl.Expr) -> pl.DataFrame:
    """``frame`` (keys with ``country`` and ``grid_region``) with the grid factor of its country
    (``GRID_COLUMNS``) on rows where ``electric`` holds and a country or grid region is named;
    missing elsewhere. ``grid``: a callable giving the grid table (loaded on first need)."""
    wanted = frame.with_columns(_electric=electric.fill_null(False)).with_columns(
        _on_grid=pl.col("_electric") & (pl.col("country").is_not_null() | pl.col("grid_region").is_not_null()))
    keys = wanted.filter("_on_grid").select("country", "grid_region").unique()
    if not keys.height:
        return wanted.with_columns(pl.lit(None, t).alias(c) for c, t in GRID_COLUMNS.items()).drop("_electric", "_on_grid")
    table = grid()
    got = resolve_grid_factors(keys, table).join(
        table.select(pl.col("factor_id").alias("grid_factor_id"), "source", "source_page", "licence", "pack_version", "basis"),
        on="grid_factor_id", how="left")
    got = got.select(
        "country", "grid_region",
        pl.col("grid_factor_id").alias("_grid_id"), pl.col("grid_kg_co2e_per_kwh").alias("_grid_kg_per_kwh"),
        pl.format("{} {} kg CO2e/kWh ({}, {}; {}, {})", "grid_factor_id", "grid_kg_co2e_per_kwh", "grid_data_year", "basis",
                  "source", "licence").alias("_grid_note"),
        pl.col("source").alias("_grid_source"), pl.col("source_page").alias("_grid_page"), pl.col("licence").alias("_grid_licence"),
        pl.format("grid-electricity@{}", "pack_version").alias("_grid_pack"),
        pl.when(pl.col("grid_error").is_not_null()).then(
            pl.when(pl.col("grid_error").str.starts_with("grid_region")).then(pl.lit("grid_region.unknown"))
            .otherwise(pl.lit("country.no_grid_factor"))).alias("_grid_error_code"),
        pl.col("grid_error").alias("_grid_error"),
    )
    out = wanted.join(got, on=["country", "grid_region"], how="left", nulls_equal=True, maintain_order="left")
    return out.with_columns(pl.when(pl.col("_on_grid")).then(pl.col(c)).alias(c) for c in GRID_COLUMNS).drop("_electric", "_on_grid")


def _grid_intensities() -> list[pl.Expr]:
    """kg CO2e per tkm of an electricity TOC on its country's grid: TTW 0, WTT = WTW = kWh/tkm ×
    grid factor (GLEC v3.0 pp.77, 93, 106; logistics.rules.electricity)."""
    from ..rules.electricity import electricity_emissions_kg, energy_kwh

    per_tkm = electricity_emissions_kg(energy_kwh(pl.lit(1.0), pl.col("energy_per_tkm")), pl.col("_grid_kg_per_kwh"))
    return [pl.lit(0.0), per_tkm, per_tkm]
