"""Speech for training and testing denoisers, with *speakers* (not only files) kept apart.

Sources on every aekit machine (``scripts/setup.sh`` installs them):

* Debian's Asterisk prompt packages (8 kHz, real human speech): English and Spanish are
  both read by Allison, French by June. A speaker is the voice folder's name
  (``<lang>_<COUNTRY>_<sex>_<Name>``), so Allison's English and Spanish prompts are one
  speaker; June is held out for testing.
* ``espeak-ng`` synthetic speech: each voice (a base voice plus a variant, ``en-us+f2``) is
  one speaker; training and test voices share neither the base voice nor the variant, and
  they read different sentences. Clips are generated once into the user's cache folder.

Every training speaker also has held-out *files* (a stable hash of the file name), the
"seen speaker" test condition; held-out speakers give the "unseen speaker" condition.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Split = Literal["train", "test"]

ASTERISK_LANGUAGES = ("en", "es", "fr")  # the prompt packages used for development
ASTERISK_TEST_SPEAKERS = ("June",)  # real voices never trained on
# espeak-ng speakers: base voice + variant; the two sides share no base voice and no variant
ESPEAK_BASES: dict[str, tuple[str, ...]] = {
    "train": ("en-us", "en-gb", "en-029", "en-gb-x-rp"),
    "test": ("en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc"),
}
# seven variants per training base: more training voices kept the mask from taking away speech
# in babble on validation voices (docs/audio.md, "Choosing the default", second round)
ESPEAK_VARIANTS: dict[str, tuple[str, ...]] = {"train": ("", "m3", "f2", "m1", "f1", "m2", "f3"),
                                               "test": ("m7", "f5", "m5", "f4")}
ESPEAK_VOICES: dict[str, tuple[str, ...]] = {
    side: tuple(b + (f"+{v}" if v else "") for b in ESPEAK_BASES[side] for v in ESPEAK_VARIANTS[side])
    for side in ("train", "test")
}
ESPEAK_TEXTS: dict[str, tuple[str, ...]] = {
    "train": (
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Please leave your message after the tone and we will call you back.",
        "An autoencoder learns to copy its input through a narrow code.",
        "Seven silver spoons were placed on the wooden kitchen table.",
        "The weather tomorrow will be cloudy with a chance of light rain.",
        "She sells sea shells by the sea shore every summer morning.",
        "Turn left at the second traffic light and park behind the station.",
        "Our meeting has been moved to Thursday afternoon at three o'clock.",
    ),
    "test": (
        "A noisy recording can often be cleaned by a small neural network.",
        "The train to the airport leaves from platform number nine.",
        "Fresh bread and warm coffee are served in the lobby every day.",
        "Measure twice and cut once, said the old carpenter to his apprentice.",
    ),
}


def _in_test(name: str, test_fraction: float) -> bool:
    digest = hashlib.sha1(name.encode()).digest()
    return digest[0] / 256 < test_fraction


@dataclass
class SpeakerSplit:
    """Clean clips by speaker: ``train`` and ``seen_test`` share speakers but no file;
    ``unseen_test`` holds speakers that are in neither."""

    train: dict[str, list[Path]] = field(default_factory=dict)
    seen_test: dict[str, list[Path]] = field(default_factory=dict)
    unseen_test: dict[str, list[Path]] = field(default_factory=dict)

    def files(self, part: Literal["train", "seen_test", "unseen_test"], per_speaker: int | None = None) -> list[Path]:
        """Clips of one part, at most ``per_speaker`` of each speaker (the first by name), speakers in turn."""
        return [f for fs in getattr(self, part).values() for f in fs[:per_speaker]]

    def summary(self) -> dict[str, object]:
        """The split as JSON-safe numbers and names (for metrics.json and benchmark output)."""
        return {
            "by": "speaker",
            "train_speakers": sorted(self.train), "test_speakers": sorted(self.unseen_test),
            "n_train_speakers": len(self.train), "n_test_speakers": len(self.unseen_test),
            "train_clips": sum(map(len, self.train.values())),
            "seen_speaker_test_clips": sum(map(len, self.seen_test.values())),
            "unseen_speaker_test_clips": sum(map(len, self.unseen_test.values())),
        }

    def __add__(self, other: "SpeakerSplit") -> "SpeakerSplit":
        return SpeakerSplit({**self.train, **other.train}, {**self.seen_test, **other.seen_test},
                            {**self.unseen_test, **other.unseen_test})


# The built-in training mix the default denoiser was chosen and measured on (benchmarks/audio.py,
# docs/audio.md): the first clips of every synthetic voice, and eight times as many of every
# real speaker, whose recordings vary far more than one synthetic voice's sentences
TRAIN_CLIPS_PER_VOICE = 6
REAL_SPEAKER_FACTOR = 8


def training_mix(train: dict[str, list[Path]], per_voice: int = TRAIN_CLIPS_PER_VOICE,
                 real_factor: int = REAL_SPEAKER_FACTOR) -> dict[str, list[Path]]:
    """Each built-in training speaker's share of the training clips: a synthetic (``espeak:``)
    voice's first ``per_voice`` clips, a real speaker's first ``per_voice * real_factor``.

    ``train`` is :attr:`SpeakerSplit.train` (real speakers first); ``aekit audio train-denoiser``
    and ``benchmarks/audio.py`` both take this mix, so the command trains on what the default
    was chosen on.
    """
    from aekit.errors import ConfigError

    if per_voice < 1 or real_factor < 1:
        raise ConfigError(f"per_voice and real_factor must be >= 1, got {per_voice}, {real_factor}")
    return {sp: fs[: per_voice if sp.startswith("espeak:") else per_voice * real_factor] for sp, fs in train.items()}


def asterisk_speakers(languages: tuple[str, ...] = ASTERISK_LANGUAGES) -> dict[str, list[Path]]:
    """``{speaker: wav files}`` of the Asterisk prompt packages (sub-folders included), voices merged by name."""
    from aekit.data.paths import asterisk_voices

    out: dict[str, list[Path]] = {}
    for lang in languages:
        for speaker, folder in asterisk_voices(lang).items():
            # silence/ holds pause files, not speech
            out.setdefault(speaker, []).extend(f for f in sorted(folder.rglob("*.wav")) if f.parent.name != "silence")
    return out


def asterisk_speaker_split(test_fraction: float = 0.2, test_speakers: tuple[str, ...] = ASTERISK_TEST_SPEAKERS,
                           languages: tuple[str, ...] = ASTERISK_LANGUAGES) -> SpeakerSplit:
    """Real speakers: ``test_speakers`` held out whole; the others' files split by a hash of their path."""
    split = SpeakerSplit()
    for speaker, files in asterisk_speakers(languages).items():
        name = f"asterisk:{speaker}"
        if speaker in test_speakers:
            split.unseen_test[name] = files
            continue
        key = lambda f: f"{f.parent.name}/{f.name}"  # noqa: E731 - folder + name: stable per file
        split.train[name] = [f for f in files if not _in_test(key(f), test_fraction)]
        split.seen_test[name] = [f for f in files if _in_test(key(f), test_fraction)]
    return split


def espeak_speaker_split(folder: str | Path | None = None, sr: int = 8000) -> SpeakerSplit:
    """Synthetic speakers: training voices read training sentences, the seen-speaker test is them
    reading the test sentences, and the unseen test voices read the test sentences."""
    return SpeakerSplit(
        train={f"espeak:{v}": espeak_clips(v, "train", folder, sr) for v in ESPEAK_VOICES["train"]},
        seen_test={f"espeak:{v}": espeak_clips(v, "test", folder, sr) for v in ESPEAK_VOICES["train"]},
        unseen_test={f"espeak:{v}": espeak_clips(v, "test", folder, sr) for v in ESPEAK_VOICES["test"]},
    )


def speaker_split(sources: tuple[str, ...] = ("asterisk", "espeak"), test_fraction: float = 0.2) -> SpeakerSplit:
    """The built-in corpora, speaker-disjoint (see the module docstring)."""
    split = SpeakerSplit()
    if "asterisk" in sources:
        split = split + asterisk_speaker_split(test_fraction)
    if "espeak" in sources:
        split = split + espeak_speaker_split()
    return split


def folder_split(folder: str | Path, test_fraction: float = 0.2) -> tuple[list[Path], list[Path], str]:
    """``(train, test, how)`` clips of a user's speech folder, split like the built-in corpora.

    With one sub-folder per speaker (two or more), whole speakers go to one side, chosen by a
    stable hash of the speaker's name, so no voice is in both; otherwise files are split by a
    hash of their names. The same folder always splits the same way, so the clips a denoiser
    is tested on were never trained on.
    """
    from aekit.audio.io import list_audio
    from aekit.errors import DataError

    folder = Path(folder)
    files = sorted(p for p in list_audio(folder, "**/*") if p.is_file())
    if not files:
        raise DataError(f"no audio files in {folder}")
    speakers = sorted({f.parent.relative_to(folder).as_posix() for f in files} - {"."})
    if len(speakers) >= 2:
        held = {sp for sp in speakers if _in_test(sp, test_fraction)}
        if not held or len(held) == len(speakers):  # both sides need a voice
            held = {speakers[-1]}
        test = [f for f in files if f.parent.relative_to(folder).as_posix() in held]
        how = f"by speaker ({len(speakers) - len(held)} train, {len(held)} held-out speakers)"
    else:
        test = [f for f in files if _in_test(f.relative_to(folder).as_posix(), test_fraction)]
        how = "by file name"
    train = [f for f in files if f not in set(test)]
    return train, test, how


def asterisk_files(split: Split, test_fraction: float = 0.2, limit: int | None = None) -> list[Path]:
    """Asterisk clips of one side of :func:`asterisk_speaker_split`: training speakers' training
    files, or every held-out clip (held-out speakers first, then the training speakers' held-out files)."""
    s = asterisk_speaker_split(test_fraction)
    chosen = s.files("train") if split == "train" else s.files("unseen_test") + s.files("seen_test")
    return chosen[:limit] if limit else chosen


def asterisk_split(test_fraction: float = 0.2, limit: int | None = None) -> tuple[list[Path], list[Path]]:
    """``(train, test)`` Asterisk prompt files; no file, and no held-out speaker, is in training."""
    return asterisk_files("train", test_fraction, limit), asterisk_files("test", test_fraction, limit)


def espeak_split(folder: str | Path | None = None, sr: int = 8000) -> tuple[list[Path], list[Path]]:
    """``(train, test)`` espeak-ng files; voices and sentences differ between the two."""
    return espeak_files("train", folder, sr), espeak_files("test", folder, sr)


def espeak_files(split: Split, folder: str | Path | None = None, sr: int = 8000) -> list[Path]:
    """Synthetic speech of one side: its voices reading its sentences (nothing shared with the other)."""
    return [f for v in ESPEAK_VOICES[split] for f in espeak_clips(v, split, folder, sr)]


def espeak_clips(voice: str, texts: Split, folder: str | Path | None = None, sr: int = 8000) -> list[Path]:
    """``voice`` (``base+variant``) reading the ``texts`` sentences, one file each, generated once
    into ``folder`` (default: the user cache)."""
    from aekit.audio.io import load_audio, save_audio
    from aekit.data.paths import cache_dir, espeak_exe

    exe = str(espeak_exe())
    out = Path(folder) if folder else cache_dir() / "audio" / f"espeak-{sr}"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i, text in enumerate(ESPEAK_TEXTS[texts]):
        path = out / f"{texts}_{voice}_{i:02d}.wav"
        if not path.exists():
            raw = out / f".{path.stem}.raw.wav"
            subprocess.run([exe, "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
            y, _ = load_audio(raw, sr=sr, clipping="ignore")  # espeak writes 22.05 kHz
            save_audio(path, y, sr)
            raw.unlink()
        files.append(path)
    return files
