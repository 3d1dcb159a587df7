"""Dimensionality reduction with an autoencoder, behind scikit-learn's transformer contract.

:class:`AutoencoderReducer` is to an autoencoder what :class:`sklearn.decomposition.PCA`
is to a linear projection: ``fit`` / ``transform`` / ``inverse_transform``, usable inside
a ``Pipeline`` or ``GridSearchCV``. With ``hidden=()`` and ``activation="identity"`` it is
a linear autoencoder, whose optimum spans PCA's subspace (the Greek deck's remark), so
its reconstruction error matches PCA's; with non-linear layers it can beat PCA on data
lying on a curved manifold (the Dutch deck's y = mx^p + c experiment, :func:`curve_experiment`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from aekit.apps.base import AutoencoderEstimator
from aekit.errors import ConfigError
from aekit.runs import batched

FLOATS = [np.float64, np.float32]


class AutoencoderReducer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, AutoencoderEstimator):
    """Reduce ``(n_samples, n_features)`` data to ``n_components`` codes with an MLP autoencoder.

    Parameters
    ----------
    n_components: code size (may exceed ``n_features``: an overcomplete code).
    hidden: encoder widths; the decoder mirrors them. ``()`` gives a single linear map.
    activation: hidden-layer activation (``"identity"`` makes the whole model linear).
    output_activation: ``"identity"`` for standardised data, ``"sigmoid"`` for data in [0, 1].
    scaling: ``"standard"`` (per feature), ``"minmax"`` (per feature) or ``"none"``;
        errors reported by :meth:`score` are always in the input's units.
    max_epochs, batch_size, lr, weight_decay, validation_fraction, patience, noise,
        random_state, device: the shared training settings (:data:`aekit.apps.base.TRAINING_SETTINGS`).

    Default that differs from the shared settings: ``max_epochs`` is 50, because a reducer
    is judged by its reconstruction error alone, which keeps falling well past 30 epochs.

    Fitted attributes: ``model_`` (the :class:`~aekit.models.base.Autoencoder`),
    ``scaler_``, ``history_`` (one dict per epoch), ``n_features_in_``.
    """

    kind = "reducer"
    params = {"n_components": 2, "hidden": (128, 64), "activation": "relu", "output_activation": "identity",
              "scaling": "standard"}
    settings = {"max_epochs": 50}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X: Any, y: Any = None) -> "AutoencoderReducer":
        """Train the autoencoder on ``X``; ``y`` is ignored (present for Pipelines)."""
        from aekit.data.dataset import Scaler
        from aekit.registry import build_model

        X = self._validate_table(X, reset=True)
        if int(self.n_components) < 1:  # ConfigError is a ValueError, as scikit-learn expects
            raise ConfigError(f"n_components must be >= 1, got {self.n_components}")
        self.scaler_ = Scaler(self.scaling, per_feature=True).fit(X)  # type: ignore[arg-type]
        params = {
            "input_shape": [X.shape[1]],
            "hidden": [int(h) for h in self.hidden],
            "latent_dim": int(self.n_components),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "loss": "mse",
        }
        model = build_model("mlp", params, seed=int(self.random_state))
        self.model_ = self._fit_engine(model, self.scaler_.transform(X)).model
        self._n_features_out = int(self.n_components)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Codes of ``X``, shape ``(n_samples, n_components)``, in ``X``'s float dtype."""
        check_is_fitted(self, "model_")
        X = self._validate_table(X, reset=False)
        Z = batched(self.model_.encode, X, transform=self.scaler_.transform)
        return Z.astype(X.dtype, copy=False)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode codes ``(n_samples, n_components)`` back to ``(n_samples, n_features)``."""
        check_is_fitted(self, "model_")
        from sklearn.utils import check_array

        Z = check_array(X, dtype=FLOATS)
        if Z.shape[1] != self.n_components:
            raise ValueError(f"codes have {Z.shape[1]} columns, the reducer has n_components={self.n_components}")
        out = self.scaler_.inverse_transform(batched(self.model_.decode, Z))
        return out.astype(Z.dtype, copy=False)

    def reconstruct(self, X: Any) -> np.ndarray:
        """``inverse_transform(transform(X))`` in one pass, in ``X``'s units."""
        return self.inverse_transform(self.transform(X))

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error in ``X``'s units (higher is better)."""
        X = self._validate_table(X, reset=False)
        return -float(np.mean((self.reconstruct(X) - X) ** 2))


    def _state(self) -> dict[str, Any]:
        return {"n_features_in": int(self.n_features_in_)}

    def _restore(self, state: dict[str, Any], model: Any, preprocessing: dict[str, Any] | None) -> None:
        super()._restore(state, model, preprocessing)
        self.n_features_in_ = int(state["n_features_in"])
        self._n_features_out = int(self.n_components)


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


def compare_with_pca(
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


def curve_figure(rows: Sequence[dict[str, Any]], path: Any) -> Any:
    """One row per function: feature space, PCA reconstruction, autoencoder reconstruction."""
    from aekit.plotting import pyplot, save_figure

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
    return save_figure(fig, path)


__all__ = ["AutoencoderReducer", "check_code_sizes", "compare_with_pca", "curve_experiment", "curve_figure", "curve_points", "reconstruction_mse"]
