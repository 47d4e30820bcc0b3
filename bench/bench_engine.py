"""legs/s of logistics.calculate on synthetic legs with given distances (in memory, no I/O), and
the time of one call on a 3-leg shipment, by the engine and by logistics.small (what the HTTP
service pays per request).

    python bench/bench_engine.py [N_LEGS=1000000] [REPEATS=3]
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl  # noqa: E402

import logistics  # noqa: E402
from synthetic import legs  # noqa: E402

from logistics.small import SmallCalculator  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    df = legs(n)
    pack = logistics.load_pack()
    logistics.calculate(df.head(1000), pack)  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = logistics.calculate(df, pack, distance_resolver=None)
        r.shipments  # summed on first use: part of the work timed here
        times.append(time.perf_counter() - t0)
    best = min(times)
    errors = r.legs["error"].is_not_null().sum()
    print(f"legs: {n:,}  shipments: {r.shipments.height:,}  row errors: {errors:,}")
    print(f"calculate: best {best:.2f} s, median {sorted(times)[len(times) // 2]:.2f} s over {repeats} runs"
          f"  ->  {n / best:,.0f} legs/s")
    print(f"total WTW: {r.legs['co2e_wtw_kg'].sum() / 1000:,.1f} t CO2e")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    # 12 t: road 410 km, transshipment hub, road 510 km (the service benchmark's shipment)
    three_legs = pl.DataFrame({
        "shipment_id": ["S-1"] * 3, "mode": ["road", "hub", "road"], "mass_kg": [12_000.0] * 3,
        "distance_km": [410.0, None, 510.0], "vehicle": ["artic_40t", None, "rigid_12-20t"],
        "energy_carrier": ["diesel", None, "diesel"], "region": ["EU", None, "EU"], "hub_type": [None, "transshipment", None],
    })
    for _ in range(5):
        logistics.calculate(three_legs, pack, distance_resolver=None)
    calls = 200
    t0 = time.perf_counter()
    for _ in range(calls):
        logistics.calculate(three_legs, pack, distance_resolver=None).shipments
    print(f"one 3-leg shipment: {(time.perf_counter() - t0) / calls * 1000:.1f} ms per call ({calls} calls)")
    # the same shipment through logistics.small (the service's path once its descriptors are known)
    shipment = logistics.Shipment.model_validate({"shipment_id": "S-1", "mass_kg": 12_000.0, "legs": [
        {"mode": "road", "distance_km": 410.0, "vehicle": "artic_40t", "energy_carrier": "diesel", "region": "EU"},
        {"mode": "hub", "hub_type": "transshipment"},
        {"mode": "road", "distance_km": 510.0, "vehicle": "rigid_12-20t", "energy_carrier": "diesel", "region": "EU"},
    ]})
    calculator = SmallCalculator(pack)
    calculator.calculate([shipment])  # learns its descriptors
    calls = 2000
    t0 = time.perf_counter()
    for _ in range(calls):
        calculator.calculate([shipment], learn=False)
    print(f"one 3-leg shipment, logistics.small: {(time.perf_counter() - t0) / calls * 1000:.2f} ms per call ({calls} calls)")


if __name__ == "__main__":
    main()
