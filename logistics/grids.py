"""Choosing a location-based grid factor for legs and hubs that use electricity.

A leg (or a fuel/energy record) names where its electricity comes from with ``country`` (ISO 3166-1
alpha-2, e.g. ``DE``) and optionally ``grid_region`` (a region of that country in the table, e.g.
``US-CA``). The factor comes from a pack's ``grid_electricity`` table (shipped openly licensed in the
``grid-electricity`` pack; see its README for sources, years and what each row covers):

- ``grid_region`` given: that row, or an error naming the regions the table has for the country
  (no silent fall-back to the national figure);
- only ``country``: the national row (``grid_region`` empty);
- neither, or a country the table lacks: an error.

It works on the distinct (country, grid_region) keys of a batch and returns one row per key, to be
joined back to the legs. The emissions themselves are ``logistics.rules.electricity``.
"""

from __future__ import annotations

import polars as pl

from . import factors as F

GRID_PACK = "grid-electricity"
GRID_COLUMNS = {
    "grid_factor_id": pl.String,
    "grid_kg_co2e_per_kwh": pl.Float64,
    "grid_data_year": pl.Int64,
    "grid_basis": pl.String,
    "grid_error": pl.String,
}


def grid_table(pack: F.Pack | str | None = None) -> pl.DataFrame:
    """The pack's ``grid_electricity`` rows, or the shipped ``grid-electricity`` pack's when the pack
    has none."""
    if pack is not None:
        own = F.load_pack(pack).table("grid_electricity")
        if own.height:
            return own
    return F.load_pack(GRID_PACK).table("grid_electricity")


def resolve_grid_factors(keys: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """``keys`` (columns ``country``, ``grid_region``; one row per distinct pair) with
    ``GRID_COLUMNS`` added. Country codes and regions are compared upper-cased and trimmed."""
    norm = lambda c: pl.col(c).cast(pl.String).str.strip_chars().str.to_uppercase().replace("", None)
    k = keys.with_columns(_c=norm("country"), _r=norm("grid_region"))
    t = table.select(
        _c=norm("country"), _r=norm("grid_region"),
        grid_factor_id=pl.col("factor_id"), grid_kg_co2e_per_kwh=pl.col("wtw_kg_co2e_per_kwh"),
        grid_data_year=pl.col("data_year"), grid_basis=pl.col("basis"),
    )
    regions = (t.filter(pl.col("_r").is_not_null()).group_by("_c")
               .agg(_known=pl.col("_r").sort().head(8).str.join(", "), _n=pl.len()))
    out = (k.join(t, on=["_c", "_r"], how="left", nulls_equal=True)
           .join(t.filter(pl.col("_r").is_null()).select("_c", _national=pl.lit(True)), on="_c", how="left")
           .join(regions, on="_c", how="left"))
    error = (
        pl.when(pl.col("grid_factor_id").is_not_null()).then(None)
        .when(pl.col("_c").is_null() & pl.col("_r").is_not_null())
        .then(pl.format("country: missing for grid_region '{}'", "_r"))
        .when(pl.col("_c").is_null()).then(pl.lit("country: missing; electricity needs a country (ISO 3166-1 alpha-2) for its grid factor"))
        .when(pl.col("_national").is_null() & pl.col("_known").is_null())
        .then(pl.format("country: '{}' has no grid factor in the grid_electricity table", "_c"))
        .when(pl.col("_r").is_not_null())
        .then(pl.format("grid_region: '{}' is not a grid region of {} in the grid_electricity table (it has {}{})", "_r", "_c",
                        pl.col("_known").fill_null("none"), pl.when(pl.col("_n") > 8).then(pl.lit(", ...")).otherwise(pl.lit(""))))
        .otherwise(pl.format("country: '{}' has only regional grid factors ({}); give grid_region", "_c", "_known"))
    )
    return out.with_columns(grid_error=error).select(*keys.columns, *GRID_COLUMNS).cast(pl.Schema(GRID_COLUMNS))
