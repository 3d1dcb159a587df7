"""Reading and writing audio files: WAV/FLAC/OGG via soundfile, mono mixing, resampling.

Every loader returns float32 samples in [-1, 1] and rejects files that would silently
poison training (not audio, empty, absurd sample rates, heavily clipped recordings)
with a one-line :class:`~aekit.errors.DataError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from aekit.errors import DataError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga")
MIN_RATE, MAX_RATE = 1000, 384_000  # outside this a header is corrupt or not an audio rate
CLIP_LEVEL = 0.999  # |x| at or above this counts as a clipped sample
ClipPolicy = Literal["error", "ignore"]


def _read(path: Path) -> tuple[np.ndarray, int]:
    """``(frames, channels)`` float32 and the rate; soundfile first, librosa/audioread as fallback."""
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return data, int(sr)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:  # formats libsndfile lacks (e.g. MP3 through audioread)
        import warnings

        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y, sr = librosa.load(str(path), sr=None, mono=False)
    except Exception:  # noqa: BLE001 - any decoder failure means "not audio"
        raise DataError(f"{path}: not a readable audio file (WAV, FLAC or OGG expected)") from None
    y = np.atleast_2d(y).T.astype(np.float32)
    return y, int(sr)


def check_clipping(y: np.ndarray, max_fraction: float = 0.001, name: str = "audio") -> None:
    """Raise :class:`DataError` when more than ``max_fraction`` of the samples sit at full scale."""
    n = y.size
    clipped = int(np.count_nonzero(np.abs(y) >= CLIP_LEVEL))
    if n and clipped > max(max_fraction * n, 8):
        raise DataError(
            f"{name}: {clipped / n:.1%} of samples are clipped at full scale (distorted recording; "
            "pass clipping='ignore' / --allow-clipping to use it anyway)"
        )


def load_audio(
    path: str | Path,
    sr: int | None = None,
    mono: bool = True,
    clipping: ClipPolicy = "error",
) -> tuple[np.ndarray, int]:
    """Load an audio file as float32.

    Returns ``(y, rate)``: ``y`` is ``(n,)`` when ``mono`` (channels averaged) or
    ``(channels, n)`` otherwise; with ``sr`` the signal is resampled to that rate.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (zero length)")
    data, rate = _read(path)  # (frames, channels)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise DataError(f"{path}: unsupported sample rate {rate} Hz (expected {MIN_RATE}..{MAX_RATE})")
    if data.shape[0] == 0:
        raise DataError(f"{path}: no samples (zero-length audio)")
    if not np.isfinite(data).all():
        raise DataError(f"{path}: audio holds NaN or inf samples")
    if clipping == "error":
        check_clipping(data, name=str(path))
    y = data.mean(axis=1) if mono else data.T
    if sr is not None and sr != rate:
        y = resample(y, rate, sr)
        rate = sr
    if data.shape[0] < 2 or y.shape[-1] < 2:  # e.g. one sample, which resampling turns into none
        raise DataError(f"{path}: only {data.shape[0]} sample{'s' if data.shape[0] != 1 else ''} of audio, "
                        f"too short to use")
    return np.ascontiguousarray(y, dtype=np.float32), rate


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality) along the last axis."""
    if not MIN_RATE <= target_sr <= MAX_RATE:
        raise DataError(f"unsupported target sample rate {target_sr} Hz (expected {MIN_RATE}..{MAX_RATE})")
    if orig_sr == target_sr:
        return y.astype(np.float32)
    import soxr

    if y.ndim == 1:
        return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32)
    # soxr wants (frames, channels)
    return soxr.resample(y.T, orig_sr, target_sr, quality="HQ").T.astype(np.float32).copy()


def save_audio(path: str | Path, y: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write ``y`` (``(n,)`` or ``(channels, n)``) atomically; the format follows the suffix."""
    import soundfile as sf

    from aekit.io import atomic_write_with

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG"}.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unsupported output format (use {', '.join(AUDIO_SUFFIXES)})")
    data = np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0)
    data = data.T if data.ndim == 2 else data
    sub = "VORBIS" if fmt == "OGG" else subtype
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_with(path, lambda tmp: sf.write(tmp, data, sr, format=fmt, subtype=sub))


def list_audio(folder: str | Path, pattern: str = "*") -> list[Path]:
    """Audio files directly in ``folder`` matching ``pattern``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"audio folder not found: {folder}")
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file or folder (links and ``..`` resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return Path(a).resolve() == Path(b).resolve()

