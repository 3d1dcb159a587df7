"""Dimensionality reduction with an autoencoder, behind scikit-learn's transformer contract.

:class:`AutoencoderReducer` is to an autoencoder what :class:`sklearn.decomposition.PCA`
is to a linear projection: ``fit`` / ``transform`` / ``inverse_transform``, usable inside
a ``Pipeline`` or ``GridSearchCV``. With ``hidden=()`` and ``activation="identity"`` it is
a linear autoencoder, whose optimum spans PCA's subspace (the Greek deck's remark), so
its reconstruction error matches PCA's; with non-linear layers it can beat PCA on data
lying on a curved manifold (the experiments are in :mod:`aekit.experiments.reduction`).
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


__all__ = ["AutoencoderReducer"]
