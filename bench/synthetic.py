"""Synthetic legs tables for the benchmarks: a realistic mix of road, rail, sea, air and hub TCEs with
given distances, 1–4 legs per shipment, deterministic for a seed."""

from __future__ import annotations

import numpy as np
import polars as pl

# (mode, vehicle, energy_carrier, region, load_type, temperature_control, hub_type)
KINDS = [
    ("road", "artic_40t", "diesel", "EU", "average", "ambient", None),
    ("road", "artic_40t", "diesel", "EU", "average", "refrigerated", None),
    ("road", "rigid_12-20t", "diesel", "EU", "average", "ambient", None),
    ("road", "artic_40t", "lng", "EU", "average", "ambient", None),
    ("road", "van", "diesel", "AS", None, "ambient", None),
    ("road", "general", None, "NA", None, None, None),
    ("rail", None, "electricity", "EU", "container", None, None),
    ("rail", None, "diesel", "EU", "average", None, None),
    ("sea", "bulk_carrier_35000-59999dwt", "vlsfo", None, None, None, None),
    ("inland_waterway", "container_vessel_110m", None, None, None, None, None),
    ("air", None, None, None, None, None, None),
    ("hub", None, None, None, None, "ambient", "transshipment"),
]


def legs(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(KINDS), n)
    cols = list(zip(*KINDS, strict=True))
    pick = lambda i: pl.Series([cols[i][k] for k in range(len(KINDS))], dtype=pl.String).gather(kind)
    legs_per_shipment = 3
    return pl.DataFrame({
        "shipment_id": pl.Series(np.arange(n) // legs_per_shipment).cast(pl.String).str.pad_start(10, "0"),
        "mode": pick(0),
        "vehicle": pick(1),
        "energy_carrier": pick(2),
        "region": pick(3),
        "load_type": pick(4),
        "temperature_control": pick(5),
        "hub_type": pick(6),
        "mass_kg": np.round(rng.uniform(10, 25_000, n), 1),
        "distance_km": np.round(rng.uniform(5, 3_000, n), 1),
    }).with_columns(distance_km=pl.when(pl.col("mode") == "hub").then(None).otherwise(pl.col("distance_km")))


if __name__ == "__main__":
    import sys

    n, out = int(sys.argv[1]), sys.argv[2]
    df = legs(n)
    df.write_csv(out) if out.endswith(".csv") else df.write_parquet(out)
    print(f"wrote {n} legs to {out}")
