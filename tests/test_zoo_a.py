"""Family-specific invariants of the sparse, contractive, variational and linear autoencoders.

The generic checks (shapes, gradients, overfit, save/load, determinism) run for these
families through the shared mixin in ``test_families.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aekit.experiments.subspace import linear_ae_vs_pca, principal_angles
from aekit.errors import ConfigError, ShapeError
from aekit.models.contractive import ContractiveAutoencoder, ContractiveConfig
from aekit.models.sparse import KSparseAutoencoder, KSparseConfig, SparseKLAutoencoder, SparseKLConfig, keep_top_k
from aekit.models.vae import VAE, DiagonalGaussian, VAEConfig
from aekit.registry import build_model
from aekit.training import OptimConfig, TrainerConfig, fit_model


def _x(n: int = 16, d: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed))


# --- sparse ----------------------------------------------------------------------
def test_ksparse_keeps_exactly_k_nonzeros_per_code_and_alpha_k_when_encoding():
    torch.manual_seed(0)
    model = KSparseAutoencoder(KSparseConfig(input_shape=(12,), hidden=[8], latent_dim=40, k=5, alpha=3.0))  # overcomplete
    x = _x()
    model.train()
    out = model(x)
    assert (out.z != 0).sum(1).tolist() == [5] * 16
    assert torch.equal(model.encode(x), out.z)
    # kept units are the 5 largest of the dense code
    kept = out.extras["h"].topk(5, dim=1).values
    assert torch.equal(out.z.topk(5, dim=1).values, kept)
    model.eval()
    assert (model.encode(x) != 0).sum(1).tolist() == [15] * 16  # alpha * k features
    assert (model(x).z != 0).sum(1).tolist() == [5] * 16  # reconstructions still use k


def test_ksparse_schedule_and_bad_k():
    model = KSparseAutoencoder(KSparseConfig(input_shape=(12,), hidden=[], latent_dim=20, k=4, k_start=20, k_schedule_epochs=4))
    ks = []
    for epoch in range(6):
        model.on_train_epoch_start(epoch)
        ks.append(model.current_k)
    assert ks == [20, 16, 12, 8, 4, 4]
    with pytest.raises(ConfigError, match="k must be"):
        build_model("ksparse", {"input_shape": [12], "latent_dim": 4, "k": 5})
    with pytest.raises(ConfigError, match="alpha"):
        build_model("ksparse", {"input_shape": [12], "latent_dim": 8, "k": 2, "alpha": 0.5})


def test_keep_top_k_passes_gradient_only_to_kept_units():
    h = torch.tensor([[0.1, 3.0, -2.0, 2.0]], requires_grad=True)
    keep_top_k(h, 2).sum().backward()
    assert h.grad.tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_kl_sparsity_is_zero_at_target_and_positive_elsewhere():
    model = SparseKLAutoencoder(SparseKLConfig(input_shape=(12,), hidden=[], latent_dim=6, rho=0.1))
    h = torch.rand(10, 6)
    h = h - h.mean(0) + 0.1  # column means exactly rho
    assert float(model.sparsity_penalty(h)) == pytest.approx(0.0, abs=1e-6)
    assert float(model.sparsity_penalty(torch.full((10, 6), 0.5))) > 0.5
    with pytest.raises(ConfigError, match="sigmoid"):
        build_model("sparse_kl", {"input_shape": [12], "latent_activation": "relu"})


def test_sparse_penalties_are_named_parts_that_sum_to_total():
    x = _x()
    for family, part, params in (
        ("sparse_l1", "l1", {"l1_weight": 0.1}),
        ("sparse_kl", "kl_sparsity", {"beta": 0.5}),
        ("contractive", "contractive", {"contractive_weight": 0.1}),
    ):
        model = build_model(family, {"input_shape": [12], "hidden": [8], "latent_dim": 30, **params})
        res = model.loss(x)
        assert set(res.parts) == {"recon", part}
        assert float(res.parts[part].detach()) > 0
        assert torch.allclose(res.total, res.parts["recon"] + res.parts[part])
    l1 = build_model("sparse_l1", {"input_shape": [12], "hidden": [8], "latent_dim": 30, "l1_weight": 0.1})
    res = l1.loss(x)
    assert torch.allclose(res.parts["l1"], 0.1 * res.output.z.abs().mean())


def test_l1_penalty_makes_codes_sparser():
    X = torch.rand(256, 12, generator=torch.Generator().manual_seed(1))
    means = {}
    for weight in (0.0, 0.5):
        torch.manual_seed(0)
        model = build_model("sparse_l1", {"input_shape": [12], "hidden": [], "latent_dim": 24, "l1_weight": weight})
        fit_model(model, X, trainer=TrainerConfig(max_epochs=15, batch_size=64), optim=OptimConfig(lr=3e-3))
        with torch.no_grad():
            means[weight] = float(model.encode(X).abs().mean())
    assert means[0.5] < 0.5 * means[0.0]


# --- contractive -----------------------------------------------------------------
def _finite_difference_jacobian_norm(fn, x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """‖J‖²_F per example by central differences, in float64."""
    n = x.shape[1]
    eye = torch.eye(n, dtype=x.dtype) * eps
    cols = [(fn(x + eye[i]) - fn(x - eye[i])) / (2 * eps) for i in range(n)]  # each (B, D)
    return torch.stack(cols, -1).pow(2).sum((1, 2))


@pytest.mark.parametrize("hidden, jacobian", [([], "closed_form"), ([], "autograd"), ([9, 7], "autograd")])
def test_contractive_penalty_matches_finite_difference_jacobian(hidden, jacobian):
    torch.manual_seed(0)
    cfg = ContractiveConfig(input_shape=(12,), hidden=hidden, latent_dim=5, activation="tanh", jacobian=jacobian)
    model = ContractiveAutoencoder(cfg).double()
    x = _x().double()
    with torch.no_grad():
        expected = _finite_difference_jacobian_norm(model.encode, x)
    got = model.jacobian_penalty(x)
    assert model.use_closed_form() == (jacobian == "closed_form")
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-8)


def test_contractive_closed_form_requires_a_single_sigmoid_layer():
    with pytest.raises(ConfigError, match="closed_form"):
        build_model("contractive", {"input_shape": [12], "hidden": [8], "jacobian": "closed_form"})


def test_contractive_trains_with_the_engine_and_contracts():
    X = torch.rand(128, 12, generator=torch.Generator().manual_seed(2))
    penalties = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        model = build_model("contractive", {"input_shape": [12], "hidden": [16], "latent_dim": 8, "contractive_weight": weight})
        res = fit_model(model, X, trainer=TrainerConfig(max_epochs=10, batch_size=32), optim=OptimConfig(lr=3e-3))
        assert "train/contractive" in res.history[-1]
        penalties[weight] = float(model.jacobian_penalty(X).mean().detach())
    assert penalties[1.0] < penalties[0.0]


# --- VAE -------------------------------------------------------------------------
def _vae(**kw) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(input_shape=(1, 4, 3), hidden=[16], latent_dim=3, **kw))


def _sharpen(model: VAE) -> VAE:
    """Make q(z|x) narrow and far from the prior, so the IWAE-ELBO gap is well above sampling noise."""
    with torch.no_grad():
        model.to_logvar.bias.fill_(-3.0)
        model.to_mean.weight.mul_(5.0)
    return model


def test_vae_kl_closed_form_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    q = DiagonalGaussian(torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g) * 0.5)
    z = torch.stack([q.sample(g) for _ in range(20000)])  # (S, B, D)
    prior = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
    mc = (q.log_prob(z) - prior).mean(0)
    assert torch.allclose(q.kl(), mc, rtol=0.05, atol=0.03)
    assert torch.equal(q.mode(), q.mean) and torch.allclose(q.std ** 2, q.logvar.exp())


def test_vae_iwae_is_at_least_the_elbo_and_k1_equals_elbo():
    model = _sharpen(_vae()).eval()
    x = torch.rand(64, 1, 4, 3, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        elbo = model.elbo(x, torch.Generator().manual_seed(7))
        # with k = 1 the bound is the ELBO with a sampled KL: equal in expectation
        reps = x[:1].expand(4000, 1, 4, 3)
        k1 = model.iwae_bound(reps, 1, torch.Generator().manual_seed(9)).mean()
        assert float(k1) == pytest.approx(float(model.elbo(reps, torch.Generator().manual_seed(9)).mean()), abs=0.05)
        iwae = model.iwae_bound(x, 64, torch.Generator().manual_seed(8))
    assert elbo.shape == iwae.shape == (64,)
    assert float(iwae.mean()) >= float(elbo.mean())
    # loss parts in nats per example, summing to -ELBO with beta = 1
    model.train()
    res = model.loss(x)
    assert set(res.parts) == {"recon", "kl"}
    assert torch.allclose(res.total, res.parts["recon"] + res.parts["kl"])


def test_vae_sampling_interpolation_and_attribute_arithmetic():
    model = _vae().eval()
    x = torch.rand(6, 1, 4, 3, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        s1 = model.sample(5, torch.Generator().manual_seed(1))
        s2 = model.sample(5, torch.Generator().manual_seed(1))
        assert s1.shape == (5, 1, 4, 3) and torch.equal(s1, s2) and bool(((s1 > 0) & (s1 < 1)).all())
        path = model.interpolate(x[0], x[1], steps=7)
        rec = model.reconstruct(x[:2])
        assert path.shape == (7, 1, 4, 3)
        assert torch.allclose(path[0], rec[0], atol=1e-6) and torch.allclose(path[-1], rec[1], atol=1e-6)
        v = model.attribute_vector(x[:3], x[3:])
        assert v.shape == (3,)
        assert torch.allclose(v, model.encode(x[:3]).mean(0) - model.encode(x[3:]).mean(0))
        moved = model.apply_attribute(x[3:], v)
        assert torch.allclose(moved, model.decode(model.encode(x[3:]) + v))
        # encode is the posterior mean: deterministic
        assert torch.equal(model.encode(x), model.posterior(x).mean)


def test_vae_kl_warmup_uses_beta_in_eval():
    model = _vae(warmup_epochs=4, beta=2.0)
    model.train()
    weights = []
    for epoch in range(6):
        model.on_train_epoch_start(epoch)
        weights.append(model.kl_weight)
    assert weights == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    model.on_train_epoch_start(0)
    model.eval()
    assert model.kl_weight == 2.0


def test_vae_gaussian_learned_std_and_engine_warmup():
    X = torch.rand(96, 1, 4, 3, generator=torch.Generator().manual_seed(5))
    model = _vae(likelihood="gaussian", learn_std=True, obs_std=0.5, warmup_epochs=2)
    assert model.config.loss == "mse" and model.log_std.shape == (1, 4, 3)
    res = fit_model(model, X, X[:32], trainer=TrainerConfig(max_epochs=6, batch_size=32), optim=OptimConfig(lr=1e-2))
    hist = res.history
    assert hist[0]["train/kl"] == 0.0 and hist[-1]["train/kl"] > 0  # warm-up went through the engine hook
    assert hist[-1]["train/recon"] < hist[0]["train/recon"]
    assert float(model.log_std.mean()) < math.log(0.5)  # learned a tighter noise level than it started with
    with pytest.raises(ConfigError, match="likelihood"):
        build_model("vae", {"input_shape": [12], "likelihood": "poisson"})


def test_conv_vae_images_and_series():
    torch.manual_seed(0)
    img = _sharpen(build_model("conv_vae", {"input_shape": [1, 12, 12], "channels": [4, 8], "latent_dim": 3})).eval()
    x = torch.rand(10, 1, 12, 12, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        assert img.encode(x).shape == (10, 3) and img.reconstruct(x).shape == x.shape
        assert img.sample(4, torch.Generator().manual_seed(0)).shape == (4, 1, 12, 12)
        elbo = torch.stack([img.elbo(x, torch.Generator().manual_seed(s)) for s in range(8)]).mean(0)
        assert float(img.iwae_bound(x, 32, torch.Generator().manual_seed(1)).mean()) >= float(elbo.mean())
    series = build_model("conv_vae", {"input_shape": [1, 30], "channels": [4], "stride": [1], "pool": [2],
                                      "decoder": "upsample", "likelihood": "gaussian", "latent_dim": 2})
    s = torch.randn(5, 1, 30)
    res = series.loss(s)
    assert res.output.x_hat.shape == s.shape and set(res.parts) == {"recon", "kl"}
    trimmed = build_model("conv_vae", {"input_shape": [1, 10, 10], "channels": [4, 4, 4], "latent_dim": 2})  # 10->2->16, cropped
    assert trimmed.loss(torch.rand(3, 1, 10, 10)).output.x_hat.shape == (3, 1, 10, 10)
    with pytest.raises(ConfigError, match="conv_vae needs input_shape"):
        build_model("conv_vae", {"input_shape": [64]})


# --- linear AE and PCA -----------------------------------------------------------
def _correlated(n: int = 600, d: int = 10, k: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([3.0, 2.0, 1.5])[:k]
    latent = rng.standard_normal((n, k)) * scales
    mixing = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :k]
    return (latent @ mixing.T + 0.05 * rng.standard_normal((n, d)) + 1.0).astype(np.float32)


def test_principal_angles_basics():
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((8, 3))
    assert np.allclose(principal_angles(basis, basis @ rng.standard_normal((3, 3))), 0.0, atol=1e-5)
    e = np.eye(8)
    assert np.allclose(principal_angles(e[:, :2], e[:2]), 0.0)  # row basis (k, features) like PCA.components_
    assert np.allclose(principal_angles(e[:, :2], e[:, 2:4]), 90.0)
    with pytest.raises(ShapeError):
        principal_angles(e[:, :2], np.eye(5)[:, :2])


@pytest.mark.slow
def test_linear_autoencoder_learns_the_pca_subspace():
    X = _correlated()
    torch.manual_seed(0)
    model = build_model("linear", {"input_shape": [10], "latent_dim": 3})
    fit_model(model, X, trainer=TrainerConfig(max_epochs=80, batch_size=64), optim=OptimConfig(lr=1e-2))
    cmp = linear_ae_vs_pca(model, X)
    assert cmp.angles_deg.shape == (3,)
    assert cmp.max_angle_deg < 3.0
    assert cmp.pca_mse <= cmp.ae_mse < 1.5 * cmp.pca_mse  # PCA is the optimum; the AE gets close
    assert cmp.explained_variance_ratio > 0.99
    with pytest.raises(ShapeError, match="at least 3 rows"):
        linear_ae_vs_pca(model, X[:2])


# --- end to end ------------------------------------------------------------------
@pytest.mark.slow
def test_cli_trains_a_denoising_vae_and_the_run_folder_loads(tmp_path):
    import aekit
    from aekit.cli.main import main

    main([
        "train", "--model", "vae", "--data", "digits", "--latent-dim", "4", "--hidden", "32", "-e", "2",
        "--noise", "masking:fraction=0.3", "--set", "model.warmup_epochs=1", "--set", "data.limit=300",
        "--set", "report=false", "--out", str(tmp_path / "vae"), "--no-progress",
    ])
    trained = aekit.load(tmp_path / "vae")
    assert trained.family == "vae" and trained.config["model"]["warmup_epochs"] == 1
    assert trained.config["noise"] == [{"kind": "masking", "fraction": 0.3}]
    assert set(trained.metrics["test"]) == {"loss", "recon", "kl"}
    X = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32) * 16
    assert trained.encode(X).shape == (5, 4) and trained.reconstruct(X).shape == X.shape
    np.testing.assert_array_equal(trained.encode(X), trained.encode(X))



# --- CLI and run folders ---------------------------------------------------------
@pytest.mark.slow
def test_cli_lists_and_trains_the_zoo_families_from_flags_and_yaml(tmp_path, capsys):
    import json

    import aekit
    from aekit.cli.main import main

    main(["models"])
    listed = capsys.readouterr().out
    for family in ("sparse_l1", "sparse_kl", "ksparse", "contractive", "vae", "linear"):
        assert family in listed

    main(["train", "--model", "ksparse", "--data", "digits", "--latent-dim", "40", "--hidden", "32", "--epochs", "2",
          "--set", "model.k=5", "--set", "model.alpha=2", "--set", "data.limit=300",
          "--set", "report=false", "--out", str(tmp_path / "ks"), "--no-progress"])
    ks = aekit.load(tmp_path / "ks")
    codes = ks.encode(np.random.default_rng(0).random((7, 1, 8, 8), dtype=np.float32) * 16)
    assert codes.shape == (7, 40) and ((codes != 0).sum(1) <= 10).all()  # α·k = 10 units at encoding time

    (tmp_path / "vae.yaml").write_text(
        "model: {family: vae, hidden: [32], latent_dim: 3, warmup_epochs: 1}\n"
        "data: {source: digits, limit: 300}\n"
        "trainer: {max_epochs: 2, batch_size: 64, progress: false}\n"
        f"out_dir: {tmp_path}\nname: v\nreport: false\n"
    )
    main(["train", str(tmp_path / "vae.yaml")])
    metrics = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert {"recon", "kl"} <= set(metrics["test"]) and metrics["test"]["kl"] > 0
    assert metrics["history"][0]["train/kl"] == 0.0  # warm-up epoch 0 went through the engine hook

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "sparse_kl", "--data", "digits", "--set", "model.rho=2", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "rho" in capsys.readouterr().err
