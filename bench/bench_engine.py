"""The library in process, no files: legs/s of a large frame, the cost of one call on a 3-leg
shipment, and 1,000 shipments of 1–6 legs with distinct descriptors, one call each (a TMS calling
the library per shipment).

    python bench/bench_engine.py [N_LEGS=1000000] [REPEATS=3]

Peers in the same run: for the large frame, a polars script doing the same factor join and
arithmetic on the same frame (no checks, no provenance); for one call, the engine's polars query
on the same shipment (what a call of more than a few legs takes), against its NumPy path.
"""

from __future__ import annotations

import functools
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
from peer_polars import DESCRIPTORS
from synthetic import KINDS, legs

import logistics
from logistics.pipeline import engine

THREE_LEGS = pl.DataFrame({  # 12 t: road 410 km, transshipment hub, road 510 km (bench_api's shipment)
    "shipment_id": ["S-1"] * 3, "mode": ["road", "hub", "road"], "mass_kg": [12_000.0] * 3,
    "distance_km": [410.0, None, 510.0], "vehicle": ["artic_40t", None, "rigid_12-20t"],
    "energy_carrier": ["diesel", None, "diesel"], "region": ["EU", None, "EU"], "hub_type": [None, "transshipment", None],
})


def per_call_ms(fn, calls: int) -> float:
    for _ in range(min(20, calls)):
        fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1000


def peer(frame: pl.DataFrame, factors: pl.DataFrame) -> pl.DataFrame:
    mass_t = pl.col("mass_kg") / 1000
    activity = pl.when(pl.col("mode") == "hub").then(mass_t).otherwise(mass_t * pl.col("distance_km"))
    return (frame.lazy().join(factors.lazy(), on=DESCRIPTORS, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(*((activity * pl.col(x)).alias(f"co2e_{x}_kg") for x in ("ttw", "wtt", "wtw"))).collect())


def distinct_shipments(n: int, seed: int = 7) -> list[pl.DataFrame]:
    """``n`` shipments of 1–6 legs whose descriptors (the KINDS of ``synthetic``, road legs ambient
    or refrigerated), masses and distances vary."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rows = []
        for _ in range(rng.randint(1, 6)):
            mode, vehicle, carrier, region, load, temperature, hub = rng.choice(KINDS)
            rows.append({"shipment_id": f"D{i}", "mode": mode, "vehicle": vehicle, "energy_carrier": carrier,
                         "region": region, "load_type": load,
                         "temperature_control": rng.choice([temperature, "refrigerated"]) if mode == "road" else temperature,
                         "hub_type": hub, "mass_kg": round(rng.uniform(100, 30_000), 1),
                         "distance_km": None if mode == "hub" else round(rng.uniform(5, 5_000), 1)})
        out.append(pl.DataFrame(rows, schema={**dict.fromkeys(("shipment_id", "mode", *DESCRIPTORS[1:]), pl.String),
                                              "mass_kg": pl.Float64, "distance_km": pl.Float64}))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    frame = legs(n)
    calc = logistics.Calculator(distance_resolver=None)
    calc.calculate(frame.head(1000))  # warm up
    keys = frame.select(DESCRIPTORS).unique()
    probe = keys.with_columns(shipment_id=pl.lit("k"), mass_kg=pl.lit(1000.0),
                              distance_km=pl.when(pl.col("mode") == "hub").then(None).otherwise(pl.lit(1.0)))
    per_unit = calc.calculate(probe).legs
    factors = keys.with_columns(ttw=per_unit["co2e_ttw_kg"], wtt=per_unit["co2e_wtt_kg"], wtw=per_unit["co2e_wtw_kg"])
    ours, theirs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = calc.calculate(frame)
        _ = result.shipments  # built on first access: part of the time
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        peer(frame, factors)
        theirs.append(time.perf_counter() - t0)
    print(f"{n:,} legs in memory: ours {min(ours):.2f} s ({n / min(ours):,.0f} legs/s, shipments included), "
          f"peer join + arithmetic {min(theirs):.2f} s: ratio {min(ours) / min(theirs):.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")

    logistics.calculate(THREE_LEGS, distance_resolver=None)
    numpy_ms = per_call_ms(lambda: logistics.calculate(THREE_LEGS, distance_resolver=None), 500)
    with_totals_ms = per_call_ms(lambda: logistics.calculate(THREE_LEGS, distance_resolver=None).shipments, 500)
    saved, engine.SMALL_ROWS = engine.SMALL_ROWS, 0
    try:
        query_ms = per_call_ms(lambda: logistics.calculate(THREE_LEGS, distance_resolver=None), 200)
    finally:
        engine.SMALL_ROWS = saved
    print(f"one 3-leg shipment, logistics.calculate: {numpy_ms:.2f} ms a call ({with_totals_ms:.2f} ms with its totals); "
          f"through the polars query: {query_ms:.2f} ms")

    for k in (1, 10, 100, 333, 1000):  # where the NumPy path stops paying (engine.SMALL_ROWS)
        frame = pl.concat([THREE_LEGS.with_columns(shipment_id=pl.lit(f"S-{i}")) for i in range(k)])
        saved, engine.SMALL_ROWS = engine.SMALL_ROWS, frame.height
        try:
            call = functools.partial(logistics.calculate, frame, distance_resolver=None)
            numpy_ms = per_call_ms(call, 50)
            engine.SMALL_ROWS = 0
            query_ms = per_call_ms(call, 50)
        finally:
            engine.SMALL_ROWS = saved
        print(f"{frame.height:5,d} legs in one call: NumPy path {numpy_ms:6.2f} ms, polars query {query_ms:6.2f} ms")

    shipments = distinct_shipments(1000)
    for totals in (False, True):
        fresh = logistics.Calculator(distance_resolver=None)  # nothing resolved yet: every key is new once
        times = []
        t0 = time.perf_counter()
        for s in shipments:
            t1 = time.perf_counter()
            result = fresh.calculate(s)
            if totals:
                _ = result.shipments  # built on first access: part of the time
            times.append(time.perf_counter() - t1)
        total = time.perf_counter() - t0
        print(f"1,000 shipments of 1–6 legs, distinct descriptors ({len(fresh.engine.keys)} distinct keys), one call each"
              f"{', with their totals' if totals else ''}: {total:.2f} s in all "
              f"(median {statistics.median(times) * 1000:.2f} ms, max {max(times) * 1000:.1f} ms a call)")


if __name__ == "__main__":
    main()
