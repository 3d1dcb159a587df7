"""Checks every registered model family must pass (the shared mixin of STYLE.md §9).

Each family needs a tiny config here; a family registered without one fails
``test_every_family_has_a_tiny_config``, so new families cannot skip these checks.
"""

from __future__ import annotations

import pytest
import torch

from aekit.registry import build_model, families
from aekit.runs import load_model, save_model

# family -> (parameters, input shape of one example)
TINY: dict[str, tuple[dict, tuple[int, ...]]] = {
    "mlp": ({"hidden": [16], "latent_dim": 4}, (1, 6, 6)),
    "conv": ({"channels": [4, 8], "stride": [2], "latent_dim": 4}, (1, 8, 8)),
    "mnist_conv2d": ({}, (1, 8, 8)),
    "keras_conv2d": ({}, (1, 28, 28)),  # its pools and valid conv fit 28x28 only
    "timeseries_conv1d": ({}, (1, 40)),
    "stacked": ({"hidden": [16], "latent_dim": 4, "pretrain_epochs": 1}, (1, 6, 6)),
    "dbn": ({"hidden": [16], "latent_dim": 4, "rbm_epochs": 1}, (1, 6, 6)),
    "sparse_l1": ({"hidden": [16], "latent_dim": 48, "latent_activation": "sigmoid"}, (1, 6, 6)),  # overcomplete
    "sparse_kl": ({"hidden": [16], "latent_dim": 48}, (1, 6, 6)),
    "ksparse": ({"hidden": [16], "latent_dim": 6, "k": 4}, (1, 6, 6)),
    "contractive": ({"hidden": [16], "latent_dim": 4}, (1, 6, 6)),  # autograd Jacobian path
    "vae": ({"hidden": [16], "latent_dim": 4}, (1, 6, 6)),
    "conv_vae": ({"channels": [4, 8], "latent_dim": 4}, (1, 8, 8)),
    "linear": ({"latent_dim": 4}, (1, 6, 6)),
}


def _build(name: str) -> tuple[torch.nn.Module, torch.Tensor]:
    params, shape = TINY[name]
    torch.manual_seed(0)
    model = build_model(name, {"input_shape": list(shape), **params})
    x = torch.rand(8, *shape)
    return model, x


def test_every_family_has_a_tiny_config():
    assert set(families()) <= set(TINY), f"add tiny configs for: {sorted(set(families()) - set(TINY))}"


@pytest.fixture(params=sorted(TINY))
def family(request) -> str:
    if request.param not in families():
        pytest.fail(f"family {request.param!r} has a tiny config but is not registered")
    return request.param


def test_shapes(family):
    model, x = _build(family)
    out = model(x)
    assert out.x_hat.shape == x.shape
    z = model.encode(x)
    assert z.shape[0] == 8 and model.decode(z).shape == x.shape
    res = model.loss(x)
    assert "recon" in res.parts and res.total.ndim == 0 and torch.isfinite(res.total)
    assert model.score(x).shape == (8,)


def test_gradient_reaches_every_parameter(family):
    model, x = _build(family)
    model.train()
    model.loss(x).total.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not missing, f"no gradient reached {missing}"


def test_one_batch_overfit_makes_loss_fall(family):
    model, x = _build(family)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    torch.manual_seed(1)
    first = float(model.loss(x).total)
    for _ in range(150):
        opt.zero_grad()
        model.loss(x).total.backward()
        opt.step()
    torch.manual_seed(1)
    assert float(model.loss(x).total) < first


def test_save_load_round_trip_and_eval_determinism(family, tmp_path):
    model, x = _build(family)
    model.eval()
    save_model(tmp_path, model)
    loaded, _, meta = load_model(tmp_path)
    assert meta["family"] == family
    with torch.no_grad():
        assert torch.equal(model.reconstruct(x), loaded.reconstruct(x))
        assert torch.equal(loaded.encode(x), loaded.encode(x))
        assert torch.equal(loaded.reconstruct(x), loaded.reconstruct(x))


def test_the_torch_free_family_listing_matches_the_registry() -> None:
    """`aekit models` lists families without importing torch; the listing must be the registry's."""
    from aekit.registry import families, family_index

    assert family_index() == {name: fam.description for name, fam in families().items()}
