"""Linear autoencoder vs PCA: principal angles between subspaces and reconstruction errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from aekit.errors import ShapeError


def _basis(a: Any) -> np.ndarray:
    """A ``(features, k)`` matrix whose columns span the subspace of ``a``.

    ``a`` is a model with a ``decoder_basis`` (the ``linear`` family), an ``nn.Linear``
    decoder (its weight is ``(features, k)``), or an array. Arrays with fewer rows than
    columns are read as row bases, like scikit-learn's ``PCA.components_`` ``(k, features)``.
    """
    if hasattr(a, "decoder_basis"):
        a = a.decoder_basis
    elif hasattr(a, "weight") and hasattr(a, "in_features"):
        a = a.weight
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2:
        raise ShapeError(f"a subspace basis must be a 2-D matrix, got shape {m.shape}")
    return m.T if m.shape[0] < m.shape[1] else m


def principal_angles(a: Any, b: Any) -> np.ndarray:
    """Principal angles in degrees between the subspaces spanned by ``a`` and ``b``, ascending.

    Each argument is a linear autoencoder, its decoder, a ``(features, k)`` column basis
    or a ``(k, features)`` row basis (e.g. ``PCA.components_``). 0° everywhere means the
    same subspace; the largest angle is the worst-aligned direction.
    """
    from scipy.linalg import subspace_angles

    A, B = _basis(a), _basis(b)
    if A.shape[0] != B.shape[0]:
        raise ShapeError(f"bases live in different spaces: {A.shape[0]} vs {B.shape[0]} features")
    return np.sort(np.degrees(subspace_angles(A, B)))


@dataclass
class PCAComparison:
    """Result of :func:`compare_with_pca`; errors are mean squared errors per element."""

    angles_deg: np.ndarray  # principal angles between decoder span and PCA's top-k subspace
    ae_mse: float  # the autoencoder's reconstruction error on X
    pca_mse: float  # error of projecting X onto its top-k principal components (the optimum)
    explained_variance_ratio: float  # share of X's variance in the top-k components

    @property
    def max_angle_deg(self) -> float:
        return float(self.angles_deg.max())


def compare_with_pca(model: Any, X: Any, k: int | None = None) -> PCAComparison:
    """Fit PCA with ``k`` (default: the model's ``latent_dim``) components on ``X`` and compare.

    ``X``: ``(N, *input_shape)`` array in the units the model was trained on.
    """
    import torch
    from sklearn.decomposition import PCA

    Xn = np.asarray(X, dtype=np.float32)
    flat = Xn.reshape(len(Xn), -1)
    k = int(k or model.latent_dim)
    if not 1 <= k <= min(flat.shape):
        raise ShapeError(f"PCA with {k} components needs at least {k} rows and {k} features; "
                         f"the data has {flat.shape[0]} rows of {flat.shape[1]} features")
    pca = PCA(n_components=k).fit(flat)
    pca_rec = pca.inverse_transform(pca.transform(flat))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        ae_rec = model.reconstruct(torch.from_numpy(Xn)).reshape(len(Xn), -1).numpy()
    model.train(was_training)
    return PCAComparison(
        angles_deg=principal_angles(model, pca.components_),
        ae_mse=float(np.mean((ae_rec - flat) ** 2)),
        pca_mse=float(np.mean((pca_rec - flat) ** 2)),
        explained_variance_ratio=float(pca.explained_variance_ratio_.sum()),
    )
