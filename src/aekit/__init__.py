"""aekit: autoencoders for images, series, audio and tables, on PyTorch.

Public API (imported lazily, so that ``import aekit`` and the CLI start fast)::

    run = aekit.train({"model": {"family": "mlp", "latent_dim": 16}, "data": {"source": "mnist"}})
    run = aekit.load("runs/mlp-mnist-...")        # any run folder: a model or an application
    codes = run.encode(X)
    det = aekit.AutoencoderDetector().fit(X_train)  # every application shares one set of settings
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

_LAZY = {
    # runs
    "train": ("aekit.reports.training", "train"),
    "RunConfig": ("aekit.pipeline", "RunConfig"),
    "load": ("aekit.apps.base", "load"),
    "TrainedAutoencoder": ("aekit.runs", "TrainedAutoencoder"),
    # models and data
    "build_model": ("aekit.registry", "build_model"),
    "families": ("aekit.registry", "families"),
    "load_dataset": ("aekit.data.loaders", "load_dataset"),
    "fit_model": ("aekit.training.engine", "fit_model"),
    "summary": ("aekit.summary", "summary_text"),
    # applications
    "TRAINING_SETTINGS": ("aekit.apps.base", "TRAINING_SETTINGS"),
    "AutoencoderDetector": ("aekit.apps.detect", "AutoencoderDetector"),
    "SeriesDetector": ("aekit.apps.detect", "SeriesDetector"),
    "AutoencoderReducer": ("aekit.apps.reduce", "AutoencoderReducer"),
    "ImageDenoiser": ("aekit.apps.denoise", "ImageDenoiser"),
    "FewShotClassifier": ("aekit.apps.fewshot", "FewShotClassifier"),
    "SpeechDenoiser": ("aekit.apps.speech", "SpeechDenoiser"),
    "AudioAnomalyDetector": ("aekit.apps.sound", "AudioAnomalyDetector"),
    # deployment (the export function itself is aekit.export.export: aekit.export is its module)
    "load_exported": ("aekit.runtime", "load_exported"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["__version__", *_LAZY]
