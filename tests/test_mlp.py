"""MLP autoencoder family: shapes, gradients, learning, tied weights, parameter counts."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from aekit.errors import ConfigError
from aekit.registry import build_model

ACTS = ["relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity"]


@pytest.mark.parametrize(
    "hidden,latent,tied,out_act,loss",
    [c for c in itertools.product([[], [32], [48, 24]], [4, 100], [False, True], ["sigmoid", "identity"], ["mse", "bce", "l1"])
     if not (c[3] == "identity" and c[4] == "bce")],  # refused: see test_bce_needs_a_sigmoid_output
)
def test_shapes_for_every_configuration(hidden, latent, tied, out_act, loss):
    model = build_model("mlp", {"input_shape": [1, 8, 8], "hidden": hidden, "latent_dim": latent,
                                "tied": tied, "output_activation": out_act, "loss": loss})
    x = torch.rand(5, 1, 8, 8)
    out = model(x)
    assert out.x_hat.shape == x.shape
    assert out.z.shape == (5, latent)
    assert model.encode(x).shape == (5, latent)
    assert model.decode(out.z).shape == x.shape
    res = model.loss(x)
    assert set(res.parts) == {"recon"} and res.total.ndim == 0 and torch.isfinite(res.total)
    if out_act == "sigmoid":
        assert 0 <= float(out.x_hat.detach().min()) and float(out.x_hat.detach().max()) <= 1


@pytest.mark.parametrize("activation", ACTS)
def test_every_activation_trains_and_gradients_reach_every_parameter(activation):
    model = build_model("mlp", {"input_shape": [12], "hidden": [10], "latent_dim": 3, "activation": activation,
                                "output_activation": "identity"})
    model.loss(torch.randn(8, 12)).total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"no gradient reached {name}"


@pytest.mark.parametrize("tied", [False, True])
def test_loss_falls_when_overfitting_one_batch(tied):
    torch.manual_seed(0)
    model = build_model("mlp", {"input_shape": [20], "hidden": [16], "latent_dim": 8, "tied": tied,
                                "output_activation": "identity"})
    x = torch.randn(16, 20)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = float(model.loss(x).total)
    for _ in range(200):
        opt.zero_grad()
        model.loss(x).total.backward()
        opt.step()
    assert float(model.loss(x).total) < 0.2 * first


def _n_weights(module: torch.nn.Module) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight"))


def test_tied_weights_halve_the_weight_parameters():
    cfg = {"input_shape": [784], "hidden": [128, 64], "latent_dim": 32}
    untied, tied = build_model("mlp", cfg), build_model("mlp", {**cfg, "tied": True})
    assert _n_weights(tied.decoder) == 0
    assert _n_weights(tied) * 2 == _n_weights(untied)
    # the decoder really uses the encoder's transposed weights
    first = tied.encoder[0]
    with torch.no_grad():
        first.weight.mul_(0)
    assert torch.allclose(tied.decoder[-1](torch.ones(1, 128)), tied.decoder[-1].bias)


def _dense_ae_params(widths: list[int]) -> int:
    """Parameters of a mirrored dense autoencoder with biases, counted layer by layer."""
    enc = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    dec = sum(b * a + a for a, b in zip(widths[:-1], widths[1:]))
    return enc + dec


@pytest.mark.parametrize(
    "cfg,total",
    [
        ({"input_shape": [784], "hidden": [], "latent_dim": 32}, 50_992),  # Keras blog, 784-32-784
        ({"input_shape": [784], "hidden": [128, 64], "latent_dim": 32}, 222_384),  # Keras blog deep AE
        ({"input_shape": [784], "hidden": [100, 500, 250], "latent_dim": 2}, _dense_ae_params([784, 100, 500, 250, 2])),
    ],
)
def test_parameter_counts_of_known_configurations(cfg, total):
    model = build_model("mlp", cfg)
    assert sum(p.numel() for p in model.parameters()) == total


def test_overcomplete_code_is_wider_than_input():
    model = build_model("mlp", {"input_shape": [16], "hidden": [32], "latent_dim": 64})
    assert model.encode(torch.rand(2, 16)).shape == (2, 64)


def test_bad_model_parameters_are_named():
    with pytest.raises(ConfigError, match="lattent_dim.*latent_dim"):
        build_model("mlp", {"lattent_dim": 3})
    with pytest.raises(ConfigError, match="activation"):
        build_model("mlp", {"activation": "relux"})
    with pytest.raises(ConfigError, match="unknown model family"):
        build_model("mpl", {})
    with pytest.raises(ConfigError, match="latent_dim"):
        build_model("mlp", {"latent_dim": "three"})


def test_bce_needs_a_sigmoid_output():
    with pytest.raises(ConfigError, match="bce.*sigmoid"):
        build_model("mlp", {"input_shape": [6], "latent_dim": 2, "loss": "bce", "output_activation": "identity"})


def test_best_weights_without_validation_match_the_reported_epoch():
    """Without a validation split the best epoch is chosen on train/loss; the returned
    weights must be that epoch's, not the next one's."""
    from aekit.training.engine import OptimConfig, TrainerConfig, fit_model

    torch.manual_seed(0)
    X = torch.rand(256, 8)
    model = build_model("linear", {"input_shape": [8], "latent_dim": 2})
    # a learning rate that diverges after the first epoch: epoch 0 is the best one
    res = fit_model(model, X, None, trainer=TrainerConfig(max_epochs=3, batch_size=32),
                    optim=OptimConfig(name="sgd", lr=0.9, momentum=0.9))
    assert res.best_epoch == 1 and res.best_val_loss == pytest.approx(res.history[0]["train/loss"])
    with torch.no_grad():
        assert torch.isfinite(model.loss(X).total)  # not the diverged last epoch's weights


def test_manual_steps_train_as_lightnings_automatic_loop():
    """Without a schedule or gradient clipping the engine runs each step itself (Lightning's manual
    optimisation); it must train exactly as Lightning's automatic loop, which a schedule that never
    changes the rate here ("step" every 100 epochs) still uses."""
    from aekit.training.engine import OptimConfig, TrainerConfig, fit_model

    torch.manual_seed(0)
    X, V = torch.rand(200, 8), torch.rand(40, 8)
    results = []
    for schedule in ("none", "step"):
        model = build_model("mlp", {"input_shape": [8], "hidden": [6], "latent_dim": 3}, seed=1)
        res = fit_model(model, X, V, trainer=TrainerConfig(max_epochs=3, batch_size=16),
                        optim=OptimConfig(lr=0.01, schedule=schedule, step_size=100),
                        noise=[{"kind": "gaussian", "sigma": 0.1}])
        assert res.trainer.lightning_module.automatic_optimization == (schedule == "step")
        results.append(res)
    manual, auto = results
    assert [r["train/loss"] for r in manual.history] == [r["train/loss"] for r in auto.history]
    assert manual.best_epoch == auto.best_epoch and manual.history[-1]["val/loss"] == auto.history[-1]["val/loss"]
    for k, v in manual.model.state_dict().items():
        torch.testing.assert_close(v, auto.model.state_dict()[k], rtol=0, atol=0)


def test_gradient_clipping_trains_under_mixed_precision():
    """Clipping under mixed precision (what a GPU picks by default) needs an optimiser that is not
    fused: a fused one unscales inside, and Lightning refuses to clip it."""
    from aekit.training.engine import OptimConfig, TrainerConfig, fit_model

    torch.manual_seed(0)
    X, V = torch.rand(64, 8), torch.rand(16, 8)
    model = build_model("mlp", {"input_shape": [8], "hidden": [6], "latent_dim": 3}, seed=1)
    res = fit_model(model, X, V, trainer=TrainerConfig(max_epochs=2, batch_size=16, precision="bf16-mixed", gradient_clip=0.5),
                    optim=OptimConfig(lr=0.01))
    assert len(res.history) == 2 and all(math.isfinite(r["train/loss"]) for r in res.history)


def test_an_unwatched_fit_keeps_the_history_lightning_would_log():
    """A plain in-memory fit keeps its epoch means itself instead of logging them to Lightning;
    the history must be exactly what the logged metrics give when a callback watches them."""
    import lightning as L

    from aekit.training.engine import OptimConfig, TrainerConfig, fit_model

    torch.manual_seed(0)
    X, V = torch.rand(100, 8), torch.rand(30, 8)
    runs = []
    for callbacks in ((), (L.pytorch.callbacks.Callback(),)):
        model = build_model("vae", {"input_shape": [8], "hidden": [6], "latent_dim": 2}, seed=1)
        res = fit_model(model, X, V, trainer=TrainerConfig(max_epochs=3, batch_size=16), optim=OptimConfig(lr=0.01),
                        callbacks=callbacks)
        assert res.trainer.lightning_module.lightning_logs == bool(callbacks)
        assert bool(res.trainer.callback_metrics) == bool(callbacks)
        runs.append(res)
    assert runs[0].history == runs[1].history
    assert {"train/loss", "train/recon", "train/kl", "val/loss", "val/kl"} <= runs[0].history[-1].keys()
    assert runs[0].best_epoch == runs[1].best_epoch


def _fit_twice(make_model, X, V, **trainer):
    """The same fit unwatched (the module runs its validation pass and keeps its metrics itself) and
    watched by a do-nothing callback (Lightning's evaluation loop and logged metrics)."""
    import lightning as L

    from aekit.training.engine import OptimConfig, TrainerConfig, fit_model

    runs = []
    for callbacks in ((), (L.pytorch.callbacks.Callback(),)):
        res = fit_model(make_model(), X, V, trainer=TrainerConfig(**trainer), optim=OptimConfig(lr=0.01),
                        callbacks=callbacks, noise=[{"kind": "gaussian", "sigma": 0.1}])
        lit = res.trainer.lightning_module
        assert lit.own_validation == (not callbacks)
        assert res.trainer.enable_validation == bool(callbacks)  # Lightning's loop only when watched
        runs.append(res)
    return runs


def test_own_validation_pass_gives_what_lightnings_loop_gives():
    """An unwatched fit runs the validation pass itself instead of through Lightning's evaluation loop;
    history, best epoch and weights must come out exactly the same (a VAE: its validation draws from
    the global generator, so the pass must also come at the same point of the run)."""
    torch.manual_seed(0)
    X, V = torch.rand(100, 8), torch.rand(30, 8)
    own, loop = _fit_twice(lambda: build_model("vae", {"input_shape": [8], "hidden": [6], "latent_dim": 2}, seed=1),
                           X, V, max_epochs=3, batch_size=16)
    assert own.history == loop.history and "val/loss" in own.history[-1]
    assert own.best_epoch == loop.best_epoch and own.best_val_loss == loop.best_val_loss
    for k, v in own.model.state_dict().items():
        torch.testing.assert_close(v, loop.model.state_dict()[k], rtol=0, atol=0)
    assert own.model.training is False  # fit_model's eval mode, as before


def test_own_validation_pass_converts_batches_as_lightnings_loop_does():
    """Under a precision that converts the inputs (64-true: float64 batches and weights) the
    module's own validation pass must see the batches the loop would have given it."""
    torch.manual_seed(0)
    X, V = torch.rand(60, 5), torch.rand(20, 5)
    own, loop = _fit_twice(lambda: build_model("mlp", {"input_shape": [5], "hidden": [4], "latent_dim": 2}, seed=2),
                           X, V, max_epochs=2, batch_size=16, precision="64-true")
    assert own.history == loop.history and "val/loss" in own.history[-1]
    for k, v in own.model.state_dict().items():
        assert v.dtype == torch.float64
        torch.testing.assert_close(v, loop.model.state_dict()[k], rtol=0, atol=0)


def test_own_validation_pass_keeps_a_stacked_ensembles_best_epochs_and_early_stopping():
    """A stacked ensemble with early stopping per member: the module's own validation pass gives
    the members the same losses, best epochs, stopping epochs and weights as Lightning's loop."""
    from aekit.models.ensemble import MemberStack

    torch.manual_seed(0)
    X, V = torch.rand(120, 6), torch.rand(25, 6)

    def stack() -> MemberStack:
        members = [build_model("mlp", {"input_shape": [6], "hidden": [8], "latent_dim": 3}, seed=s) for s in (3, 4, 5)]
        return MemberStack(members, [3, 4, 5], {0: torch.tensor([[1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0],
                                                                  [1, 0, 1, 0, 1, 1]], dtype=torch.float32)})

    own, loop = _fit_twice(stack, X, V, max_epochs=15, batch_size=16, patience=1)
    assert own.history == loop.history and "val/member2" in own.history[-1]
    assert own.member_best_epochs == loop.member_best_epochs and own.member_stopped == loop.member_stopped
    assert any(s is not None for s in own.member_stopped)  # early stopping did act here
    for k, v in own.model.state_dict().items():
        torch.testing.assert_close(v, loop.model.state_dict()[k], rtol=0, atol=0)


def test_a_multi_device_or_watched_fit_keeps_lightnings_validation_loop():
    """Only a single-device, unwatched fit runs its own validation pass (DDP shards and syncs through
    Lightning's loop; a logger, checkpoint or callback reads the logged val metrics)."""
    from aekit.training.engine import TrainerConfig, _one_device

    assert _one_device(TrainerConfig())
    assert not _one_device(TrainerConfig(devices=2)) and not _one_device(TrainerConfig(devices="auto"))
    assert not _one_device(TrainerConfig(num_nodes=2)) and not _one_device(TrainerConfig(strategy="ddp"))


def test_zero_grad_of_a_manual_step_clears_every_gradient():
    """The manual step's zero_grad sets every optimised parameter's gradient to None, as
    torch's ``optimizer.zero_grad()`` does."""
    from aekit.training.engine import LitAutoencoder, OptimConfig

    model = build_model("mlp", {"input_shape": [4], "hidden": [3], "latent_dim": 2}, seed=0)
    lit = LitAutoencoder(model, None, None, OptimConfig(), 1, manual_steps=True)  # type: ignore[arg-type]
    opt = torch.optim.Adam(model.parameters())
    model.loss(torch.rand(5, 4)).total.backward()
    assert all(p.grad is not None for p in model.parameters())
    lit._zero_grad(opt)
    assert all(p.grad is None for p in model.parameters())


def test_a_seeded_build_draws_what_torch_manual_seed_gives_and_leaves_the_generator_alone():
    """build_model(seed=...) seeds only the CPU generator it draws the weights from: the same weights
    as torch.manual_seed(seed) before building, and the caller's random state is as it was."""
    from aekit.models.mlp import MLPAutoencoder, MLPConfig

    params = {"input_shape": [5], "hidden": [4], "latent_dim": 2}
    torch.manual_seed(11)
    expected = MLPAutoencoder(MLPConfig(input_shape=(5,), hidden=[4], latent_dim=2))
    torch.manual_seed(123)
    state = torch.get_rng_state()
    model = build_model("mlp", params, seed=11)
    assert torch.equal(torch.get_rng_state(), state)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, expected.state_dict()[k], rtol=0, atol=0)


def test_trainer_still_gets_the_installed_callback_factories(monkeypatch: pytest.MonkeyPatch):
    """aekit looks up Lightning's external callback factories once per process (scanning every installed
    distribution on each Trainer cost milliseconds a fit); a factory installed as an entry point must
    still give each Trainer its callback, and Lightning's own lookup is restored afterwards."""
    import importlib.metadata

    import lightning as L
    from lightning.fabric.utilities import registry

    from aekit.training import engine

    made, validated = [], []

    class Probe(L.pytorch.callbacks.Callback):
        def __init__(self) -> None:
            made.append(self)

        def on_validation_epoch_end(self, trainer, module) -> None:  # the fit is watched: Lightning's loop runs
            validated.append(trainer.current_epoch)

    class EntryPoint:
        name, module = "probe", "probe"

        def load(self):
            return Probe

    def entry_points(**selection):
        return [EntryPoint()] if selection.get("group") == "lightning.pytorch.callbacks_factory" else []

    own = registry.entry_points
    engine._entry_points.cache_clear()
    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    try:
        model = build_model("mlp", {"input_shape": [4], "hidden": [3], "latent_dim": 2}, seed=0)
        res = engine.fit_model(model, torch.rand(20, 4), None, trainer=engine.TrainerConfig(max_epochs=1, batch_size=8))
        res2 = engine.fit_model(model, torch.rand(20, 4), torch.rand(8, 4),
                                trainer=engine.TrainerConfig(max_epochs=2, batch_size=8))
    finally:
        engine._entry_points.cache_clear()
    assert len(made) == 2 and made[0] in res.trainer.callbacks and made[1] in res2.trainer.callbacks
    assert validated == [0, 1]  # a factory's callback sees every validation pass
    assert registry.entry_points is own
