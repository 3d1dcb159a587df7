"""A stand-in for machine-sound corpora (DCASE 2020 Task 2 / MIMII style).

No machine-sound corpus can be installed here, so this module synthesises clips of a
rotating machine: a shaft fundamental whose speed wanders slightly (load changes and
jitter), a series of harmonics with fixed per-machine amplitudes, a structural
resonance excited by broadband noise, and factory background (pink noise and other
machines' hum) mixed in at a chosen SNR. Faults change the mechanism, not just the level:

* ``bearing``: periodic impacts at a non-integer bearing defect frequency (about 3.6x
  the shaft rate) ringing a high-frequency resonance;
* ``imbalance``: a stronger once-per-revolution component plus a slow speed drift;
* ``rattle``: irregular (Poisson) mid-frequency knocks from a loose part;
* ``dropout``: the machine signal briefly cuts out (e.g. a slipping belt or sensor fault).

:func:`write_dataset` lays clips out as DCASE does: ``train/normal_id_XX_*.wav`` and
``test/{normal,anomaly}_id_XX_*.wav``; anomaly names end with the fault kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aekit.audio.colours import coloured_noise
from aekit.errors import ConfigError

FAULT_KINDS = ("bearing", "imbalance", "rattle", "dropout")
MIN_SECONDS, MAX_SECONDS = 0.1, 60.0  # shorter clips hold no full fault pattern; longer ones take GBs


@dataclass
class MachineConfig:
    sr: int = 16000  # sample rate (Hz)
    seconds: float = 2.0  # clip length
    shaft_hz: float = 48.0  # nominal rotation frequency of this machine
    n_harmonics: int = 12  # shaft harmonics present in the hum
    speed_spread: float = 0.02  # normal clip-to-clip speed variation (fraction)
    jitter: float = 0.003  # within-clip random speed wander (fraction)
    resonance_hz: float = 1800.0  # structural resonance excited by broadband noise
    background_snr_db: float = 6.0  # machine-to-background power ratio
    severity: float = 1.0  # scales every fault's strength

    def __post_init__(self) -> None:
        from aekit.audio.io import MAX_RATE, MIN_RATE

        if not MIN_RATE <= self.sr <= MAX_RATE:
            raise ConfigError(f"sr must be in {MIN_RATE}..{MAX_RATE} Hz, got {self.sr}")
        if not MIN_SECONDS <= self.seconds <= MAX_SECONDS:  # also rejects NaN
            raise ConfigError(f"seconds must be in {MIN_SECONDS:g}..{MAX_SECONDS:g}, got {self.seconds:g}")
        if not (math.isfinite(self.severity) and self.severity >= 0):
            raise ConfigError(f"severity must be >= 0 (0 = no fault, 1 = default), got {self.severity:g}")
        if not 0 < self.shaft_hz < self.sr / 2 or not 0 < self.resonance_hz:
            raise ConfigError(f"need 0 < shaft_hz < sr / 2 and resonance_hz > 0 "
                              f"(got shaft_hz={self.shaft_hz:g}, resonance_hz={self.resonance_hz:g}, sr={self.sr})")
        if self.n_harmonics < 1 or not (self.speed_spread >= 0 and self.jitter >= 0):
            raise ConfigError(f"need n_harmonics >= 1 and speed_spread, jitter >= 0 (got {self.n_harmonics}, "
                              f"{self.speed_spread:g}, {self.jitter:g})")
        if not math.isfinite(self.background_snr_db):
            raise ConfigError(f"background_snr_db must be a finite number, got {self.background_snr_db}")


def _smooth_walk(n: int, rng: np.random.Generator, knots: int = 20) -> np.ndarray:
    """Slow random curve in about [-1, 1], interpolated from ``knots`` random values."""
    pts = rng.standard_normal(knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), pts)


def _resonance(excitation: np.ndarray, f_hz: float, sr: int, q: float = 8.0) -> np.ndarray:
    """Band-pass ``excitation`` around ``f_hz`` (second-order resonator)."""
    from scipy.signal import iirpeak, lfilter

    b, a = iirpeak(min(f_hz, 0.45 * sr), q, fs=sr)
    return lfilter(b, a, excitation)


def _impacts(times: np.ndarray, n: int, sr: int, f_hz: float, decay_s: float, rng: np.random.Generator) -> np.ndarray:
    """Decaying sinusoidal rings starting at ``times`` (seconds), via convolution with one ring."""
    from scipy.signal import fftconvolve

    pulses = np.zeros(n)
    idx = (np.asarray(times) * sr).astype(int)
    idx = idx[(idx >= 0) & (idx < n)]
    pulses[idx] = 0.5 + rng.random(len(idx))
    t = np.arange(int(6 * decay_s * sr)) / sr
    ring = np.sin(2 * np.pi * f_hz * t) * np.exp(-t / decay_s)
    return fftconvolve(pulses, ring)[:n]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)) + 1e-12)


def machine_clip(cfg: MachineConfig, rng: np.random.Generator, fault: str | None = None) -> np.ndarray:
    """One clip ``(sr * seconds,)`` float32, peak below full scale; ``fault`` in :data:`FAULT_KINDS` or None."""
    if fault is not None and fault not in FAULT_KINDS:
        raise ConfigError(f"unknown fault kind {fault!r} (use {', '.join(FAULT_KINDS)})")
    sr, n = cfg.sr, int(cfg.sr * cfg.seconds)
    s = cfg.severity
    t = np.arange(n) / sr
    speed = cfg.shaft_hz * (1 + cfg.speed_spread * rng.uniform(-1, 1)) * (1 + cfg.jitter * _smooth_walk(n, rng))
    if fault == "imbalance":  # slow drift of the speed over the clip
        speed = speed * (1 + 0.04 * s * np.sin(2 * np.pi * t / cfg.seconds * rng.uniform(0.5, 1.5)))
    phase = 2 * np.pi * np.cumsum(speed) / sr  # (n,)
    k = np.arange(1, cfg.n_harmonics + 1)[:, None]  # (K, 1)
    # fixed harmonic profile per machine (seeded by shaft frequency), small per-clip variation
    prof = np.random.default_rng(int(cfg.shaft_hz * 1000)).uniform(0.3, 1.0, cfg.n_harmonics) / np.arange(1, cfg.n_harmonics + 1) ** 0.7
    amps = prof * (1 + 0.1 * rng.standard_normal(cfg.n_harmonics))
    if fault == "imbalance":
        amps = amps.copy()
        amps[0] *= 1 + 2.0 * s  # once-per-revolution force grows
    hum = (amps[:, None] * np.sin(k * phase + rng.uniform(0, 2 * np.pi, (cfg.n_harmonics, 1)))).sum(0)
    structure = _resonance(rng.standard_normal(n), cfg.resonance_hz, sr)
    machine = hum / _rms(hum) + 0.5 * structure / _rms(structure)
    if fault == "bearing":
        period = 1 / (3.57 * cfg.shaft_hz)
        times = np.arange(rng.uniform(0, period), cfg.seconds, period) + rng.normal(0, 0.0004, 1)
        clicks = _impacts(times, n, sr, f_hz=min(4200.0, 0.4 * sr), decay_s=0.0015, rng=rng)
        machine = machine + 0.45 * s * clicks / _rms(clicks)
    elif fault == "rattle":
        times = np.cumsum(rng.exponential(1 / 9.0, int(12 * cfg.seconds)))
        knocks = _impacts(times, n, sr, f_hz=rng.uniform(600, 1100), decay_s=0.008, rng=rng)
        machine = machine + 0.6 * s * knocks / _rms(knocks)
    elif fault == "dropout":
        gate = np.ones(n)
        for _ in range(int(rng.integers(1, 3))):
            width = int(rng.uniform(0.08, 0.2) * sr * min(s, 2.0))
            start = int(rng.integers(0, max(n - width, 1)))
            gate[start : start + width] = 0.1
        machine = machine * np.convolve(gate, np.ones(64) / 64, mode="same")  # no hard clicks at the edges
    background = coloured_noise("pink", n, rng) + 0.5 * np.sin(2 * np.pi * rng.uniform(90, 130) * t)
    mix = machine / _rms(machine) + background / _rms(background) * 10 ** (-cfg.background_snr_db / 20)
    return (0.3 * mix / np.max(np.abs(mix))).astype(np.float32)


def write_dataset(
    folder: str | Path,
    n_train: int = 100,
    n_test_normal: int = 40,
    n_test_per_fault: int = 20,
    faults: tuple[str, ...] = FAULT_KINDS,
    cfg: MachineConfig | None = None,
    machine_id: int = 0,
    seed: int = 0,
) -> Path:
    """Write a DCASE-layout folder of generated clips and return it.

    ``train/normal_id_00_00000000.wav`` ... and ``test/normal_id_00_*.wav`` plus
    ``test/anomaly_id_00_<n>_<fault>.wav``. ``folder`` must be new or empty; the clips
    are written to a staging folder that takes its place only when every clip is done.
    """
    from aekit.audio.io import save_audio
    from aekit.io import staged_folder

    cfg = cfg or MachineConfig()
    check_dataset_args(folder, n_train, n_test_normal, n_test_per_fault, faults, machine_id, seed)
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    tag = f"id_{machine_id:02d}"
    with staged_folder(folder) as tmp:
        for i in range(n_train):
            save_audio(tmp / "train" / f"normal_{tag}_{i:08d}.wav", machine_clip(cfg, rng), cfg.sr)
        for i in range(n_test_normal):
            save_audio(tmp / "test" / f"normal_{tag}_{i:08d}.wav", machine_clip(cfg, rng), cfg.sr)
        j = 0
        for fault in faults:
            for _ in range(n_test_per_fault):
                save_audio(tmp / "test" / f"anomaly_{tag}_{j:08d}_{fault}.wav", machine_clip(cfg, rng, fault), cfg.sr)
                j += 1
    return folder


def check_dataset_args(
    folder: str | Path,
    n_train: int,
    n_test_normal: int,
    n_test_per_fault: int,
    faults: tuple[str, ...] | list[str],
    machine_id: int = 0,
    seed: int = 0,
) -> None:
    """Raise :class:`ConfigError` for arguments :func:`write_dataset` would turn into a useless set.

    Detection needs normal training clips and a test split with both normal and anomalous
    clips, so every count must be >= 1 and at least one known fault kind is required.
    """
    for name, value in (("n_train", n_train), ("n_test_normal", n_test_normal), ("n_test_per_fault", n_test_per_fault)):
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")
    if not faults:
        raise ConfigError(f"faults must name at least one fault kind ({', '.join(FAULT_KINDS)})")
    unknown = [f for f in faults if f not in FAULT_KINDS]
    if unknown:
        raise ConfigError(f"unknown fault kind {unknown[0]!r} (use {', '.join(FAULT_KINDS)})")
    twice = sorted({f for f in faults if list(faults).count(f) > 1})
    if twice:
        raise ConfigError(f"fault kind {twice[0]!r} is listed twice")
    for name, value in (("machine_id", machine_id), ("seed", seed)):
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise ConfigError(f"{folder} already exists and is not empty: pick a new folder or remove it")
