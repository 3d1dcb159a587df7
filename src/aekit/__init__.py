"""aekit: autoencoders for images, series, audio and tables, on PyTorch.

Public API (imported lazily so that ``import aekit`` and the CLI start fast)::

    run = aekit.train({"model": {"family": "mlp", "latent_dim": 16}, "data": {"source": "mnist"}})
    run = aekit.load("runs/mlp-mnist-...")
    codes = run.encode(X)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "train": ("aekit.pipeline", "train"),
    "RunConfig": ("aekit.pipeline", "RunConfig"),
    "load": ("aekit.runs", "load"),
    "TrainedAutoencoder": ("aekit.runs", "TrainedAutoencoder"),
    "build_model": ("aekit.registry", "build_model"),
    "families": ("aekit.registry", "families"),
    "load_dataset": ("aekit.data", "load_dataset"),
    "fit_model": ("aekit.training", "fit_model"),
    "summary": ("aekit.summary", "summary_text"),
    "load_exported": ("aekit.runtime", "load_exported"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
