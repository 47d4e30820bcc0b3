"""`logistics-co2 calculate --engine spark` at local[1] and local[2] against the single-machine CLI
(`--engine batch`, the peer) on the same legs, in the same run:

    python bench/bench_spark.py 10000000          # sizes in legs; files go to $BENCH_DIR or /tmp
    python bench/bench_spark.py 1000000 --no-leg-seq

The legs are bench_batch's synthetic file (3 legs per shipment), as text cells plus `leg_seq`, once
as one Parquet file (for the CLI) and once as a directory of 16 Parquet files (for Spark). With
`--no-leg-seq` the legs have no `leg_seq`, so Spark first gathers each shipment's rows (one
shuffle of every leg) and the figures show that cost.

Every run is a process of its own writing results and shipments. Prints seconds and legs/s of the
whole command (Spark: JVM start included) and of the calculation alone (the run's own `seconds`,
from --summary-json; Spark: after its session started), the ratios to the peer, and the machine's
load average before each run (the machine may be shared).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import WORK, make_csv

FILES = 16


def make_parquet(n: int, leg_seq: bool) -> tuple[Path, Path]:
    """(one Parquet file, a directory of FILES Parquet files) of the same legs as text cells."""
    tag = "" if leg_seq else "_noseq"
    single, folder = WORK / f"legs_{n}{tag}.parquet", WORK / f"legs_{n}{tag}_parts"
    if single.exists() and folder.exists():
        return single, folder
    legs = pl.scan_csv(make_csv(n), infer_schema=False)
    if leg_seq:  # bench_batch's shipments are rows 3k, 3k+1, 3k+2
        legs = legs.with_columns(leg_seq=(pl.int_range(pl.len()) % 3 + 1).cast(pl.String))
    legs.sink_parquet(single, compression="zstd", row_group_size=250_000)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    per_file = -(-n // FILES)
    for i in range(FILES):
        pl.scan_parquet(single).slice(i * per_file, per_file).sink_parquet(folder / f"part-{i:03d}.parquet",
                                                                            compression="zstd", row_group_size=250_000)
    return single, folder


def load() -> str:
    return os.getloadavg().__repr__()


def timed(cmd: list[str], summary: Path) -> tuple[float, float]:
    """(seconds of the whole command, seconds of the calculation as the command reports it)."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds, json.loads(summary.read_text())["seconds"]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    leg_seq = "--no-leg-seq" not in sys.argv
    sizes = [int(a) for a in args] or [1_000_000]
    print(f"legs with leg_seq: {leg_seq}; {os.cpu_count()} cores")
    print(f"{'legs':>12} {'run':<22} {'s':>8} {'legs/s':>10} {'/peer':>6} {'calc s':>8} {'legs/s':>10} {'/peer':>6}  load before")
    for n in sizes:
        single, folder = make_parquet(n, leg_seq)
        out = WORK / "spark_bench_out"
        summary = WORK / "spark_bench_summary.json"

        common = ["--no-progress", "--summary-json", str(summary)]
        runs = [("CLI (batch), peer", ["logistics-co2", "calculate", str(single), "--out", str(out / "legs.parquet"),
                                       "--shipments-out", str(out / "shipments.parquet"), *common])]
        for master in ("local[1]", "local[2]"):
            runs.append((f"spark {master}", ["logistics-co2", "calculate", str(folder), "--out", str(out / "legs"),
                                             "--shipments-out", str(out / "shipments"), *common, "--engine", "spark",
                                             "--master", master]))
        peer = None
        for label, cmd in runs:
            shutil.rmtree(out, ignore_errors=True)
            before = load()
            whole, calc = timed(cmd, summary)
            peer = peer or (whole, calc)
            print(f"{n:>12,} {label:<22} {whole:>8.1f} {n / whole:>10,.0f} {whole / peer[0]:>6.2f} {calc:>8.1f} "
                  f"{n / calc:>10,.0f} {calc / peer[1]:>6.2f}  {before}", flush=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
