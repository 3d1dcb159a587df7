"""Where aekit finds data files extracted from packages (see scripts/fetch_data.sh)."""

from __future__ import annotations

import os
from pathlib import Path

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
ASTERISK_SOUNDS_DIR = Path("/usr/share/asterisk/sounds/en")


def repo_root() -> Path:
    """The source checkout's root (src/aekit/data/paths.py -> ../../..)."""
    return Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """Folder holding data extracted from PyPI packages; ``$AEKIT_DATA_DIR`` overrides."""
    env = os.environ.get("AEKIT_DATA_DIR")
    return Path(env) if env else repo_root() / ".data"


def cache_dir() -> Path:
    """Folder for generated data (synthetic speech, machine sounds); ``$AEKIT_CACHE_DIR`` overrides."""
    env = os.environ.get("AEKIT_CACHE_DIR")
    path = Path(env) if env else repo_root() / ".cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
