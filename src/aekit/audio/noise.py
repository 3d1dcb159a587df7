"""Noise for training and testing denoisers: coloured noise and recordings mixed at a target SNR."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from aekit.errors import ConfigError, DataError

COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f**exponent


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise of ``n`` samples whose power falls as ``1/f**a`` (white 0, pink 1, brown 2)."""
    if kind not in COLOURS:
        raise ConfigError(f"unknown noise colour {kind!r} (use {', '.join(COLOURS)} or a file path)")
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0  # keep DC finite; its exact level is irrelevant
    spec *= f ** (-COLOURS[kind] / 2)
    x = np.fft.irfft(spec, n)
    x -= x.mean()
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def fit_length(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random excerpt of ``n`` samples from a recording, tiled when it is shorter."""
    if len(noise) == 0:
        raise DataError("noise recording is empty")
    reps = -(-n // len(noise)) + 1
    long = np.tile(noise, reps)
    start = int(rng.integers(0, len(long) - n + 1))
    return long[start : start + n]


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` with ``g`` chosen so that 10 log10(P_clean / P_noise) = ``snr_db``."""
    pc = float(np.mean(clean.astype(np.float64) ** 2))
    pn = float(np.mean(noise.astype(np.float64) ** 2))
    if pn == 0:
        raise DataError("noise has zero power")
    g = np.sqrt(pc / (pn * 10 ** (snr_db / 10)))
    return (clean + g * noise).astype(np.float32)


def check_noise_sources(sources: Sequence[str | Path]) -> list[str]:
    """The sources as strings; :class:`ConfigError` unless each is a colour or an existing file."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    out = [str(s) for s in sources]
    if not out:
        raise ConfigError(f"need at least one noise source ({', '.join(COLOURS)} or a noise recording file)")
    for s in out:
        if s not in COLOURS and not Path(s).is_file():
            raise ConfigError(f"unknown noise {s!r}: use {', '.join(COLOURS)} or the path of a noise recording file")
    return out


class NoiseBank:
    """Noise sources by name: ``white``/``pink``/``brown`` or paths of noise recordings."""

    def __init__(self, sources: Sequence[str | Path], sr: int) -> None:
        self.sources = check_noise_sources(sources)
        self._recordings: dict[str, np.ndarray] = {}
        for s in self.sources:
            if s not in COLOURS:
                from aekit.audio.io import load_audio

                self._recordings[s] = load_audio(s, sr=sr, clipping="ignore")[0]

    def sample(self, n: int, rng: np.random.Generator, source: str | None = None) -> np.ndarray:
        """``n`` samples from ``source`` (random source when None)."""
        s = source if source is not None else self.sources[int(rng.integers(len(self.sources)))]
        if s in COLOURS:
            return coloured_noise(s, n, rng)
        if s not in self._recordings:
            raise ConfigError(f"noise source {s!r} is not in this bank")
        return fit_length(self._recordings[s], n, rng)
