"""aekit's one figure helper module: the pyplot handle, atomic PNG saving, and the drawings
applications, experiments and reports share (labelled image grids, embedding scatters,
code maps, tile sheets, line plots).

It sits at the bottom of the package (beside :mod:`aekit.io`), so any layer may draw;
matplotlib is imported only when a figure is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure atomically as PNG (creating folders) and close it."""
    from aekit.io import atomic_write_with

    out = atomic_write_with(path, lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png"))
    pyplot().close(fig)
    return out


def finish(fig: Any, path: str | Path | None) -> Any:
    """Save ``fig`` to ``path`` (returning the path), or return the figure itself when ``path`` is None
    (experiments hand figures to their callers; reports and commands save them)."""
    return fig if path is None else save_figure(fig, path)


def to_display(X: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` or ``(N, H, W)`` -> ``(N, H, W)`` grey or ``(N, H, W, 3)`` colour, values kept."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        return X
    if X.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {X.shape}")
    return X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)[..., :3]


def image_rows(rows: dict[str, np.ndarray], path: str | Path | None, vmin: float = 0.0, vmax: float = 1.0,
               notes: dict[str, str] | None = None) -> Any:
    """A grid with one labelled row per entry of ``rows`` (each ``(n, C, H, W)``, same n).

    Values are clipped to ``[vmin, vmax]`` so rows share one grey scale; ``notes`` adds
    text (e.g. PSNR) after a row's label.
    """
    plt = pyplot()
    names = list(rows)
    n = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(names), n, figsize=(1.1 * n + 1.2, 1.15 * len(names)), squeeze=False)
    for i, name in enumerate(names):
        imgs = np.clip(to_display(rows[name]), vmin, vmax)
        for j in range(n):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(imgs):
                ax.imshow(imgs[j], cmap="gray", vmin=vmin, vmax=vmax)
            else:
                ax.axis("off")
        label = name if not notes or name not in notes else f"{name}\n{notes[name]}"
        axes[i][0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return finish(fig, path)


def tile_sheet(images: np.ndarray, ncols: int) -> np.ndarray:
    """``(N, C, H, W)`` -> one ``(rows·H, ncols·W[, 3])`` mosaic (empty cells are 0)."""
    imgs = to_display(images)
    n, h, w = imgs.shape[:3]
    nrows = -(-n // ncols)
    sheet = np.zeros((nrows * h, ncols * w, *imgs.shape[3:]), dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, ncols)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = imgs[k]
    return sheet


def image_sheet(images: np.ndarray, ncols: int, path: str | Path | None, title: str = "", vmin: float = 0.0, vmax: float = 1.0) -> Any:
    """Save ``images`` as one mosaic PNG (e.g. samples from a VAE's prior, a latent grid)."""
    plt = pyplot()
    sheet = np.clip(tile_sheet(images, ncols), vmin, vmax)
    rows = -(-len(images) // ncols)
    fig, ax = plt.subplots(figsize=(max(3.0, 0.6 * ncols), max(3.0, 0.6 * rows) + (0.3 if title else 0)))
    ax.imshow(sheet, cmap="gray", vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return finish(fig, path)


def scatter_panels(panels: Sequence[tuple[str, np.ndarray]], labels: np.ndarray | None, path: str | Path | None,
                   class_names: Sequence[str] | None = None) -> Any:
    """Side-by-side 2-D scatters (``(N, 2)`` each) coloured by ``labels``, one shared legend."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    handles = None
    for ax, (title, Z) in zip(axes[0], panels):
        if labels is None:
            ax.scatter(Z[:, 0], Z[:, 1], s=3, alpha=0.6)
        else:
            sc = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
            handles = sc.legend_elements()[0]
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if handles is not None and labels is not None:
        classes = np.unique(labels)
        names = [class_names[int(c)] if class_names is not None and int(c) < len(class_names) else str(c) for c in classes]
        fig.legend(handles, names, loc="center right", fontsize=8, markerscale=1.5)
        fig.subplots_adjust(right=0.88)
    return finish(fig, path)


def code_maps(codes: np.ndarray, path: str | Path | None, inputs: np.ndarray | None = None) -> Any:
    """Conv codes ``(N, C, H, W)`` shown as ``C`` maps side by side per example (the 8x4x4 -> 4x32 view).

    With ``inputs``, each example's image is drawn left of its code strip.
    """
    plt = pyplot()
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 4:
        raise ValueError(f"code maps need conv codes (N, C, H, W), got shape {codes.shape}")
    n, c, h, w = codes.shape
    strips = codes.transpose(0, 2, 1, 3).reshape(n, h, c * w)  # channels laid out left to right
    cols = 2 if inputs is not None else 1
    fig, axes = plt.subplots(n, cols, figsize=(1.3 + 0.35 * c * w / max(h, 1), 0.9 * n), squeeze=False,
                             gridspec_kw={"width_ratios": [1, max(3, c * w // max(w, 1))]} if cols == 2 else None)
    for i in range(n):
        if inputs is not None:
            axes[i][0].imshow(to_display(inputs[i : i + 1])[0], cmap="gray")
        axes[i][-1].imshow(strips[i], cmap="viridis", aspect="auto")
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][-1].set_title(f"code {c}x{h}x{w} shown as {h}x{c * w}", fontsize=8)
    fig.tight_layout()
    return finish(fig, path)


def line_plot(x: Sequence[float], series: dict[str, tuple[Sequence[float], Sequence[float]]], path: str | Path | None,
              xlabel: str, ylabel: str, title: str = "", logx: bool = False) -> Any:
    """Lines with error bars: ``series[name] = (means, stds)`` over ``x``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for name, (mean, std) in series.items():
        ax.errorbar(list(x), list(mean), yerr=list(std), marker="o", capsize=3, label=name)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return finish(fig, path)
