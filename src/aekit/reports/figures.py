"""Core figures every run gets: loss curves by part, and input/reconstruction grids."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from aekit.plotting import pyplot as _plt
from aekit.plotting import save_figure


def loss_curves(history: Sequence[dict[str, float]], path: str | Path) -> Path:
    """One panel per loss part, train and validation, best validation epoch marked."""
    from matplotlib.ticker import MaxNLocator

    plt = _plt()
    parts = sorted({k.split("/", 1)[1] for row in history for k in row if "/" in k})
    parts = ["loss"] + [p for p in parts if p != "loss"]
    fig, axes = plt.subplots(1, len(parts), figsize=(4 * len(parts), 3.2), squeeze=False)
    epochs = [int(r["epoch"]) for r in history]
    val = [r.get("val/loss") for r in history]
    best = int(np.nanargmin([np.nan if v is None else v for v in val])) if any(v is not None for v in val) else None
    for ax, part in zip(axes[0], parts):
        for split, style in (("train", "-"), ("val", "--")):
            ys = [r.get(f"{split}/{part}") for r in history]
            if any(y is not None for y in ys):
                ax.plot(epochs, [np.nan if y is None else y for y in ys], style, marker="o", ms=3, label=split)
        if best is not None:
            ax.axvline(epochs[best], color="grey", lw=0.8, ls=":", label=f"best epoch {epochs[best]}")
        ax.set_title(part)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _as_images(X: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W) grey or (N, H, W, 3) colour in display range."""
    X = np.asarray(X, dtype=np.float32)
    img = X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)[..., :3]
    lo, hi = float(img.min()), float(img.max())
    return (img - lo) / (hi - lo) if hi > lo else img * 0


def reconstruction_grid(X: np.ndarray, X_hat: np.ndarray, path: str | Path, titles: tuple[str, str] = ("input", "reconstruction"),
                        labels: np.ndarray | None = None) -> Path:
    """Two rows of images: inputs above (titled with their label when given), reconstructions
    below with each image's mean squared error (shared grey scale)."""
    plt = _plt()
    n = len(X)
    both = _as_images(np.concatenate([X, X_hat]))
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6), squeeze=False)
    for j in range(n):
        for i in range(2):
            ax = axes[i][j]
            ax.imshow(both[i * n + j], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        if labels is not None:
            axes[0][j].set_title(str(labels[j]), fontsize=7)
        # error on the shared display scale (pixels in [0, 1] for 8-bit images)
        axes[1][j].set_xlabel(f"MSE {float(np.mean((both[j] - both[n + j]) ** 2)):.4f}", fontsize=6)
    axes[0][0].set_ylabel(titles[0], fontsize=8)
    axes[1][0].set_ylabel(titles[1], fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def pretraining_figure(stages: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """One panel per greedy stage: train/val loss of an AE stage, free energy and reconstruction MSE of an RBM."""
    plt = _plt()
    fig, axes = plt.subplots(1, max(len(stages), 1), figsize=(3.6 * max(len(stages), 1), 3.0), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        hist = stage["history"]
        epochs = [int(r["epoch"]) for r in hist]
        if stage["kind"] == "rbm":
            ax.plot(epochs, [r["free_energy"] for r in hist], marker="o", ms=3, label="free energy (train)")
            ax.set_ylabel("free energy")
            twin = ax.twinx()
            twin.plot(epochs, [r["recon_error"] for r in hist], "--", color="C1", marker="o", ms=3, label="recon MSE")
            twin.set_ylabel("reconstruction MSE")
            handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
            ax.legend(handles=handles, fontsize=7)
        else:
            for key, style in (("train/loss", "-"), ("val/loss", "--")):
                if any(key in r for r in hist):
                    ax.plot(epochs, [r.get(key, float("nan")) for r in hist], style, marker="o", ms=3, label=key.split("/")[0])
            ax.set_ylabel("loss")
            ax.legend(fontsize=7)
        ax.set_title(f"stage {stage['stage']}: {stage['kind']} {stage['layer']}", fontsize=9)
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return save_figure(fig, path)
