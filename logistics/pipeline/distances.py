"""Distances: the transport-activity distance of each leg and the DAF its emissions take.

A leg gives ``distance_km`` (actual unless ``distance_type`` says otherwise), or places that a
resolver (``logistics.geo`` by default) turns into an SFD or GCD distance once per distinct place
key. The DAF is the leg's own ``daf`` or ``rules.distance.daf_rule``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from .. import factors as F
from ..schema import PLACE_COLUMNS, DType
from .keys import hash_cells

PLACE_KEY = "__place"
# What the place table gives per place key.
PLACE_RESULT: dict[str, DType] = {
    "__p_distance_km": pl.Float64,
    "__p_distance_type": pl.String,
    "__p_distance_source": pl.String,
    "__p_error": pl.String,
    "__p_gcd": pl.Boolean,  # the distance is a great circle's (the DAF rule needs it)
}
GIVEN_SOURCE = "given"


def place_key_expr(columns: Sequence[str]) -> pl.Expr:
    """The place key of a row that gives no distance: its raw mode and places, hashed."""
    cells = [pl.col(c) if c in columns else pl.lit(None, pl.String).alias(c) for c in ("mode", *PLACE_COLUMNS)]
    return hash_cells([c.cast(pl.String) for c in cells])


def resolve_places(places: pl.DataFrame, resolver, pack: F.Pack | None, overrides: Mapping[str, float]) -> pl.DataFrame:
    """Per distinct place key (``places``: PLACE_KEY, mode read, place columns): PLACE_RESULT."""
    if resolver is None:
        return places.select(PLACE_KEY, *(pl.lit(None, t).alias(c) for c, t in PLACE_RESULT.items() if c != "__p_gcd"))
    legs = places.select(pl.col(PLACE_KEY).alias("_leg"), "mode", *(pl.col(c) for c in PLACE_COLUMNS if c in places.columns))
    got = resolver(legs, pack=pack, daf=overrides)
    return got.select(
        pl.col("_leg").alias(PLACE_KEY),
        pl.col("distance_km").alias("__p_distance_km"),
        pl.col("distance_type").alias("__p_distance_type"),
        pl.col("distance_source").alias("__p_distance_source"),
        pl.col("distance_error").alias("__p_error"),
    )
