"""Random tables as R, spreadsheets and pandas write them, through `aekit detect` then `aekit score`
in small chunks: each either scores, the chunks giving exactly the scores `aekit detect` wrote,
or stops with one `aekit: error:` line, exit 2 and no run folder. The single-column cases live in
test_tables_gauntlet.py; these mix kinds, gaps, names and file layouts, as a user's file does.
Three seeds run in the suite; `AEKIT_FUZZ_SEEDS=60 pytest -n 2 tests/test_tables_fuzz.py` runs seeds
0-59 (all passed when this was written, in 5 min 43 s on two cores; so did seeds 60-199)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli

KINDS = ("float", "float", "int", "factor", "logical", "date", "text", "code", "const", "thousands", "pct", "rare")
STYLES = ("rcsv", "rtable", "semicolon", "tab", "plain")


def _column(rng: np.random.Generator, kind: str, n: int) -> pd.Series:
    """``n`` values of one kind of column, as text or numbers, with a random share of gaps."""
    if kind == "float":
        v = pd.Series(rng.normal(10, 3, n).round(int(rng.integers(0, 4))))
    elif kind == "int":
        v = pd.Series(rng.integers(0, int(rng.choice([3, 20, 1000])), n))
    elif kind == "factor":
        v = pd.Series(rng.choice([f"lvl{i}" for i in range(int(rng.integers(1, 8)))], n))
    elif kind == "logical":
        v = pd.Series(rng.choice(["TRUE", "FALSE"], n))
    elif kind == "date":
        days = pd.to_timedelta(rng.integers(0, 900, n), "D")
        v = pd.Series(pd.Timestamp("2020-01-01") + days).dt.strftime(str(rng.choice(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y"])))
    elif kind == "text":
        v = pd.Series([f"note {i} " + "x" * int(rng.integers(0, 5)) for i in range(n)])
    elif kind == "code":
        v = pd.Series([f"{x:05d}" for x in rng.integers(0, 99999, n)])
    elif kind == "const":
        v = pd.Series(["same"] * n)
    elif kind == "thousands":
        v = pd.Series([f"{x:,}" for x in rng.integers(0, 10**6, n)])
    elif kind == "pct":
        v = pd.Series([f"{x}%" for x in rng.integers(0, 100, n)])
    else:  # "rare": mostly values seen once
        v = pd.Series([f"r{x}" for x in rng.integers(0, n, n)])
    v = v.astype(object)
    share = 0.0 if kind == "const" else float(rng.choice([0, 0, 0.05, 0.3, 1.0]))
    v[rng.random(n) < share] = None
    return v


def _write(seed: int, folder: Path) -> Path:
    """A random table (rows, kinds, names, gaps) written in a random layout; returns the file."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.choice([3, 8, 25, 60, 200])), int(rng.integers(1, 7))
    df = pd.DataFrame({(f"c{j}.{kind}" if rng.random() < 0.7 else f"Col {j}"): _column(rng, str(kind), n)
                       for j, kind in enumerate(rng.choice(KINDS, k))})
    style = str(rng.choice(STYLES))
    path = folder / ("t.tab" if style in ("tab", "rtable") else "t.csv")
    if style == "rcsv":  # R's write.csv: quoted, row names, NA
        df.to_csv(path, na_rep="NA", quoting=1)
    elif style == "rtable":  # R's write.table: spaces, quoted
        df.to_csv(path, sep=" ", na_rep="NA", quoting=1)
    elif style == "semicolon":  # a European spreadsheet
        df.to_csv(path, sep=";", index=False, decimal=",")
    elif style == "tab":
        df.to_csv(path, sep="\t", index=False, na_rep="NA")
    else:
        df.to_csv(path, index=False)
    return path


# a European file (%, thousands, rare values); R's write.table (codes, dates, factors); R's csv (codes, logicals)
SEEDS = list(range(int(os.environ["AEKIT_FUZZ_SEEDS"]))) if os.environ.get("AEKIT_FUZZ_SEEDS") else [13, 93, 72]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_table_scores_in_chunks_as_detect_did_or_is_one_line(tmp_path, seed):
    path = _write(seed, tmp_path)
    run = tmp_path / "run"
    fit = run_cli("detect", str(path), "--out", str(run), "--epochs", "1", "--quiet")
    if fit.returncode != 0:
        lines = fit.stderr.strip().splitlines()
        assert fit.returncode == 2 and len(lines) == 1 and lines[0].startswith("aekit: error:"), fit.stderr
        assert not run.exists()
        return
    out = tmp_path / "scores.csv"
    score = run_cli("score", str(run), str(path), "--out", str(out), "--chunk-rows", "7")
    assert score.returncode == 0, score.stderr
    wrote, again = pd.read_csv(run / "scores.csv"), pd.read_csv(out)
    np.testing.assert_allclose(again["score"].to_numpy(), wrote["score"].to_numpy(), rtol=1e-6, atol=1e-6)
