"""Time-frequency features: STFT, magnitude/log-mel spectrograms, normalisation, framing.

Conventions: a spectrogram is ``(freq, frames)`` as in librosa; frame matrices fed to
models are ``(frames, features)`` and are standardised with aekit's one scaler
(:class:`aekit.data.dataset.Scaler`). Magnitudes are log-compressed before a model sees
them because speech and machine spectra span several orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from aekit.errors import ConfigError, DataError

Window = Literal["hann", "hamming"]
EPS = 1e-8


@dataclass
class STFTConfig:
    n_fft: int = 256  # FFT size in samples (256 at 8 kHz = 32 ms)
    hop: int = 64  # hop between frames in samples
    window: Window = "hann"  # analysis/synthesis window

    def __post_init__(self) -> None:
        if self.window not in ("hann", "hamming"):
            raise ConfigError(f"window must be 'hann' or 'hamming', got {self.window!r}")
        # at least 50 % overlap: with less, a Hann window's overlap-add has zeros and the STFT
        # cannot be inverted (torch.istft fails, or returns a wrong signal)
        if self.n_fft < 16 or not 0 < self.hop <= self.n_fft // 2:
            raise ConfigError(f"need n_fft >= 16 and 0 < hop <= n_fft / 2 (got n_fft={self.n_fft}, hop={self.hop})")

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2 + 1


def _window(cfg: STFTConfig) -> torch.Tensor:
    fn = torch.hann_window if cfg.window == "hann" else torch.hamming_window
    return fn(cfg.n_fft, periodic=True, dtype=torch.float64)


def stft(y: np.ndarray, cfg: STFTConfig) -> np.ndarray:
    """Complex STFT ``(n_freq, frames)`` of a mono signal ``(n,)`` (centred frames)."""
    if y.ndim != 1:
        raise DataError(f"stft expects a mono signal (n,), got shape {y.shape}")
    if len(y) == 0:
        raise DataError("stft of an empty signal")
    t = torch.from_numpy(np.asarray(y, dtype=np.float64))
    pad = "reflect" if len(y) > cfg.n_fft // 2 else "constant"
    S = torch.stft(t, cfg.n_fft, cfg.hop, window=_window(cfg), center=True, pad_mode=pad, return_complex=True)
    return S.numpy().astype(np.complex64)


def istft(S: np.ndarray, cfg: STFTConfig, length: int) -> np.ndarray:
    """Inverse of :func:`stft` (weighted overlap-add); returns ``(length,)`` float32."""
    t = torch.from_numpy(np.asarray(S, dtype=np.complex128))
    y = torch.istft(t, cfg.n_fft, cfg.hop, window=_window(cfg), center=True, length=length)
    return y.numpy().astype(np.float32)


def griffin_lim(mag: np.ndarray, cfg: STFTConfig, length: int, n_iter: int = 48) -> np.ndarray:
    """Waveform from a magnitude spectrogram alone (phase estimated by Griffin-Lim)."""
    import librosa

    y = librosa.griffinlim(
        mag.astype(np.float32), n_iter=n_iter, hop_length=cfg.hop, n_fft=cfg.n_fft,
        window=cfg.window, center=True, length=length, random_state=0,
    )
    return y.astype(np.float32)


def with_phase(mag: np.ndarray, reference: np.ndarray, cfg: STFTConfig, length: int) -> np.ndarray:
    """Waveform from a new magnitude and the phase of ``reference`` (e.g. the noisy STFT)."""
    return istft(mag * np.exp(1j * np.angle(reference)), cfg, length)


def log_magnitude(S: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """``log(|S| + floor)``; the floor keeps silence from dominating the error."""
    return np.log(np.abs(S) + floor).astype(np.float32)


def from_log_magnitude(L: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """Inverse of :func:`log_magnitude` (clamped at zero)."""
    return np.maximum(np.exp(L) - floor, 0.0).astype(np.float32)


@dataclass
class MelConfig:
    sr: int = 16000  # sample rate the clips are resampled to
    n_fft: int = 1024  # FFT size
    hop: int = 512  # hop length
    n_mels: int = 128  # mel bands
    fmin: float = 0.0  # lowest mel frequency (Hz)
    fmax: float | None = None  # highest mel frequency (Hz); None = sr / 2
    power: float = 2.0  # 2 = power spectrogram, 1 = magnitude
    window: Window = "hann"

    def __post_init__(self) -> None:
        from aekit.audio.io import MAX_RATE, MIN_RATE

        if not MIN_RATE <= self.sr <= MAX_RATE:
            raise ConfigError(f"sr must be in {MIN_RATE}..{MAX_RATE} Hz, got {self.sr}")
        if self.window not in ("hann", "hamming"):
            raise ConfigError(f"window must be 'hann' or 'hamming', got {self.window!r}")
        if self.n_fft < 16 or self.hop < 1:
            raise ConfigError(f"need n_fft >= 16 and hop >= 1 (got n_fft={self.n_fft}, hop={self.hop})")
        if self.n_mels < 1:
            raise ConfigError(f"n_mels must be >= 1, got {self.n_mels}")
        if not self.power > 0:
            raise ConfigError(f"power must be > 0, got {self.power}")
        top = self.sr / 2 if self.fmax is None else self.fmax
        if not 0 <= self.fmin < top <= self.sr / 2:
            raise ConfigError(f"need 0 <= fmin < fmax <= sr / 2 (got fmin={self.fmin}, fmax={self.fmax}, sr={self.sr})")


def log_mel(y: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """Log-mel spectrogram in dB, ``(n_mels, frames)``; DCASE baseline: ``20/power * log10(mel + eps)``."""
    import librosa

    if len(y) == 0:
        raise DataError("log-mel of an empty signal")
    mel = librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop,
        n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, power=cfg.power, window=cfg.window,
    )
    return (20.0 / cfg.power * np.log10(mel + EPS)).astype(np.float32)


def context_frames(F: np.ndarray, n_frames: int = 5, pad: bool = False) -> np.ndarray:
    """Stack ``n_frames`` consecutive frames: ``(T, D) -> (T', n_frames * D)``.

    Without ``pad``, ``T' = T - n_frames + 1`` (the DCASE baseline's vectors); with
    ``pad`` the edges are repeated so every input frame is the centre of one vector.
    """
    if n_frames < 1:
        raise ConfigError("n_frames must be >= 1")
    if pad:
        h = n_frames // 2
        F = np.pad(F, ((h, n_frames - 1 - h), (0, 0)), mode="edge")
    if len(F) < n_frames:
        raise DataError(f"clip too short: {len(F)} frames, need at least {n_frames}")
    win = np.lib.stride_tricks.sliding_window_view(F, n_frames, axis=0)  # (T', D, n)
    return np.ascontiguousarray(win.transpose(0, 2, 1).reshape(len(win), -1))


def patches(spec: np.ndarray, width: int, hop: int | None = None) -> np.ndarray:
    """Cut a spectrogram ``(freq, T)`` into ``(N, 1, freq, width)`` patches, ``hop`` frames apart."""
    hop = hop or width
    if spec.shape[1] < width:
        raise DataError(f"clip too short: {spec.shape[1]} frames, need at least {width} for one patch")
    win = np.lib.stride_tricks.sliding_window_view(spec, width, axis=1)[:, ::hop]  # (freq, N, width)
    return np.ascontiguousarray(win.transpose(1, 0, 2)[:, None])

