"""End-to-end batch runs of `logistics-co2 calculate` on large synthetic CSV files: legs/s, peak RSS,
and the ratio to polars' own read-CSV + write-Parquet of the same file (the I/O bound).

    python bench/bench_batch.py 10000000 50000000      # sizes in legs; files go to $BENCH_DIR or /tmp

Each measurement runs in its own process under /usr/bin/time, so its peak RSS is its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import legs  # noqa: E402

WORK = Path(os.environ.get("BENCH_DIR", "/tmp/logistics-bench"))
CHUNK = 1_000_000


def make_csv(n: int) -> Path:
    path = WORK / f"legs_{n}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        for i in range(0, n, CHUNK):
            # shipment ids continue across chunks: offset by the chunk's first row
            chunk = legs(min(CHUNK, n - i), seed=i).with_columns(
                shipment_id=((pl.col("shipment_id").cast(pl.Int64) + i // 3).cast(pl.String).str.pad_start(10, "0"))
            )
            chunk.write_csv(f, include_header=i == 0)
    tmp.rename(path)
    return path


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of a command run in its own process."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return seconds, int(out.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000_000]
    print(f"{'legs':>12} {'I/O bound s':>12} {'RSS MiB':>8} {'ours s':>8} {'RSS MiB':>8} {'legs/s':>12} {'ratio':>6}")
    for n in sizes:
        csv = make_csv(n)
        bound_s, bound_rss = timed([sys.executable, "-c",
                                    f"import polars as pl; pl.scan_csv({str(csv)!r}).sink_parquet({str(WORK / 'bound.parquet')!r})"])
        ours_s, ours_rss = timed(["logistics-co2", "calculate", str(csv), "--out", str(WORK / "legs_out.parquet"),
                                  "--shipments-out", str(WORK / "shipments_out.parquet"), "--no-progress"])
        print(f"{n:>12,} {bound_s:>12.1f} {bound_rss:>8,.0f} {ours_s:>8.1f} {ours_rss:>8,.0f} {n / ours_s:>12,.0f} {ours_s / bound_s:>6.2f}")


if __name__ == "__main__":
    main()
