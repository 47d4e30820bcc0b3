"""Places to coordinates, and coordinates to GLEC v3.0 / ISO 14083 distances, offline.

A place is a UN/LOCODE (``NLRTM`` or ``NL RTM``), an IATA (``NRT``) or ICAO (``RJAA``) airport
code, or ``"lat,lon"`` in decimal degrees; a leg may instead carry ``origin_lat``/``origin_lon``/
``destination_lat``/``destination_lon`` columns, which then take precedence over the text.

Distance rules (GLEC Framework for Logistics Emissions Accounting and Reporting v3.0, Smart Freight
Centre 2023, revision 2024-04-02):
- air: great-circle distance (GCD) per flight leg; DAF = (GCD + ``air_gcd_added_km``) / GCD
  (GLEC v3.0 p.38, the 95 km for manoeuvring and taxiing);
- sea: shortest feasible distance (SFD) over searoute's maritime network; when it has no route,
  GCD with DAF ``sea_gcd_daf`` (GLEC v3.0 p.51, 1.15);
- road, rail, inland waterway: no network ships with the engine, so GCD with DAF
  ``<mode>_gcd_daf`` (GLEC v3.0 pp.43, 46, 48 allow GCD and leave the DAF to the user; the values of the
  shipped pack and their evidence are in logistics/data/README.md).
GCD is the geodesic on the WGS84 ellipsoid (pyproj). DAFs come from pack parameters and can be
overridden per call. Every result row names its distance type and source.

The UN/LOCODE table is cross-checked with searoute's ports and the airport table when it is
built (``logistics/data/build_unlocode.py``): where a port or an airport lies more than 50 km
from a code's point, sea legs start or end at the port and air legs at the airport, and the
result's ``distance_source`` names the end and the source that gave it.

Work is done once per distinct place and once per distinct coordinate pair, then joined back:
a million legs over five thousand distinct pairs route five thousand times. Sea distances come
from one shortest-path run per distinct origin node of the network, giving every destination at
once; places and node-pair distances are kept in bounded, thread-safe caches, so a service that
sees the same few hundred places pays for each once.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
# Where a UN/LOCODE's point and a mode's source (searoute's port, the airport) lie farther apart
# than this, the mode's source wins for that mode (decided when the table is built, by
# logistics/data/build_unlocode.py). Between UNECE's points and searoute's ports the
# number of disagreements falls steeply up to 50 km (2023-1: 590 over 10 km, 416 over 25 km, 208
# over 50 km) and hardly at all beyond (186 over 100 km, 162 over 200 km): below 50 km they are
# the spread of one place (a town and its terminals, a city and its airport, UNECE's one-minute
# grid), above it mostly slips (a digit, a sign, another place's code).
CROSS_CHECK_KM = 50.0
# Mean earth radius searoute measures its routes with (km): the network's edge lengths use it, so
# distances over the network equal searoute's own.
SEAROUTE_EARTH_RADIUS_KM = 6371.0088
# Bounds of the process-wide caches (entries): distinct place texts; origin nodes of the sea
# network whose distances to every node are kept (9,708 nodes x 8 bytes = 78 kB each, 40 MB in
# all). A service sees a few hundred places; a batch run with more distinct values than
# PLACE_CACHE_BYPASS resolves them in one vectorised pass without the cache.
PLACE_CACHE_SIZE = 65_536
PLACE_CACHE_BYPASS = 4_096
SEA_CACHE_ORIGINS = 512


class BoundedCache:
    """A least-recently-used mapping of at most ``maxsize`` entries, safe to share between threads."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_many(self, keys: Iterable) -> dict:
        found = {}
        with self._lock:
            for key in keys:
                if key in self._data:
                    self._data.move_to_end(key)
                    found[key] = self._data[key]
            self.hits += len(found)
        return found

    def put_many(self, items: Iterable[tuple[Any, Any]]) -> None:
        with self._lock:
            for key, value in items:
                self._data[key] = value
                self._data.move_to_end(key)
                self.misses += 1
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


# --------------------------------------------------------------------------- reference tables


@cache
def unlocode_table() -> pl.DataFrame:
    """UN/LOCODE: locode, name, lat, lon, coord_source, coordinates (UNECE text), coord_problem,
    and each mode's own point where it differs (sea_lat/sea_lon/sea_km from searoute's ports,
    air_iata/air_lat/air_lon/air_km from the airport table; see logistics/data/README.md)."""
    return pl.read_parquet(UNLOCODE_PATH, columns=[
        "locode", "name", "lat", "lon", "coord_source", "coordinates", "coord_problem",
        "sea_lat", "sea_lon", "sea_km", "air_iata", "air_lat", "air_lon", "air_km",
    ])


def _airportsdata_file(name: str) -> Path:
    spec = importlib.util.find_spec("airportsdata")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the airportsdata package is not installed")
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


LOCATION_SCHEMA = {
    "value": pl.String, "lat": pl.Float64, "lon": pl.Float64, "kind": pl.String, "name": pl.String,
    "error": pl.String, "note": pl.String, "sea_lat": pl.Float64, "sea_lon": pl.Float64, "sea_note": pl.String,
    "air_lat": pl.Float64, "air_lon": pl.Float64, "air_note": pl.String,
}
_PLACES = BoundedCache(PLACE_CACHE_SIZE)
_SOURCE_NAMES = {"searoute": "searoute's ports", "airportsdata": "the airport table"}


def resolve_locations(values: pl.Series) -> pl.DataFrame:
    """Resolve each distinct non-null value to coordinates.

    Returns one row per distinct value: ``value``, ``lat``, ``lon``, ``kind`` (``unlocode`` |
    ``iata`` | ``icao`` | ``latlon``, null when unrecognised), ``name`` (of the place, when known),
    ``error`` (null, or why the value gives no coordinates, naming it) and ``note`` (null, or which
    source gave the point where UN/LOCODE's own disagreed). A UN/LOCODE whose port or airport
    lies more than 50 km from its point also has ``sea_lat``/``sea_lon``/``sea_note`` (the port,
    for sea legs) or ``air_lat``/``air_lon``/``air_note`` (the airport, for air legs).

    Values seen before come from a bounded cache shared by all threads.
    """
    distinct = values.cast(pl.String).drop_nulls().unique(maintain_order=True)
    if distinct.len() > PLACE_CACHE_BYPASS:
        return _resolve_locations(distinct)
    keys = distinct.to_list()
    known = _PLACES.get_many(keys)
    missing = [k for k in keys if k not in known]
    if missing:
        fresh = _resolve_locations(pl.Series(missing, dtype=pl.String))
        rows = dict(zip(fresh["value"].to_list(), fresh.iter_rows(), strict=True))
        _PLACES.put_many(rows.items())
        known.update(rows)
    return pl.DataFrame([known[k] for k in keys], schema=LOCATION_SCHEMA, orient="row")


def _resolve_locations(distinct: pl.Series) -> pl.DataFrame:
    """``resolve_locations`` without the cache, on distinct values."""
    frame = pl.DataFrame({"value": distinct})
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
    key = lambda kind, column: pl.when(pl.col("kind") == kind).then(pl.col(column))
    frame = frame.with_columns(
        _locode_key=key("unlocode", "_locode"), _iata_key=key("iata", "_code"), _icao_key=key("icao", "_code")
    )
    # Only the rows asked for take part in the joins (a request names a few of 115,770 codes).
    codes = unlocode_table().filter(pl.col("locode").is_in(frame["_locode_key"].drop_nulls().implode()))
    airports = airport_table().filter(
        pl.col("iata").is_in(frame["_iata_key"].drop_nulls().implode())
        | pl.col("icao").is_in(frame["_icao_key"].drop_nulls().implode())
    )
    frame = (
        frame
        .join(
            codes.rename({"lat": "u_lat", "lon": "u_lon", "name": "u_name"}).with_columns(u_known=True),
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
    unlocode = kind == "unlocode"
    km = lambda column: pl.col(column).round(0).cast(pl.Int64)
    moved = unlocode & pl.col("coord_problem").str.contains("point is not in subdivision", literal=True)
    return frame.select(
        "value",
        lat=pl.coalesce("_lat", "u_lat", "i_lat", "c_lat"),
        lon=pl.coalesce("_lon", "u_lon", "i_lon", "c_lon"),
        kind="kind",
        name=pl.coalesce("u_name", "i_name", "c_name"),
        error=error,
        note=pl.when(moved).then(pl.format(
            "{} from {} ({})", "value",
            pl.col("coord_source").replace_strict(_SOURCE_NAMES, default=pl.col("coord_source")), "coord_problem",
        )),
        sea_lat=pl.when(unlocode).then("sea_lat"),
        sea_lon=pl.when(unlocode).then("sea_lon"),
        sea_note=pl.when(unlocode).then(
            pl.format("{} from searoute's ports (UN/LOCODE's point is {} km away)", "value", km("sea_km"))
        ),
        air_lat=pl.when(unlocode).then("air_lat"),
        air_lon=pl.when(unlocode).then("air_lon"),
        air_note=pl.when(unlocode).then(
            pl.format("{} from airport {} (UN/LOCODE's point is {} km away)", "value", "air_iata", km("air_km"))
        ),
    ).with_columns(
        pl.when(pl.col("error").is_null()).then(pl.col(c)).alias(c) for c in list(LOCATION_SCHEMA)[1:] if c not in ("kind", "error")
    )


@cache
def _endpoint(side: str) -> dict[str, pl.Expr]:
    """Expressions for ``_{side}_lat``, ``_{side}_lon``, ``{side}_error`` and ``{side}_note`` of
    a frame holding the leg's ``mode``, ``{side}``, ``{side}_lat``, ``{side}_lon`` (as given) and
    the place its text resolves to (``resolve_locations``' columns prefixed ``{side}_t_``).

    Explicit ``{side}_lat``/``{side}_lon`` columns win over the ``{side}`` text when given. A sea
    leg uses a code's port and an air leg its airport where they disagree with UN/LOCODE's point;
    ``{side}_note`` then says so (and also where the code's point itself is another source's).
    """
    lat_col, lon_col = f"{side}_lat", f"{side}_lon"
    t = lambda name: pl.col(f"{side}_t_{name}")
    # The source that fits the mode: searoute's port for sea legs, the airport for air legs.
    mode = pl.col("mode")
    own = {m: (mode == m) & t(f"{m}_lat").is_not_null() for m in ("sea", "air")}

    def text_point(name: str) -> pl.Expr:
        return pl.when(own["sea"]).then(t(f"sea_{name}")).when(own["air"]).then(t(f"air_{name}")).otherwise(t(name))

    def number(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.Float64, strict=False)

    def number_error(column: str, bound: int) -> pl.Expr:
        given = pl.col(column)
        return (
            pl.when(given.is_not_null() & number(column).is_null())
            .then(pl.format("{}: '{}' is not a number", pl.lit(column), given.cast(pl.String)))
            .when(~(number(column).abs() <= bound))
            .then(pl.format("{}: {} is outside ±{}", pl.lit(column), number(column), pl.lit(bound)))
        )

    given_lat, given_lon = pl.col(lat_col).is_not_null(), pl.col(lon_col).is_not_null()
    numbers_given = given_lat | given_lon
    numbers_error = (
        pl.when(given_lat & ~given_lon)
        .then(pl.lit(f"{lon_col}: missing ({lat_col} is given)"))
        .when(~given_lat & given_lon)
        .then(pl.lit(f"{lat_col}: missing ({lon_col} is given)"))
        .otherwise(
            pl.concat_str(number_error(lat_col, 90), number_error(lon_col, 180), separator="; ", ignore_nulls=True)
        )
    )
    error = (
        pl.when(numbers_given)
        .then(pl.when(numbers_error != "").then(numbers_error))
        .when(pl.col(f"_{side}_text").is_null())
        .then(pl.lit(f"{side}: missing (give {side} or {lat_col}/{lon_col})"))
        .when(t("error").is_not_null())
        .then(pl.format("{}: {}", pl.lit(side), t("error")))
    )
    return {
        f"_{side}_lat": pl.when(numbers_given).then(number(lat_col)).otherwise(text_point("lat")),
        f"_{side}_lon": pl.when(numbers_given).then(number(lon_col)).otherwise(text_point("lon")),
        f"{side}_error": error,
        f"{side}_note": pl.when(~numbers_given).then(pl.format("{} {}", pl.lit(side), text_point("note"))),
    }


# --------------------------------------------------------------------------- distances


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, km, element-wise over array-likes (degrees)."""
    lons1, lats1, lons2, lats2 = (np.asarray(a, dtype=np.float64) for a in (lon1, lat1, lon2, lat2))
    _, _, metres = _GEOD.inv(lons1, lats1, lons2, lats2)
    return np.asarray(metres) / 1000.0


@lru_cache(maxsize=65536)
def sea_route_km(o_lat: float, o_lon: float, d_lat: float, d_lon: float) -> float | None:
    """SFD of one pair by searoute's own routing call, km, or None when there is no usable route.

    The reference that ``sea_distances_km`` is tested and benchmarked against: the route runs
    between the network nodes nearest each end; the straight connectors from the ends to those
    nodes are added. Costs a shortest-path search per pair (cached per pair).
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


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """searoute's great-circle formula (mean earth radius), so edge lengths add up to its routes'."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.sin((lon2 - lon1) / 2) ** 2 * np.cos(lat1) * np.cos(lat2)
    return 2 * np.arctan2(np.sqrt(a), np.sqrt(1 - a)) * SEAROUTE_EARTH_RADIUS_KM


class SeaNetwork:
    """searoute's maritime network as an igraph graph, for many routes at once.

    Each edge weighs its great-circle length (searoute's formula), passages in
    ``SEA_RESTRICTIONS`` are left out, and an end snaps to the nearest node as searoute does
    (plain distance in degrees of longitude and latitude). ``node_km`` runs one Dijkstra search
    per distinct origin node (about 2 to 4 ms) and keeps its distances to every node in a bounded
    cache; the graph is used under a lock (igraph's core is not re-entrant), so one network
    serves all threads.
    """

    def __init__(self, cache_size: int = SEA_CACHE_ORIGINS):
        import igraph
        from searoute.data.marnet_dict import edge_list, node_list

        nodes = list(node_list)
        index = {node: i for i, node in enumerate(nodes)}
        self.lon = np.array([n[0] for n in nodes], dtype=np.float64)
        self.lat = np.array([n[1] for n in nodes], dtype=np.float64)
        pairs = {
            (min(index[u], index[v]), max(index[u], index[v]))
            for u, targets in edge_list.items()
            for v, attributes in targets.items()
            if attributes.get("passage") not in SEA_RESTRICTIONS and u != v
        }
        edges = np.array(sorted(pairs), dtype=np.int64)
        self.graph = igraph.Graph(n=len(nodes), edges=edges.tolist(), directed=False)
        self.graph.es["km"] = _haversine_km(self.lon[edges[:, 0]], self.lat[edges[:, 0]],
                                     self.lon[edges[:, 1]], self.lat[edges[:, 1]]).tolist()
        self._lock = threading.Lock()
        self.cache = BoundedCache(cache_size)

    def nearest(self, lat, lon) -> np.ndarray:
        """Index of the node nearest each point (degrees, as searoute's own search)."""
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        out = np.empty(len(lat), dtype=np.int64)
        for start in range(0, len(lat), 256):  # bounded memory: 256 points x all nodes at a time
            part = slice(start, start + 256)
            d2 = (self.lon[None, :] - lon[part, None]) ** 2 + (self.lat[None, :] - lat[part, None]) ** 2
            out[part] = d2.argmin(axis=1)
        return out

    def node_km(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Shortest distance over the network between node pairs, km (inf where unconnected).

        One Dijkstra search per distinct origin node not seen before gives its distances to every
        node; those rows are kept (``SEA_CACHE_ORIGINS`` of them), so a later pair costs a lookup
        when either of its ends was an origin before (the network is undirected)."""
        origins, destinations = np.asarray(origins, dtype=np.int64), np.asarray(destinations, dtype=np.int64)
        rows = self.cache.get_many(set(origins.tolist()) | set(destinations.tolist()))
        need = sorted({o for o, d in zip(origins.tolist(), destinations.tolist(), strict=True) if o not in rows and d not in rows})
        if need:
            fresh: list[tuple[int, np.ndarray]] = []
            with self._lock:
                for start in range(0, len(need), 64):  # one igraph call per block of origins
                    block = need[start:start + 64]
                    found = self.graph.distances(source=block, weights="km")
                    fresh.extend(zip(block, (np.array(row, dtype=np.float64) for row in found), strict=True))
            self.cache.put_many(fresh)
            rows.update(fresh)
        return np.array([rows[o][d] if o in rows else rows[d][o]
                         for o, d in zip(origins.tolist(), destinations.tolist(), strict=True)], dtype=np.float64)


_NETWORK_LOCK = threading.Lock()


def sea_network() -> SeaNetwork:
    """The process's sea network, built on first use (about a second)."""
    global _NETWORK
    with _NETWORK_LOCK:
        if _NETWORK is None:
            _NETWORK = SeaNetwork()
        return _NETWORK


_NETWORK: SeaNetwork | None = None


def sea_distances_km(o_lat, o_lon, d_lat, d_lon) -> np.ndarray:
    """SFD over searoute's network for each pair, km; NaN where there is no usable route.

    The same distance as ``sea_route_km`` (searoute's own call: nearest nodes, shortest path,
    straight connectors from each end to its node, no route when a connector exceeds
    ``SEA_MAX_SNAP_KM``), computed for all pairs at once.
    """
    o_lat, o_lon, d_lat, d_lon = (np.asarray(a, dtype=np.float64) for a in (o_lat, o_lon, d_lat, d_lon))
    if not len(o_lat):
        return np.empty(0)
    net = sea_network()
    o_node, d_node = net.nearest(o_lat, o_lon), net.nearest(d_lat, d_lon)
    connectors = geodesic_km(np.r_[o_lat, d_lat], np.r_[o_lon, d_lon],
                             net.lat[np.r_[o_node, d_node]], net.lon[np.r_[o_node, d_node]])
    o_connector, d_connector = connectors[: len(o_lat)], connectors[len(o_lat):]
    km = net.node_km(o_node, d_node) + o_connector + d_connector
    usable = np.isfinite(km) & (np.maximum(o_connector, d_connector) <= SEA_MAX_SNAP_KM)
    return np.where(usable, km, np.nan)


# What a leg's distance depends on; the same inputs give the same distance, whatever the pack.
LEG_INPUTS = ("mode", "origin", "destination", "origin_lat", "origin_lon", "destination_lat", "destination_lon")
_LEG_RESULT = {"distance_km": pl.Float64, "distance_type": pl.String, "distance_source": pl.String, "_error": pl.String}
LEG_CACHE_SIZE = 262_144
_LEGS = BoundedCache(LEG_CACHE_SIZE)


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
    A row with an error has nulls in the other result columns. ``distance_source`` names the
    method (``searoute``, ``geodesic WGS84``, ``geodesic WGS84 (no sea route)``) and, after
    ``"; "``, each end whose point came from another source than UN/LOCODE's own, e.g.
    ``searoute; destination CNYTN from searoute's ports (UNECE's point is not in subdivision
    CN-GD, 736 km from searoute's port)``.

    Distances are worked out once per distinct set of inputs (``LEG_INPUTS``); for a call of up
    to ``PLACE_CACHE_BYPASS`` legs they are also kept in a bounded cache shared by all threads,
    so a service pays for a leg it has seen before only the DAF.
    """
    missing = [c for c in ("_leg", "mode") if c not in legs.columns]
    if missing:
        raise ValueError(f"legs: missing column(s) {', '.join(missing)}")
    finish = _finishing(pack, daf or {})  # raises on a bad override before any work
    inputs = legs.select(
        pl.col("mode").cast(pl.String),
        *(pl.col(c) if c in legs.columns else pl.lit(None, pl.String).alias(c) for c in LEG_INPUTS[1:]),
    )
    if legs.height <= PLACE_CACHE_BYPASS:
        keys = inputs.rows()
        known = _LEGS.get_many(set(keys))
        if len(known) < len(set(keys)):
            distinct = inputs.unique(maintain_order=True)
            got = _input_distances(distinct).select(*_LEG_RESULT).rows()
            fresh = list(zip(distinct.rows(), got, strict=True))
            _LEGS.put_many(fresh)
            known.update(fresh)
        frame = pl.DataFrame([known[k] for k in keys], schema=_LEG_RESULT, orient="row")
    else:
        distinct = inputs.unique()
        frame = inputs.join(
            _input_distances(distinct), on=list(LEG_INPUTS), how="left", nulls_equal=True, maintain_order="left"
        ).select(*_LEG_RESULT)
    daf_expr, results = finish
    return frame.hstack([legs["_leg"], inputs["mode"]]).with_columns(daf=daf_expr).select(results)


_FINISHING: dict[tuple, tuple] = {}
_FINISHING_LOCK = threading.Lock()


def _finishing(pack: Pack | None, overrides: Mapping[str, float]) -> tuple[pl.Expr, list[pl.Expr]]:
    """The DAF of ``pack`` and ``overrides`` (``rules.distance.daf_rule``) and the expressions that turn
    distances and DAF into ``resolve_distances``' result columns, built once per pack and
    overrides (building them costs more than using them on a few legs)."""
    key = (id(pack), tuple(sorted(overrides.items())))
    with _FINISHING_LOCK:
        if key in _FINISHING:
            return _FINISHING[key][1]
    from .rules.distance import GCD_DAF_PARAMETERS
    from .rules.distance import daf_expr as pack_daf

    daf_expr = pack_daf(pack, overrides)
    daf = pl.col("daf")
    mode = pl.col("mode")
    error = (
        pl.when(pl.col("_error").is_not_null())
        .then("_error")
        .when(daf.is_null())
        .then(
            pl.format(
                "daf: no DAF for {} on GCD (pack parameter '{}' missing, and no daf= override)",
                mode, mode.replace_strict(GCD_DAF_PARAMETERS, default=None),
            )
        )
    )
    ok = pl.col("_error").is_null() & daf.is_not_null()
    exprs = [
        pl.col("_leg"),
        *(pl.when(ok).then(c).alias(c) for c in ("distance_km", "distance_type", "distance_source")),
        pl.when(ok).then(daf).alias("daf"),
        error.alias("distance_error"),
    ]
    with _FINISHING_LOCK:
        if len(_FINISHING) >= 64:
            _FINISHING.clear()
        _FINISHING[key] = (pack, (daf_expr, exprs))  # the pack is kept so that its id is not reused
    return daf_expr, exprs


@cache
def _input_error() -> pl.Expr:
    """A leg's error before its distance: its mode, then its places."""
    mode = pl.col("mode")
    places_error = pl.concat_str("origin_error", "destination_error", separator="; ", ignore_nulls=True)
    return (
        pl.when(mode.is_null())
        .then(pl.lit("mode: missing"))
        .when(~mode.is_in(MODES))
        .then(pl.format("mode: '{}' has no distance (one of {})", mode, pl.lit(", ".join(MODES))))
        .when(places_error != "")
        .then(places_error)
    )


def _input_distances(inputs: pl.DataFrame) -> pl.DataFrame:
    """``LEG_INPUTS`` of each row (distinct) with its ``distance_km``, ``distance_type``,
    ``distance_source`` and ``_error`` before the DAF (nulls where there is an error).

    One query resolves the places and checks the inputs; geodesics and sea routes are then
    computed once per distinct coordinate pair (NumPy), and one more query composes the result."""
    text = {side: pl.col(side).cast(pl.String).str.strip_chars().replace("", None) for side in SIDES}
    texts = inputs.select(pl.concat_list(text["origin"], text["destination"]).explode()).to_series()
    places = resolve_locations(texts).lazy()
    query = inputs.lazy().with_columns(text[side].alias(f"_{side}_text") for side in SIDES)
    for side in SIDES:
        query = query.join(
            places.rename(f"{side}_t_{{}}".format),
            left_on=f"_{side}_text", right_on=f"{side}_t_value", how="left", maintain_order="left",
        )
    frame = query.with_columns(**_endpoint("origin"), **_endpoint("destination")).with_columns(
        _error=_input_error()
    ).collect()
    # Once per distinct coordinate pair: the geodesic of every pair, the network route of sea pairs.
    mode = pl.col("mode")
    arrays = frame.select(
        "_origin_lat", "_origin_lon", "_destination_lat", "_destination_lon",
        usable=pl.col("_error").is_null().cast(pl.Float64),
        sea=((mode == "sea") & pl.col("_error").is_null()).fill_null(False).cast(pl.Float64),
    ).to_numpy()
    ends, usable, is_sea = arrays[:, :4], arrays[:, 4] == 1, arrays[:, 5] == 1
    gcd_km = np.full(frame.height, np.nan)
    sfd_km = np.full(frame.height, np.nan)
    if usable.any():
        pairs, which = np.unique(ends[usable], axis=0, return_inverse=True)
        gcd_km[usable] = geodesic_km(*pairs.T)[which.ravel()]
    routed = is_sea & (gcd_km > 0)
    if routed.any():
        pairs, which = np.unique(ends[routed], axis=0, return_inverse=True)
        sfd_km[routed] = sea_distances_km(*pairs.T)[which.ravel()]

    on_network = pl.col("_sfd_km").is_not_null()
    gcd = pl.col("_gcd_km")
    return frame.with_columns(
        _gcd_km=pl.Series(gcd_km, nan_to_null=True), _sfd_km=pl.Series(sfd_km, nan_to_null=True)
    ).select(
        *LEG_INPUTS,
        distance_km=pl.when(on_network).then("_sfd_km").otherwise(gcd),
        distance_type=pl.when(on_network).then(pl.lit("sfd")).otherwise(pl.lit("gcd")),
        distance_source=pl.concat_str(
            pl.when(on_network)
            .then(pl.lit(SEAROUTE_SOURCE))
            .when(mode == "sea")
            .then(pl.lit(SEA_FALLBACK_SOURCE))
            .otherwise(pl.lit(GEODESIC_SOURCE)),
            "origin_note", "destination_note", separator="; ", ignore_nulls=True,
        ),
        _error=pl.when(pl.col("_error").is_not_null())
        .then("_error")
        .when(gcd == 0)
        .then(pl.lit("origin and destination are the same point (0 km apart); give distance_km")),
    ).with_columns(
        pl.when(pl.col("_error").is_null()).then(c).alias(c) for c in ("distance_km", "distance_type", "distance_source")
    )
