"""Audio figures: one clip's waveform above its log-mel or log-magnitude spectrogram
(:func:`plot_spectrogram`), and several signals on one colour scale, e.g. before/after
denoising (:func:`plot_audio`). Drawn with aekit's figure helpers (:mod:`aekit.plotting`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from aekit.audio.features import MelConfig, STFTConfig, log_magnitude, stft
from aekit.errors import ConfigError
from aekit.plotting import pyplot, save_figure


def check_spectrogram_params(path: str | Path, n_fft: int, hop: int, window: str, n_mels: int) -> None:
    """Raise :class:`ConfigError` for settings :func:`plot_spectrogram` cannot draw (before any work)."""
    if Path(path).suffix.lower() != ".png":
        raise ConfigError(f"spectrogram figure must be a .png file, got {path}")
    if n_mels < 0:
        raise ConfigError(f"n_mels must be >= 1, or 0 for a linear-frequency spectrogram; got {n_mels}")
    if n_mels:
        MelConfig(n_fft=n_fft, hop=hop, n_mels=n_mels, window=window)  # type: ignore[arg-type]
    else:
        STFTConfig(n_fft, hop, window)  # type: ignore[arg-type]


def _spec_db(y: np.ndarray, sr: int, n_fft: int, hop: int, window: str, n_mels: int) -> np.ndarray:
    if n_mels:
        from aekit.audio.features import log_mel

        return log_mel(y, MelConfig(sr=sr, n_fft=n_fft, hop=hop, n_mels=n_mels, window=window))  # type: ignore[arg-type]
    return 20 / np.log(10) * log_magnitude(stft(y, STFTConfig(n_fft, hop, window)), 1e-5)  # type: ignore[arg-type]


def _draw(axes: np.ndarray, y: np.ndarray, sr: int, title: str, n_fft: int, hop: int, window: str, n_mels: int) -> None:
    t = np.arange(len(y)) / sr
    axes[0].plot(t, y, lw=0.4)
    axes[0].set(title=f"{title}: waveform", xlabel="time (s)", xlim=(0, t[-1] if len(t) else 1))
    spec = _spec_db(y, sr, n_fft, hop, window, n_mels)
    top = sr / 2 if not n_mels else n_mels
    axes[1].imshow(spec, origin="lower", aspect="auto", cmap="magma", extent=(0, len(y) / sr, 0, top),
                   vmin=spec.max() - 80, vmax=spec.max())
    axes[1].set(title=f"{title}: {'log-mel' if n_mels else 'log-magnitude'} spectrogram (dB)",
                xlabel="time (s)", ylabel="mel band" if n_mels else "frequency (Hz)")


def plot_spectrogram(path: str | Path, y: np.ndarray, sr: int, n_fft: int = 512, hop: int = 128,
                     window: str = "hann", n_mels: int = 0) -> Path:
    """Waveform above spectrogram of one clip, written as PNG."""
    check_spectrogram_params(path, n_fft, hop, window, n_mels)
    fig, axes = pyplot().subplots(2, 1, figsize=(9, 6), constrained_layout=True)
    _draw(axes, y, sr, Path(path).stem, n_fft, hop, window, n_mels)
    return save_figure(fig, Path(path))


def plot_audio(
    path: str | Path,
    signals: Mapping[str, np.ndarray],
    sr: int,
    cfg: STFTConfig | None = None,
    max_hz: float | None = None,
) -> Path:
    """Save a PNG with one row per signal: waveform (left) and log-magnitude spectrogram in dB (right).

    All spectrograms share one colour scale (the loudest signal's top 80 dB) so rows compare.
    """
    plt = pyplot()
    cfg = cfg or STFTConfig(n_fft=512 if sr > 12000 else 256, hop=128 if sr > 12000 else 64)
    specs = {k: 20 * np.log10(np.abs(stft(np.asarray(y, np.float32), cfg)) + 1e-6) for k, y in signals.items()}
    top = max(float(s.max()) for s in specs.values())
    fig, axes = plt.subplots(len(signals), 2, figsize=(11, 2.4 * len(signals)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.4]})
    for row, (name, y) in enumerate(signals.items()):
        t = np.arange(len(y)) / sr
        axes[row, 0].plot(t, y, lw=0.4, color="tab:blue")
        axes[row, 0].set(title=f"{name}: waveform", xlabel="time (s)", xlim=(0, t[-1] if len(t) else 1))
        S = specs[name]
        extent = (0, len(y) / sr, 0, sr / 2)
        im = axes[row, 1].imshow(S, origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=top - 80, vmax=top)
        axes[row, 1].set(title=f"{name}: spectrogram", xlabel="time (s)", ylabel="Hz", ylim=(0, max_hz or sr / 2))
        fig.colorbar(im, ax=axes[row, 1], label="dB")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_detection(path: str | Path, scores: np.ndarray, kinds: list[str], auc: Mapping[str, float]) -> Path:
    """Save a PNG of an audio detector's test result: clip scores by kind (left) and one ROC curve
    per anomaly kind against the normal clips (right).

    ``scores`` ``(n_clips,)`` (higher = more anomalous), ``kinds`` each clip's kind ("normal" or
    the anomaly kind), ``auc`` the ROC-AUC per anomaly kind (for the legend).
    """
    from sklearn.metrics import roc_curve

    plt = pyplot()
    scores, k_arr = np.asarray(scores, dtype=float), np.asarray(kinds)
    order = ["normal", *sorted(set(kinds) - {"normal"})]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    rng = np.random.default_rng(0)  # horizontal jitter only, so overlapping dots stay visible
    for i, kind in enumerate(order):
        s = scores[k_arr == kind]
        axes[0].scatter(i + rng.uniform(-0.2, 0.2, len(s)), s, s=12, alpha=0.7,
                        color="tab:green" if kind == "normal" else f"C{i}")
    axes[0].set_xticks(range(len(order)), order)
    axes[0].set(title="clip anomaly score by kind", ylabel="mean reconstruction error")
    normal = scores[k_arr == "normal"]
    for i, kind in enumerate(order[1:], start=1):
        s = scores[k_arr == kind]
        fpr, tpr, _ = roc_curve(np.r_[np.zeros(len(normal)), np.ones(len(s))], np.r_[normal, s])
        axes[1].plot(fpr, tpr, color=f"C{i}", label=f"{kind} (AUC {auc.get(kind, float('nan')):.3f})")
    axes[1].plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    axes[1].set(title="ROC against the normal clips", xlabel="false positive rate", ylabel="true positive rate",
                xlim=(0, 1), ylim=(0, 1.01))
    axes[1].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
