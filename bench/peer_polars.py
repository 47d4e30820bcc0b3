"""The peer of the batch benchmark: the short polars script a user would write for the same job,
with no checks and no provenance. It reads the legs CSV, joins one factor per descriptor
combination, computes tkm and TTW/WTT/WTW (hubs per tonne) and writes per-leg results and
per-shipment totals to Parquet, in one streaming query.

    python bench/peer_polars.py LEGS.csv FACTORS.parquet OUT_DIR

FACTORS holds one row per distinct descriptor combination of the file (DESCRIPTORS) with its
factors per tkm (transport) or per tonne (hubs), in kg; ``bench_batch.py`` prepares it with the
engine's own factor choice, outside the timed run, so both compute the same figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

DESCRIPTORS = ["mode", "vehicle", "energy_carrier", "region", "load_type", "temperature_control", "hub_type"]


def run(legs_csv: Path, factors: Path, out: Path) -> None:
    legs = pl.scan_csv(legs_csv, schema_overrides={"mass_kg": pl.Float64, "distance_km": pl.Float64})
    mass_t = pl.col("mass_kg") / 1000
    tkm = mass_t * pl.col("distance_km")
    activity = pl.when(pl.col("mode") == "hub").then(mass_t).otherwise(tkm)
    results = (
        legs.join(pl.scan_parquet(factors), on=DESCRIPTORS, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(tkm=tkm, co2e_ttw_kg=activity * pl.col("ttw"), co2e_wtt_kg=activity * pl.col("wtt"),
                      co2e_wtw_kg=activity * pl.col("wtw"))
        .drop("ttw", "wtt", "wtw")
    )
    shipments = results.group_by("shipment_id").agg(pl.col("tkm", "co2e_ttw_kg", "co2e_wtt_kg", "co2e_wtw_kg").sum())
    pl.collect_all([results.sink_parquet(out / "peer_legs.parquet", lazy=True),
                    shipments.sink_parquet(out / "peer_shipments.parquet", lazy=True)])


if __name__ == "__main__":
    run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
