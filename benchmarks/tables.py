"""What the mixed-type table preprocessing (aekit.data.tables) costs when scoring.

Builds a synthetic table of ``--rows`` orders (string id, timestamp, 6 numbers with gaps,
3 categories with gaps, a boolean, free text, a constant), fits a small detector on its
first 5,000 rows, then prints, for the whole table:

* the preprocessing alone: rows per second of ``TablePreprocessor.transform``;
* streamed ``score_stream`` (CSV, chunks of ``--chunk-rows``) of the mixed table against
  the same rows already encoded as plain numbers (what the preprocessing adds end to end);
* the file reader: ``read_table`` of a CSV of 10 integer and 10 float columns against
  pandas' own ``read_csv`` (what reading the integer columns again as text, to keep the
  leading zeros of codes such as ``00123``, costs).

    python benchmarks/tables.py --rows 200000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def orders(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of a mixed-type table with gaps."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "order_id": [f"O{i:08d}" for i in range(n)],
        "ts": pd.date_range("2024-01-01", periods=n, freq="37min").strftime("%Y-%m-%d %H:%M"),
        **{f"x{j}": rng.normal(j, 1 + j, n).round(3) for j in range(6)},
        "channel": rng.choice(["web", "shop", "phone", "partner"], n),
        "region": rng.choice([f"r{k}" for k in range(12)], n),
        "payment": rng.choice(["card", "cash", "invoice"], n),
        "member": rng.choice([True, False], n),
        "comment": [f"note {i % 997}" for i in range(n)],
        "country": "DE",
    })
    for col in ("x0", "x3", "channel", "region"):
        df.loc[rng.random(n) < 0.02, col] = None
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--chunk-rows", type=int, default=65_536)
    args = ap.parse_args()

    from aekit.apps.detect import AutoencoderDetector
    from aekit.stream import score_stream

    df = orders(args.rows)
    det = AutoencoderDetector(max_epochs=2, random_state=0).fit(df.iloc[:5000])
    print(det.table_.summary())
    start = time.perf_counter()
    encoded = det.table_.transform(df)
    t = time.perf_counter() - start
    print(f"preprocessing alone: {len(df)} rows in {t:.2f} s ({len(df) / t:,.0f} rows/s) -> {encoded.shape[1]} features")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        det.save(folder / "mixed")
        plain = AutoencoderDetector(max_epochs=2, random_state=0).fit(encoded[:5000])
        plain.save(folder / "plain")
        df.to_csv(folder / "mixed.csv", index=False)
        pd.DataFrame(encoded, columns=[f"e{i}" for i in range(encoded.shape[1])]).to_csv(folder / "plain.csv", index=False)
        for name in ("plain", "mixed"):
            start = time.perf_counter()
            score_stream(folder / name, folder / f"{name}.csv", folder / f"{name}.scores.csv", chunk_rows=args.chunk_rows)
            t = time.perf_counter() - start
            print(f"score_stream {name:5s} CSV: {len(df)} rows in {t:.2f} s ({len(df) / t:,.0f} rows/s, "
                  f"chunks of {args.chunk_rows})")
        reader(folder / "numbers.csv", args.rows)


def reader(path: Path, n: int) -> None:
    """Print read_table's time against pandas' read_csv on ``n`` rows of 10 integer and 10 float columns."""
    from aekit.data.tablefiles import read_table

    rng = np.random.default_rng(1)
    pd.DataFrame({**{f"i{k}": rng.integers(0, 1000, n) for k in range(10)},
                  **{f"f{k}": rng.normal(size=n) for k in range(10)}}).to_csv(path, index=False)
    times = {}
    for name, read in (("pandas read_csv", pd.read_csv), ("aekit read_table", read_table)):
        start = time.perf_counter()
        read(path)
        times[name] = time.perf_counter() - start
    print(f"reading {n} rows x (10 int + 10 float): " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
          + f" (+{(times['aekit read_table'] - times['pandas read_csv']) / (n * 10) * 1e6:.2f} s per million integer cells)")


if __name__ == "__main__":
    main()
