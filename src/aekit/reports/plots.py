"""Report figures: latent scatters, waveform overlays, detector curves, overlaid runs, data views.

Every function draws one matplotlib figure and saves it as PNG (atomically, via
:func:`aekit.reports.figures.save_figure`); the HTML pages embed the same files.
Inputs are numpy arrays; nothing here knows about run folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from aekit.plotting import pyplot as _plt
from aekit.plotting import save_figure


def pca_2d(X: np.ndarray) -> np.ndarray:
    """First two principal components of ``X`` (flattened per example), shape ``(N, 2)``."""
    from threadpoolctl import threadpool_limits

    flat = np.asarray(X, np.float64).reshape(len(X), -1)
    flat = flat - flat.mean(0)
    k = min(2, *flat.shape)
    with threadpool_limits(1):  # a 1000 x 1000 problem: extra BLAS threads only add contention
        return _top2(flat, k)


def _top2(flat: np.ndarray, k: int) -> np.ndarray:
    # eigen-decompose the smaller of the Gram (N x N) and covariance (D x D) matrices: fast for 1000 x 784
    if flat.shape[0] < flat.shape[1]:
        vals, vecs = np.linalg.eigh(flat @ flat.T)
        out = vecs[:, ::-1][:, :k] * np.sqrt(np.clip(vals[::-1][:k], 0, None))
    else:
        _, vecs = np.linalg.eigh(flat.T @ flat)
        out = flat @ vecs[:, ::-1][:, :k]
    return out if out.shape[1] == 2 else np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def _scatter(ax: Any, P: np.ndarray, y: np.ndarray | None, title: str) -> Any:
    if y is None:
        sc = ax.scatter(P[:, 0], P[:, 1], s=5, alpha=0.7)
    else:
        few = len(np.unique(y)) <= 10
        sc = ax.scatter(P[:, 0], P[:, 1], c=y, s=5, alpha=0.8, cmap="tab10" if few else "viridis",
                        **({"vmin": 0, "vmax": 9} if few and np.issubdtype(np.asarray(y).dtype, np.integer) and 0 <= np.min(y) and np.max(y) <= 9 else {}))
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return sc


def latent_scatter(Z: np.ndarray, X: np.ndarray, y: np.ndarray | None, path: str | Path) -> Path:
    """Codes in 2-D (directly for 2-D codes, else their PCA) beside a PCA of the inputs, coloured by label."""
    plt = _plt()
    Zf = np.asarray(Z, np.float64).reshape(len(Z), -1)
    code = Zf if Zf.shape[1] == 2 else pca_2d(Zf)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    title = "autoencoder code" if Zf.shape[1] == 2 else f"autoencoder code ({Zf.shape[1]}-d, PCA to 2-d)"
    sc = _scatter(axes[0], code, y, title)
    _scatter(axes[1], pca_2d(X), y, "PCA of the inputs")
    if y is not None and len(np.unique(y)) <= 10:
        handles, names = sc.legend_elements()
        axes[1].legend(handles, [str(v) for v in np.unique(y)], title="label", fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    elif y is not None:
        fig.colorbar(sc, ax=list(axes), fraction=0.03, label="label")
    return save_figure(fig, path)


def series_overlay(X: np.ndarray, X_hat: np.ndarray, path: str | Path, n: int = 4) -> Path:
    """Input and reconstruction drawn over each other, one panel per example (first channel).

    Works for series ``(N, C, L)`` and for table rows ``(N, F)`` (features on the x axis).
    """
    plt = _plt()
    n = min(n, len(X))
    fig, axes = plt.subplots(n, 1, figsize=(9, 1.6 * n), squeeze=False, sharex=True)
    for i in range(n):
        a = np.asarray(X[i]).reshape(-1) if X.ndim == 2 else np.asarray(X[i, 0])
        b = np.asarray(X_hat[i]).reshape(-1) if X.ndim == 2 else np.asarray(X_hat[i, 0])
        ax = axes[i][0]
        style = "-" if X.ndim > 2 else ".-"
        ax.plot(a, style, lw=1, ms=3, label="input")
        ax.plot(b, style, lw=1, ms=3, alpha=0.8, label="reconstruction")
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, loc="upper right")
    axes[-1][0].set_xlabel("time step" if X.ndim > 2 else "feature")
    fig.tight_layout()
    return save_figure(fig, path)


def feature_errors(X: np.ndarray, X_hat: np.ndarray, names: Sequence[str] | None, scaler: Any,
                   path: str | Path, top: int = 30) -> Path:
    """Mean squared reconstruction error per feature of a table, in scaled units (so large-valued
    columns do not dominate), the ``top`` worst features as horizontal bars with their names."""
    plt = _plt()
    A, B = (X, X_hat) if scaler is None else (scaler.transform(X), scaler.transform(X_hat))
    err = np.mean((np.asarray(B, np.float64) - np.asarray(A, np.float64)) ** 2, axis=0)
    labels = list(names) if names is not None and len(names) == len(err) else [f"x{i}" for i in range(len(err))]
    order = np.argsort(err)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(order) + 1.2))
    ax.barh([labels[i] for i in order], err[order], color="tab:blue")
    ax.set(xlabel="mean squared error per feature (scaled units)", title="reconstruction error by feature")
    fig.tight_layout()
    return save_figure(fig, path)


def scores_over_time(scores: np.ndarray, labels: np.ndarray | None, threshold: float | None, path: str | Path) -> Path:
    """A series detector's point scores against time, the threshold, and labelled anomalies shaded."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3))
    t = np.arange(len(scores))
    ax.plot(t, scores, lw=0.7, label="anomaly score")
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=0.8, label="threshold")
    if labels is not None and np.any(labels):
        from aekit.apps.metrics import events

        for j, (a, b) in enumerate(events(labels)):
            ax.axvspan(a - 0.5, b - 0.5, color="tab:red", alpha=0.2, label="labelled anomaly" if j == 0 else None)
    ax.set(xlabel="time step", ylabel="score")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def error_histogram(scores: np.ndarray, labels: np.ndarray | None, threshold: float | None, path: str | Path) -> Path:
    """Anomaly-score histogram (per class when labels exist) with the decision threshold."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    bins = np.histogram_bin_edges(scores, bins=40)
    if labels is None:
        ax.hist(scores, bins=bins, alpha=0.8, label="all")
    else:
        for value, name in ((0, "normal"), (1, "anomaly")):
            part = scores[labels == value]
            if len(part):
                ax.hist(part, bins=bins, alpha=0.6, density=True, label=f"{name} ({len(part)})")
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.4g}")
    ax.set_xlabel("anomaly score (reconstruction error)")
    ax.set_ylabel("density" if labels is not None else "count")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def roc_pr_curves(scores: np.ndarray, labels: np.ndarray, path: str | Path) -> tuple[Path, dict[str, float]]:
    """ROC and precision-recall curves side by side; returns the path and ``{"roc_auc", "average_precision"}``."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    plt = _plt()
    fpr, tpr, _ = roc_curve(labels, scores)
    prec, rec, _ = precision_recall_curve(labels, scores)
    auc, ap = float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.8))
    a.plot(fpr, tpr, label=f"AUC {auc:.3f}")
    a.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    a.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    b.step(rec, prec, where="post", label=f"AP {ap:.3f}")
    b.axhline(float(np.mean(labels)), color="grey", lw=0.8, ls=":", label="chance")
    b.set(xlabel="recall", ylabel="precision", title="precision-recall")
    for ax in (a, b):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path), {"roc_auc": auc, "average_precision": ap}


def overlaid_curves(histories: Mapping[str, Sequence[dict[str, float]]], path: str | Path, key: str = "loss") -> Path:
    """One line per run: validation ``key`` (solid) and training ``key`` (dotted), best epochs marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, hist) in enumerate(histories.items()):
        color = f"C{i % 10}"
        ep = np.array([int(r.get("epoch", j + 1)) for j, r in enumerate(hist)])
        val = np.array([r.get(f"val/{key}", np.nan) for r in hist], dtype=float)
        tr = np.array([r.get(f"train/{key}", np.nan) for r in hist], dtype=float)
        if np.isfinite(val).any():
            ax.plot(ep, val, "-", color=color, label=f"{name} (val)")
            best = int(np.nanargmin(val))
            ax.plot(ep[best], val[best], "*", color=color, ms=10)
        if np.isfinite(tr).any():
            ax.plot(ep, tr, ":", color=color, label=f"{name} (train)" if not np.isfinite(val).any() else None)
    ax.set(xlabel="epoch", ylabel=key, title=f"{key}: validation (solid, * = best epoch), training (dotted)")
    if len(histories) <= 12 and ax.get_legend_handles_labels()[0]:  # runs without a history draw no line
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def series_plot(X: np.ndarray, path: str | Path, n: int = 4, title: str = "") -> Path:
    """First channel of the first ``n`` series ``(N, C, L)`` (or a long 1-D signal)."""
    plt = _plt()
    n = min(n, len(X))
    fig, axes = plt.subplots(n, 1, figsize=(9, 1.4 * n), squeeze=False, sharex=True)
    for i in range(n):
        axes[i][0].plot(np.asarray(X[i]).reshape(X.shape[1], -1)[0], lw=0.8)
        axes[i][0].tick_params(labelsize=7)
    if title:
        axes[0][0].set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def feature_ranges(mins: np.ndarray, maxs: np.ndarray, means: np.ndarray, names: Sequence[str], path: str | Path) -> Path:
    """Per-feature min-max bars with the mean marked (at most 60 features drawn)."""
    plt = _plt()
    k = min(len(names), 60)
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * k + 2), 3.4))
    idx = np.arange(k)
    ax.vlines(idx, mins[:k], maxs[:k], lw=4, alpha=0.6)
    ax.plot(idx, means[:k], "k.", ms=5, label="mean")
    ax.set_xticks(idx)
    ax.set_xticklabels([str(n)[:12] for n in names[:k]], rotation=90, fontsize=6)
    ax.set_title("per-feature range (bar: min..max)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def class_balance(counts: Mapping[Any, int], path: str | Path) -> Path:
    """Bar chart of examples per class."""
    plt = _plt()
    keys = list(counts)
    fig, ax = plt.subplots(figsize=(max(4, 0.4 * len(keys) + 2), 3))
    ax.bar([str(k) for k in keys], [counts[k] for k in keys])
    ax.set(xlabel="label", ylabel="examples", title="class balance")
    ax.tick_params(axis="x", labelsize=7, rotation=90 if len(keys) > 12 else 0)
    fig.tight_layout()
    return save_figure(fig, path)


def spectrogram(signal: np.ndarray, rate: int, path: str | Path, title: str = "") -> Path:
    """Waveform above a log-magnitude STFT spectrogram (Hann window, 25 ms frames)."""
    from scipy.signal import stft

    plt = _plt()
    nper = max(16, int(0.025 * rate))
    f, t, Z = stft(signal, fs=rate, nperseg=nper, noverlap=nper // 2)
    db = 20 * np.log10(np.abs(Z) + 1e-8)
    fig, (a, b) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    a.plot(np.arange(len(signal)) / rate, signal, lw=0.5)
    a.set_title(title, fontsize=9)
    mesh = b.pcolormesh(t, f, db, shading="auto", vmin=db.max() - 80, vmax=db.max())
    b.set(xlabel="time (s)", ylabel="frequency (Hz)")
    fig.colorbar(mesh, ax=b, label="dB")
    fig.tight_layout()
    return save_figure(fig, path)
