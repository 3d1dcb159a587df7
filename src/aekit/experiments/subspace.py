"""Linear autoencoder vs PCA: principal angles between subspaces and reconstruction errors
(the Greek deck's remark that a linear autoencoder learns PCA's subspace; ``aekit pca-compare``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
    """Result of :func:`linear_ae_vs_pca`; errors are mean squared errors per element."""

    angles_deg: np.ndarray  # principal angles between decoder span and PCA's top-k subspace
    ae_mse: float  # the autoencoder's reconstruction error on X
    pca_mse: float  # error of projecting X onto its top-k principal components (the optimum)
    explained_variance_ratio: float  # share of X's variance in the top-k components

    @property
    def max_angle_deg(self) -> float:
        return float(self.angles_deg.max())


def linear_ae_vs_pca(model: Any, X: Any, k: int | None = None) -> PCAComparison:
    """Fit PCA with ``k`` (default: the model's ``latent_dim``) components on ``X`` and compare.

    ``X``: ``(N, *input_shape)`` array in the units the model was trained on.
    """
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
    from aekit.runs import batched

    ae_rec = batched(model.reconstruct, Xn).reshape(len(Xn), -1)
    model.train(was_training)
    return PCAComparison(
        angles_deg=principal_angles(model, pca.components_),
        ae_mse=float(np.mean((ae_rec - flat) ** 2)),
        pca_mse=float(np.mean((pca_rec - flat) ** 2)),
        explained_variance_ratio=float(pca.explained_variance_ratio_.sum()),
    )


@dataclass
class SubspaceResult:
    """:func:`pca_compare_run`'s result: the comparison, the data it used, and the angles figure."""

    comparison: PCAComparison
    where: str  # which data: "training split" or the path given
    n_examples: int
    figures: dict[str, Any]

    def save(self, folder: str | Path, overwrite: bool = False, add_to: bool = False) -> dict[str, Path]:
        """``pca_compare.json`` and ``principal_angles.png`` into ``folder`` (see :meth:`Result.save`)."""
        from aekit.experiments.common import Result

        c = self.comparison
        summary = {"data": self.where, "examples": self.n_examples, "angles_deg": c.angles_deg.tolist(),
                   "max_angle_deg": c.max_angle_deg, "ae_mse": c.ae_mse, "pca_mse": c.pca_mse,
                   "explained_variance_ratio": c.explained_variance_ratio}
        return Result(summary, self.figures, "pca_compare.json").save(folder, overwrite, add_to)


def angles_figure(angles_deg: np.ndarray) -> Any:
    """Bar chart of the principal angles (degrees), 0 = the same direction in both subspaces."""
    from aekit.plotting import pyplot

    fig, ax = pyplot().subplots(figsize=(max(4.0, 0.25 * len(angles_deg) + 2), 3))
    ax.bar(np.arange(1, len(angles_deg) + 1), angles_deg, color="tab:blue")
    ax.set(xlabel="principal angle (sorted)", ylabel="degrees", ylim=(0, max(90.0 if angles_deg.max() > 45 else 10.0, float(angles_deg.max()) * 1.1)),
           title="decoder span vs PCA subspace")
    fig.tight_layout()
    return fig


def pca_compare_run(run: str | Path, data: str | None = None) -> SubspaceResult:
    """Compare the ``linear`` autoencoder of a run folder with PCA on its training split (or ``data``).

    The data are scaled as the model was trained; PCA gets as many components as the code.
    """
    from aekit.errors import ConfigError, DataError
    from aekit.runs import load

    trained = load(run)
    if not hasattr(trained.model, "decoder_basis"):
        raise ConfigError(f"pca-compare needs a 'linear' autoencoder run, {run} holds a {trained.family!r} model")
    if data is None:
        from aekit.pipeline import parse_config, prepare_data

        _, splits, _ = prepare_data(parse_config(Path(run) / "config.yaml"))
        X, where = splits.train.X, "training split"
    else:
        from aekit.data import load_array

        X, where = load_array(data), data
    k = int(trained.model.latent_dim)
    if len(X) < k:  # PCA fits at most min(rows, features) components
        raise DataError(f"{where}: {len(X)} example(s) are too few for a {k}-component PCA; need at least {k}")
    Xs = trained.scaler.transform(X) if trained.scaler is not None else X  # the units the model was trained in
    cmp = linear_ae_vs_pca(trained.model, Xs)
    return SubspaceResult(cmp, where, len(X), {"principal_angles": angles_figure(cmp.angles_deg)})
