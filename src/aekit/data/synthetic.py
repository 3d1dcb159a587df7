"""The 004 deck's synthetic benchmark: sine mixtures, and six ways to make them abnormal.

Normal signal (the deck's formula), on ``x`` evenly spaced in ``[0, 2π]`` with ``length`` points::

    y = A1 sin(f1 x) + A2 sin(f2 x) + A3 sin(f3 x)

The deck gives the formula but not the distributions; aekit states its own:
``A_i ~ U(0.5, 1.5)``, ``f1 ~ U(1, 3)``, ``f2 ~ U(3, 6)``, ``f3 ~ U(6, 10)`` (cycles over
the window), plus Gaussian measurement noise with σ = ``noise`` (default 0.05).

Anomalies are injected into one random segment of 5-20 % of the signal (spikes: a few
single points), and the points changed are labelled 1:

* ``spikes``: 3-6 points jump by ±(3-5)·std of the signal;
* ``frequency_shift``: inside the segment all frequencies are multiplied by 1.5-2.5;
* ``amplitude_change``: the segment is scaled by 2-3 or by 0.1-0.3;
* ``noise_burst``: Gaussian noise with σ = 0.5-1.0·std is added;
* ``flat``: the segment freezes at its first value (a stuck sensor);
* ``level_shift``: the segment is offset by ±(1.5-2.5)·std.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aekit.errors import ConfigError

ANOMALY_KINDS: tuple[str, ...] = ("spikes", "frequency_shift", "amplitude_change", "noise_burst", "flat", "level_shift")
AMPLITUDE_RANGE = (0.5, 1.5)
FREQUENCY_RANGES = ((1.0, 3.0), (3.0, 6.0), (6.0, 10.0))


@dataclass
class SineSet:
    """Signals ``X`` ``(N, 1, length)``, signal labels ``y`` (1 = abnormal), point labels
    ``mask`` ``(N, length)`` and the anomaly ``kind`` of each signal (``"normal"`` if none)."""

    X: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    kind: np.ndarray


def _params(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    amps = rng.uniform(*AMPLITUDE_RANGE, size=(n, 3))
    freqs = np.stack([rng.uniform(lo, hi, size=n) for lo, hi in FREQUENCY_RANGES], axis=1)
    return amps, freqs


def _mixture(amps: np.ndarray, freqs: np.ndarray, x: np.ndarray) -> np.ndarray:
    # (N, 3, 1) * sin((N, 3, 1) * (L,)) summed over the 3 components -> (N, L)
    return np.sum(amps[:, :, None] * np.sin(freqs[:, :, None] * x[None, None, :]), axis=1)


def sine_mixtures(n: int, length: int = 1000, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """``n`` normal signals, float32 ``(n, 1, length)``."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 2 * np.pi, length)
    amps, freqs = _params(n, rng)
    y = _mixture(amps, freqs, x) + noise * rng.standard_normal((n, length))
    return y[:, None, :].astype(np.float32)


def _segment(length: int, rng: np.random.Generator) -> tuple[int, int]:
    seg = int(rng.integers(max(2, length // 20), max(3, length // 5) + 1))
    start = int(rng.integers(0, length - seg + 1))
    return start, start + seg


def inject(signal: np.ndarray, kind: str, rng: np.random.Generator, x: np.ndarray | None = None,
           amps: np.ndarray | None = None, freqs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(abnormal copy of a 1-D signal, 0/1 point mask)`` for one anomaly ``kind``.

    ``frequency_shift`` needs the clean components (``x``, ``amps``, ``freqs``) to
    re-synthesise the segment; the other kinds work on any signal.
    """
    if kind not in ANOMALY_KINDS:
        raise ConfigError(f"unknown anomaly kind {kind!r}; use one of {', '.join(ANOMALY_KINDS)}")
    out = signal.astype(np.float64, copy=True)
    L = len(out)
    std = float(out.std()) or 1.0
    mask = np.zeros(L, dtype=np.int64)
    if kind == "spikes":
        idx = rng.choice(L, size=int(rng.integers(3, 7)), replace=False)
        out[idx] += rng.choice([-1.0, 1.0], size=len(idx)) * rng.uniform(3, 5, size=len(idx)) * std
        mask[idx] = 1
        return out, mask
    a, b = _segment(L, rng)
    mask[a:b] = 1
    if kind == "frequency_shift":
        if x is None or amps is None or freqs is None:
            raise ConfigError("frequency_shift needs the signal's x, amplitudes and frequencies")
        shifted = _mixture(amps[None], freqs[None] * rng.uniform(1.5, 2.5), x[a:b])[0]
        out[a:b] += shifted - _mixture(amps[None], freqs[None], x[a:b])[0]
    elif kind == "amplitude_change":
        factor = rng.uniform(2, 3) if rng.random() < 0.5 else rng.uniform(0.1, 0.3)
        out[a:b] *= factor
    elif kind == "noise_burst":
        out[a:b] += rng.uniform(0.5, 1.0) * std * rng.standard_normal(b - a)
    elif kind == "flat":
        out[a:b] = out[a]
    else:  # level_shift
        out[a:b] += rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 2.5) * std
    return out, mask


def sine_benchmark(
    n_normal: int,
    n_abnormal_per_kind: int,
    kinds: tuple[str, ...] = ANOMALY_KINDS,
    length: int = 1000,
    noise: float = 0.05,
    seed: int = 0,
) -> SineSet:
    """Normal signals followed by ``n_abnormal_per_kind`` abnormal ones of each kind (shuffled)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 2 * np.pi, length)
    n = n_normal + n_abnormal_per_kind * len(kinds)
    amps, freqs = _params(n, rng)
    clean = _mixture(amps, freqs, x) + noise * rng.standard_normal((n, length))
    labels = np.array(["normal"] * n_normal + [k for k in kinds for _ in range(n_abnormal_per_kind)])
    mask = np.zeros((n, length), dtype=np.int64)
    for i in range(n_normal, n):  # one loop per abnormal *signal*; each injection is vectorised
        clean[i], mask[i] = inject(clean[i], str(labels[i]), rng, x, amps[i], freqs[i])
    order = rng.permutation(n)
    return SineSet(
        X=clean[order, None, :].astype(np.float32),
        y=(labels[order] != "normal").astype(np.int64),
        mask=mask[order],
        kind=labels[order],
    )
