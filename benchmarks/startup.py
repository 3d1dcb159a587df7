"""Start-up cost of the CLI, measured as whole processes (what a user waits for).

Prints the median wall time over ``--repeats`` runs of: ``aekit --help``, ``aekit models``,
``aekit encode`` on a tiny trained run, a one-epoch ``aekit train`` on a tiny table, and
``python -c "import torch"`` as the floor any torch command pays.

    python benchmarks/startup.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def wall(cmd: list[str], repeats: int) -> float:
    """Median wall seconds of ``cmd`` over ``repeats`` runs (after one warm-up run)."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    aekit = [sys.executable, "-m", "aekit.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "t.csv"
        rng = np.random.default_rng(0)
        np.savetxt(table, rng.random((200, 8)), delimiter=",", header=",".join(f"c{i}" for i in range(8)), comments="")
        train = [*aekit, "train", "--data", str(table), "--hidden", "8", "--latent-dim", "2", "-e", "1", "--no-progress",
                 "--set", "report=false", "--out", str(Path(tmp) / "r"), "--overwrite"]
        subprocess.run(train, check=True, capture_output=True)
        rows = {
            "python -c 'import torch' (floor)": wall([sys.executable, "-c", "import torch"], args.repeats),
            "aekit --help": wall([*aekit, "--help"], args.repeats),
            "aekit models": wall([*aekit, "models"], args.repeats),
            "aekit encode (tiny run, 200 rows)": wall([*aekit, "encode", f"{tmp}/r", str(table), f"{tmp}/z.csv"], args.repeats),
            "aekit train (1 epoch, 200 x 8 table)": wall(train, args.repeats),
        }
    print(f"median wall seconds over {args.repeats} runs (after a warm-up)")
    for name, seconds in rows.items():
        print(f"{name:<40} {seconds:6.2f}")


if __name__ == "__main__":
    main()
