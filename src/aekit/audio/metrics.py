"""Quality metrics for denoising (SNR, SI-SDR, optional PESQ/STOI) and detection (AUC, pAUC)."""

from __future__ import annotations

import numpy as np

from aekit.errors import ConfigError, DataError


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
    """Scale-invariant SDR in dB (Le Roux et al. 2019, https://arxiv.org/abs/1811.02508); means removed."""
    ref, est = _pair(ref, est)
    ref, est = ref - ref.mean(), est - est.mean()
    alpha = np.dot(est, ref) / (np.dot(ref, ref) + 1e-20)
    target = alpha * ref
    return float(10 * np.log10(np.sum(target**2) / (np.sum((est - target) ** 2) + 1e-20) + 1e-20))


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


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; ``labels`` 1 = anomaly, higher score = more anomalous."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    if len(np.unique(labels)) != 2:
        raise ConfigError("AUC needs both normal (0) and anomalous (1) clips")
    return float(roc_auc_score(labels, scores))


def partial_auc(labels: np.ndarray, scores: np.ndarray, max_fpr: float = 0.1, mcclish: bool = False) -> float:
    """Partial AUC over FPR in [0, ``max_fpr``], divided by ``max_fpr`` (DCASE 2020 Task 2 definition).

    The DCASE task description defines pAUC as this uncorrected, normalised area (a
    random detector scores ``max_fpr / 2``). scikit-learn's ``roc_auc_score(max_fpr=p)``,
    which the baseline script calls, applies the McClish correction instead (random =
    0.5); ``mcclish=True`` returns that value.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    if not 0 < max_fpr <= 1:
        raise ConfigError("max_fpr must be in (0, 1]")
    labels = np.asarray(labels)
    if len(np.unique(labels)) != 2:
        raise ConfigError("pAUC needs both normal (0) and anomalous (1) clips")
    if mcclish:
        return float(roc_auc_score(labels, scores, max_fpr=max_fpr))
    fpr, tpr, _ = roc_curve(labels, scores)
    stop = np.searchsorted(fpr, max_fpr, side="right")
    x = np.concatenate([fpr[:stop], [max_fpr]])
    y = np.concatenate([tpr[:stop], [np.interp(max_fpr, fpr, tpr)]])
    return float(np.trapezoid(y, x) / max_fpr)
