"""Noise for training and testing denoisers: coloured noise and recordings mixed at a target SNR."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from aekit.audio.colours import COLOURS, coloured_noise  # noqa: F401  (part of this module's API)
from aekit.errors import ConfigError, DataError

# generated noise kinds besides the colours (see :func:`generated_noise`); "babble" needs speech clips
GENERATED = ("machine", "machines", "engine", "modulated")
KINDS = (*COLOURS, *GENERATED, "babble")
# the denoiser trains on these; UNSEEN_NOISES are kept out of training to test generalisation
TRAIN_NOISES = ("white", "pink", "brown", "babble", "machine")
UNSEEN_NOISES = ("blue", "engine", "modulated")


def generated_noise(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise ``(n,)`` of a generated kind.

    * ``machine``: aekit's rotating-machine generator (48 Hz shaft, 1.8 kHz resonance, factory
      background; :mod:`aekit.audio.machines`);
    * ``machines``: a different machine every draw: shaft 30-90 Hz, 6-16 harmonics, resonance
      1-3.5 kHz, sometimes a bearing, imbalance or dropout fault (ranges that leave out
      ``engine``'s 23 Hz, 20 harmonics, 700 Hz and rattle, so that stays an unseen noise);
    * ``engine``: another machine (23 Hz, 20 harmonics, 700 Hz resonance) with a rattling part;
    * ``modulated``: pink noise whose level swings by up to 20 dB a few times a second (passing
      traffic, wind), i.e. non-stationary noise a noise floor estimate cannot follow.
    """
    if kind in ("machine", "machines", "engine"):
        from aekit.audio.machines import MAX_SECONDS, MIN_SECONDS, MachineConfig, machine_clip

        seconds = float(np.clip(n / sr, MIN_SECONDS, MAX_SECONDS))
        if kind == "machine":
            cfg, fault = MachineConfig(sr=sr, seconds=seconds), None
        elif kind == "machines":
            cfg = MachineConfig(sr=sr, seconds=seconds, shaft_hz=float(rng.uniform(30, 90)),
                                n_harmonics=int(rng.integers(6, 17)), resonance_hz=float(rng.uniform(1000, 3500)))
            fault = [None, None, "bearing", "imbalance", "dropout"][int(rng.integers(5))]
        else:
            cfg, fault = MachineConfig(sr=sr, seconds=seconds, shaft_hz=23.0, n_harmonics=20, resonance_hz=700.0), "rattle"
        x = fit_length(machine_clip(cfg, rng, fault), n, rng)
    elif kind == "modulated":
        knots = max(2, int(n / sr * 4) + 2)  # about four level changes per second
        level_db = np.interp(np.arange(n), np.linspace(0, n, knots), rng.uniform(-20, 0, knots))
        x = coloured_noise("pink", n, rng) * 10 ** (level_db / 20)
    else:
        raise ConfigError(f"unknown generated noise {kind!r} (use {', '.join(GENERATED)})")
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def babble(clips: Sequence[np.ndarray], n: int, rng: np.random.Generator, talkers: int = 4) -> np.ndarray:
    """Unit-RMS babble ``(n,)``: ``talkers`` random clean clips (other speakers), each levelled and summed."""
    if len(clips) == 0:
        raise DataError("babble needs speech clips of other speakers")
    x = np.zeros(n, dtype=np.float64)
    for i in rng.choice(len(clips), size=min(talkers, len(clips)), replace=False):
        y = fit_length(np.asarray(clips[i], np.float64), n, rng)
        x += y / (np.sqrt(np.mean(y**2)) + 1e-12)
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
        if s not in KINDS and not Path(s).is_file():
            raise ConfigError(f"unknown noise {s!r}: use {', '.join(KINDS)} or the path of a noise recording file")
    return out


class NoiseBank:
    """Noise sources by name (:data:`KINDS`) or paths of noise recordings.

    ``babble_clips`` are the clean clips babble is made from: pass other speakers than the
    ones being denoised (training speakers when training, test speakers when testing).
    """

    def __init__(self, sources: Sequence[str | Path], sr: int, babble_clips: Sequence[np.ndarray] = ()) -> None:
        self.sources = check_noise_sources(sources)
        self.sr = sr
        self.babble_clips = list(babble_clips)
        if "babble" in self.sources and not self.babble_clips:
            raise ConfigError("noise 'babble' needs speech clips to make it from")
        self._recordings: dict[str, np.ndarray] = {}
        for s in self.sources:
            if s not in KINDS:
                from aekit.audio.io import load_audio

                self._recordings[s] = load_audio(s, sr=sr, clipping="ignore")[0]

    def sample(self, n: int, rng: np.random.Generator, source: str | None = None) -> np.ndarray:
        """``n`` samples from ``source`` (random source when None)."""
        s = source if source is not None else self.sources[int(rng.integers(len(self.sources)))]
        if s in COLOURS:
            return coloured_noise(s, n, rng)
        if s in GENERATED:
            return generated_noise(s, n, self.sr, rng)
        if s == "babble":
            return babble(self.babble_clips, n, rng)
        if s not in self._recordings:
            raise ConfigError(f"noise source {s!r} is not in this bank")
        return fit_length(self._recordings[s], n, rng)
