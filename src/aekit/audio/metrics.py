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


def estimated_snr(y: np.ndarray, sr: int, quantile: float = 0.1) -> float:
    """SNR in dB estimated from the signal alone: the noise power is the mean power of its
    quietest ``quantile`` of 32 ms frames (speech pauses), the speech power the rest.

    A rough figure for when no clean reference exists; it reads too high for noise that
    fluctuates (its quiet frames are quieter than its average).
    """
    from aekit.audio.baselines import noise_psd
    from aekit.audio.features import STFTConfig, stft

    n_fft = 1 << max(4, int(np.log2(0.032 * sr)))
    P = np.abs(stft(np.asarray(y, np.float32), STFTConfig(n_fft=n_fft, hop=n_fft // 4))) ** 2  # (F, T)
    noise = float(noise_psd(P, quantile).sum())
    total = float(P.sum(axis=0).mean())
    return float(10 * np.log10(max(total - noise, 1e-20) / max(noise, 1e-20)))


def check_reference(reference: np.ndarray, noisy: np.ndarray, sr: int) -> np.ndarray:
    """The clean reference as float32; :class:`DataError` unless it is as long as the noisy clip."""
    ref = np.asarray(reference, np.float32)
    if ref.shape != np.shape(noisy):
        raise DataError(f"the clean reference has {len(ref)} samples at {sr} Hz, the noisy input {len(noisy)}: "
                        "give the clean recording of the same clip")
    return ref


def denoising_quality(noisy: np.ndarray, denoised: np.ndarray, sr: int,
                      reference: np.ndarray | None = None) -> dict[str, float | None]:
    """Numbers that say how much denoising helped, for signals ``(n,)`` at ``sr``.

    Always the estimated SNR (:func:`estimated_snr`) before and after; with a clean
    ``reference`` of the same length also PESQ and STOI of both signals and the SI-SDR gain
    in dB (PESQ needs 8 or 16 kHz: other rates are resampled to 16 kHz for it).
    """
    out: dict[str, float | None] = {"est_snr_in": estimated_snr(noisy, sr), "est_snr_out": estimated_snr(denoised, sr)}
    if reference is None:
        return out
    ref = check_reference(reference, noisy, sr)
    rate, sigs = sr, {"ref": ref, "in": np.asarray(noisy, np.float32), "out": np.asarray(denoised, np.float32)}
    if sr not in (8000, 16000):
        from aekit.audio.io import resample

        rate, sigs = 16000, {k: resample(v, sr, 16000) for k, v in sigs.items()}
    for tag in ("in", "out"):
        out[f"pesq_{tag}"] = pesq_score(sigs["ref"], sigs[tag], rate)
        out[f"stoi_{tag}"] = stoi_score(sigs["ref"], sigs[tag], rate)
    out["si_sdr_gain"] = si_sdr(ref, denoised) - si_sdr(ref, noisy)
    return out
