"""Quality metrics for audio denoising: SNR, SI-SDR (torchmetrics), optional PESQ and STOI.

Ranking metrics for detection (ROC-AUC, pAUC) are aekit's one implementation in
:mod:`aekit.apps.metrics`.
"""

from __future__ import annotations

import numpy as np

from aekit.errors import DataError


def _pair(ref: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, est = np.asarray(ref, np.float64).ravel(), np.asarray(est, np.float64).ravel()
    if ref.shape != est.shape:
        raise DataError(f"signals differ in length: {ref.size} vs {est.size}")
    return ref, est


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    """Signal-to-noise ratio of ``est`` against ``ref`` in dB: ``10 log10(|ref|² / |ref - est|²)``."""
    ref, est = _pair(ref, est)
    return float(10 * np.log10(np.sum(ref**2) / (np.sum((ref - est) ** 2) + 1e-20) + 1e-20))


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019, https://arxiv.org/abs/1811.02508), means removed;
    torchmetrics' implementation, in float64."""
    import torch
    from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

    ref, est = _pair(ref, est)
    value = scale_invariant_signal_distortion_ratio(torch.from_numpy(est), torch.from_numpy(ref), zero_mean=True)
    return float(value)


def pesq_score(ref: np.ndarray, est: np.ndarray, sr: int) -> float | None:
    """PESQ (ITU-T P.862, package ``pesq``): narrow-band at 8 kHz, wide-band at 16 kHz; None if unavailable."""
    try:
        from pesq import pesq
    except ImportError:
        return None
    if sr not in (8000, 16000):
        return None
    try:
        return float(pesq(sr, np.asarray(ref, np.float32), np.asarray(est, np.float32), "nb" if sr == 8000 else "wb"))
    except Exception:  # noqa: BLE001 - pesq rejects silent/very short clips; report "no value"
        return None


def stoi_score(ref: np.ndarray, est: np.ndarray, sr: int) -> float | None:
    """Short-time objective intelligibility (package ``pystoi``); None if unavailable."""
    try:
        from pystoi import stoi
    except ImportError:
        return None
    return float(stoi(np.asarray(ref, np.float64), np.asarray(est, np.float64), sr, extended=False))
