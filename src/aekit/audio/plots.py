"""Figures for audio: waveform and spectrogram of one or more signals (e.g. before/after)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from aekit.audio.features import STFTConfig, stft


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aekit.io import atomic_write_with

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path
