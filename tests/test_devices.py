"""Where a model trains and where it runs: each case runs on the CPU everywhere and again on a
CUDA GPU where one exists (skipped on CPU-only machines such as CI, where
``test_faults.py`` simulates a GPU-trained run instead).

A run or detector trained on either device must load, score and export on the CPU with the
same numbers as on the device it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.apps.detect import AutoencoderDetector, load_detector, save_detector
from aekit.export import export
from aekit.runtime import load_exported
from tests.conftest import table_rows

DEVICES = [
    "cpu",
    pytest.param("gpu", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")),
]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "t.csv"
    X = table_rows(300, 0)
    np.savetxt(path, X, delimiter=",", header=",".join(f"f{i}" for i in range(X.shape[1])), comments="")
    return path


@pytest.mark.parametrize("device", DEVICES)
def test_a_run_trained_on_a_device_loads_scores_and_exports_on_the_cpu(device: str, table: Path, tmp_path: Path) -> None:
    cfg = {"model": {"family": "mlp", "hidden": [16], "latent_dim": 3}, "data": {"source": str(table)},
           "trainer": {"max_epochs": 6, "batch_size": 32, "accelerator": device}, "report": False,
           "out_dir": str(tmp_path), "name": "run"}
    run = aekit.train(cfg).path
    assert f"accelerator: {device}" in (run / "config.yaml").read_text()
    X = table_rows(50, 1)
    on_cpu = aekit.load(run, device="cpu")
    codes = on_cpu.encode(X)
    assert codes.shape == (50, 3) and np.isfinite(codes).all()
    if device == "gpu":  # the same weights on the GPU give the same codes
        np.testing.assert_allclose(aekit.load(run, device="cuda").encode(X), codes, atol=1e-4, rtol=1e-4)
    m = load_exported(export(run, tmp_path / "run.onnx"))
    np.testing.assert_allclose(m.predict(X)["code"], codes, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_a_detector_fitted_on_a_device_saves_loads_and_exports_on_the_cpu(device: str, tmp_path: Path) -> None:
    X = table_rows(400, 2)
    X[:8] += 6.0  # outliers
    det = AutoencoderDetector(model_params={"hidden": [16], "latent_dim": 3}, n_estimators=2, max_epochs=8,
                              device=device, random_state=0).fit(X)
    scores = det.anomaly_score(X)
    assert np.mean(scores[:8]) > np.percentile(scores[8:], 95)  # it learned something on that device
    save_detector(det, tmp_path / "run")
    np.testing.assert_allclose(load_detector(tmp_path / "run").anomaly_score(X), scores, rtol=1e-5)
    m = load_exported(export(tmp_path / "run", tmp_path / "det.onnx"))
    np.testing.assert_allclose(m.score(X), scores, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bf16_mixed_precision_trains_on_the_gpu() -> None:
    from aekit.registry import build_model
    from aekit.training import OptimConfig, TrainerConfig, fit_model

    X = np.random.default_rng(0).random((2048, 64), dtype=np.float32)
    X[:, 32:] = X[:, :32]  # redundancy to learn
    res = fit_model(build_model("mlp", {"input_shape": [64], "hidden": [32], "latent_dim": 8}), X,
                    trainer=TrainerConfig(max_epochs=5, batch_size=128, seed=0, progress=False,
                                          accelerator="gpu", precision="bf16-mixed"),
                    optim=OptimConfig(lr=3e-3))
    losses = [row["train/loss"] for row in res.history]
    assert losses[-1] < 0.8 * losses[0], losses
