"""Denoising corruption: each kind does what it says, seeded, composable, training-only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.data.noise import build_corruption, corrupt
from aekit.errors import ConfigError

X = torch.full((200, 50), 0.5)


def test_gaussian_has_the_requested_spread_and_clips():
    out = corrupt(X, [{"kind": "gaussian", "sigma": 0.3}])
    assert abs(float((out - X).std()) - 0.3) < 0.01
    clipped = corrupt(X, [{"kind": "gaussian", "sigma": 2.0, "clip": True}])
    assert float(clipped.min()) == 0.0 and float(clipped.max()) == 1.0


@pytest.mark.parametrize("kind,key", [("salt_pepper", "fraction"), ("masking", "fraction"), ("dropout", "p")])
def test_fraction_of_values_changed(kind, key):
    out = corrupt(X, [{"kind": kind, key: 0.3}])
    changed = float((out != X).float().mean())
    assert abs(changed - 0.3) < 0.02
    if kind == "salt_pepper":
        vals = set(out[out != X].unique().tolist())
        assert vals == {0.0, 1.0}
    else:
        assert float(out[out != X].abs().max()) == 0.0


def test_seeded_and_composable():
    specs = [{"kind": "masking", "fraction": 0.2}, {"kind": "gaussian", "sigma": 0.1}]
    a, b = corrupt(X, specs, seed=5), corrupt(X, specs, seed=5)
    assert torch.equal(a, b) and not torch.equal(a, corrupt(X, specs, seed=6))


def test_bad_specs_are_named():
    with pytest.raises(ConfigError, match="unknown kind 'gausian'.*gaussian"):
        build_corruption([{"kind": "gausian"}])
    with pytest.raises(ConfigError, match="sigmaa"):
        build_corruption([{"kind": "gaussian", "sigmaa": 1}])
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        build_corruption([{"kind": "masking", "fraction": 1.5}])


def test_engine_corrupts_training_batches_only():
    """Validation loss is measured on clean inputs; training on corrupted ones."""
    from aekit.registry import build_model
    from aekit.training import TrainerConfig, fit_model

    rng = np.random.default_rng(0)
    data = rng.random((64, 10)).astype(np.float32)
    seen: dict[str, list[torch.Tensor]] = {"train": [], "val": []}

    model = build_model("mlp", {"input_shape": [10], "hidden": [8], "latent_dim": 4})
    original = model.loss

    def spy(x, target=None):
        seen["train" if model.training else "val"].append((x.clone(), None if target is None else target.clone()))
        return original(x, target)

    model.loss = spy  # type: ignore[method-assign]
    fit_model(model, data, data[:16], trainer=TrainerConfig(max_epochs=1, batch_size=64),
              noise=[{"kind": "masking", "fraction": 0.5}])
    (x_tr, target), = seen["train"]
    assert target is not None and not torch.equal(x_tr, target)  # corrupted input, clean target
    assert float((x_tr == 0).float().mean()) > 0.4
    (x_va, t_va), = seen["val"]
    assert t_va is None and torch.equal(x_va, torch.from_numpy(data[:16]))
