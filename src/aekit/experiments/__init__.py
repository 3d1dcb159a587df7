"""The lectures' experiments as library functions.

Each returns a result object: tables as pandas data frames (``.table``), figures as
matplotlib figures (``.figures``, name -> figure), numbers as attributes, and
``save(folder)`` writing the JSON and PNGs atomically. The CLI commands call these and
only parse flags and print.

* :func:`~aekit.experiments.reduction.ae_vs_pca`: autoencoder vs PCA at equal code sizes
  (``aekit reduce``), and :func:`~aekit.experiments.reduction.curve_experiment`, the Dutch
  deck's y = mx^p + c from one dimension;
* :func:`~aekit.experiments.subspace.linear_ae_vs_pca`: a linear autoencoder's decoder span
  against PCA's subspace (``aekit pca-compare``);
* :func:`~aekit.experiments.denoising.denoise_vs_filters`: denoising autoencoders against
  the classic filters (``aekit denoise``);
* :func:`~aekit.experiments.sine.sine_anomaly_experiment`: the English deck's Conv1D
  anomaly detector on sine mixtures (``aekit sine-anomalies``).
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "ae_vs_pca": "aekit.experiments.reduction", "curve_experiment": "aekit.experiments.reduction",
    "linear_ae_vs_pca": "aekit.experiments.subspace", "principal_angles": "aekit.experiments.subspace",
    "denoise_vs_filters": "aekit.experiments.denoising", "sine_anomaly_experiment": "aekit.experiments.sine",
    "train_test_split_of": "aekit.experiments.common",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aekit.experiments' has no attribute {name!r}")


__all__ = sorted(_LAZY)
