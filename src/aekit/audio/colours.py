"""Coloured noise: the plain signal generator under both the noise bank and the machine-sound generator.

Its own module so that :mod:`aekit.audio.machines` (which uses pink noise for its factory
background) and :mod:`aekit.audio.noise` (which offers machine sounds as a noise kind) do
not import each other.
"""

from __future__ import annotations

import numpy as np

from aekit.errors import ConfigError

COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}  # power spectrum ~ 1 / f**exponent


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise of ``n`` samples whose power falls as ``1/f**a`` (white 0, pink 1, brown 2)."""
    if kind not in COLOURS:
        raise ConfigError(f"unknown noise colour {kind!r} (use {', '.join(COLOURS)} or a file path)")
    if n < 2:
        return rng.standard_normal(n).astype(np.float32)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0  # keep DC finite; its exact level is irrelevant
    spec *= f ** (-COLOURS[kind] / 2)
    x = np.fft.irfft(spec, n)
    x -= x.mean()
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)
