"""Model zoo part B: convolutional presets and builder, summaries, stacked AE, RBM and DBN."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.errors import ConfigError
from aekit.models.conv import code_as_grid
from aekit.models.rbm import RBM, RBMConfig
from aekit.training.rbm import RBMTrainConfig, fit_rbm, rbm_metrics
from aekit.registry import build_model, families
from aekit.runs import load_model, save_model
from aekit.summary import summarize, summary_table, summary_text
from aekit.training import OptimConfig, TrainerConfig
from aekit.training.greedy import pretrain, pretrain_stacked

# (layer, output shape, params) exactly as the 004 deck's tables print them
MNIST_CONV2D = [
    ("Conv2d-1", (32, 28, 28), 320), ("LeakyReLU-2", (32, 28, 28), 0),
    ("Conv2d-3", (64, 14, 14), 18_496), ("LeakyReLU-4", (64, 14, 14), 0),
    ("Conv2d-5", (64, 7, 7), 36_928), ("LeakyReLU-6", (64, 7, 7), 0),
    ("Conv2d-7", (64, 7, 7), 36_928), ("Flatten-8", (3136,), 0),
    ("Linear-9", (2,), 6_274), ("Linear-10", (3136,), 9_408), ("Reshape-11", (64, 7, 7), 0),
    ("ConvTranspose2d-12", (64, 7, 7), 36_928), ("LeakyReLU-13", (64, 7, 7), 0),
    ("ConvTranspose2d-14", (64, 13, 13), 36_928), ("LeakyReLU-15", (64, 13, 13), 0),
    ("ConvTranspose2d-16", (32, 27, 27), 18_464), ("LeakyReLU-17", (32, 27, 27), 0),
    ("ConvTranspose2d-18", (1, 55, 55), 289), ("Trim-19", (1, 28, 28), 0), ("Sigmoid-20", (1, 28, 28), 0),
]
TIMESERIES_CONV1D = [
    ("Conv1d-1", (32, 1000), 192), ("ReLU-2", (32, 1000), 0), ("MaxPool1d-3", (32, 500), 0),
    ("Conv1d-4", (16, 500), 1_552), ("ReLU-5", (16, 500), 0), ("MaxPool1d-6", (16, 250), 0),
    ("Conv1d-7", (16, 250), 784), ("ReLU-8", (16, 250), 0), ("Upsample-9", (16, 500), 0),
    ("Conv1d-10", (32, 500), 2_592), ("ReLU-11", (32, 500), 0), ("Upsample-12", (32, 1000), 0),
    ("Conv1d-13", (1, 1000), 97), ("Identity-14", (1, 1000), 0),
]
# Keras blog: conv16-pool-conv8-pool-conv8-pool (8x4x4), conv8-up-conv8-up-conv16(valid)-up-conv1
KERAS_CONV2D = [
    ("Conv2d-1", (16, 28, 28), 160), ("ReLU-2", (16, 28, 28), 0), ("MaxPool2d-3", (16, 14, 14), 0),
    ("Conv2d-4", (8, 14, 14), 1_160), ("ReLU-5", (8, 14, 14), 0), ("MaxPool2d-6", (8, 7, 7), 0),
    ("Conv2d-7", (8, 7, 7), 584), ("ReLU-8", (8, 7, 7), 0), ("MaxPool2d-9", (8, 4, 4), 0),
    ("Conv2d-10", (8, 4, 4), 584), ("ReLU-11", (8, 4, 4), 0), ("Upsample-12", (8, 8, 8), 0),
    ("Conv2d-13", (8, 8, 8), 584), ("ReLU-14", (8, 8, 8), 0), ("Upsample-15", (8, 16, 16), 0),
    ("Conv2d-16", (16, 14, 14), 1_168), ("ReLU-17", (16, 14, 14), 0), ("Upsample-18", (16, 28, 28), 0),
    ("Conv2d-19", (1, 28, 28), 145), ("Sigmoid-20", (1, 28, 28), 0),
]


@pytest.mark.parametrize("family,expected,total,code", [
    ("mnist_conv2d", MNIST_CONV2D, 200_963, (2,)),
    ("timeseries_conv1d", TIMESERIES_CONV1D, 5_217, (16, 250)),
    ("keras_conv2d", KERAS_CONV2D, 4_385, (8, 4, 4)),
])
def test_presets_match_the_lecture_tables_layer_by_layer(family, expected, total, code):
    model = build_model(family, {})
    s = summarize(model)
    assert [(r.name, r.output_shape, r.params) for r in s.rows] == expected
    assert s.total_params == s.trainable_params == total == sum(p.numel() for p in model.parameters())
    assert s.code_shape == code and model.latent_dim == int(np.prod(code))
    text = summary_text(model)
    assert f"Total params: {total:,}" in text and "Non-trainable params: 0" in text


def test_mnist_preset_total_is_the_sum_of_the_deck_rows():
    deck = [320, 18_496, 36_928, 36_928, 6_274, 9_408, 36_928, 36_928, 18_464, 289]
    assert summarize(build_model("mnist_conv2d", {})).total_params == sum(deck)


def test_summary_counts_tied_weights_once_and_renders_a_rich_table():
    from rich.console import Console

    tied = build_model("mlp", {"input_shape": [20], "hidden": [10], "latent_dim": 4, "tied": True})
    s = summarize(tied)
    assert s.total_params == 20 * 10 + 10 + 10 * 4 + 4 + 10 + 20  # decoder holds biases only
    console = Console(record=True, width=120)
    console.print(summary_table(tied))
    text = console.export_text()
    assert "Total params" in text and "TiedLinear-5" in text and f"{s.total_params:,}" in text


CONV_CASES = {
    "2d-dense-transpose": {"input_shape": [1, 12, 12], "channels": [4, 8], "stride": [2], "latent_dim": 5},
    "2d-odd-size-pool-upsample": {"input_shape": [2, 11, 9], "channels": [4, 6], "stride": [1], "pool": [2],
                                  "decoder": "upsample", "latent_dim": 3, "activation": "elu"},
    "2d-conv-code": {"input_shape": [1, 8, 8], "channels": [4, 2], "stride": [1], "pool": [2],
                     "bottleneck": "conv", "decoder": "upsample"},
    "1d-dense-strided": {"input_shape": [3, 50], "channels": [4, 8], "kernel_size": [5, 3], "stride": [2],
                         "latent_dim": 6, "activation": "leaky_relu", "output_activation": "identity"},
    "1d-conv-code-transpose": {"input_shape": [1, 33], "channels": [4, 4], "stride": [2], "bottleneck": "conv",
                               "output_activation": "identity", "loss": "l1"},
}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_builder_shapes_gradients_and_determinism(case):
    params = CONV_CASES[case]
    torch.manual_seed(0)
    model = build_model("conv", params)
    x = torch.rand(4, *params["input_shape"])
    out = model(x)
    assert out.x_hat.shape == x.shape
    z = model.encode(x)
    assert z.shape[0] == 4 and z[0].numel() == model.latent_dim == model.config.latent_dim
    assert model.decode(z).shape == x.shape
    model.loss(x).total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reached {name}"
    model.eval()
    assert torch.equal(model.reconstruct(x), model.reconstruct(x))
    assert summarize(model).rows[-1].output_shape == tuple(params["input_shape"])


def test_conv_code_map_has_the_shape_of_the_last_feature_map():
    model = build_model("conv", CONV_CASES["2d-conv-code"])
    assert model.encode(torch.rand(3, 1, 8, 8)).shape == (3, 2, 2, 2)
    assert model.config.latent_dim == 8


def test_code_as_grid_lays_channel_maps_side_by_side():
    z = torch.arange(2 * 8 * 4 * 4, dtype=torch.float32).view(2, 8, 4, 4)
    grid = code_as_grid(z)
    assert grid.shape == (2, 4, 32)  # the deck's 8x4x4 -> 4x32
    assert torch.equal(grid[:, :, 4:8], z[:, 1])  # channel 1 is the second 4-wide block
    with pytest.raises(ValueError):
        code_as_grid(torch.zeros(2, 5))


@pytest.mark.parametrize("params,message", [
    ({"input_shape": [784]}, "input_shape"),
    ({"input_shape": [1, 8, 8], "decoder_channels": [4, 3]}, "end with"),
    ({"input_shape": [1, 8, 8], "channels": [4, 4], "kernel_size": [3, 3, 3]}, "3 values for 2 stages"),
    ({"input_shape": [1, 8, 8], "channels": [4], "bottleneck": "conv", "latent_dim": 7}, "latent_dim"),
    ({"input_shape": [1, 4, 4], "channels": [4, 4, 4, 4], "stride": [2], "padding": [0]}, "shrinks"),
])
def test_conv_rejects_bad_configs_with_a_clear_message(params, message):
    with pytest.raises(ConfigError, match=message):
        build_model("conv", params)


def test_keras_preset_on_too_small_images_says_why():
    with pytest.raises(ConfigError, match="smaller than the input"):
        build_model("keras_conv2d", {"input_shape": [1, 8, 8]})


def _overfit(model: torch.nn.Module, x: torch.Tensor, steps: int = 150, lr: float = 1e-2) -> tuple[float, float]:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    first = float(model.loss(x).total.detach())
    for _ in range(steps):
        opt.zero_grad()
        model.loss(x).total.backward()
        opt.step()
    return first, float(model.loss(x).total.detach())


TINY = {
    "conv": {"input_shape": [1, 8, 8], "channels": [4, 8], "stride": [2], "latent_dim": 4},
    "keras_conv2d": {"input_shape": [1, 28, 28]},  # pools and the valid conv fit 28x28 only
    "mnist_conv2d": {"input_shape": [1, 8, 8]},
    "timeseries_conv1d": {"input_shape": [1, 40]},
    "stacked": {"input_shape": [1, 8, 8], "hidden": [16], "latent_dim": 4},
    "dbn": {"input_shape": [1, 8, 8], "hidden": [16], "latent_dim": 4, "loss": "mse"},
}


def test_every_family_of_part_b_is_registered():
    assert set(TINY) <= set(families())


@pytest.mark.parametrize("family", list(TINY))
def test_one_batch_overfit_and_save_load_round_trip(family, tmp_path, tiny_images):
    torch.manual_seed(0)
    model = build_model(family, TINY[family])
    shape = model.input_shape
    t = torch.from_numpy(tiny_images[:16])
    t = torch.nn.functional.interpolate(t, size=shape[1:]) if len(shape) == 3 else t.flatten(1)[:, : shape[-1]]
    x = (t.reshape(16, *shape) > 0.5).float()  # binary targets: the BCE presets can reach ~0
    first, last = _overfit(model, x)
    assert last < 0.7 * first
    model.eval()
    save_model(tmp_path, model)
    loaded, _, meta = load_model(tmp_path)
    assert meta["family"] == family and type(loaded) is type(model)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    assert torch.equal(loaded.encode(x), model.encode(x))


# --- RBM ------------------------------------------------------------------------------------


def _binary_patterns(n: int = 256, d: int = 16, seed: int = 0) -> torch.Tensor:
    """Noisy copies of four binary prototypes: structure an RBM can capture."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.bernoulli(torch.full((4, d), 0.5), generator=g)
    x = protos[torch.randint(4, (n,), generator=g)]
    flips = torch.bernoulli(torch.full((n, d), 0.05), generator=g)
    return (x + flips) % 2


def test_free_energy_matches_brute_force_marginal():
    torch.manual_seed(0)
    rbm = RBM(RBMConfig(n_visible=4, n_hidden=3))
    with torch.no_grad():
        for p in rbm.parameters():
            p.normal_()
    v = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)))
    energy = -(v @ rbm.b_v)[:, None] - (hs @ rbm.b_h)[None, :] - (hs @ rbm.W @ v.T).T  # E(v, h), (16, 8)
    brute = -torch.logsumexp(-energy, dim=1)
    assert torch.allclose(rbm.free_energy(v), brute, atol=1e-5)


@pytest.mark.parametrize("persistent,k", [(False, 1), (False, 3), (True, 1)])
def test_rbm_training_lowers_free_energy_of_training_data(persistent, k):
    X = _binary_patterns()
    noise = torch.bernoulli(torch.full_like(X, 0.5), generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    rbm = RBM(RBMConfig(n_visible=16, n_hidden=8))
    before = rbm_metrics(rbm, X)
    gap_before = float(rbm.free_energy(X).mean() - rbm.free_energy(noise).mean())
    hist = fit_rbm(rbm, X, X[:64], RBMTrainConfig(epochs=15, batch_size=32, k=k, persistent=persistent, lr=0.05))
    assert len(hist.epochs) == 15 and {"free_energy", "recon_error", "val_free_energy"} <= set(hist.epochs[0])
    after = rbm_metrics(rbm, X)
    assert after["free_energy"] < before["free_energy"] - 1.0
    assert after["recon_error"] < 0.5 * before["recon_error"]
    gap_after = float(rbm.free_energy(X).mean() - rbm.free_energy(noise).mean())
    assert gap_after < gap_before - 1.0  # training data became more probable than random patterns


def test_gaussian_bernoulli_rbm_on_real_valued_data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 2, generator=g) @ torch.randn(2, 10, generator=g)  # rank-2 real data
    X = (X - X.mean(0)) / X.std(0)
    torch.manual_seed(0)
    rbm = RBM(RBMConfig(n_visible=10, n_hidden=16, visible="gaussian"))
    before = rbm_metrics(rbm, X)["recon_error"]
    fit_rbm(rbm, X, config=RBMTrainConfig(epochs=20, batch_size=32, lr=0.005))
    assert rbm.hidden_mean(X).shape == (200, 16) and rbm.sample_visible(rbm.hidden_mean(X)).shape == X.shape
    assert rbm_metrics(rbm, X)["recon_error"] < 0.7 * before


def test_rbm_sampling_is_deterministic_under_a_seed():
    rbm = RBM(RBMConfig(n_visible=16, n_hidden=8))
    X = _binary_patterns(32)
    a = rbm.gibbs(X, 3, torch.Generator().manual_seed(5))
    b = rbm.gibbs(X, 3, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}


def test_gaussian_gaussian_rbm_is_rejected():
    with pytest.raises(ValueError, match="Gaussian-Gaussian"):
        RBMConfig(visible="gaussian", hidden="gaussian")


# --- DBN ------------------------------------------------------------------------------------


def test_dbn_unrolls_rbms_into_a_better_than_random_autoencoder(tiny_images):
    X = torch.from_numpy(tiny_images).flatten(1)  # (64, 64) in [0, 1]
    torch.manual_seed(0)
    model = build_model("dbn", {"input_shape": [64], "hidden": [32], "latent_dim": 6, "rbm_epochs": 30,
                                "rbm_batch_size": 16})
    rbms = model.rbm_configs()
    assert [(c.n_visible, c.n_hidden, c.visible, c.hidden) for c in rbms] == [
        (64, 32, "bernoulli", "bernoulli"), (32, 6, "bernoulli", "gaussian")]  # linear code layer on top
    def mse() -> float:
        return float((model.reconstruct(X) - X).pow(2).mean().detach())

    random_error = mse()
    reports = pretrain(model, X)
    assert [r["layer"] for r in reports] == ["64-32", "32-6"] and all(r["epochs"] == 30 for r in reports)
    enc = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert torch.equal(dec[-1].weight, enc[0].weight.t())  # decoder starts as the transposed RBM weights
    assert dec[-1].weight.data_ptr() != enc[0].weight.data_ptr()  # ... but untied for fine-tuning
    assert mse() < 0.5 * random_error
    assert model.encode(X).shape == (64, 6) and model.reconstruct(X).shape == X.shape


# --- greedy layer-wise pretraining ----------------------------------------------------------


def test_greedy_schedule_reports_each_stage_and_fine_tunes(tiny_images):
    X = tiny_images  # (64, 1, 8, 8)
    model = build_model("stacked", {"input_shape": [1, 8, 8], "hidden": [24, 12], "latent_dim": 4,
                                    "pretrain_epochs": 4, "pretrain_lr": 1e-2})
    result = pretrain_stacked(model, X[:48], X[48:], trainer=TrainerConfig(max_epochs=5, batch_size=16),
                              optim=OptimConfig(lr=5e-3))
    assert [s["layer"] for s in result.stages] == ["64-24", "24-12", "12-4"]
    for s in result.stages:
        assert s["epochs"] == 4 and np.isfinite(s["train_loss"]) and np.isfinite(s["val_loss"])
        assert s["history"][-1]["train/loss"] < s["history"][0]["train/loss"]
    hist = result.finetune.history
    assert len(hist) == 5 and hist[-1]["train/loss"] < hist[0]["train/loss"]
    assert result.model.reconstruct(torch.from_numpy(X)).shape == X.shape


def test_greedy_pretraining_is_reproducible_under_a_seed(tiny_images):
    def run(seed: int) -> torch.Tensor:
        model = build_model("stacked", {"input_shape": [1, 8, 8], "hidden": [12], "latent_dim": 4, "pretrain_epochs": 1})
        torch.manual_seed(1234 + seed)  # the global state must not matter, only the seed
        pretrain_stacked(model, tiny_images[:48], None, trainer=TrainerConfig(max_epochs=1, batch_size=16, seed=seed))
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(run(0), run(0)) and not torch.equal(run(0), run(1))


def test_greedy_stage_weights_are_loaded_into_the_deep_model(tiny_images):
    model = build_model("stacked", {"input_shape": [64], "hidden": [16], "latent_dim": 4, "pretrain_epochs": 2})
    stage_seen: list[torch.nn.Module] = []
    original = model.load_stage

    def spy(i: int, stage: torch.nn.Module) -> None:
        stage_seen.append(stage)
        original(i, stage)

    model.load_stage = spy  # type: ignore[method-assign]
    pretrain(model, tiny_images.reshape(64, -1), trainer=TrainerConfig(batch_size=16))
    assert len(stage_seen) == 2
    assert torch.equal(model.encoder[0].weight, stage_seen[0].encoder[0].weight)
    assert torch.equal(model.decoder[-1].weight, stage_seen[0].decoder[0].weight)
    assert torch.equal(model.encoder[2].weight, stage_seen[1].encoder[0].weight)


def test_pretrain_refuses_families_without_a_schedule():
    with pytest.raises(ConfigError, match="no greedy pretraining"):
        pretrain_stacked(build_model("mlp", {"input_shape": [4], "hidden": [], "latent_dim": 2}), np.zeros((4, 4)))


# --- CLI ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("family,stage_kind", [("stacked", "autoencoder"), ("dbn", "rbm")])
def test_cli_pretrain_writes_a_normal_run_folder(tmp_path: Path, capsys, family, stage_kind):
    from aekit.cli.main import main

    main(["pretrain", "--model", family, "--data", "digits", "--hidden", "24", "--latent-dim", "6",
          "--stage-epochs", "2", "--epochs", "2", "--out", str(tmp_path / "run"), "--set", "data.limit=300"])
    out = capsys.readouterr().out
    assert "stage 1" in out and "stage 2" in out and "run:" in out
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert [s["kind"] for s in metrics["pretraining"]] == [stage_kind] * 2 and metrics["epochs"] == 2
    assert (run / "figures" / "pretraining.png").stat().st_size > 0
    from aekit.runs import load

    trained = load(run)
    assert trained.family == family and trained.reconstruct(np.zeros((2, 1, 8, 8))).shape == (2, 1, 8, 8)


def test_cli_summary_prints_the_deck_table_and_pretrain_rejects_mlp(tmp_path: Path, capsys):
    from aekit.cli.main import main

    main(["summary", "timeseries_conv1d"])
    out = capsys.readouterr().out
    assert "5,217" in out and "Conv1d-13" in out
    with pytest.raises(SystemExit) as done:
        main(["pretrain", "--model", "mlp", "--data", "digits", "--out", str(tmp_path)])
    assert done.value.code == 2 and "no greedy pretraining" in capsys.readouterr().err


def test_conv_families_train_through_the_pipeline_and_reload(tmp_path: Path):
    import aekit

    t = np.linspace(0, 8 * np.pi, 64, dtype=np.float32)
    phase = np.random.default_rng(0).uniform(0, 2 * np.pi, (60, 1, 1)).astype(np.float32)
    series = np.sin(t[None, None, :] + phase)  # (60, 1, 64) -> a "series" data set
    np.save(tmp_path / "waves.npy", series)
    runs = {
        "series": {"model": {"family": "timeseries_conv1d"}, "data": {"source": str(tmp_path / "waves.npy")}},
        "images": {"model": {"family": "conv", "channels": [8, 16], "latent_dim": 8},
                   "data": {"source": "digits", "limit": 200}},
    }
    for name, cfg in runs.items():
        trained = aekit.train({**cfg, "trainer": {"max_epochs": 2, "batch_size": 32}, "out_dir": str(tmp_path),
                               "name": name, "report": False})
        again = aekit.load(tmp_path / name)
        X = series[:5] if name == "series" else np.zeros((5, 1, 8, 8), dtype=np.float32)
        assert np.array_equal(again.reconstruct(X), trained.reconstruct(X))
        assert again.model.config == trained.model.config
    assert aekit.load(tmp_path / "series").encode(series[:3]).shape == (3, 16, 16)  # the code map
