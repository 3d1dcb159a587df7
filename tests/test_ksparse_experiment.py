"""``aekit k-sparse``: one k-sparse autoencoder per k, its decoder filters and test MSE."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from conftest import run_cli


def test_filters_are_the_decoder_columns_and_usage_counts_k_units() -> None:
    from aekit.experiments.ksparse import decoder_filters, unit_usage
    from aekit.registry import build_model

    model = build_model("ksparse", {"input_shape": [1, 4, 4], "hidden": [], "latent_dim": 6, "k": 2}, seed=0).eval()
    F = decoder_filters(model)
    weight = model.decoder[0].weight.detach().numpy()  # (16, 6): column j is unit j's filter
    assert F.shape == (6, 1, 4, 4)
    np.testing.assert_allclose(F.reshape(6, -1), weight.T, atol=1e-6)
    usage = unit_usage(model, torch.rand(50, 1, 4, 4).numpy())
    assert usage.shape == (6,) and usage.sum() == np.float32(2.0)  # every row keeps exactly k = 2 units


def test_k_sparse_command_sweeps_k_with_a_figure_and_mse(tmp_path: Path) -> None:
    out = tmp_path / "ks"
    res = run_cli("k-sparse", "--data", "digits", "--k", "8,2", "--latent-dim", "20", "-e", "2", "--limit", "300",
                  "--test-limit", "50", "--filters", "16", "-o", str(out), "-q")
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "k_sparse.json").read_text())
    rows = summary["results"]
    assert [r["k"] for r in rows] == [2, 8] and summary["test_rows"] == 50
    for r in rows:
        assert 0 < r["test_mse"] < 1 and r["k"] <= r["units_used"] <= 20
        assert f"{r['test_mse']:.5f}" in res.stdout  # the number per k is printed
    assert (out / "k_sparse_filters.png").stat().st_size > 5000
    again = run_cli("k-sparse", "--data", "digits", "-o", str(out))
    assert again.returncode == 2 and "not empty" in again.stderr


def test_k_sparse_refuses_a_k_above_the_code_size(tmp_path: Path) -> None:
    res = run_cli("k-sparse", "--k", "5,300", "--latent-dim", "200", "-o", str(tmp_path / "x"))
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0
    assert "--k: 300 out of range; k must be in 1..latent_dim=200" in res.stderr
    assert not (tmp_path / "x").exists()
