"""The Python API takes data, not only names: arrays and frames into aekit.train, one model config
for train and build_model, a decoder shape of its own, one epoch numbering, one name per setting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.errors import ConfigError, DataError


def _X(n: int = 80, d: int = 6) -> np.ndarray:
    return np.random.default_rng(0).random((n, d)).astype(np.float32)


def test_train_takes_arrays_frames_and_tensors(tmp_path: Path) -> None:
    import pandas as pd
    import torch

    base = {"model": {"family": "mlp", "hidden": [4], "latent_dim": 2}, "trainer": {"max_epochs": 2},
            "out_dir": str(tmp_path), "report": False}
    X = _X()
    run = aekit.train({**base, "data": {"source": X}})
    assert run.meta["data"]["source"] == "<in-memory data>" and run.encode(X).shape == (80, 2)
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    frame["label"] = np.arange(80) % 2
    run2 = aekit.train(base, data=frame)
    assert run2.meta["data"]["feature_names"] == [f"c{i}" for i in range(6)]
    run3 = aekit.train(base, data=torch.from_numpy(X))
    np.testing.assert_array_equal(run3.encode(X), run.encode(X))  # same data, same seed: same model
    from aekit.pipeline import parse_config, prepare_data

    with pytest.raises(DataError, match="in memory"):  # a resume has nothing to reload the data from: one clear line
        prepare_data(parse_config(run.path / "config.yaml"))
    with pytest.raises(DataError, match="not numeric"):
        aekit.train(base, data=np.array([["a", "b"]] * 30, dtype=object))


def test_one_model_config_for_train_and_build_model() -> None:
    cfg = {"family": "mlp", "input_shape": [10], "hidden": [8], "latent_dim": 3}
    model = aekit.build_model(cfg, seed=0)
    assert model.family == "mlp" and model.latent_dim == 3
    assert aekit.build_model("mlp", {k: v for k, v in cfg.items() if k != "family"}, seed=0).latent_dim == 3
    with pytest.raises(ConfigError, match="family"):
        aekit.build_model({"hidden": [8]})


def test_decoder_shape_of_its_own() -> None:
    import torch

    model = aekit.build_model({"family": "mlp", "input_shape": [10], "hidden": [8], "decoder_hidden": [6, 4],
                               "latent_dim": 3}, seed=0)
    widths = [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert widths == [6, 4, 10] and model(torch.zeros(2, 10)).x_hat.shape == (2, 10)
    with pytest.raises(ConfigError, match="tied"):
        aekit.build_model({"family": "mlp", "input_shape": [10], "hidden": [8], "decoder_hidden": [5],
                           "latent_dim": 3, "tied": True})


def test_epochs_count_from_one_everywhere(tmp_path: Path) -> None:
    run = aekit.train({"model": {"family": "mlp", "hidden": [4], "latent_dim": 2}, "trainer": {"max_epochs": 3},
                       "out_dir": str(tmp_path), "report": False}, data=_X())
    m = run.metrics
    assert [h["epoch"] for h in m["history"]] == [1, 2, 3] and 1 <= m["best_epoch"] <= 3


def test_old_setting_name_is_read_and_bernoulli_takes_unit_data_unscaled(tmp_path: Path) -> None:
    from aekit.pipeline import parse_config

    assert parse_config({"model": {"family": "mlp"}, "data": {"val_fraction": 0.3}}).data.validation_fraction == 0.3
    with pytest.raises(ConfigError, match="validation_fraction only"):
        parse_config({"model": {"family": "mlp"}, "data": {"val_fraction": 0.3, "validation_fraction": 0.2}})
    base = {"model": {"family": "mlp", "hidden": [4], "latent_dim": 2, "loss": "bce"}, "trainer": {"max_epochs": 1},
            "data": {"scaling": "none"}, "out_dir": str(tmp_path), "report": False}
    aekit.train(base, data=_X())  # already in [0, 1]: fine without scaling
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        aekit.train(base, data=2 * _X())


@pytest.mark.parametrize("policy,files", [("best_and_last", ["best.ckpt", "last.ckpt"]), ("last", ["last.ckpt"]),
                                          ("none", [])])
def test_checkpoint_policy_keeps_fewer_files(policy: str, files: list[str], tmp_path: Path) -> None:
    run = aekit.train({"model": {"family": "mlp", "hidden": [4], "latent_dim": 2},
                       "trainer": {"max_epochs": 2, "checkpoints": policy}, "out_dir": str(tmp_path), "report": False},
                      data=_X())
    folder = run.path / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == files if folder.exists() else files == []
    assert aekit.load(run.path).encode(_X()).shape == (80, 2)  # the model itself never depends on them


def test_every_metric_names_its_unit(tmp_path: Path) -> None:
    base = {"trainer": {"max_epochs": 1}, "out_dir": str(tmp_path), "report": False}
    mlp = aekit.train({**base, "model": {"family": "mlp", "hidden": [4], "latent_dim": 2, "loss": "bce"}}, data=_X())
    assert mlp.metrics["units"]["recon"] == "mean BCE per input element, in scaled units"
    vae = aekit.train({**base, "model": {"family": "vae", "hidden": [4], "latent_dim": 2}}, data=_X())
    assert set(vae.metrics["units"]) == {"loss", "recon", "kl"} and all("nats per example" in u for u in vae.metrics["units"].values())
