"""Throughput of logistics.geo: geodesic distances, place resolution, sea routing, whole legs.

    python bench/bench_geo.py [--pairs 1000000] [--sea-pairs 200] [--seed 1]

Prints one line per measurement. Inputs are random but seeded, so runs are comparable.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from logistics import geo


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def located_codes(rng: np.random.Generator, n: int, ports_only: bool = False) -> list[str]:
    table = pl.read_parquet(geo.UNLOCODE_PATH).filter(pl.col("lat").is_not_null())
    if ports_only:
        table = table.filter(pl.col("function").str.starts_with("1"))
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


def bench_sea(rng: np.random.Generator, n: int) -> None:
    ports = geo.resolve_locations(pl.Series(located_codes(rng, 2 * n, ports_only=True)))
    coords = list(zip(ports["lat"], ports["lon"]))
    pairs = [coords[i] + coords[n + i] for i in range(n)]
    geo.sea_route_km(*pairs[0])  # the first call builds searoute's graph
    geo.sea_route_km.cache_clear()
    _, seconds = timed(lambda: [geo.sea_route_km(*p) for p in pairs])
    print(
        f"sea routing (searoute, backend {geo.SEAROUTE_BACKEND}): {n} distinct port pairs in {seconds:.2f} s"
        f" = {n / seconds:,.0f} pairs/s ({1000 * seconds / n:.1f} ms/pair)"
    )
    _, seconds = timed(lambda: [geo.sea_route_km(*p) for p in pairs])
    print(f"sea routing, the same pairs again (cached): {n / seconds:,.0f} pairs/s")


def bench_legs(rng: np.random.Generator, n: int) -> None:
    origins, destinations = located_codes(rng, 100), located_codes(rng, 50)
    pairs = [(o, d) for o in origins for d in destinations]  # 5,000 distinct pairs
    pick = rng.integers(0, len(pairs), n)
    legs = pl.DataFrame(
        {
            "_leg": pl.Series(np.arange(n), dtype=pl.UInt32),
            "mode": ["road"] * n,
            "origin": [pairs[i][0] for i in pick],
            "destination": [pairs[i][1] for i in pick],
        }
    )
    out, seconds = timed(lambda: geo.resolve_distances(legs, daf={"road": 1.2}))
    assert out.height == n
    print(f"resolve_distances: {n:,} road legs over 5,000 distinct pairs in {seconds:.2f} s = {n / seconds:,.0f} legs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--sea-pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bench_geodesic(rng, args.pairs)
    bench_resolution(rng, args.pairs)
    bench_sea(rng, args.sea_pairs)
    bench_legs(rng, args.pairs)


if __name__ == "__main__":
    main()
