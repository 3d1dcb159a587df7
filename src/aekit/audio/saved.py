"""Saving and loading the audio models (denoiser, detector) as ordinary aekit run folders.

Both keep their constructor parameters and the fitted feature normaliser under an
``audio`` entry of ``model.json``, beside the weights that :mod:`aekit.runs` checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aekit.audio.features import Normalizer
from aekit.errors import ModelFileError


def save_audio_model(folder: str | Path, model: Any, task: str, params: dict[str, Any],
                     normalizer: Normalizer) -> Path:
    """Write ``model`` with ``{"task", "params", "normalizer"}`` under ``audio`` in model.json."""
    from aekit.runs import save_model

    plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
    extra = {"audio": {"task": task, "params": plain, "normalizer": normalizer.to_dict()}}
    return save_model(folder, model, extra=extra)


def load_audio_model(folder: str | Path, task: str, what: str) -> tuple[Any, dict[str, Any], Normalizer]:
    """Read back what :func:`save_audio_model` wrote; ``what`` names the expected kind in the error."""
    from aekit.runs import load_model

    model, _, meta = load_model(folder)
    audio = meta.get("audio") or {}
    if audio.get("task") != task:
        raise ModelFileError(f"{folder}: not {what} run")
    return model, dict(audio["params"]), Normalizer.from_dict(audio["normalizer"])
