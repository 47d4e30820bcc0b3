"""Throughput of logistics.geo: geodesic distances, place resolution, sea routing, whole legs, and
the service scenario, each against a named peer in the same run.

    python bench/bench_geo.py [--pairs 1000000] [--mode-pairs 2000] [--places 300]
                              [--shipments 10000] [--before-shipments 200] [--round 8] [--seed 1]

Peers:
- ``searoute``: searoute's own routing call per pair (``logistics.geo.sea_route_km``, igraph
  backend), against ``sea_distances_km`` (one Dijkstra search per distinct origin node);
- ``before``: ``logistics/geo.py`` as it was at commit ``d2db237`` (loaded from git), against the
  current ``resolve_distances``, on the same legs.

Inputs are random but seeded, so runs are comparable. "cold" starts with empty caches (the
network and the tables loaded), "warm" repeats the same calls.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

import logistics
from logistics import geo

BEFORE_COMMIT = "d2db237"
MODES = ("road", "rail", "sea", "inland_waterway", "air")
DAF = {"road": 1.2, "rail": 1.3, "inland_waterway": 1.6, "sea": 1.15}  # air: the pack's +95 km needs a pack


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def geo_before():
    """``logistics.geo`` of commit BEFORE_COMMIT as the module ``logistics._geo_before``, or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        source = subprocess.run(["git", "-C", str(root), "show", f"{BEFORE_COMMIT}:logistics/geo.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "_geo_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("logistics._geo_before", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "logistics"
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.UNLOCODE_PATH = geo.UNLOCODE_PATH
    return module


def clear_caches() -> None:
    geo._PLACES.clear()
    geo._LEGS.clear()
    geo.sea_network().cache.clear()
    geo.sea_route_km.cache_clear()


def located_codes(rng: np.random.Generator, n: int, function: str | None = None) -> list[str]:
    """``n`` UN/LOCODEs with coordinates; ``function`` "1" ports, "4" airports."""
    table = pl.read_parquet(geo.UNLOCODE_PATH).filter(pl.col("lat").is_not_null())
    if function:
        table = table.filter(pl.col("function").str.slice(int(function) - 1, 1) == function)
    return table["locode"].sample(n, seed=int(rng.integers(1 << 31))).to_list()


def bench_geodesic(rng: np.random.Generator, n: int) -> None:
    # Uniform on the sphere: latitude from arcsin of a uniform variable.
    lat1, lat2 = (np.degrees(np.arcsin(rng.uniform(-1, 1, n))) for _ in range(2))
    lon1, lon2 = (rng.uniform(-180, 180, n) for _ in range(2))
    _, seconds = timed(lambda: geo.geodesic_km(lat1, lon1, lat2, lon2))
    print(f"geodesic WGS84 (pyproj, vectorised): {n:,} pairs in {seconds:.2f} s = {n / seconds:,.0f} pairs/s")


def bench_resolution(rng: np.random.Generator, n: int) -> None:
    geo.unlocode_table(), geo.airport_table(), geo.city_code_table()  # load once, as a service would
    codes = located_codes(rng, 5_000)
    values = pl.Series(rng.choice(codes, n))
    _, seconds = timed(lambda: geo.resolve_locations(values))
    print(f"resolve_locations: {n:,} values (5,000 distinct UN/LOCODEs) in {seconds:.2f} s = {n / seconds:,.0f} values/s")
    every = pl.read_parquet(geo.UNLOCODE_PATH)["locode"]
    _, seconds = timed(lambda: geo.resolve_locations(every))
    print(f"resolve_locations: all {len(every):,} distinct UN/LOCODEs in {seconds:.2f} s = {len(every) / seconds:,.0f} codes/s")


def bench_sea(rng: np.random.Generator, n: int, places: int) -> None:
    """n distinct port pairs among `places` ports: searoute per pair against the network."""
    ports = geo.resolve_locations(pl.Series(located_codes(rng, places, function="1")))
    lat, lon = ports["lat"].to_numpy(), ports["lon"].to_numpy()
    pick = np.unique(rng.integers(0, places, (n * 2, 2)), axis=0)
    pick = pick[pick[:, 0] != pick[:, 1]][:n]
    o, d = pick[:, 0], pick[:, 1]
    geo.sea_route_km(lat[0], lon[0], lat[1], lon[1])  # builds searoute's graph
    geo.sea_network()  # builds ours
    clear_caches()
    peer, seconds_peer = timed(lambda: [geo.sea_route_km(lat[i], lon[i], lat[j], lon[j]) for i, j in zip(o, d, strict=True)])
    ours, seconds = timed(lambda: geo.sea_distances_km(lat[o], lon[o], lat[d], lon[d]))
    peer = np.array([np.nan if km is None else km for km in peer])
    gap = np.nanmax(np.abs(peer - ours))
    print(
        f"sea routing, {len(o):,} distinct pairs among {places} ports ({len(np.unique(o))} origins):"
        f" searoute per pair {seconds_peer:.2f} s ({1000 * seconds_peer / len(o):.1f} ms/pair),"
        f" network {seconds:.2f} s ({1000 * seconds / len(o):.2f} ms/pair): {seconds_peer / seconds:.0f}x;"
        f" largest difference {1000 * gap:.1f} m"
    )


def mode_legs(rng: np.random.Generator, mode: str, n: int, codes: list[str]) -> pl.DataFrame:
    pick = rng.integers(0, len(codes), (n, 2))
    pick = pick[pick[:, 0] != pick[:, 1]]
    return pl.DataFrame({
        "_leg": pl.Series(np.arange(len(pick)), dtype=pl.UInt32),
        "mode": [mode] * len(pick),
        "origin": [codes[i] for i in pick[:, 0]],
        "destination": [codes[i] for i in pick[:, 1]],
    })


def bench_modes(rng: np.random.Generator, before, n: int, places: int) -> None:
    """resolve_distances on n random pairs among `places` places, per mode, before and after."""
    pack = logistics.load_pack()
    for mode in MODES:
        codes = located_codes(rng, places, function={"sea": "1", "air": "4"}.get(mode))
        frame = mode_legs(rng, mode, n, codes)
        clear_caches()
        old, seconds_before = timed(lambda frame=frame: before.resolve_distances(frame, pack=pack, daf=DAF))
        clear_caches()
        new, seconds_cold = timed(lambda frame=frame: geo.resolve_distances(frame, pack=pack, daf=DAF))
        _, seconds_warm = timed(lambda frame=frame: geo.resolve_distances(frame, pack=pack, daf=DAF))
        moved = new["distance_source"].str.contains(";").fill_null(False)  # an end the cross-check moved
        same_km = (old["distance_km"] - new["distance_km"]).filter(~moved).abs().max() or 0.0
        print(
            f"resolve_distances {mode:<15} {frame.height:,} legs among {places} places: before {seconds_before:.2f} s,"
            f" after {seconds_cold:.2f} s cold ({seconds_before / seconds_cold:.1f}x), {seconds_warm:.3f} s warm;"
            f" largest km difference {same_km:.3g} where no end moved ({moved.sum()} legs with an end moved by the"
            f" cross-check)"
        )


def service_shipments(rng: np.random.Generator, n: int, places: int) -> list[pl.DataFrame]:
    """n shipments of 1–6 legs of mixed modes; half name their places among `places` codes
    (ports for sea legs, airports for air legs), the other half give their distance (no
    resolution: they are left out of the calls, as the engine does)."""
    pools = {m: located_codes(rng, places, function={"sea": "1", "air": "4"}.get(m)) for m in ("land", "sea", "air")}
    shipments = []
    for k in range(n):
        if k % 2:
            continue
        modes = rng.choice(MODES, int(rng.integers(1, 7)))
        rows = []
        for i, mode in enumerate(modes):
            pool = pools.get(mode, pools["land"])
            o, d = rng.choice(len(pool), 2, replace=False)
            rows.append({"_leg": i, "mode": str(mode), "origin": pool[o], "destination": pool[d]})
        shipments.append(pl.DataFrame(rows, schema={"_leg": pl.UInt32, "mode": pl.String, "origin": pl.String,
                                                    "destination": pl.String}))
    return shipments


def rounds(shipments: list[pl.DataFrame], size: int) -> list[pl.DataFrame]:
    """The shipments in calculation rounds of ``size``, one legs frame each (as the service's rounds)."""
    out = []
    for start in range(0, len(shipments), size):
        frame = pl.concat(shipments[start:start + size])
        out.append(frame.with_columns(_leg=pl.int_range(pl.len(), dtype=pl.UInt32)))
    return out


def bench_service(rng: np.random.Generator, before, n: int, n_before: int, places: int, size: int) -> None:
    pack = logistics.load_pack()
    shipments = service_shipments(rng, n, places)
    clear_caches()
    sample = shipments[: n_before // 2]
    _, seconds_before = timed(lambda: [before.resolve_distances(s, pack=pack, daf=DAF) for s in sample])
    rate_before = 2 * len(sample) / seconds_before  # the half with given distances costs nothing
    for label, calls in (("one call per shipment", shipments), (f"rounds of {size} shipments", rounds(shipments, size))):
        clear_caches()
        _, seconds_cold = timed(lambda calls=calls: [geo.resolve_distances(c, pack=pack, daf=DAF) for c in calls])
        _, seconds_warm = timed(lambda calls=calls: [geo.resolve_distances(c, pack=pack, daf=DAF) for c in calls])
        rate_cold, rate_warm = n / seconds_cold, n / seconds_warm
        print(
            f"service scenario, {n:,} distinct shipments (1-6 legs, mixed modes, half with places among {places}"
            f" per mode), {label}: before {rate_before:,.0f} req/s (one call per shipment, first {2 * len(sample)}),"
            f" after {rate_cold:,.0f} req/s cold ({rate_cold / rate_before:.0f}x), {rate_warm:,.0f} req/s warm"
            f" ({rate_warm / rate_before:.0f}x); distances only, one thread"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--mode-pairs", type=int, default=2_000)
    parser.add_argument("--places", type=int, default=300)
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--before-shipments", type=int, default=200)
    parser.add_argument("--round", type=int, default=8, help="shipments per calculation round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bench_geodesic(rng, args.pairs)
    bench_resolution(rng, args.pairs)
    bench_sea(rng, args.mode_pairs, args.places)
    before = geo_before()
    if before is None:
        print(f"(no git checkout with commit {BEFORE_COMMIT}: the before/after comparisons are skipped)")
        return
    bench_modes(rng, before, args.mode_pairs, args.places)
    bench_service(rng, before, args.shipments, args.before_shipments, args.places, args.round)


if __name__ == "__main__":
    main()
