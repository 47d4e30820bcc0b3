"""`logistics-co2 calculate` on large synthetic CSV files against two peers, in the same run:

- the I/O bound: polars' own read-CSV + write-Parquet of the same file (`scan_csv().sink_parquet()`);
- the peer script (`bench/peer_polars.py`): the short polars script a user would write for the same
  factor join, arithmetic and shipment totals, with no checks and no provenance.

    python bench/bench_batch.py 2000000 10000000     # sizes in legs; files go to $BENCH_DIR or /tmp

Ours runs twice: lean results (the default) and `--provenance full`. Every measurement runs in its
own process under /usr/bin/time, so its peak RSS is its own. Prints seconds, peak RSS, legs/s and
the ratios ours / peer and ours / I/O bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_polars import DESCRIPTORS
from synthetic import legs

WORK = Path(os.environ.get("BENCH_DIR", "/tmp/logistics-bench"))
CHUNK = 1_000_000
PEER = Path(__file__).resolve().parent / "peer_polars.py"


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


def peer_factors(csv: Path) -> Path:
    """One factor row per distinct descriptor combination of the file, as the engine chooses it
    (kg per tkm, hubs per t), so that the peer computes the same figures. Made outside the timing."""
    import logistics

    out = WORK / f"{csv.stem}.peer_factors.parquet"
    if out.exists():
        return out
    keys = pl.scan_csv(csv, infer_schema=False).select(DESCRIPTORS).unique().collect()
    probe = keys.with_columns(shipment_id=pl.lit("k"), mass_kg=pl.lit(1000.0),
                              distance_km=pl.when(pl.col("mode") == "hub").then(None).otherwise(pl.lit(1.0)))
    per_unit = logistics.calculate(probe, distance_resolver=None).legs
    keys.with_columns(ttw=per_unit["co2e_ttw_kg"], wtt=per_unit["co2e_wtt_kg"], wtw=per_unit["co2e_wtw_kg"]).write_parquet(out)
    return out


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of a command run in its own process."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return seconds, int(out.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [2_000_000]
    print(f"{'legs':>12} {'run':<16} {'s':>7} {'RSS MiB':>8} {'legs/s':>11} {'/peer':>6} {'/bound':>7}")
    for n in sizes:
        csv = make_csv(n)
        factors = peer_factors(csv)
        bound = timed([sys.executable, "-c",
                       f"import polars as pl; pl.scan_csv({str(csv)!r}).sink_parquet({str(WORK / 'bound.parquet')!r})"])
        peer = timed([sys.executable, str(PEER), str(csv), str(factors), str(WORK)])
        ours = {}
        for provenance in ("lean", "full"):
            ours[provenance] = timed(["logistics-co2", "calculate", str(csv), "--out", str(WORK / "legs_out.parquet"),
                                      "--shipments-out", str(WORK / "shipments_out.parquet"), "--provenance", provenance,
                                      "--no-progress"])
        rows = [("I/O bound", bound), ("peer script", peer), ("ours, lean", ours["lean"]), ("ours, full", ours["full"])]
        for label, (s, rss) in rows:
            print(f"{n:>12,} {label:<16} {s:>7.2f} {rss:>8,.0f} {n / s:>11,.0f} {s / peer[0]:>6.2f} {s / bound[0]:>7.2f}")


if __name__ == "__main__":
    main()
