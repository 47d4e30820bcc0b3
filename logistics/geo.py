"""Places to coordinates, and coordinates to GLEC v3.0 / ISO 14083 distances, offline.

A place is a UN/LOCODE (``NLRTM`` or ``NL RTM``), an IATA (``NRT``) or ICAO (``RJAA``) airport
code, or ``"lat,lon"`` in decimal degrees; a leg may instead carry ``origin_lat``/``origin_lon``/
``destination_lat``/``destination_lon`` columns, which then take precedence over the text.

Distance rules (GLEC Framework v3.0, "S1" in shared/reference/glec-methodology.md §2):
- air: great-circle distance (GCD) per flight leg; DAF = (GCD + ``air_gcd_added_km``) / GCD
  (S1 p.38, the 95 km for manoeuvring and taxiing);
- sea: shortest feasible distance (SFD) over searoute's maritime network; when it has no route,
  GCD with DAF ``sea_gcd_daf`` (S1 p.51, 1.15);
- road, rail, inland waterway: no network ships with the engine, so GCD with DAF
  ``<mode>_gcd_daf`` (S1 pp.43, 46, 48 allow GCD and leave the DAF to the user; the values of the
  shipped pack and their evidence are in logistics/data/README.md).
GCD is the geodesic on the WGS84 ellipsoid (pyproj). DAFs come from pack parameters and can be
overridden per call. Every result row names its distance type and source.

Work is done once per distinct place and once per distinct coordinate pair, then joined back:
a million legs over five thousand distinct pairs route five thousand times.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from pyproj import Geod

if TYPE_CHECKING:
    from logistics.factors import Pack

DATA_DIR = Path(__file__).resolve().parent / "data"
UNLOCODE_PATH = DATA_DIR / "unlocode.parquet"

MODES = ("road", "rail", "sea", "inland_waterway", "air")
SIDES = ("origin", "destination")
GEODESIC_SOURCE = "geodesic WGS84"
SEA_FALLBACK_SOURCE = "geodesic WGS84 (no sea route)"
SEAROUTE_SOURCE = "searoute"
# Passages searoute must avoid. searoute's `restrictions` replaces its default list, so the whole
# list is always passed; both Arctic gateways stay closed or Europe-Asia routes go over the pole.
SEA_RESTRICTIONS = ("northwest", "bering")
# An end farther than this from the sea network is no seaport: the straight connector would
# dominate the route, so the leg falls back to GCD × sea_gcd_daf.
SEA_MAX_SNAP_KM = 500.0
# igraph gives the same routes as networkx three to four times faster; use it when installed.
SEAROUTE_BACKEND = "igraph" if importlib.util.find_spec("igraph") else "networkx"

LATLON = r"^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$"
LOCODE = r"^[A-Z]{2}[A-Z0-9]{3}$"
IATA = r"^[A-Z]{3}$"
ICAO = r"^[A-Z]{4}$"

_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- reference tables


@cache
def unlocode_table() -> pl.DataFrame:
    """UN/LOCODE: locode, name, lat, lon, coordinates (UNECE text), coord_problem."""
    return pl.read_parquet(UNLOCODE_PATH, columns=["locode", "name", "lat", "lon", "coordinates", "coord_problem"])


def _airportsdata_file(name: str) -> Path:
    spec = importlib.util.find_spec("airportsdata")
    return Path(next(iter(spec.submodule_search_locations))) / name


@cache
def airport_table() -> pl.DataFrame:
    """airportsdata: icao, iata (null when none), name, lat, lon."""
    return pl.read_csv(_airportsdata_file("airports.csv"), infer_schema=False).select(
        "icao",
        pl.col("iata").replace("", None),
        "name",
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
    )


@cache
def city_code_table() -> pl.DataFrame:
    """IATA metropolitan-area codes (TYO, LON, ...) with the airports each covers."""
    return (
        pl.read_csv(_airportsdata_file("iata_macs.csv"), infer_schema=False)
        .group_by("City Code")
        .agg(pl.col("Airport Code").sort().str.join(", ").alias("airports"))
        .rename({"City Code": "city_code"})
    )


# --------------------------------------------------------------------------- locations


def resolve_locations(values: pl.Series) -> pl.DataFrame:
    """Resolve each distinct non-null value to coordinates.

    Returns one row per distinct value: ``value``, ``lat``, ``lon``, ``kind`` (``unlocode`` |
    ``iata`` | ``icao`` | ``latlon``, null when unrecognised), ``name`` (of the place, when known)
    and ``error`` (null, or why the value gives no coordinates, naming it).
    """
    frame = pl.DataFrame({"value": values.cast(pl.String)}).drop_nulls().unique(maintain_order=True)
    code = pl.col("value").str.strip_chars().str.to_uppercase()
    locode = code.str.replace(r"^([A-Z]{2}) ([A-Z0-9]{3})$", "${1}${2}")
    latlon = pl.col("value").str.extract_groups(LATLON)
    frame = frame.with_columns(
        _lat=latlon.struct.field("1").cast(pl.Float64),
        _lon=latlon.struct.field("2").cast(pl.Float64),
        _locode=locode,
        _code=code,
    ).with_columns(
        kind=pl.when(pl.col("_lat").is_not_null())
        .then(pl.lit("latlon"))
        .when(pl.col("_locode").str.contains(LOCODE))
        .then(pl.lit("unlocode"))
        .when(pl.col("_code").str.contains(IATA))
        .then(pl.lit("iata"))
        .when(pl.col("_code").str.contains(ICAO))
        .then(pl.lit("icao"))
    )
    key = lambda kind, column: pl.when(pl.col("kind") == kind).then(pl.col(column))  # noqa: E731
    airports = airport_table()
    frame = (
        frame.with_columns(
            _locode_key=key("unlocode", "_locode"), _iata_key=key("iata", "_code"), _icao_key=key("icao", "_code")
        )
        .join(
            unlocode_table().rename({"lat": "u_lat", "lon": "u_lon", "name": "u_name"}).with_columns(u_known=True),
            left_on="_locode_key", right_on="locode", how="left", maintain_order="left",
        )
        .join(
            airports.filter(pl.col("iata").is_not_null()).select("iata", i_lat="lat", i_lon="lon", i_name="name"),
            left_on="_iata_key", right_on="iata", how="left", maintain_order="left",
        )
        .join(
            airports.select("icao", c_lat="lat", c_lon="lon", c_name="name"),
            left_on="_icao_key", right_on="icao", how="left", maintain_order="left",
        )
        .join(city_code_table(), left_on="_iata_key", right_on="city_code", how="left", maintain_order="left")
    )
    kind = pl.col("kind")
    quoted = pl.format("'{}'", pl.col("value"))
    error = (
        pl.when(pl.col("value").str.strip_chars() == "")
        .then(pl.lit("empty value"))
        .when((kind == "latlon") & ~((pl.col("_lat").abs() <= 90) & (pl.col("_lon").abs() <= 180)))
        .then(pl.format("{} is not a valid 'lat,lon' (latitude within ±90, longitude within ±180)", quoted))
        .when((kind == "unlocode") & pl.col("u_known").is_null())
        .then(pl.format("{} is not a known UN/LOCODE", quoted))
        .when((kind == "unlocode") & pl.col("u_lat").is_null() & pl.col("coord_problem").is_not_null())
        .then(
            pl.format(
                "{} has no usable coordinates in UN/LOCODE ('{}' is {})",
                quoted, pl.col("coordinates"), pl.col("coord_problem"),
            )
        )
        .when((kind == "unlocode") & pl.col("u_lat").is_null())
        .then(pl.format("{} has no coordinates in UN/LOCODE", quoted))
        .when((kind == "iata") & pl.col("i_lat").is_null() & pl.col("airports").is_not_null())
        .then(pl.format("{} is an IATA city code covering several airports ({}); give one", quoted, pl.col("airports")))
        .when((kind == "iata") & pl.col("i_lat").is_null())
        .then(pl.format("{} is not a known IATA airport code", quoted))
        .when((kind == "icao") & pl.col("c_lat").is_null())
        .then(pl.format("{} is not a known ICAO airport code", quoted))
        .when(kind.is_null())
        .then(pl.format("{} is not a UN/LOCODE, an IATA or ICAO airport code, or 'lat,lon'", quoted))
    )
    return frame.select(
        "value",
        lat=pl.coalesce("_lat", "u_lat", "i_lat", "c_lat"),
        lon=pl.coalesce("_lon", "u_lon", "i_lon", "c_lon"),
        kind="kind",
        name=pl.coalesce("u_name", "i_name", "c_name"),
        error=error,
    ).with_columns(
        pl.when(pl.col("error").is_null()).then(pl.col(c)).alias(c) for c in ("lat", "lon", "name")
    )


def _endpoint(legs: pl.DataFrame, side: str) -> pl.DataFrame:
    """``{side}_lat``, ``{side}_lon``, ``{side}_error`` for every leg, in leg order.

    Explicit ``{side}_lat``/``{side}_lon`` columns win over the ``{side}`` text when given.
    """
    lat_col, lon_col = f"{side}_lat", f"{side}_lon"

    def column(name: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(name) if name in legs.columns else pl.repeat(None, pl.len(), dtype=dtype)

    raw = legs.select(
        text=column(side, pl.String).cast(pl.String).str.strip_chars().replace("", None),
        raw_lat=column(lat_col, pl.Float64),
        raw_lon=column(lon_col, pl.Float64),
    )
    resolved = resolve_locations(raw["text"]).select("value", t_lat="lat", t_lon="lon", t_err="error")
    frame = raw.join(resolved, left_on="text", right_on="value", how="left", maintain_order="left")

    def number(which: str) -> pl.Expr:
        return pl.col(f"raw_{which}").cast(pl.Float64, strict=False)

    def number_error(which: str, name: str, bound: int) -> pl.Expr:
        given = pl.col(f"raw_{which}")
        return (
            pl.when(given.is_not_null() & number(which).is_null())
            .then(pl.format("{}: '{}' is not a number", pl.lit(name), given.cast(pl.String)))
            .when(~(number(which).abs() <= bound))
            .then(pl.format("{}: {} is outside ±{}", pl.lit(name), number(which), pl.lit(bound)))
        )

    given_lat, given_lon = pl.col("raw_lat").is_not_null(), pl.col("raw_lon").is_not_null()
    numbers_given = given_lat | given_lon
    numbers_error = (
        pl.when(given_lat & ~given_lon)
        .then(pl.lit(f"{lon_col}: missing ({lat_col} is given)"))
        .when(~given_lat & given_lon)
        .then(pl.lit(f"{lat_col}: missing ({lon_col} is given)"))
        .otherwise(
            pl.concat_str(
                number_error("lat", lat_col, 90), number_error("lon", lon_col, 180), separator="; ", ignore_nulls=True
            )
        )
    )
    error = (
        pl.when(numbers_given)
        .then(pl.when(numbers_error != "").then(numbers_error))
        .when(pl.col("text").is_null())
        .then(pl.lit(f"{side}: missing (give {side} or {lat_col}/{lon_col})"))
        .when(pl.col("t_err").is_not_null())
        .then(pl.format("{}: {}", pl.lit(side), pl.col("t_err")))
    )
    return frame.select(
        pl.when(numbers_given).then(number("lat")).otherwise("t_lat").alias(lat_col),
        pl.when(numbers_given).then(number("lon")).otherwise("t_lon").alias(lon_col),
        error.alias(f"{side}_error"),
    )


# --------------------------------------------------------------------------- distances


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, km, element-wise over array-likes (degrees)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (lon1, lat1, lon2, lat2)]
    _, _, metres = _GEOD.inv(*arrays)
    return np.asarray(metres) / 1000.0


@lru_cache(maxsize=65536)
def sea_route_km(o_lat: float, o_lon: float, d_lat: float, d_lon: float) -> float | None:
    """SFD over searoute's maritime network, km, or None when there is no usable route.

    The route runs between the network nodes nearest each end; the straight connectors from the
    ends to those nodes are added. Cached, so a place pair seen before costs nothing.
    """
    import searoute

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        route = searoute.searoute(
            (o_lon, o_lat),
            (d_lon, d_lat),
            units="km",
            restrictions=list(SEA_RESTRICTIONS),
            backend=SEAROUTE_BACKEND,
        )
    if any("No path found" in str(w.message) for w in caught):
        return None
    path = route.geometry.coordinates
    if not path:
        return None
    (first_lon, first_lat), (last_lon, last_lat) = path[0][:2], path[-1][:2]
    connectors = geodesic_km([o_lat, d_lat], [o_lon, d_lon], [first_lat, last_lat], [first_lon, last_lon])
    if connectors.max() > SEA_MAX_SNAP_KM:
        return None
    return float(route.properties["length"] + connectors.sum())


def resolve_distances(
    legs: pl.DataFrame,
    *,
    pack: Pack | None = None,
    daf: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Transport-activity distance and DAF for each leg, from its places.

    ``legs`` has ``_leg``, ``mode`` and any of ``origin``, ``destination``, ``origin_lat``,
    ``origin_lon``, ``destination_lat``, ``destination_lon``. ``daf`` maps a mode to the DAF to use
    on its GCD legs instead of the pack's (for air it replaces (GCD + 95) / GCD; sea legs routed on
    the network keep DAF 1). Returns one row per leg, in order: ``_leg``, ``distance_km``,
    ``distance_type`` (``sfd`` | ``gcd``), ``distance_source``, ``daf``, ``distance_error``.
    A row with an error has nulls in the other result columns.
    """
    missing = [c for c in ("_leg", "mode") if c not in legs.columns]
    if missing:
        raise ValueError(f"legs: missing column(s) {', '.join(missing)}")
    from .rules.distance import GCD_DAF_PARAMETERS, daf_expr as pack_daf

    daf_expr = pack_daf(pack, daf or {})  # raises on a bad override before any work
    mode = pl.col("mode")
    frame = pl.concat(
        [legs.select("_leg", mode.cast(pl.String)), *(_endpoint(legs, side) for side in SIDES)],
        how="horizontal",
    ).with_columns(
        mode_error=pl.when(mode.is_null())
        .then(pl.lit("mode: missing"))
        .when(~mode.is_in(MODES))
        .then(pl.format("mode: '{}' has no distance (one of {})", mode, pl.lit(", ".join(MODES))))
    )
    places_error = pl.concat_str("origin_error", "destination_error", separator="; ", ignore_nulls=True)
    frame = frame.with_columns(
        _error=pl.when(pl.col("mode_error").is_not_null())
        .then("mode_error")
        .when(places_error != "")
        .then(places_error)
    )

    pair = ["origin_lat", "origin_lon", "destination_lat", "destination_lon"]
    usable = frame.filter(pl.col("_error").is_null())
    pairs = usable.select(pair).unique()
    pairs = pairs.with_columns(gcd_km=pl.Series(geodesic_km(*(pairs[c] for c in pair)), dtype=pl.Float64))
    sea_pairs = usable.filter(mode == "sea").select(pair).unique().join(pairs, on=pair).filter(pl.col("gcd_km") > 0)
    sea_pairs = sea_pairs.select(
        *pair,
        sfd_km=pl.Series([sea_route_km(*row) for row in sea_pairs.select(pair).iter_rows()], dtype=pl.Float64),
    )
    frame = frame.join(pairs, on=pair, how="left", maintain_order="left").join(
        sea_pairs, on=pair, how="left", maintain_order="left"
    )
    frame = frame.with_columns(pl.when(mode == "sea").then("sfd_km").alias("sfd_km"))

    on_network = pl.col("sfd_km").is_not_null()
    gcd = pl.col("gcd_km")
    frame = frame.with_columns(
        distance_km=pl.when(on_network).then("sfd_km").otherwise(gcd),
        distance_type=pl.when(on_network).then(pl.lit("sfd")).otherwise(pl.lit("gcd")),
        distance_source=pl.when(on_network)
        .then(pl.lit(SEAROUTE_SOURCE))
        .when(mode == "sea")
        .then(pl.lit(SEA_FALLBACK_SOURCE))
        .otherwise(pl.lit(GEODESIC_SOURCE)),
    ).with_columns(
        daf=daf_expr,
    ).with_columns(
        _error=pl.when(pl.col("_error").is_not_null())
        .then("_error")
        .when(gcd == 0)
        .then(pl.lit("origin and destination are the same point (0 km apart); give distance_km"))
        .when(pl.col("daf").is_null())
        .then(
            pl.format(
                "daf: no DAF for {} on GCD (pack parameter '{}' missing, and no daf= override)",
                mode, mode.replace_strict(GCD_DAF_PARAMETERS, default=None),
            )
        )
    )
    ok = pl.col("_error").is_null()
    return frame.select(
        "_leg",
        *(pl.when(ok).then(c).alias(c) for c in ("distance_km", "distance_type", "distance_source", "daf")),
        distance_error="_error",
    )
