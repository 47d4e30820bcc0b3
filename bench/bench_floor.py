"""The floor under `logistics-co2 calculate` on a large CSV: the fastest pipeline of the same shape
that polars can run, against polars' own read-CSV + write-Parquet (the I/O bound of bench_batch.py).

    python bench/bench_floor.py [N_LEGS=10000000]

"minimal" reads the CSV as text, parses mass and distance, joins one factor row per descriptor
combination, multiplies (TTW, WTT, WTW) and streams 17 columns to Parquet in one lazy query, with
no row checks, no provenance beyond a factor id and no shipment totals. Whatever the engine does
beyond that costs time on top; if "minimal" is near 1.5× the bound, so is the goal.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import WORK, make_csv  # noqa: E402

DESCRIPTORS = ["mode", "vehicle", "energy_carrier", "region", "load_type", "temperature_control", "hub_type"]


def seconds(run) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def minimal(csv: Path, compression_level: int) -> None:
    factors = (pl.scan_csv(csv, infer_schema=False).select(DESCRIPTORS).unique().collect()
               .with_columns(factor_id=pl.lit("some-factor"), fx_ttw=pl.lit(0.073), fx_wtt=pl.lit(0.022),
                             fx_wtw=pl.lit(0.095)))
    tkm = pl.col("mass_kg") / 1000 * pl.col("distance_km")
    (pl.scan_csv(csv, infer_schema=False)
     .with_columns(pl.col("mass_kg", "distance_km").cast(pl.Float64, strict=False))
     .join(factors.lazy(), on=DESCRIPTORS, how="left", nulls_equal=True, maintain_order="left")
     .with_columns(tkm=tkm, co2e_ttw_kg=tkm * pl.col("fx_ttw"), co2e_wtt_kg=tkm * pl.col("fx_wtt"),
                   co2e_wtw_kg=tkm * pl.col("fx_wtw"))
     .sink_parquet(WORK / "floor.parquet", compression="zstd", compression_level=compression_level))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    csv = make_csv(n)
    bound = seconds(lambda: pl.scan_csv(csv).sink_parquet(WORK / "bound.parquet"))
    print(f"{n:,} legs: I/O bound (scan_csv + sink_parquet) {bound:.1f} s")
    for level in (3, 1):
        s = seconds(lambda: minimal(csv, level))
        print(f"  minimal pipeline, zstd level {level}: {s:.1f} s = {s / bound:.2f}× the bound")


if __name__ == "__main__":
    main()
