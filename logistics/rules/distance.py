"""Distances and distance adjustment (GLEC v3.0 pp.26, 38, 43–51, 157; ISO 14083:2023 §6.3)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from ..backends import PolarsBackend
from ..io import InputError
from ..vocabulary import TRANSPORT_MODES

if TYPE_CHECKING:
    from ..factors import Pack

# The pack parameter holding each mode's DAF for great-circle distances (air: the added km).
GCD_DAF_PARAMETERS = {"road": "road_gcd_daf", "rail": "rail_gcd_daf", "inland_waterway": "inland_waterway_gcd_daf",
                      "sea": "sea_gcd_daf", "air": "air_gcd_added_km"}
SHORT_HAUL_MAX_KM_PARAMETER = "flight_short_haul_max_km"


def air_gcd_daf_from_km(gcd_km, added_km):
    """DAF of a flight on its great-circle distance: (GCD + 95 km) / GCD, the 95 km standing for
    manoeuvring, taxiing and holding (GLEC v3.0 pp.38, 115)."""
    return (gcd_km + added_km) / gcd_km


def emissions_distance_km(distance_km, daf):
    """The distance the emissions rest on: the transport-activity distance times the DAF, which
    bridges it and the distance the intensity was built on (GLEC v3.0 pp.26, 157)."""
    return distance_km * daf


def daf_rule(b, is_air, is_gcd, distance_km, gcd_daf, *, air_gcd_daf=None, air_added_km=None):
    """The DAF of a leg that gives none (GLEC v3.0 pp.26, 157): 1 on actual and SFD distances; on
    great-circle distances, for air the override ``air_gcd_daf`` or (GCD + 95 km) / GCD (p.38), for
    the other modes ``gcd_daf``, the mode's GCD DAF (sea 1.15, p.51; road, rail and inland waterway
    left to the user, pp.43, 46, 48: the pack's values; see ``gcd_daf_by_mode``). Missing where
    none is given. ``b``: a backend of ``logistics.backends`` (the rule branches)."""
    if air_gcd_daf is not None:
        air = air_gcd_daf
    elif air_added_km is not None:
        air = air_gcd_daf_from_km(distance_km, air_added_km)
    else:
        air = b.none()
    return b.where(~b.condition(is_gcd), 1.0, b.where(b.condition(is_air), air, gcd_daf))


def check_overrides(overrides: Mapping[str, float]) -> dict[str, float]:
    """Per-mode DAF overrides (for GCD distances), each a finite number ≥ 1."""
    for mode, value in overrides.items():
        if mode not in TRANSPORT_MODES:
            raise InputError(f"daf: {mode!r} is not one of {', '.join(TRANSPORT_MODES)}")
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 1.0):
            raise InputError(f"daf[{mode!r}]: {value!r} is not a number >= 1")
    return dict(overrides)


def gcd_daf_by_mode(pack: Pack | None, overrides: Mapping[str, float]) -> dict[str, float | None]:
    """DAF of a GCD distance per mode but air (whose DAF depends on the distance): the override, else
    the pack's ``<mode>_gcd_daf`` (sea 1.15, GLEC v3.0 p.51; road, rail and inland waterway: the
    pack's values, GLEC v3.0 pp.43, 46, 48 leaving them to the user), else none."""
    return {mode: overrides.get(mode, pack.parameter(GCD_DAF_PARAMETERS[mode]) if pack is not None else None)
            for mode in TRANSPORT_MODES if mode != "air"}


def daf_expr(pack: Pack | None, overrides: Mapping[str, float]) -> pl.Expr:
    """The DAF rule (rules.distance.daf_rule) as a polars expression over the columns ``mode``,
    ``distance_type`` and ``distance_km``."""
    overrides = check_overrides(overrides)
    added_km = pack.parameter(GCD_DAF_PARAMETERS["air"]) if pack is not None else None
    gcd_daf = pl.col("mode").replace_strict(gcd_daf_by_mode(pack, overrides), default=None, return_dtype=pl.Float64)
    return daf_rule(PolarsBackend, pl.col("mode") == "air", pl.col("distance_type") == "gcd", pl.col("distance_km"), gcd_daf,
                    air_gcd_daf=overrides.get("air"), air_added_km=added_km)
