"""Shared fixtures: tiny data sets and a CLI runner that goes through aekit's main()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")
torch.set_num_threads(1)  # tests run in parallel (xdist); keep each worker on one core

REPO = Path(__file__).resolve().parents[1]
AEKIT = [sys.executable, "-m", "aekit.cli.main"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def tiny_images(rng: np.random.Generator) -> np.ndarray:
    """64 blurry 8x8 'images' in [0, 1] with structure an autoencoder can learn."""
    base = rng.random((4, 1, 8, 8)).astype(np.float32)
    idx = rng.integers(0, 4, 64)
    return np.clip(base[idx] + 0.05 * rng.standard_normal((64, 1, 8, 8)), 0, 1).astype(np.float32)


@pytest.fixture
def table_csv(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A small numeric CSV table with a label column."""
    import pandas as pd

    X = rng.standard_normal((120, 6)).astype(np.float32)
    X[:, 3] = X[:, 0] * 2 + 0.1 * X[:, 1]  # correlated columns
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    df["label"] = rng.integers(0, 2, len(df))
    path = tmp_path / "table.csv"
    df.to_csv(path, index=False)
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``aekit ARGS`` in a fresh interpreter, as a user would (``env`` adds variables)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([*AEKIT, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


NAMES = [f"f{i}" for i in range(6)]  # column names of table_rows' tables


def table_rows(n: int, seed: int) -> np.ndarray:
    """``n`` rows of a 6-column float32 table with one correlated column (something to learn)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6)).astype(np.float32)
    X[:, 3] = 2 * X[:, 0] + 0.1 * X[:, 1]
    return X
