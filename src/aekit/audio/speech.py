"""Speech for training and testing denoisers, with speakers and files kept apart.

Two sources are available on every aekit machine:

* the Debian package ``asterisk-core-sounds-en-wav`` (8 kHz prompts, one speaker):
  files are split by a stable hash of their name, so a file is either train or test;
* ``espeak-ng`` synthetic speech: train and test use different voices *and* different
  sentences, generated into the cache folder on first use.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Literal


Split = Literal["train", "test"]

# distinct voices and sentences per split (no voice or text is shared)
ESPEAK_VOICES: dict[str, tuple[str, ...]] = {
    "train": ("en-us", "en-gb", "en-029", "en-gb-x-rp"),
    "test": ("en-gb-scotland", "en-gb-x-gbclan"),
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


def asterisk_files(split: Split, test_fraction: float = 0.2, limit: int | None = None) -> list[Path]:
    """Asterisk prompt WAVs of one split (stable name-hash split, disjoint files)."""
    from aekit.data.paths import asterisk_dir

    files = sorted(asterisk_dir("en").glob("*.wav"))
    chosen = [f for f in files if _in_test(f.name, test_fraction) == (split == "test")]
    return chosen[:limit] if limit else chosen


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


def asterisk_split(test_fraction: float = 0.2, limit: int | None = None) -> tuple[list[Path], list[Path]]:
    """``(train, test)`` Asterisk prompt files; no file is in both."""
    return asterisk_files("train", test_fraction, limit), asterisk_files("test", test_fraction, limit)


def espeak_split(folder: str | Path | None = None, sr: int = 8000) -> tuple[list[Path], list[Path]]:
    """``(train, test)`` espeak-ng files; voices and sentences differ between the two."""
    return espeak_files("train", folder, sr), espeak_files("test", folder, sr)


def espeak_files(split: Split, folder: str | Path | None = None, sr: int = 8000) -> list[Path]:
    """Synthetic speech for one split (every voice x every sentence), generated once into ``folder``."""
    from aekit.audio.io import load_audio, save_audio
    from aekit.data.paths import cache_dir

    from aekit.data.paths import espeak_exe

    exe = str(espeak_exe())
    out = Path(folder) if folder else cache_dir() / "audio" / f"espeak-{sr}"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for voice in ESPEAK_VOICES[split]:
        for i, text in enumerate(ESPEAK_TEXTS[split]):
            path = out / f"{split}_{voice}_{i:02d}.wav"
            if not path.exists():
                raw = out / f".{path.stem}.raw.wav"
                subprocess.run([exe, "-v", voice, "-s", "150", "-w", str(raw), text], check=True, capture_output=True)
                y, _ = load_audio(raw, sr=sr, clipping="ignore")  # espeak writes 22.05 kHz
                save_audio(path, y, sr)
                raw.unlink()
            files.append(path)
    return files
