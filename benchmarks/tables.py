"""What the mixed-type table preprocessing (aekit.data.tables) costs when scoring.

Builds a synthetic table of ``--rows`` orders (string id, timestamp, 6 numbers with gaps,
3 categories with gaps, a boolean, free text, a constant), fits a small detector on its
first 5,000 rows, then prints, for the whole table:

* the preprocessing alone: rows per second of ``TablePreprocessor.transform``;
* streamed ``score_stream`` (CSV, chunks of ``--chunk-rows``) of the mixed table against
  the same rows already encoded as plain numbers (what the preprocessing adds end to end);
* the file reader as ``aekit detect`` reads (``read_table(keep_codes=True)``) against pandas' own
  ``read_csv``: a CSV of 10 integer and 10 float columns, and ``--wide-rows`` rows of 50
  high-cardinality integer columns (values 0..100,000), without codes and with one fixed-width code
  column (``"000123"``): what telling integer codes such as ``00123`` from numbers costs. The two
  readers alternate over ``--repeats`` rounds (neither always reads second, from a warm cache);
  the best time of each is compared.

    python benchmarks/tables.py --rows 200000
    python benchmarks/tables.py --reader-only --wide-rows 200000
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
    ap.add_argument("--wide-rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reader-only", action="store_true", help="only the file reader's figures")
    args = ap.parse_args()
    if args.reader_only:
        with tempfile.TemporaryDirectory() as tmp:
            readers(Path(tmp), args.rows, args.wide_rows, args.repeats)
        return

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
        readers(folder, args.rows, args.wide_rows, args.repeats)


def readers(folder: Path, n: int, n_wide: int, repeats: int) -> None:
    """Print read_table's time (as detect reads) against pandas' read_csv on three CSVs."""
    rng = np.random.default_rng(1)
    pd.DataFrame({**{f"i{k}": rng.integers(0, 1000, n) for k in range(10)},
                  **{f"f{k}": rng.normal(size=n) for k in range(10)}}).to_csv(folder / "numbers.csv", index=False)
    wide = pd.DataFrame({f"i{k}": rng.integers(0, 100_001, n_wide) for k in range(50)})
    wide.to_csv(folder / "wide.csv", index=False)
    wide.assign(i0=[f"{v:06d}" for v in rng.integers(0, 1_000_000, n_wide)]).to_csv(folder / "wide_code.csv", index=False)
    reader(folder / "numbers.csv", f"{n} rows x (10 int 0..999 + 10 float)", repeats)
    reader(folder / "wide.csv", f"{n_wide} rows x 50 int 0..100000, no codes", repeats)
    reader(folder / "wide_code.csv", f"{n_wide} rows x 50 int 0..100000, one fixed-width code column", repeats)


def reader(path: Path, what: str, repeats: int) -> None:
    """Print read_table(keep_codes=True)'s best time against pandas' read_csv's on ``path``, the two
    alternating which reads first in each of ``repeats`` rounds."""
    from aekit.data.tablefiles import read_table

    reads = {"pandas read_csv": pd.read_csv, "aekit read_table": lambda p: read_table(p, keep_codes=True)}
    times: dict[str, list[float]] = {k: [] for k in reads}
    for i in range(repeats):
        for name in list(reads)[:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            reads[name](path)
            times[name].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in times.items()}
    print(f"reading {what}: " + ", ".join(f"{k} {v:.2f} s" for k, v in best.items())
          + f" (ratio {best['aekit read_table'] / best['pandas read_csv']:.2f}x)")


if __name__ == "__main__":
    main()
