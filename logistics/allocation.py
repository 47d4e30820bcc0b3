"""Allocating a vehicle operation's emissions to consignments (GLEC Framework v3.0 §3).

- Collection and delivery rounds: in proportion to *notional* point-to-point transport activity,
  mass × shortest feasible distance from the base to each stop, not the distances driven between
  stops (p.48, p.107), so the result does not depend on the day's stop order.
- Ro-Pax ferries: by passenger equivalents (p.51, from ISO 14083).
"""

from __future__ import annotations

import polars as pl

from .rules.allocation import notional_tkm, peq_share

# Passenger equivalents per unit on Ro-Pax ferries (GLEC Framework v3.0 p.51, from ISO 14083).
PASSENGER_EQUIVALENTS = {
    "passenger": 1.0,  # incl. luggage
    "car": 1.3,
    "bus": 10.0,
    "caravan_small": 1.1,
    "caravan_medium": 2.3,
    "caravan_large": 3.5,
    "mobile_home": 3.5,
    "motorcycle": 0.3,
    "van_small": 1.3,
    "van_large": 3.5,
    "rigid_truck": 10.0,
    "articulated_truck": 18.0,
    "unaccompanied_trailer": 14.0,
}
# The unit types that carry freight on a Ro-Pax voyage (GLEC Framework v3.0 p.121: HGVs and
# unaccompanied trailers; rigid trucks likewise); the other units carry passengers and their vehicles.
FREIGHT_UNITS = ("rigid_truck", "articulated_truck", "unaccompanied_trailer")
EMISSION_COLUMNS = ("co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg")


def milk_run_shares(drops: pl.DataFrame, *, mass: str = "mass_kg", base_distance: str = "sfd_km",
                    round_id: str | None = None) -> pl.DataFrame:
    """Adds ``notional_tkm`` (mass in t × SFD base→stop) and ``share`` within each round."""
    notional = notional_tkm(pl.col(mass) / 1000.0, pl.col(base_distance))
    total = notional.sum().over(round_id) if round_id else notional.sum()
    return drops.with_columns(notional_tkm=notional, share=notional / total)


def peq_shares(units: pl.DataFrame, *, unit: str = "unit", count: str = "count") -> pl.DataFrame:
    """Adds ``peq`` (count × passenger equivalents of the unit type) and ``share`` of the voyage.
    An unknown unit type raises: a wrong share would silently move emissions between customers."""
    known = pl.DataFrame({unit: list(PASSENGER_EQUIVALENTS), "_peq": list(PASSENGER_EQUIVALENTS.values())})
    out = units.join(known, on=unit, how="left")
    unknown = out.filter(pl.col("_peq").is_null())[unit].unique().to_list()
    if unknown:
        raise ValueError(f"{unit}: unknown unit type(s) {unknown}; known: {', '.join(PASSENGER_EQUIVALENTS)}")
    out = out.with_columns(peq=pl.col(count) * pl.col("_peq")).drop("_peq")
    return out.with_columns(share=peq_share(pl.col("peq"), pl.col("peq").sum()))


def allocate(shares: pl.DataFrame, totals: dict[str, float], *, share: str = "share") -> pl.DataFrame:
    """Each row's part of the totals (e.g. ``{"co2e_wtw_kg": 15_160_000}``), by its share."""
    return shares.with_columns((pl.col(share) * v).alias(k) for k, v in totals.items())
