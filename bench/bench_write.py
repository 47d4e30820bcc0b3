"""What writing the per-leg result costs, against reading the input: the floor under
`logistics-co2 calculate` whatever the engine does.

    python bench/bench_write.py [N_LEGS=250000]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import legs

import logistics


def best(f, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 250_000
    work = Path(tempfile.mkdtemp())
    legs(n).write_csv(work / "legs.csv")
    raw = pl.read_csv(work / "legs.csv", infer_schema=False)
    result = logistics.calculate(raw).legs

    def pyarrow_write():
        table = result.to_arrow()
        with pq.ParquetWriter(work / "a.parquet", table.schema, compression="zstd") as w:
            w.write_table(table)

    rows = {
        f"read input CSV ({raw.width} columns)": best(lambda: pl.read_csv(work / "legs.csv", infer_schema=False)),
        f"write input as Parquet ({raw.width} columns)": best(lambda: raw.write_parquet(work / "in.parquet")),
        "calculate": best(lambda: logistics.calculate(raw)),
        f"write result, polars ({result.width} columns)": best(lambda: result.write_parquet(work / "p.parquet")),
        f"write result, pyarrow ParquetWriter ({result.width} columns)": best(pyarrow_write),
    }
    print(f"{n:,} legs, best of 3")
    for name, seconds in rows.items():
        print(f"  {name:<52} {seconds:6.3f} s  {seconds / n * 1e6:5.2f} µs/leg")


if __name__ == "__main__":
    main()
