"""Speech denoising that generalises: speaker-disjoint splits, the split reported, no writes into
the checkout, a PESQ gain on an unseen voice, and the numbers and figures the audio commands print."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli

from aekit.apps.speech import SpeechDenoiser
from aekit.audio.io import load_audio, save_audio
from aekit.audio.metrics import pesq_score
from aekit.audio.noise import KINDS, NoiseBank, TRAIN_NOISES, UNSEEN_NOISES, coloured_noise, mix_at_snr
from aekit.audio.speech import (ESPEAK_BASES, ESPEAK_VARIANTS, REAL_SPEAKER_FACTOR, TRAIN_CLIPS_PER_VOICE,
                                speaker_split, training_mix)
from aekit.errors import ConfigError


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return speaker_split()


def test_built_in_speech_keeps_speakers_apart(split) -> None:  # type: ignore[no-untyped-def]
    assert split.train and split.unseen_test
    assert not set(split.train) & set(split.unseen_test)  # no voice on both sides
    assert set(split.seen_test) <= set(split.train)
    train_files = set(split.files("train"))
    assert not train_files & set(split.files("seen_test")) and not train_files & set(split.files("unseen_test"))
    # espeak-ng: training and test voices share neither the base voice nor the variant
    assert not set(ESPEAK_BASES["train"]) & set(ESPEAK_BASES["test"])
    assert not set(ESPEAK_VARIANTS["train"]) & set(ESPEAK_VARIANTS["test"])
    # a real speaker is one speaker across languages: Allison reads the English and the Spanish prompts
    from aekit.data.paths import ASTERISK_SOUNDS_ROOT

    allison = {f.relative_to(ASTERISK_SOUNDS_ROOT).parts[0].split("_")[0] for f in split.train["asterisk:Allison"]}
    assert allison == {"en", "es"} and "asterisk:June" in split.unseen_test
    summary = split.summary()
    assert summary["n_train_speakers"] == len(split.train) >= 10 and summary["n_test_speakers"] >= 5
    assert not set(UNSEEN_NOISES) & set(TRAIN_NOISES)


def test_the_training_mix_takes_each_speakers_first_clips_from_the_training_side(split) -> None:  # type: ignore[no-untyped-def]
    mix = training_mix(split.train)
    assert list(mix) == list(split.train)  # every training speaker, and only those
    for speaker, clips in mix.items():
        share = TRAIN_CLIPS_PER_VOICE * (1 if speaker.startswith("espeak:") else REAL_SPEAKER_FACTOR)
        assert clips == split.train[speaker][:share]
    assert len(mix["asterisk:Allison"]) == TRAIN_CLIPS_PER_VOICE * REAL_SPEAKER_FACTOR
    assert not {f for fs in mix.values() for f in fs} & set(split.files("seen_test") + split.files("unseen_test"))
    with pytest.raises(ConfigError, match="per_voice"):
        training_mix(split.train, per_voice=0)


def test_train_denoiser_reports_the_split_and_writes_nothing_into_the_checkout(tmp_path: Path) -> None:
    def checkout() -> str:
        return subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=REPO,
                              capture_output=True, text=True).stdout

    before = checkout()
    res = run_cli("audio", "train-denoiser", str(tmp_path / "den"), "--epochs", "1", "--limit", "14", "--mixes", "1",
                  cwd=REPO, env={"AEKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    assert checkout() == before  # espeak-ng clips went to the cache folder, nothing else was written
    assert list((tmp_path / "cache").rglob("*.wav"))
    info = json.loads((tmp_path / "den" / "metrics.json").read_text())["speaker_split"]["built_in"]
    assert info["n_train_speakers"] >= 10 and info["n_test_speakers"] >= 5
    assert not set(info["train_speakers"]) & set(info["test_speakers"])
    assert "training speakers" in res.stdout
    import aekit  # the command takes the denoiser's own noise default (one place for it)

    assert list(aekit.load(tmp_path / "den").noise_sources) == list(SpeechDenoiser.params["noise_sources"])


def test_speech_folder_by_speaker_never_trains_on_held_out_voices(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    voices = tmp_path / "voices"
    for k in range(12):
        save_audio(voices / f"spk{k % 4}" / f"c{k}.wav", 0.1 * rng.standard_normal(2000).astype(np.float32), 8000)
    res = run_cli("audio", "train-denoiser", str(tmp_path / "den"), "--speech", str(voices), "--epochs", "1",
                  "--mixes", "1", "--noise", "white", "--limit", "3")
    assert res.returncode == 0, res.stderr
    used = json.loads((tmp_path / "den" / "metrics.json").read_text())["speech_folders"][str(voices)]
    speakers = lambda files: {Path(f).parent.name for f in files}  # noqa: E731
    assert used["held_out"] and not speakers(used["train"]) & speakers(used["held_out"])
    assert "speaker" in used["split"]
    # a cap takes the folder's speakers in turn: three clips, one of each training speaker
    assert len(used["used"]) == 3 and speakers(used["used"]) == speakers(used["train"])
    assert "epoch 1/1" in res.stdout  # training shows its progress (a line per epoch off a terminal) unless --quiet


def test_denoiser_improves_pesq_on_an_unseen_voice(split) -> None:  # type: ignore[no-untyped-def]
    """Small but real training (about 15 s): training voices only, then a voice never heard."""
    train = [load_audio(f, sr=8000)[0][:16000] for f in split.files("train", per_speaker=1)]  # one clip per speaker
    den = SpeechDenoiser(hidden=(256,), latent_dim=128, max_epochs=4, batch_size=128, mixes=2,
                         noise_sources=("white", "pink", "brown"), random_state=0).fit(train)
    rng = np.random.default_rng(5)
    before, after = [], []
    for speaker in ("asterisk:June", "espeak:en-gb-scotland+f5"):
        for f in split.unseen_test[speaker][:2]:
            clean = load_audio(f, sr=8000)[0][:16000]
            noisy = mix_at_snr(clean, coloured_noise("pink", len(clean), rng), 5.0)
            before.append(pesq_score(clean, noisy, 8000))
            after.append(pesq_score(clean, den.denoise(noisy), 8000))
    assert None not in before + after
    assert np.mean(after) > np.mean(before) + 0.1, (before, after)  # type: ignore[arg-type]


def test_generated_noises_are_unit_power_and_babble_needs_speech() -> None:
    from aekit.errors import ConfigError

    rng = np.random.default_rng(0)
    bank = NoiseBank(list(KINDS), 8000, babble_clips=[rng.standard_normal(3000) for _ in range(5)])
    for kind in bank.sources:
        x = bank.sample(6000, rng, kind)
        assert x.shape == (6000,) and np.isfinite(x).all() and abs(float(np.mean(x**2)) - 1) < 1e-3, kind
    with pytest.raises(ConfigError, match="babble"):
        NoiseBank(["babble"], 8000)


@pytest.mark.parametrize("model,output,n_frames,mask_target", [("mlp", "mask", 5, "phase"), ("mlp", "mask", 5, "ratio"),
                                                            ("mlp", "magnitude", 3, "phase"), ("conv", "mask", 8, "phase")])
def test_denoiser_variants_train_save_and_load(tmp_path: Path, model: str, output: str, n_frames: int,
                                               mask_target: str) -> None:
    import aekit

    rng = np.random.default_rng(0)
    clips = [0.1 * np.sin(np.arange(4000) * f) .astype(np.float32) for f in (0.1, 0.2, 0.3)]
    den = SpeechDenoiser(model=model, output=output, n_frames=n_frames, hidden=(32,), latent_dim=16, channels=(4, 8),
                         max_epochs=1, noise_sources=("white",), mask_target=mask_target).fit(clips)
    x = clips[0] + 0.05 * rng.standard_normal(4000).astype(np.float32)
    again = aekit.load(den.save(tmp_path / "run"))
    assert (again.model, again.output, again.mask_target) == (model, output, mask_target)
    np.testing.assert_allclose(again.denoise(x), den.denoise(x), atol=1e-5)
    if output == "mask":  # a mask only takes energy away
        from aekit.audio.features import STFTConfig, stft

        cfg = STFTConfig()
        assert (np.abs(stft(den.denoise(x), cfg)).sum() <= np.abs(stft(x, cfg)).sum() * 1.01)


def test_phase_sensitive_mask_takes_away_noise_out_of_phase_with_speech() -> None:
    """The two training masks on known STFTs: noise in phase with speech (a louder copy) gives the
    magnitude ratio under both targets; noise that only turns the phase gives the ratio 1 but a
    phase-sensitive gain of cos(angle difference), 0 when it turns it to the opposite phase."""
    from aekit.audio.features import log_magnitude

    clean = np.full((3, 2), 1.0 + 0j)
    noisy = np.array([[2.0, 2.0], [np.exp(1j * np.pi / 3)] * 2, [-1.0, -1.0]], dtype=complex)  # (F=3, T=2)
    ratio = SpeechDenoiser(mask_target="ratio")._mask_target(clean, noisy)
    phase = SpeechDenoiser(mask_target="phase")._mask_target(clean, noisy)
    assert ratio.shape == phase.shape == (2, 3)  # (T, F)
    expected_ratio = np.minimum(np.exp(log_magnitude(clean) - log_magnitude(noisy)), 1).T
    np.testing.assert_allclose(ratio, expected_ratio, rtol=1e-6)
    np.testing.assert_allclose(phase[:, 0], ratio[:, 0], rtol=1e-6)  # same phase: the same gain (about 0.5)
    np.testing.assert_allclose(phase[:, 1], 0.5, rtol=1e-4)  # 60 degrees apart: |S|/|Y| cos 60 = 0.5
    assert (ratio[:, 2] == 1).all() and (phase[:, 2] == 0).all()  # opposite phase: no gain helps
    assert SpeechDenoiser().mask_target == "phase"  # the default, chosen on validation voices (docs/audio.md)


def test_mask_power_keeps_more_of_the_input_and_old_runs_keep_the_plain_mask(tmp_path: Path) -> None:
    import aekit

    rng = np.random.default_rng(0)
    clips = [0.1 * np.sin(np.arange(4000) * f).astype(np.float32) for f in (0.1, 0.2, 0.3)]
    den = SpeechDenoiser(hidden=(32,), latent_dim=16, max_epochs=1, noise_sources=("white",)).fit(clips)
    x = clips[1] + 0.05 * rng.standard_normal(4000).astype(np.float32)
    energy = {}
    for power in (1.0, 0.8, 0.5):
        den.mask_power = power
        energy[power] = float(np.sum(den.denoise(x) ** 2))
    assert energy[1.0] < energy[0.8] < energy[0.5] <= float(np.sum(x**2)) * 1.01  # a gain in [0, 1] to a lower power is larger
    run = den.save(tmp_path / "run")
    assert aekit.load(run).mask_power == 0.5
    meta_path = run / "model.json"
    meta = json.loads(meta_path.read_text())
    del meta["estimator"]["state"]["mask_power"]  # a run saved before mask_power existed
    del meta["estimator"]["params"]["mask_power"]
    meta_path.write_text(json.dumps(meta))
    old = aekit.load(run)
    assert old.mask_power == 1.0
    den.mask_power = 1.0
    np.testing.assert_allclose(old.denoise(x), den.denoise(x), atol=1e-5)


def test_conv_context_must_halve_cleanly() -> None:
    from aekit.errors import ConfigError

    with pytest.raises(ConfigError, match="divisible"):
        SpeechDenoiser(model="conv", n_frames=5).check_params()
