"""Autoencoder against PCA: reconstruction error at equal code sizes, 2-D embeddings, and the
Dutch deck's y = mx^p + c points reconstructed from one dimension.

``aekit reduce`` is :func:`ae_vs_pca` (plus :func:`curve_experiment` with ``--curves``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from aekit.apps.reduce import AutoencoderReducer
from aekit.errors import ConfigError
from aekit.experiments.common import Result, train_test_split_of


def reconstruction_mse(X: np.ndarray, X_hat: np.ndarray) -> float:
    """Mean squared error over all entries."""
    return float(np.mean((np.asarray(X_hat, dtype=np.float64) - np.asarray(X, dtype=np.float64)) ** 2))


def check_code_sizes(sizes: Sequence[int], X_train: np.ndarray, what: str = "n_components") -> None:
    """Every code size must be one PCA can fit on ``X_train`` ``(n_rows, n_features)``:
    between 1 and ``min(n_rows, n_features)``; raises :class:`ConfigError` naming ``what``."""
    n_rows, n_features = len(X_train), int(np.prod(np.shape(X_train)[1:]))
    top = min(n_rows, n_features)
    if not len(sizes):
        raise ConfigError(f"{what}: give at least one code size")
    bad = [int(k) for k in sizes if not 1 <= int(k) <= top]
    if bad:
        raise ConfigError(f"{what}: code size {', '.join(map(str, bad))} out of range; PCA on {n_rows} training rows "
                          f"with {n_features} features allows 1..{top}")


def ae_and_pca_at(
    X_train: np.ndarray, X_test: np.ndarray, n_components: int, **reducer_params: Any
) -> dict[str, Any]:
    """Fit PCA and an :class:`AutoencoderReducer` with the same code size on ``X_train``.

    Returns test-set reconstruction MSE of both (``pca_mse``, ``ae_mse``), the fitted
    estimators (``pca``, ``ae``) and the test codes of both (``pca_codes``, ``ae_codes``).
    ``n_components`` must lie in ``1 .. min(n_rows, n_features)`` (PCA's limit).
    """
    from sklearn.decomposition import PCA

    check_code_sizes([n_components], X_train)
    pca = PCA(n_components=n_components, random_state=0).fit(X_train)
    ae = AutoencoderReducer(n_components=n_components, **reducer_params).fit(X_train)
    pca_codes, ae_codes = pca.transform(X_test), ae.transform(X_test)
    return {
        "dims": n_components,
        "pca_mse": reconstruction_mse(X_test, pca.inverse_transform(pca_codes)),
        "ae_mse": reconstruction_mse(X_test, ae.inverse_transform(ae_codes)),
        "pca": pca,
        "ae": ae,
        "pca_codes": pca_codes,
        "ae_codes": ae_codes,
    }


def curve_points(power: int, n: int = 500, m: float = 1.0, c: float = 0.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """``n`` points ``(x, m·x^power + c)`` with x uniform in [-1, 1], shape ``(n, 2)``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = m * x**power + c + noise * rng.standard_normal(n)
    return np.stack([x, y], axis=1)


def curve_experiment(
    powers: Sequence[int] = (1, 2, 8),
    n: int = 500,
    m: float = 1.0,
    c: float = 0.5,
    noise: float = 0.0,
    seed: int = 0,
    **reducer_params: Any,
) -> list[dict[str, Any]]:
    """The Dutch deck's table: 2-D points on y = mx^p + c, reconstructed from ONE dimension.

    For each power, PCA(1) and a non-linear autoencoder with a 1-d code are fitted on the
    points; returns per power the MSE of both and the points/reconstructions for plotting.
    """
    from sklearn.decomposition import PCA

    params = {"hidden": (32, 32), "activation": "tanh", "max_epochs": 300, "batch_size": 32,
              "lr": 3e-3, "validation_fraction": 0.0, "random_state": seed, **reducer_params}
    rows = []
    for p in powers:
        X = curve_points(p, n, m, c, noise, seed)
        pca = PCA(n_components=1).fit(X)
        X_pca = pca.inverse_transform(pca.transform(X))
        ae = AutoencoderReducer(n_components=1, **params).fit(X)
        X_ae = ae.reconstruct(X)
        rows.append({"power": p, "pca_mse": reconstruction_mse(X, X_pca), "ae_mse": reconstruction_mse(X, X_ae),
                     "X": X, "X_pca": X_pca, "X_ae": X_ae})
    return rows


def curve_figure(rows: Sequence[dict[str, Any]]) -> Any:
    """One row per function: feature space, PCA reconstruction, autoencoder reconstruction."""
    from aekit.plotting import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(len(rows), 3, figsize=(9, 2.8 * len(rows)), squeeze=False)
    for ax_row, r in zip(axes, rows):
        label = "y = mx + c" if r["power"] == 1 else f"y = mx^{r['power']} + c"
        for ax, key, title in zip(ax_row, ("X", "X_pca", "X_ae"), ("feature space", "PCA (1-d)", "autoencoder (1-d)")):
            ax.scatter(r["X"][:, 0], r["X"][:, 1], s=3, c="lightgrey")
            if key != "X":
                ax.scatter(r[key][:, 0], r[key][:, 1], s=3, c="tab:red")
                err = r["pca_mse" if key == "X_pca" else "ae_mse"]
                title = f"{title}: MSE {err:.2g}"
            ax.set_title(title, fontsize=9)
        ax_row[0].set_ylabel(label)
    fig.tight_layout()
    return fig


@dataclass
class ReductionResult(Result):
    """:func:`ae_vs_pca`'s result: ``table`` (one row per code size: dims, pca_mse, ae_mse) and,
    when 2 is among the sizes, the ``embedding`` figure (PCA's and the autoencoder's 2-D codes)."""

    json_name: str = "reduce.json"
    table_key: str = "results"


def ae_vs_pca(
    data: str = "mnist", dims: Sequence[int] = (2, 8, 32), hidden: Sequence[int] = (256, 128), activation: str = "relu",
    max_epochs: int = 30, batch_size: int = 128, lr: float = 1e-3, limit: int | None = None,
    test_limit: int | None = None, seed: int = 0, device: str = "cpu",
) -> ReductionResult:
    """Fit PCA and an autoencoder at every code size in ``dims`` on ``data``'s training rows;
    test-set reconstruction MSE of both, in [0, 1] units (min-max scaled on the training rows)."""
    from aekit.data import Scaler
    from aekit.plotting import scatter_panels

    split = train_test_split_of(data, limit, test_limit, seed)
    Xtr = split.X_train
    check_code_sizes(dims, Xtr.reshape(len(Xtr), -1), "dims")  # all of them, before the first model trains
    scaler = Scaler("minmax").fit(Xtr)
    flat = lambda A: scaler.transform(A).reshape(len(A), -1).astype(np.float64)  # noqa: E731
    Ftr, Fte = flat(Xtr), flat(split.X_test)
    params = {"hidden": tuple(hidden), "activation": activation, "max_epochs": max_epochs, "batch_size": batch_size,
              "lr": lr, "scaling": "none", "output_activation": "sigmoid", "random_state": seed, "device": device}
    results, rows = [], []
    for k in dims:
        r = ae_and_pca_at(Ftr, Fte, int(k), **params)
        results.append(r)
        rows.append({"dims": int(k), "pca_mse": r["pca_mse"], "ae_mse": r["ae_mse"]})
    summary = {"data": split.name, "train_rows": len(Ftr), "test_rows": len(Fte), "settings": params, "results": rows}
    figures = {}
    two = next((r for r in results if r["dims"] == 2), None)
    if two is not None:
        panels = [("PCA, 2 components", two["pca_codes"]), ("autoencoder, 2-d code", two["ae_codes"])]
        figures["embedding_pca_vs_ae"] = scatter_panels(panels, split.y_test, None, split.class_names)
    return ReductionResult(summary, figures)


@dataclass
class CurveResult(Result):
    """:func:`curve_experiment` as a result: MSE of PCA(1) and the 1-d autoencoder per power."""

    json_name: str = "curves.json"
    table_key: str = "curves"


def curve_result(powers: Sequence[int] = (1, 2, 8), seed: int = 0, **reducer_params: Any) -> CurveResult:
    """:func:`curve_experiment` with its table and figure."""
    rows = curve_experiment(powers, seed=seed, **reducer_params)
    summary = {"curves": [{k: r[k] for k in ("power", "pca_mse", "ae_mse")} for r in rows]}
    return CurveResult(summary, {"curves_pca_vs_ae": curve_figure(rows)})


__all__ = ["CurveResult", "ReductionResult", "ae_and_pca_at", "ae_vs_pca", "check_code_sizes", "curve_experiment",
           "curve_figure", "curve_points", "curve_result", "reconstruction_mse"]
