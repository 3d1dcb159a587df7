"""Figure of one clip: waveform above a log-mel or log-magnitude spectrogram.

Before/after comparisons of several signals on one colour scale: :func:`aekit.audio.plots.plot_audio`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aekit.audio.features import MelConfig, STFTConfig, log_magnitude, stft
from aekit.errors import ConfigError


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


def _save(fig: object, path: Path) -> Path:
    from aekit.io import atomic_write_with

    out = atomic_write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return out


def plot_spectrogram(path: str | Path, y: np.ndarray, sr: int, n_fft: int = 512, hop: int = 128,
                     window: str = "hann", n_mels: int = 0) -> Path:
    """Waveform above spectrogram of one clip, written as PNG."""
    check_spectrogram_params(path, n_fft, hop, window, n_mels)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), constrained_layout=True)
    _draw(axes, y, sr, Path(path).stem, n_fft, hop, window, n_mels)
    return _save(fig, Path(path))

