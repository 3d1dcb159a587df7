"""One test mixin for every application estimator: the contract they all share through
:class:`aekit.apps.base.AutoencoderEstimator`.

Each case is a tiny configuration plus how to make data and read a result; every check
below runs on every case: fit returns self, result shapes, clone and get/set_params,
save -> aekit.load round trip (bit-identical results), seeded determinism, the shared
settings and their defaults, and bad input/settings -> a specific aekit error.
(scikit-learn's own table-based checks run on the two estimators that take tables,
in test_detect_sklearn.py and test_apps_reduce.py; the image, speech and sound
estimators take images and clips, which those checks cannot generate.)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from sklearn.base import clone

import aekit
from aekit.apps.base import TRAINING_SETTINGS, AutoencoderEstimator, estimator_kinds
from aekit.errors import AekitError, ConfigError


def _table(n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 6)).astype(np.float32)
    X[:, 3] = 2 * X[:, 0] + 0.1 * X[:, 1]
    return X


def _series() -> np.ndarray:
    t = np.arange(400, dtype=np.float32)
    return np.sin(t / 7) + 0.05 * np.random.default_rng(0).standard_normal(400).astype(np.float32)


def _images() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.random((4, 1, 8, 8)).astype(np.float32)
    return np.clip(base[rng.integers(0, 4, 40)] + 0.05 * rng.standard_normal((40, 1, 8, 8)), 0, 1).astype(np.float32)


def _labelled() -> tuple[np.ndarray, np.ndarray]:
    """Two classes of tiny images, 12 labelled examples: what a few-shot classifier fits."""
    X = _images()[:24]
    y = (X.mean(axis=(1, 2, 3)) > np.median(X.mean(axis=(1, 2, 3)))).astype(np.int64)
    return X, y


def _clips(sr: int, n: int = 3) -> list[np.ndarray]:
    t = np.arange(int(0.5 * sr)) / sr
    return [(0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t)).astype(np.float32) for i in range(n)]


@dataclass
class Case:
    cls: type
    kwargs: dict[str, Any]
    data: Callable[[], Any]
    result: Callable[[Any, Any], np.ndarray]
    bad_input: Any  # what fit must refuse with an aekit error


CASES = {
    "detector": Case(aekit.AutoencoderDetector, {"model_params": {"hidden": [8], "latent_dim": 2}}, _table,
                     lambda est, X: est.anomaly_score(X), np.full((30, 6), np.nan)),
    "series_detector": Case(aekit.SeriesDetector, {"window": 16, "stride": 4}, _series,
                            lambda est, X: est.anomaly_score(X), np.full(400, np.nan)),
    "reducer": Case(aekit.AutoencoderReducer, {"hidden": (8,)}, _table, lambda est, X: est.transform(X),
                    np.full((30, 6), np.inf)),
    "image_denoiser": Case(aekit.ImageDenoiser, {"model_params": {"channels": [4]}}, _images,
                           lambda est, X: est.transform(X), np.zeros((0, 1, 8, 8))),
    "speech_denoiser": Case(aekit.SpeechDenoiser, {"hidden": (16,), "latent_dim": 8, "mixes": 1}, lambda: _clips(8000),
                            lambda est, X: est.denoise(X[0]), []),
    "sound_detector": Case(aekit.AudioAnomalyDetector, {"hidden": (16,), "latent_dim": 4, "n_mels": 32}, lambda: _clips(16000),
                           lambda est, X: est.anomaly_score(X), []),
    "fewshot": Case(aekit.FewShotClassifier, {"model": {"hidden": [8], "latent_dim": 3}, "head_steps": 20,
                                              "finetune_steps": 10}, _labelled,
                    lambda est, data: est.predict_proba(data[0]), (np.full((12, 1, 8, 8), np.nan), np.arange(12) % 2)),
}
FAST = {"max_epochs": 2, "batch_size": 32}


def _fit(est: Any, data: Any) -> Any:
    """``fit(X)``, or ``fit(X, y)`` for the estimators that take labels."""
    return est.fit(*data) if isinstance(data, tuple) else est.fit(data)


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request: pytest.FixtureRequest) -> tuple[str, Case, Any, Any]:
    c = CASES[request.param]
    data = c.data()
    est = c.cls(**c.kwargs, **FAST)
    assert _fit(est, data) is est
    return request.param, c, est, data


def test_every_kind_is_covered() -> None:
    assert sorted(estimator_kinds()) == sorted(CASES)


def test_result_is_finite_and_shaped(case: tuple[str, Case, Any, Any]) -> None:
    name, c, est, data = case
    out = c.result(est, data)
    assert np.isfinite(out).all() and len(out) > 0
    # one row per pretraining epoch (of the first member, in an ensemble that records every member's)
    assert len([r for r in est.history_ if r.get("stage", "pretrain") == "pretrain" and r.get("member", 0) == 0]) == FAST["max_epochs"]


def test_shared_settings_names_and_defaults(case: tuple[str, Case, Any, Any]) -> None:
    name, c, est, data = case
    params = inspect.signature(c.cls).parameters
    for key, default in TRAINING_SETTINGS.items():
        assert key in params, key
        # a different default is declared (and documented) in the class's settings
        expected = c.cls.settings.get(key, default)
        assert params[key].default == expected, key
    if c.cls.settings:  # every default that differs is explained in the class's docstring
        assert "differ" in (c.cls.__doc__ or ""), c.cls.__name__


def test_clone_and_params(case: tuple[str, Case, Any, Any]) -> None:
    name, c, est, data = case
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "history_")
    twin.set_params(max_epochs=3, lr=0.01)
    assert twin.max_epochs == 3 and twin.lr == 0.01
    with pytest.raises(TypeError, match="unexpected keyword"):
        c.cls(epochs=3)  # the old name of max_epochs is not silently accepted


def test_save_load_round_trip_is_bit_identical(case: tuple[str, Case, Any, Any], tmp_path: Path) -> None:
    name, c, est, data = case
    est.save(tmp_path / "run")
    back = aekit.load(tmp_path / "run")
    assert type(back) is c.cls and back.get_params() == c.cls(**back.get_params()).get_params()
    import json

    assert json.loads((tmp_path / "run" / "model.json").read_text())["kind"] == name
    np.testing.assert_array_equal(c.result(back, data), c.result(est, data))


def test_seeded_fits_are_identical(case: tuple[str, Case, Any, Any]) -> None:
    name, c, est, data = case
    again = _fit(c.cls(**c.kwargs, **FAST), data)
    np.testing.assert_array_equal(c.result(again, data), c.result(est, data))


def test_bad_settings_and_input_raise_aekit_errors(case: tuple[str, Case, Any, Any]) -> None:
    name, c, est, data = case
    for bad in ({"max_epochs": 0}, {"lr": -1.0}, {"validation_fraction": 1.5}, {"device": "tpu"}):
        with pytest.raises(ConfigError):
            _fit(c.cls(**c.kwargs, **{**FAST, **bad}), data)
    with pytest.raises(AekitError):
        _fit(c.cls(**c.kwargs, **FAST), c.bad_input)


def test_estimators_are_importable_from_the_top() -> None:
    for name in ("AutoencoderDetector", "SeriesDetector", "AutoencoderReducer", "ImageDenoiser",
                 "SpeechDenoiser", "AudioAnomalyDetector", "FewShotClassifier"):
        assert inspect.isclass(getattr(aekit, name))
    assert issubclass(aekit.AutoencoderDetector, AutoencoderEstimator)
    assert "max_epochs" in str(inspect.signature(aekit.AutoencoderDetector))


def test_importing_and_training_leave_no_process_wide_state() -> None:
    import logging
    import warnings

    import torch

    from aekit.training import fit_model

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    levels = {n: logging.getLogger(n).level for n in ("lightning", "lightning.pytorch")}
    filters = list(warnings.filters)
    model = aekit.build_model("mlp", {"input_shape": [6], "hidden": [4], "latent_dim": 2}, seed=0)
    fit_model(model, _table(), trainer=aekit.RunConfig().trainer.__class__(max_epochs=1, batch_size=16))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert {n: logging.getLogger(n).level for n in levels} == levels
    assert warnings.filters == filters


def test_runs_written_by_aekit_0_1_still_load(tmp_path: Path) -> None:
    """A detector folder in the 0.1 schema (format aekit-model/1, a "detector" entry) loads and
    scores the same; an old audio run gets one line naming the version that wrote it."""
    import json

    from aekit.errors import ModelFileError

    X = _table()
    # aekit 0.1 saved one autoencoder per detector (no ensembles, no code distance)
    det = aekit.AutoencoderDetector(model_params={"hidden": [8], "latent_dim": 2}, n_estimators=1, code_distance="none",
                                    **FAST).fit(X)
    det.save(tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    est = meta.pop("estimator")
    state, params = est["state"], dict(est["params"])
    params["accelerator"] = params.pop("device")
    old = {k: v for k, v in meta.items() if k not in ("kind", "aekit_version")}
    old["format"] = "aekit-model/1"
    old["detector"] = {"class": "AutoencoderDetector", "params": params, "threshold": state["threshold"],
                       "n_features_in": state["n_features_in"], "input_shape": state["input_shape"],
                       "err_shift": state["err_shift"], "err_scale": state["err_scale"]}
    (tmp_path / "run" / "model.json").write_text(json.dumps(old))
    back = aekit.load(tmp_path / "run")
    assert isinstance(back, aekit.AutoencoderDetector)
    np.testing.assert_array_equal(back.anomaly_score(X), det.anomaly_score(X))
    old.pop("detector")
    old["audio"] = {"task": "denoise", "params": {}, "normalizer": {}}
    (tmp_path / "run" / "model.json").write_text(json.dumps(old))
    with pytest.raises(ModelFileError, match="aekit 0.1"):
        aekit.load(tmp_path / "run")
    old.pop("audio")
    (tmp_path / "run" / "model.json").write_text(json.dumps(old))
    assert type(aekit.load(tmp_path / "run")).__name__ == "TrainedAutoencoder"  # a plain 0.1 run
