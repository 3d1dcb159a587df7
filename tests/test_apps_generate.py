"""Generation: interpolation endpoints, attribute arithmetic, and prior-only features guarded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.apps.generate import apply_attribute, attribute_vector, generate_all, interpolate, latent_grid, sample_prior
from aekit.data import Scaler
from aekit.errors import ConfigError
from aekit.registry import build_model, families
from aekit.runs import TrainedAutoencoder


def _trained(family: str, tiny_images: np.ndarray, **params: object) -> TrainedAutoencoder:
    torch.manual_seed(0)
    model = build_model(family, {"input_shape": [1, 8, 8], "latent_dim": 2, **params})
    return TrainedAutoencoder(model.eval(), Scaler("minmax").fit(tiny_images * 255), {})


def test_interpolation_endpoints_are_the_reconstructions(tiny_images) -> None:
    trained = _trained("mlp", tiny_images, hidden=[16])
    X = tiny_images * 255  # original units go through the scaler both ways
    path, codes = interpolate(trained, X[0], X[1], steps=7)
    assert path.shape == (7, 1, 8, 8) and codes.shape == (7, 2)
    recon = trained.reconstruct(X[:2])
    np.testing.assert_allclose(path[0], recon[0], atol=1e-3)
    np.testing.assert_allclose(path[-1], recon[1], atol=1e-3)
    np.testing.assert_allclose(codes[3], codes[0] + (codes[-1] - codes[0]) / 2, atol=1e-5)  # a straight line


def test_attribute_arithmetic_moves_codes_by_the_vector(tiny_images) -> None:
    trained = _trained("mlp", tiny_images, hidden=[16])
    X = tiny_images * 255
    v = attribute_vector(trained, X[:10], X[10:20])
    np.testing.assert_allclose(v, trained.encode(X[:10]).mean(0) - trained.encode(X[10:20]).mean(0), rtol=1e-5)
    moved = apply_attribute(trained, X[:3], v, strengths=(0.0, 1.0))
    assert moved.shape == (3, 2, 1, 8, 8)
    np.testing.assert_allclose(moved[:, 0], trained.reconstruct(X[:3]), atol=1e-3)  # strength 0 = reconstruction


def test_prior_features_need_a_vae(tiny_images, tmp_path) -> None:
    trained = _trained("mlp", tiny_images, hidden=[16])
    with pytest.raises(ConfigError, match="needs a VAE"):
        sample_prior(trained, 4)
    with pytest.raises(ConfigError, match="needs a VAE"):
        latent_grid(trained)
    y = np.arange(64) % 3
    written = generate_all(trained, tmp_path, tiny_images * 255, y, interp_steps=5, attribute=("1", "2"))
    assert set(written) == {"interpolation", "attribute", "arrays"}  # no samples or grid without a prior
    arrays = np.load(written["arrays"])
    assert arrays["interpolation"].shape == (5, 1, 8, 8) and arrays["attribute"].shape == (6, 4, 1, 8, 8)


def test_vae_samples_and_grid(tiny_images, tmp_path) -> None:
    if "vae" not in families():
        pytest.fail("the 'vae' family is not registered (aekit.models.vae missing)")
    trained = _trained("vae", tiny_images)
    samples, z = sample_prior(trained, 9, seed=1)
    assert samples.shape == (9, 1, 8, 8) and z.shape == (9, 2)
    np.testing.assert_array_equal(samples, sample_prior(trained, 9, seed=1)[0])
    grid, codes = latent_grid(trained, steps=4)
    assert grid.shape == (16, 1, 8, 8) and codes.shape == (16, 2)
    written = generate_all(trained, tmp_path, tiny_images * 255, None, n_samples=9, grid_steps=4)
    assert {"samples", "grid", "interpolation", "arrays"} <= set(written)


def test_nearest_neighbour_ratio_tells_copies_from_noise(tiny_images) -> None:
    from aekit.apps.generate import nearest_neighbour_ratio

    trained = _trained("mlp", tiny_images, hidden=[16])
    X = tiny_images * 255
    train, real = X[:48], X[48:]
    copies = nearest_neighbour_ratio(trained, train[:8], train, real)
    assert copies["generated_nn"] == pytest.approx(0.0, abs=1e-6) and copies["ratio"] < 0.01
    noise = np.random.default_rng(3).random((8, 1, 8, 8)).astype(np.float32) * 255
    off = nearest_neighbour_ratio(trained, noise, train, real)
    assert off["ratio"] > 2 and off["real_nn"] == pytest.approx(copies["real_nn"])
    assert off["n_generated"] == 8 and off["n_real"] == 16 and off["n_train"] == 48
