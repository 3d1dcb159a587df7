"""Audio I/O, features, noise, metrics and the machine-sound generator (no training here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aekit.audio.features import (
    MelConfig, STFTConfig, context_frames, griffin_lim, istft, log_mel, patches, stft,
)
from aekit.audio.io import list_audio, load_audio, resample, save_audio
from aekit.audio.machines import FAULT_KINDS, MachineConfig, machine_clip, write_dataset
from aekit.apps.metrics import partial_auc, roc_auc
from aekit.audio.metrics import si_sdr, snr
from aekit.audio.noise import NoiseBank, coloured_noise, mix_at_snr
from aekit.errors import ConfigError, DataError


def _tone(sr: int, seconds: float = 0.5, f: float = 440.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    rng = np.random.default_rng(0)
    return (0.3 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("window", ["hann", "hamming"])
@pytest.mark.parametrize("n_fft,hop", [(256, 64), (512, 128), (1024, 256)])
def test_stft_istft_true_phase_round_trip(window: str, n_fft: int, hop: int) -> None:
    y = _tone(8000, 0.73)  # length not a multiple of the hop
    cfg = STFTConfig(n_fft=n_fft, hop=hop, window=window)  # type: ignore[arg-type]
    S = stft(y, cfg)
    assert S.shape == (n_fft // 2 + 1, len(y) // hop + 1)
    assert snr(y, istft(S, cfg, len(y))) > 60


def test_griffin_lim_recovers_magnitude() -> None:
    y = _tone(8000, 0.5)
    cfg = STFTConfig(256, 64)
    mag = np.abs(stft(y, cfg))
    y_gl = griffin_lim(mag, cfg, len(y))
    assert y_gl.shape == y.shape
    # phase is lost, but the magnitude of the re-synthesis matches (spectral convergence)
    err = np.linalg.norm(np.abs(stft(y_gl, cfg)) - mag) / np.linalg.norm(mag)
    assert err < 0.3


def test_stft_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="window"):
        STFTConfig(window="kaiser")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="hop"):
        STFTConfig(n_fft=256, hop=512)
    with pytest.raises(ConfigError, match="hop"):
        STFTConfig(n_fft=256, hop=256)  # no overlap: a Hann-windowed STFT is not invertible


def test_resample_and_mono_mixing(tmp_path: Path) -> None:
    sr = 44100
    left, right = _tone(sr, 0.5, 440), _tone(sr, 0.5, 880)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], 1), sr, subtype="FLOAT")
    y, rate = load_audio(path)
    assert rate == sr and y.shape == (len(left),) and y.dtype == np.float32
    np.testing.assert_allclose(y, (left + right) / 2, atol=1e-6)
    both, _ = load_audio(path, mono=False)
    assert both.shape == (2, len(left))
    y16, rate16 = load_audio(path, sr=16000)
    assert rate16 == 16000 and abs(len(y16) - len(left) * 16000 / sr) <= 1
    both8 = resample(both, sr, 8000)
    assert both8.shape[0] == 2 and abs(both8.shape[1] - len(left) * 8000 / sr) <= 1
    # band-limited: a 440 Hz tone survives 44.1 -> 8 -> 44.1 kHz almost unchanged
    back = resample(resample(left, sr, 8000), 8000, sr)
    assert snr(left[2000:-2000], back[2000 : len(left) - 2000]) > 5


def test_save_and_load_flac_round_trip(tmp_path: Path) -> None:
    y = _tone(16000)
    p = save_audio(tmp_path / "a.flac", y, 16000)
    z, rate = load_audio(p)
    assert rate == 16000 and snr(y, z) > 40
    assert list_audio(tmp_path) == [p]


def test_bad_audio_files_give_clear_errors(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(DataError, match="not a readable audio file"):
        load_audio(text)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="zero length"):
        load_audio(empty)
    no_samples = tmp_path / "nosamples.wav"
    sf.write(no_samples, np.zeros(0, np.float32), 8000)
    with pytest.raises(DataError, match="zero-length|no samples"):
        load_audio(no_samples)
    slow = tmp_path / "slow.wav"
    sf.write(slow, _tone(8000), 400)
    with pytest.raises(DataError, match="unsupported sample rate 400"):
        load_audio(slow)
    clipped = tmp_path / "clipped.wav"
    sf.write(clipped, np.clip(5 * _tone(8000), -1, 1), 8000)
    with pytest.raises(DataError, match="clipped"):
        load_audio(clipped)
    assert load_audio(clipped, clipping="ignore")[0].shape == (4000,)
    with pytest.raises(DataError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(DataError, match="unsupported output format"):
        save_audio(tmp_path / "x.mp3", _tone(8000), 8000)


def test_log_mel_context_frames_and_patches() -> None:
    y = _tone(16000, 2.0)
    spec = log_mel(y, MelConfig())
    assert spec.shape == (128, 2 * 16000 // 512 + 1)
    X = context_frames(spec.T, 5)
    assert X.shape == (spec.shape[1] - 4, 640)
    np.testing.assert_array_equal(X[3, 128:256], spec[:, 4])  # vector t holds frames t..t+4
    Xp = context_frames(spec.T, 5, pad=True)
    assert Xp.shape == (spec.shape[1], 640)
    np.testing.assert_array_equal(Xp[10, 256:384], spec[:, 10])  # padded: frame t is the centre
    P = patches(spec, 32, 8)
    assert P.shape == ((spec.shape[1] - 32) // 8 + 1, 1, 128, 32)
    np.testing.assert_array_equal(P[1, 0], spec[:, 8:40])
    with pytest.raises(DataError, match="too short"):
        patches(spec[:, :10], 32)


def test_feature_scaler_round_trip_with_a_floor_on_the_spread() -> None:
    from aekit.data.dataset import Scaler

    X = np.random.default_rng(0).normal(3, 2, (500, 4)).astype(np.float32)
    X[:, 3] = 1.0 + 1e-6 * np.arange(500)  # a nearly silent bin
    norm = Scaler("standard", per_feature=True, min_scale=1e-3).fit(X)
    Z = norm.transform(X)
    np.testing.assert_allclose(Z[:, :3].mean(0), 0, atol=1e-4)
    assert np.abs(Z[:, 3]).max() < 1.0  # its spread is floored at 1e-3, not blown up to unit variance
    again = Scaler.from_dict(norm.to_dict())
    np.testing.assert_allclose(again.inverse_transform(Z), X, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0])
def test_mix_at_snr_hits_the_target(snr_db: float) -> None:
    rng = np.random.default_rng(0)
    clean = _tone(8000)
    noisy = mix_at_snr(clean, coloured_noise("pink", len(clean), rng), snr_db)
    assert snr(clean, noisy) == pytest.approx(snr_db, abs=1e-3)


def test_noise_colours_have_the_expected_slope(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 2**16
    f = np.fft.rfftfreq(n)
    band_lo, band_hi = (f > 0.01) & (f < 0.02), (f > 0.2) & (f < 0.4)
    ratios = {}
    for kind in ("white", "pink", "brown"):
        p = np.abs(np.fft.rfft(coloured_noise(kind, n, rng))) ** 2
        ratios[kind] = 10 * np.log10(p[band_lo].mean() / p[band_hi].mean())
    assert abs(ratios["white"]) < 1.5
    assert 8 < ratios["pink"] < 15  # ~ 10 log10(0.3 / 0.015) = 13 dB
    assert ratios["brown"] > 20
    rec = save_audio(tmp_path / "hum.wav", _tone(8000, 0.3), 8000)
    bank = NoiseBank(["white", str(rec)], sr=8000)
    assert bank.sample(10000, rng, str(rec)).shape == (10000,)  # short recordings are tiled
    with pytest.raises(ConfigError, match="unknown noise colour"):
        coloured_noise("purple", 10, rng)


def test_si_sdr_is_scale_invariant_and_snr_is_not() -> None:
    rng = np.random.default_rng(0)
    ref = _tone(8000)
    est = ref + 0.1 * rng.standard_normal(len(ref)).astype(np.float32)
    assert si_sdr(ref, 0.5 * est) == pytest.approx(si_sdr(ref, est), abs=1e-6)
    assert snr(ref, 0.5 * est) < snr(ref, est)
    with pytest.raises(DataError, match="length"):
        si_sdr(ref, est[:-1])


def test_partial_auc_follows_dcase_definition() -> None:
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(4000), np.ones(4000)]
    random_scores = rng.random(8000)
    assert partial_auc(labels, random_scores, 0.1) == pytest.approx(0.05, abs=0.01)  # uncorrected: p/2
    assert partial_auc(labels, random_scores, 0.1, mcclish=True) == pytest.approx(0.5, abs=0.05)
    assert partial_auc(labels, labels + 0.0) == 1.0 and roc_auc(labels, labels) == 1.0
    # a detector good only at high FPR: full AUC fine, pAUC low
    s = np.r_[rng.random(4000), 0.2 + 0.8 * rng.random(4000)]
    assert roc_auc(labels, s) > 0.55 and partial_auc(labels, s) < roc_auc(labels, s)
    assert np.isnan(roc_auc(np.zeros(5), np.arange(5.0)))  # one class: nothing to rank
    with pytest.raises(ConfigError):
        partial_auc(labels, s, 0.0)


def test_machine_clips_and_dcase_layout(tmp_path: Path) -> None:
    cfg = MachineConfig(seconds=0.5)
    rng = np.random.default_rng(0)
    for fault in (None, *FAULT_KINDS):
        x = machine_clip(cfg, rng, fault)
        assert x.shape == (8000,) and x.dtype == np.float32 and 0 < np.abs(x).max() < 1
    with pytest.raises(ConfigError, match="unknown fault"):
        machine_clip(cfg, rng, "fire")
    root = write_dataset(tmp_path / "fan", n_train=3, n_test_normal=2, n_test_per_fault=1, cfg=cfg)
    train = [p.name for p in list_audio(root / "train")]
    test = [p.name for p in list_audio(root / "test")]
    assert train == [f"normal_id_00_{i:08d}.wav" for i in range(3)]
    assert sorted(n.rsplit("_", 1)[-1][:-4] for n in test if n.startswith("anomaly")) == sorted(FAULT_KINDS)
    assert load_audio(root / "train" / train[0])[1] == 16000


def test_machine_settings_are_checked_and_write_dataset_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aekit.audio import machines

    for kw in [dict(sr=0), dict(seconds=0.0), dict(seconds=float("nan")), dict(severity=-1.0), dict(n_harmonics=0)]:
        with pytest.raises(ConfigError):
            MachineConfig(**kw)  # type: ignore[arg-type]
    for kw, msg in [(dict(n_train=0), "n_train"), (dict(faults=()), "at least one"), (dict(faults=("fire",)), "fire"),
                    (dict(faults=("rattle", "rattle")), "twice"), (dict(seed=-1), "seed")]:
        with pytest.raises(ConfigError, match=msg):
            write_dataset(tmp_path / "new", **kw)  # type: ignore[arg-type]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.wav").write_bytes(b"")
    with pytest.raises(ConfigError, match="not empty"):
        write_dataset(tmp_path / "full")
    # a failure halfway leaves no folder, no parent made for it and no staging folder
    calls = iter(range(100))
    real_clip = machines.machine_clip

    def flaky(*args: object, **kwargs: object) -> np.ndarray:
        if next(calls) == 3:
            raise OSError("disk full")
        return real_clip(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(machines, "machine_clip", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(tmp_path / "deep" / "fan", n_train=2, n_test_normal=1, n_test_per_fault=1, cfg=MachineConfig(seconds=0.1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_staged_folder_moves_files_into_an_existing_folder(tmp_path: Path) -> None:
    from aekit.audio.io import same_path
    from aekit.io import staged_folder

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("old")
    with staged_folder(tmp_path / "out") as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "new.txt").write_text("new")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["out", "out/keep.txt", "out/sub", "out/sub/new.txt"]
    assert same_path(tmp_path / "out", tmp_path / "out" / "sub" / "..") and not same_path(tmp_path / "out", tmp_path / "x")


def test_spectrogram_settings_are_checked() -> None:
    from aekit.audio.figures import check_spectrogram_params

    check_spectrogram_params("a.png", 512, 128, "hann", 0)
    check_spectrogram_params("a.png", 512, 128, "hann", 64)
    for args, msg in [(("a.png", 512, 128, "hann", -1), "n_mels"), (("a.png", 512, 0, "hann", 64), "hop"),
                      (("a.png", 8, 4, "hann", 64), "n_fft"), (("a.png", 512, 128, "kaiser", 64), "window"),
                      (("a.jpg", 512, 128, "hann", 0), "png")]:
        with pytest.raises(ConfigError, match=msg):
            check_spectrogram_params(*args)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fmin"):
        MelConfig(fmax=20000.0)
