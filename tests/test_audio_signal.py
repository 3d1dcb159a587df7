"""Audio signal layer, complementing tests/test_audio.py: OGG/WAV I/O, clipping policy, noise
recordings, PESQ/STOI, the McClish relation of pAUC, fault signatures of the machine
generator, the classical denoising baselines and the before/after figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aekit.apps import metrics as ranking
from aekit.audio import baselines, features, io, machines, metrics, noise
from aekit.errors import ConfigError, DataError

SR = 8000


def speech_like(n: int = SR, seed: int = 0) -> np.ndarray:
    """Harmonic tone with a syllable-rate envelope: a deterministic stand-in for a voiced clip."""
    t = np.arange(n) / SR
    f0 = 140 + 20 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 15))
    env = 0.5 * (1 + np.sin(2 * np.pi * 4 * t + seed))
    return (0.1 * voiced * env).astype(np.float32)


# -- I/O -----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".wav", ".ogg"])
def test_save_load_round_trip(tmp_path: Path, suffix: str) -> None:
    y = speech_like()
    path = io.save_audio(tmp_path / f"a{suffix}", y, SR)
    back, rate = io.load_audio(path)
    assert rate == SR and back.dtype == np.float32 and back.shape == y.shape
    tol = 0.05 if suffix == ".ogg" else 1e-3  # Vorbis is lossy
    assert np.sqrt(np.mean((back - y) ** 2)) < tol


def test_clipped_recording_is_rejected_unless_allowed(tmp_path: Path) -> None:
    loud = np.clip(speech_like() * 30, -1, 1)
    path = tmp_path / "clipped.wav"
    sf.write(path, loud, SR, subtype="FLOAT")
    with pytest.raises(DataError, match="clipped"):
        io.load_audio(path)
    y, _ = io.load_audio(path, clipping="ignore")
    assert y.shape == loud.shape
    io.check_clipping(speech_like())  # a normal level passes


# -- features ------------------------------------------------------------------------
def test_log_magnitude_inverse() -> None:
    S = features.stft(speech_like(), features.STFTConfig())
    np.testing.assert_allclose(features.from_log_magnitude(features.log_magnitude(S)), np.abs(S), rtol=1e-4, atol=1e-6)


# -- noise ---------------------------------------------------------------------------
def test_noise_bank_with_a_recording(tmp_path: Path) -> None:
    rec = io.save_audio(tmp_path / "hum.wav", 0.2 * np.sin(np.arange(3000) / 5).astype(np.float32), SR)
    bank = noise.NoiseBank(["white", str(rec)], SR)
    rng = np.random.default_rng(0)
    excerpt = bank.sample(10_000, rng, source=str(rec))  # longer than the recording: tiled
    assert excerpt.shape == (10_000,) and np.abs(excerpt).max() > 0.1
    assert bank.sample(500, rng).shape == (500,)
    with pytest.raises(ConfigError):
        noise.coloured_noise("purple", 100, rng)
    with pytest.raises(ConfigError):
        noise.NoiseBank([], SR)


# -- metrics -------------------------------------------------------------------------
def test_snr_and_si_sdr() -> None:
    rng = np.random.default_rng(0)
    ref = speech_like()
    est = ref + 0.1 * np.std(ref) * rng.standard_normal(len(ref))
    assert metrics.snr(ref, est) == pytest.approx(20, abs=0.5)
    assert metrics.si_sdr(ref, est) == pytest.approx(20, abs=0.5)
    # SI-SDR ignores gain, SNR does not
    assert metrics.si_sdr(ref, 3 * est) == pytest.approx(metrics.si_sdr(ref, est), abs=1e-6)
    assert metrics.snr(ref, 3 * est) < 0
    with pytest.raises(DataError):
        metrics.snr(ref, ref[:-1])


def test_pesq_and_stoi_rank_cleaner_signals_higher() -> None:
    # pesq and pystoi come with the 'audio' extra that scripts/setup.sh installs.
    rng = np.random.default_rng(0)
    ref = np.tile(speech_like(), 3)
    light = noise.mix_at_snr(ref, noise.coloured_noise("white", len(ref), rng), 20)
    heavy = noise.mix_at_snr(ref, noise.coloured_noise("white", len(ref), rng), 0)
    assert metrics.pesq_score(ref, light, SR) > metrics.pesq_score(ref, heavy, SR)
    assert metrics.stoi_score(ref, light, SR) > metrics.stoi_score(ref, heavy, SR)


def test_partial_auc_is_the_dcase_definition() -> None:
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(300), np.ones(100)]
    perfect = labels + 0.01 * rng.random(400)
    assert ranking.roc_auc(labels, perfect) == 1.0 and ranking.partial_auc(labels, perfect) == pytest.approx(1.0)
    scores = labels * 0.8 + rng.standard_normal(400)
    p = 0.1
    raw = ranking.partial_auc(labels, scores, p)
    # sklearn's value is the McClish standardisation of the same area
    area = raw * p
    mcclish = 0.5 * (1 + (area - p * p / 2) / (p - p * p / 2))
    assert ranking.partial_auc(labels, scores, p, mcclish=True) == pytest.approx(mcclish, abs=1e-9)
    random_scores = rng.random(100_000)
    random_labels = rng.random(100_000) < 0.5
    assert ranking.partial_auc(random_labels, random_scores, p) == pytest.approx(p / 2, abs=0.01)
    assert np.isnan(ranking.roc_auc(np.zeros(5), np.arange(5)))  # one class: no ranking to measure
    with pytest.raises(ConfigError):
        ranking.partial_auc(labels, scores, 1.5)


# -- machine-sound generator ---------------------------------------------------------
def _band_energy(y: np.ndarray, sr: int, lo: float, hi: float) -> float:
    P = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    return float(P[(f >= lo) & (f < hi)].sum() / P.sum())


def test_machine_clips_and_faults() -> None:
    cfg = machines.MachineConfig(seconds=1.0)
    rng = np.random.default_rng(0)
    normal = [machines.machine_clip(cfg, rng) for _ in range(4)]
    assert all(c.shape == (cfg.sr,) and c.dtype == np.float32 and np.abs(c).max() < 1 for c in normal)
    assert not np.allclose(normal[0], normal[1])  # clips vary
    bearing = machines.machine_clip(cfg, rng, "bearing")
    # bearing impacts ring a high resonance: more energy above 3.5 kHz than any normal clip
    assert _band_energy(bearing, cfg.sr, 3500, 5000) > 2 * max(_band_energy(c, cfg.sr, 3500, 5000) for c in normal)
    dropout = machines.machine_clip(cfg, rng, "dropout")
    frame_rms = np.sqrt((dropout[: cfg.sr // 400 * 400].reshape(-1, 400) ** 2).mean(1))
    assert frame_rms.min() < 0.5 * np.median(frame_rms)  # the machine cuts out somewhere
    with pytest.raises(ConfigError, match="unknown fault"):
        machines.machine_clip(cfg, rng, "meltdown")


# -- classical baselines -------------------------------------------------------------
def test_baselines_improve_si_sdr_on_white_noise() -> None:
    rng = np.random.default_rng(0)
    clean = np.tile(speech_like(), 2)
    noisy = noise.mix_at_snr(clean, noise.coloured_noise("white", len(clean), rng), 5.0)
    before = metrics.si_sdr(clean, noisy)
    for out in (baselines.spectral_subtraction(noisy), baselines.wiener_filter(noisy)):
        assert out.shape == clean.shape
        assert metrics.si_sdr(clean, out) > before + 2
    assert baselines.wiener_filter(noisy, method="scipy").shape == clean.shape
    with pytest.raises(ConfigError):
        baselines.wiener_filter(noisy, method="kalman")  # type: ignore[arg-type]



# -- figures -------------------------------------------------------------------------
def test_plot_audio_writes_a_png(tmp_path: Path) -> None:
    from aekit.audio.figures import plot_audio

    y = speech_like()
    path = plot_audio(tmp_path / "fig" / "before_after.png", {"clean": y, "noisy": y + 0.01}, SR)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
