"""Audio denoiser and anomalous-sound detector: training through the engine, quality, save/load, CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from typer.testing import CliRunner

from aekit.apps.sound import AudioAnomalyDetector, clip_labels, dcase_files, evaluate
from aekit.apps.speech import SpeechDenoiser
from aekit.audio.io import load_audio, save_audio
from aekit.audio.machines import FAULT_KINDS, MachineConfig, write_dataset
from aekit.audio.metrics import si_sdr
from aekit.audio.noise import coloured_noise, mix_at_snr
from aekit.audio.speech import asterisk_split, espeak_files
from aekit.cli.main import app
from aekit.errors import ConfigError, ModelFileError


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = MachineConfig(seconds=1.0)
    return write_dataset(tmp_path_factory.mktemp("machines") / "pump", n_train=24, n_test_normal=12,
                         n_test_per_fault=6, cfg=cfg, seed=1)


@pytest.fixture(scope="module")
def speech_split() -> tuple[list[Path], list[Path]]:
    return asterisk_split()


@pytest.fixture(scope="module")
def denoiser(speech_split: tuple[list[Path], list[Path]]) -> SpeechDenoiser:
    train = speech_split[0][:24]
    return SpeechDenoiser(hidden=(256,), latent_dim=128, max_epochs=5, mixes=2, batch_size=128).fit(train)


def test_speech_splits_keep_files_and_voices_apart(speech_split: tuple[list[Path], list[Path]]) -> None:
    train, test = speech_split
    assert train and test and not set(train) & set(test)
    names = lambda paths: {p.name.split("_")[1] for p in paths}  # noqa: E731 - voice part of the name
    assert not names(espeak_files("train")) & names(espeak_files("test"))


@pytest.mark.slow
def test_denoiser_improves_si_sdr_on_held_out_speech_at_5_db(denoiser: SpeechDenoiser, speech_split: tuple[list[Path], list[Path]]) -> None:
    rng = np.random.default_rng(123)
    before, after = [], []
    for path in speech_split[1][:8]:  # files never seen in training
        clean, _ = load_audio(path, sr=8000)
        noisy = mix_at_snr(clean, coloured_noise(["white", "pink"][len(before) % 2], len(clean), rng), 5.0)
        out = denoiser.denoise(noisy)
        assert out.shape == clean.shape and np.isfinite(out).all()
        before.append(si_sdr(clean, noisy))
        after.append(si_sdr(clean, out))
    assert np.mean(after) > np.mean(before) + 2.0, (before, after)
    assert denoiser.history_[-1]["train/loss"] < denoiser.history_[0]["train/loss"]


@pytest.mark.slow
def test_denoiser_save_load_and_cli(denoiser: SpeechDenoiser, speech_split: tuple[list[Path], list[Path]], tmp_path: Path) -> None:
    run = denoiser.save(tmp_path / "run")
    again = SpeechDenoiser.load(run)
    clean, _ = load_audio(speech_split[1][0], sr=8000)
    noisy = mix_at_snr(clean, coloured_noise("brown", len(clean), np.random.default_rng(0)), 5.0)
    np.testing.assert_allclose(again.denoise(noisy), denoiser.denoise(noisy), atol=1e-5)
    # a 16 kHz stereo input comes back at 16 kHz, mono
    src = save_audio(tmp_path / "in" / "a.wav", np.stack([noisy, noisy]), 8000)
    runner = CliRunner()
    res = runner.invoke(app, ["denoise-audio", str(run), str(src), str(tmp_path / "out.wav"), "--figure"])
    assert res.exit_code == 0, res.output
    y, rate = load_audio(tmp_path / "out.wav")
    assert rate == 8000 and y.shape == noisy.shape and (tmp_path / "out.png").is_file()
    save_audio(tmp_path / "in" / "b.flac", noisy, 8000)
    res = runner.invoke(app, ["audio", "denoise", str(run), str(tmp_path / "in"), str(tmp_path / "outdir")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == ["a.wav", "b.flac"]
    with pytest.raises(ConfigError, match="not fitted"):
        SpeechDenoiser().denoise(noisy)


@pytest.mark.parametrize("model", ["mlp", "conv"])
def test_detector_ranks_faults_above_normal_clips(machines: Path, model: str, tmp_path: Path) -> None:
    det = AudioAnomalyDetector(model=model, max_epochs=8, random_state=0).fit(dcase_files(machines, "train"))  # type: ignore[arg-type]
    assert det.model_.family == model
    test = dcase_files(machines, "test")
    result = evaluate(det, test)
    assert result["all"]["auc"] > 0.8, result["all"]
    assert set(result) == {"all", "scores", *FAULT_KINDS}
    assert 0 <= result["all"]["pauc"] <= 1
    again = AudioAnomalyDetector.load(det.save(tmp_path / "det"))
    np.testing.assert_allclose(again.anomaly_score(test[:3]), det.anomaly_score(test[:3]), rtol=1e-5)
    np.testing.assert_allclose(det.score_samples(test[:3]), -det.anomaly_score(test[:3]))


def test_detector_input_shapes_follow_the_dcase_baseline(machines: Path) -> None:
    det = AudioAnomalyDetector(max_epochs=1)
    assert det._build().config.input_shape == (640,)  # 5 frames x 128 mels
    assert det._build().config.hidden == [128] * 4 and det._build().config.latent_dim == 8
    labels, kinds = clip_labels(dcase_files(machines, "test"))
    assert labels.sum() == 6 * len(FAULT_KINDS) and kinds.count("normal") == 12


def test_cli_audio_detect_spectrogram_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "fan"
    res = runner.invoke(app, ["audio", "make-machines", str(root), "--n-train", "8", "--n-test-normal", "4",
                              "--n-test-per-fault", "2", "--seconds", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["audio", "detect", "--audio", str(root), "--epochs", "1", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "bearing" in res.output and (tmp_path / "run" / "metrics.json").is_file()
    assert (tmp_path / "run" / "figures" / "detection.png").stat().st_size > 5000  # scores by kind + ROC curves
    res = runner.invoke(app, ["audio", "detect", "--audio", str(root), "--run", str(tmp_path / "run")])
    assert res.exit_code == 0 and "all" in res.output
    wav = root / "test" / "normal_id_00_00000000.wav"
    res = runner.invoke(app, ["audio", "spectrogram", str(wav), "--n-mels", "64", "-o", str(tmp_path / "s.png")])
    assert res.exit_code == 0 and (tmp_path / "s.png").stat().st_size > 1000
    with pytest.raises(ModelFileError, match="not an audio denoiser"):
        SpeechDenoiser.load(tmp_path / "run")


def test_cli_bad_audio_file_is_one_line_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    proc = subprocess.run([sys.executable, "-m", "aekit.cli.main", "audio", "spectrogram", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not a readable audio file" in proc.stderr


def test_flat_folder_without_train_and_test_is_refused(tmp_path: Path) -> None:
    from aekit.errors import DataError

    rng = np.random.default_rng(0)
    for name in ("normal_0.wav", "normal_1.wav", "anomaly_2.wav"):
        save_audio(tmp_path / name, 0.1 * rng.standard_normal(1600).astype(np.float32), 16000)
    with pytest.raises(DataError, match="train/"):
        dcase_files(tmp_path, "train")  # normals would be both trained on and tested


# -- bad arguments: one line on stderr, exit 2, nothing written ------------------------
def test_detector_and_denoiser_settings_are_checked_before_any_data() -> None:
    from aekit.apps.speech import snr_range

    assert snr_range([15, -5]) == (-5.0, 15.0) and snr_range(3) == (3.0, 3.0)  # order does not matter
    bad_denoisers = [dict(snr_db=[1, 2, 3]), dict(snr_db=["x"]), dict(mixes=0), dict(noise_sources=["purple"]),
                     dict(max_epochs=0), dict(n_fft=8), dict(sr=10), dict(mask_target="wiener"),
                     dict(mask_power=0), dict(mask_power=1.5)]
    for kw in bad_denoisers:
        with pytest.raises(ConfigError):
            SpeechDenoiser(**kw).fit([np.zeros(8000, np.float32)])  # type: ignore[arg-type]
    for kw in [dict(model="foo"), dict(n_mels=0), dict(hop=0), dict(max_epochs=0), dict(random_state=-1)]:
        with pytest.raises(ConfigError):
            AudioAnomalyDetector(**kw).fit([np.zeros(16000, np.float32)])  # type: ignore[arg-type]


@pytest.fixture
def cli_inputs(tmp_path: Path) -> Path:
    """``good/`` (two clips), ``in/`` (the same plus an unreadable ``z_bad.wav``) and an untrained denoiser ``run/``."""
    from aekit.data.dataset import Scaler

    rng = np.random.default_rng(0)
    for folder in ("good", "in"):
        for name in ("a.wav", "b.flac"):
            save_audio(tmp_path / folder / name, 0.1 * rng.standard_normal(4000).astype(np.float32), 8000)
    (tmp_path / "in" / "z_bad.wav").write_text("not audio")
    den = SpeechDenoiser(hidden=(8,), latent_dim=4)  # weights need not be trained to test argument checks
    n_freq = den.stft_config.n_freq
    den.scaler_ = Scaler("standard", per_feature=True).fit(np.stack([np.zeros(n_freq), np.ones(n_freq)]).astype(np.float32))
    den.model_ = den._build().eval()
    den.save(tmp_path / "run")
    return tmp_path


@pytest.mark.parametrize("args,message", [
    (["audio", "make-machines", "{out}", "--faults", "bearing,fire"], "unknown fault kind 'fire'"),
    (["audio", "make-machines", "{out}", "--seconds", "0"], "seconds must be in"),
    (["audio", "make-machines", "{out}", "--sr", "0"], "sr must be in"),
    (["audio", "make-machines", "{out}", "--n-train", "0"], "n_train must be >= 1"),
    (["audio", "make-machines", "{tmp}/good"], "already exists and is not empty"),
    (["audio", "train-denoiser", "{out}", "--snr", "loud"], "--snr expects comma-separated numbers"),
    (["audio", "train-denoiser", "{out}", "--snr", "-5,0,15"], "--snr expects 'lo,hi'"),
    (["audio", "train-denoiser", "{out}", "--mixes", "0"], "mixes must be an integer >= 1"),
    (["audio", "train-denoiser", "{out}", "--noise", "white,purple"], "unknown noise 'purple'"),
    (["audio", "train-denoiser", "{tmp}/run"], "already exists and is not empty"),
    (["denoise-audio", "{tmp}/run", "{tmp}/in", "{out}"], "z_bad.wav: not a readable audio file"),
    (["denoise-audio", "{tmp}/run", "{tmp}/good", "{out}", "--figure"], "single input file"),
    (["denoise-audio", "{tmp}/run", "{tmp}/in", "{out}/nested"], "z_bad.wav: not a readable audio file"),
    (["denoise-audio", "{tmp}/run", "{tmp}/in", "{tmp}/good"], "z_bad.wav: not a readable audio file"),
    (["denoise-audio", "{tmp}/run", "{tmp}/good", "{tmp}/good/../good"], "is the input folder"),
    (["denoise-audio", "{tmp}/run", "{tmp}/good/a.wav", "{tmp}/good/a.wav"], "is the input file"),
    (["audio", "detect", "--audio", "{tmp}/missing", "--model", "foo", "-o", "{out}"], "model must be 'mlp' or 'conv'"),
    (["audio", "detect", "--audio", "{tmp}/missing", "-e", "0", "-o", "{out}"], "epochs must be an integer >= 1"),
    (["audio", "detect", "--audio", "{tmp}/missing", "-o", "{tmp}/run"], "already exists and is not empty"),
    (["audio", "spectrogram", "{tmp}/good/a.wav", "--n-mels", "-1", "-o", "{out}.png"], "n_mels must be >= 1"),
    (["audio", "spectrogram", "{tmp}/good/a.wav", "--n-mels", "16", "--hop", "0", "-o", "{out}.png"], "hop >= 1"),
    (["audio", "spectrogram", "{tmp}/good/a.wav", "--n-mels", "16", "--n-fft", "8", "-o", "{out}.png"], "n_fft >= 16"),
], ids=lambda v: None if isinstance(v, list) else v)
def test_cli_bad_audio_arguments_fail_cleanly(cli_inputs: Path, args: list[str], message: str) -> None:
    def snapshot() -> dict[str, bytes]:
        return {str(p.relative_to(cli_inputs)): p.read_bytes() for p in sorted(cli_inputs.rglob("*")) if p.is_file()}

    before = snapshot()
    proc = run_cli(*[a.format(tmp=cli_inputs, out=cli_inputs / "out") for a in args], timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert proc.stderr.startswith("aekit: error: ") and message in proc.stderr, proc.stderr
    assert snapshot() == before  # no output (not even a staging folder), no input touched
    assert not any(p.name.startswith(("out", ".")) for p in cli_inputs.rglob("*"))


def test_speech_folder_never_leaks_its_held_out_part_into_training(tmp_path: Path) -> None:
    """A --speech folder is split like the built-in corpora: by speaker sub-folders when it has
    them (no voice on both sides), else by file name; the held-out clips are never trained on."""
    import json

    from aekit.audio.speech import folder_split

    rng = np.random.default_rng(0)
    flat, voices = tmp_path / "flat", tmp_path / "voices"
    for k in range(12):
        save_audio(flat / f"clip{k:02d}.wav", 0.1 * rng.standard_normal(2000).astype(np.float32), 8000)
        save_audio(voices / f"spk{k % 4}" / f"c{k}.wav", 0.1 * rng.standard_normal(2000).astype(np.float32), 8000)
    train, test, how = folder_split(voices)
    assert "speaker" in how and train and test
    assert not {f.parent.name for f in train} & {f.parent.name for f in test}
    res = run_cli("audio", "train-denoiser", str(tmp_path / "den"), "--speech", str(flat), "--epochs", "1", "--mixes", "1")
    assert res.returncode == 0, res.stderr
    used = json.loads((tmp_path / "den" / "metrics.json").read_text())["speech_folders"][str(flat)]
    assert used["held_out"] and not set(used["held_out"]) & set(used["train"])
    assert sorted(used["train"] + used["held_out"]) == sorted(str(p) for p in flat.glob("*.wav"))
    assert folder_split(flat)[1] == [Path(p) for p in used["held_out"]]  # the same split every time


def test_denoise_audio_prints_its_quality_number(cli_inputs: Path) -> None:
    """Without a reference: the estimated SNR before and after; with --reference also PESQ, STOI, SI-SDR."""
    rng = np.random.default_rng(1)
    t = np.arange(8000) / 8000
    clean = (0.3 * np.sin(2 * np.pi * 220 * t) * (t % 0.5 < 0.3)).astype(np.float32)  # tone bursts with pauses
    save_audio(cli_inputs / "clean.wav", clean, 8000)
    save_audio(cli_inputs / "noisy.wav", clean + 0.03 * rng.standard_normal(8000).astype(np.float32), 8000)
    res = run_cli("denoise-audio", str(cli_inputs / "run"), str(cli_inputs / "noisy.wav"), str(cli_inputs / "o.wav"))
    assert res.returncode == 0, res.stderr
    assert re.search(r"estimated SNR -?\d+\.\d dB -> -?\d+\.\d dB \([+-]\d+\.\d dB", res.stdout), res.stdout
    res = run_cli("denoise-audio", str(cli_inputs / "run"), str(cli_inputs / "noisy.wav"), str(cli_inputs / "o2.wav"),
                  "--reference", str(cli_inputs / "clean.wav"))
    assert res.returncode == 0, res.stderr
    assert re.search(r"PESQ \d\.\d\d -> \d\.\d\d, STOI \d\.\d\d -> \d\.\d\d, SI-SDR gain [+-]\d", res.stdout), res.stdout
    res = run_cli("denoise-audio", str(cli_inputs / "run"), str(cli_inputs / "noisy.wav"), str(cli_inputs / "o3.wav"),
                  "--reference", str(cli_inputs / "good" / "a.wav"))
    assert res.returncode == 2 and "same clip" in res.stderr and not (cli_inputs / "o3.wav").exists()
