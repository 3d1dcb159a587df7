"""Classical speech-enhancement baselines the denoising autoencoder is compared with.

Both work on the STFT with the noisy phase kept and need no training. The noise power
spectrum is estimated from the quietest frames of the noisy signal itself (a simple
form of minimum statistics), so neither needs a noise-only recording.

* :func:`spectral_subtraction`: power spectral subtraction with over-subtraction and a
  spectral floor (Berouti et al. 1979) to limit "musical noise".
* :func:`wiener_filter`: STFT Wiener gain ``xi / (1 + xi)`` with the decision-directed
  a-priori SNR ``xi`` (Ephraim & Malah 1984), or ``method="scipy"`` for the time-domain
  adaptive :func:`scipy.signal.wiener`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from aekit.audio.features import STFTConfig, istft, stft
from aekit.errors import ConfigError, DataError


def noise_psd(power: np.ndarray, quantile: float = 0.1) -> np.ndarray:
    """Noise power per bin ``(F, 1)``: mean power of the ``quantile`` lowest-energy frames of ``(F, T)``."""
    if not 0 < quantile <= 1:
        raise ConfigError("quantile must be in (0, 1]")
    energy = power.sum(axis=0)
    k = max(1, int(round(quantile * power.shape[1])))
    quiet = np.argsort(energy)[:k]
    return power[:, quiet].mean(axis=1, keepdims=True)


def _check(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise DataError(f"expected a non-empty mono signal (n,), got shape {y.shape}")
    return y


def spectral_subtraction(
    y: np.ndarray,
    cfg: STFTConfig | None = None,
    over: float = 2.0,
    floor: float = 0.02,
    quantile: float = 0.1,
) -> np.ndarray:
    """``|X|^2 = max(|Y|^2 - over * N, floor * |Y|^2)``, resynthesised with the noisy phase."""
    y = _check(y)
    cfg = cfg or STFTConfig()
    S = stft(y, cfg)
    P = np.abs(S) ** 2
    N = noise_psd(P, quantile)
    clean = np.maximum(P - over * N, floor * P)
    gain = np.sqrt(clean / np.maximum(P, 1e-20))
    return istft(S * gain, cfg, len(y))


def wiener_filter(
    y: np.ndarray,
    cfg: STFTConfig | None = None,
    method: Literal["stft", "scipy"] = "stft",
    alpha: float = 0.98,
    quantile: float = 0.1,
    min_gain: float = 0.05,
) -> np.ndarray:
    """Wiener filtering; ``stft``: decision-directed a-priori SNR, ``scipy``: ``scipy.signal.wiener``."""
    y = _check(y)
    if method == "scipy":
        from scipy.signal import wiener

        return wiener(y.astype(np.float64), mysize=5).astype(np.float32)
    if method != "stft":
        raise ConfigError(f"method must be 'stft' or 'scipy', got {method!r}")
    cfg = cfg or STFTConfig()
    S = stft(y, cfg)
    P = np.abs(S) ** 2
    N = np.maximum(noise_psd(P, quantile), 1e-20)
    post = P / N  # a-posteriori SNR (F, T)
    gains = np.empty_like(post)
    prev = np.ones(P.shape[0])  # |X_hat|^2 / N of the previous frame
    # the recursion runs over frames (vectorised over frequency); T is a few hundred per second
    for t in range(P.shape[1]):
        xi = alpha * prev + (1 - alpha) * np.maximum(post[:, t] - 1, 0)
        g = np.maximum(xi / (1 + xi), min_gain)
        gains[:, t] = g
        prev = g**2 * post[:, t]
    return istft(S * gains, cfg, len(y))
