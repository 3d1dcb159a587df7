"""Latent-space inspection: codes coloured by label, projected to 2-D, and conv code maps.

2-D codes are drawn as they are; larger codes go through PCA, t-SNE (scikit-learn) or
UMAP (only when the optional ``umap-learn`` package is installed). Conv models with a
feature-map code ``(C, H, W)`` also get the Polish deck's view: the C maps side by side
(8x4x4 shown as 4x32).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from aekit.errors import ConfigError, DataError

Projection = Literal["auto", "pca", "tsne", "umap"]
# Fewest examples each projection can place: a scatter needs two points; t-SNE needs its
# perplexity (at least 2) below the number of points; UMAP's spectral start needs four.
MIN_EXAMPLES = {"direct": 2, "pca": 2, "tsne": 3, "umap": 4}


def project_2d(Z: np.ndarray, method: Projection = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """``(N, ...)`` codes -> ``(N, 2)`` points and the method used.

    ``auto``: the codes themselves when they are 2-D, else PCA. t-SNE starts from PCA
    (``init="pca"``) so the picture is reproducible under ``seed``.
    """
    Z = np.asarray(Z, dtype=np.float64).reshape(len(Z), -1)
    asked = method
    if method == "auto":
        method = "direct" if Z.shape[1] == 2 else "pca"  # type: ignore[assignment]
    if method in MIN_EXAMPLES and len(Z) < MIN_EXAMPLES[method]:
        raise DataError(f"projection {asked!r} needs at least {MIN_EXAMPLES[method]} examples, got {len(Z)}")
    if method == "direct" or Z.shape[1] <= 2 and method == "pca":
        return (Z if Z.shape[1] == 2 else np.pad(Z, ((0, 0), (0, 2 - Z.shape[1])))), "direct"
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(Z), "pca"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(Z) - 1) / 3)))
        return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(Z), "tsne"
    if method == "umap":
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            raise ConfigError("projection 'umap' needs the optional package umap-learn (pip install umap-learn); use pca or tsne") from None
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(Z), "umap"
    raise ConfigError(f"unknown projection {method!r}; use auto, pca, tsne or umap")


@dataclass
class LatentView:
    """Codes of a data set under a trained model, with their 2-D projection."""

    codes: np.ndarray  # (N, latent...) as the encoder returns them
    points: np.ndarray  # (N, 2)
    method: str  # direct, pca, tsne or umap
    labels: np.ndarray | None


def inspect_latent(trained: Any, X: np.ndarray, y: np.ndarray | None = None, method: Projection = "auto",
                   seed: int = 0) -> LatentView:
    """Encode ``X`` (original units) with a :class:`~aekit.runs.TrainedAutoencoder` and project the codes."""
    codes = trained.encode(X)
    points, used = project_2d(codes, method, seed)
    return LatentView(codes, points, used, y)


def write_latent_figures(view: LatentView, out_dir: str | Path, X: np.ndarray | None = None,
                         class_names: list[str] | None = None, with_pca: bool = True, n_maps: int = 8) -> list[Path]:
    """``latent_<method>.png`` (with the PCA-of-inputs panel beside it when ``X`` is given) and,
    for conv codes ``(N, C, H, W)``, ``code_maps.png``."""
    from aekit.plotting import code_maps, scatter_panels

    out_dir = Path(out_dir)
    title = {"direct": "autoencoder code (2-d)", "pca": "autoencoder code, PCA", "tsne": "autoencoder code, t-SNE",
             "umap": "autoencoder code, UMAP"}[view.method]
    panels = [(title, view.points)]
    if with_pca and X is not None:
        from sklearn.decomposition import PCA

        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        panels.insert(0, ("input, first two PCA components", PCA(n_components=2, random_state=0).fit_transform(flat)))
    written = [scatter_panels(panels, view.labels, out_dir / f"latent_{view.method}.png", class_names)]
    if view.codes.ndim == 4:
        inputs = None if X is None or np.asarray(X).ndim != 4 else np.asarray(X)[:n_maps]
        written.append(code_maps(view.codes[:n_maps], out_dir / "code_maps.png", inputs))
    return written


__all__ = ["LatentView", "MIN_EXAMPLES", "inspect_latent", "project_2d", "write_latent_figures"]
