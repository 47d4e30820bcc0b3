"""Reading legs files: `logistics-co2 calculate` of a synthetic CSV with this tree's code against a
peer checkout of the project (e.g. the commit before a change to the reader), and the reader alone
(``logistics.io.open_legs`` batches) against polars' own CSV reader of the same file.

    python bench/bench_read.py 2000000 --peer /path/to/other/checkout --repeat 3
    python bench/synthetic.py 2000000 /tmp/x.csv && python bench/bench_read.py --csv /tmp/x.csv --peer ...

Runs alternate (ours, peer, ours, peer, ...) so that a machine busy with other work weighs on both;
each prints its min and median wall seconds and CPU seconds (user + sys), and the ratio of the
medians. Files go to $BENCH_DIR or /tmp/logistics-bench.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import WORK, make_csv

HERE = Path(__file__).resolve().parents[1]

READ_OURS = """
import sys
from logistics.io import open_legs
with open_legs(sys.argv[1]) as legs:
    n = sum(b.height for b in legs.batches(250_000))
print(n)
"""
READ_POLARS = """
import sys, polars as pl
n = sum(b.height for b in pl.scan_csv(sys.argv[1], infer_schema=False).collect_batches(chunk_size=250_000))
print(n)
"""


def timed(cmd: list[str], tree: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a command run with ``tree`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S", *cmd], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    user, sys_ = out.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(sys_)


def report(label: str, runs: list[tuple[float, float]]) -> float:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    print(f"{label:<34} wall min {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s   "
          f"cpu min {min(cpus):6.2f} s  median {statistics.median(cpus):6.2f} s")
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("legs", type=int, nargs="?", default=2_000_000)
    parser.add_argument("--peer", type=Path, help="another checkout of the project (its top folder)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv", type=Path, help="an existing legs file instead (e.g. from bench/synthetic.py)")
    args = parser.parse_args()
    csv = args.csv or make_csv(args.legs)
    calc = [sys.executable, "-m", "logistics.cli", "calculate", str(csv), "--out", str(WORK / "read_out.parquet"), "--no-progress"]
    read = [sys.executable, "-c", READ_OURS, str(csv)]
    polars = [sys.executable, "-c", READ_POLARS, str(csv)]
    runs: dict[str, list] = {"calculate, this tree": [], "calculate, peer": [], "reader, this tree": [], "polars read_csv": []}
    for _ in range(args.repeat):
        runs["calculate, this tree"].append(timed(calc, HERE))
        if args.peer:
            runs["calculate, peer"].append(timed(calc, args.peer))
        runs["reader, this tree"].append(timed(read, HERE))
        runs["polars read_csv"].append(timed(polars, HERE))
    print(f"{csv} ({csv.stat().st_size / 1e6:.0f} MB), {args.repeat} runs each")
    ours = report("calculate, this tree", runs["calculate, this tree"])
    if args.peer:
        peer = report(f"calculate, peer ({args.peer.name})", runs["calculate, peer"])
        print(f"{'ratio this tree / peer (median wall)':<34} {ours / peer:.2f}")
    reader = report("reader, this tree", runs["reader, this tree"])
    bound = report("polars scan_csv batches", runs["polars read_csv"])
    print(f"{'ratio reader / polars (median wall)':<34} {reader / bound:.2f}")


if __name__ == "__main__":
    main()
