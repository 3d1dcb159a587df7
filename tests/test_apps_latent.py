"""Latent inspection: projections, scatter and conv code maps."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from aekit.apps.latent import inspect_latent, project_2d, write_latent_figures
from aekit.errors import ConfigError
from aekit.registry import build_model
from aekit.runs import TrainedAutoencoder


def test_projections(rng) -> None:
    Z2 = rng.standard_normal((40, 2))
    P, how = project_2d(Z2)
    assert how == "direct" and np.array_equal(P, Z2)
    Z = rng.standard_normal((40, 6))
    for method in ("pca", "tsne"):
        P, how = project_2d(Z, method, seed=0)  # type: ignore[arg-type]
        assert P.shape == (40, 2) and how == method
        np.testing.assert_allclose(P, project_2d(Z, method, seed=0)[0])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown projection"):
        project_2d(Z, "lda")  # type: ignore[arg-type]


def test_umap_without_package_is_a_clear_error(rng, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)  # as if umap-learn were not installed
    with pytest.raises(ConfigError, match="umap-learn"):
        project_2d(rng.standard_normal((20, 4)), "umap")


def test_conv_code_maps_and_scatter(tmp_path, tiny_images, rng) -> None:
    torch.manual_seed(0)
    model = build_model("conv", {"input_shape": [1, 8, 8], "channels": [4, 8], "stride": [2], "bottleneck": "conv"})
    trained = TrainedAutoencoder(model.eval(), None, {})
    y = rng.integers(0, 3, len(tiny_images))
    view = inspect_latent(trained, tiny_images, y)
    assert view.codes.shape == (64, 8, 2, 2) and view.points.shape == (64, 2) and view.method == "pca"
    paths = write_latent_figures(view, tmp_path, tiny_images)
    assert sorted(p.name for p in paths) == ["code_maps.png", "latent_pca.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
