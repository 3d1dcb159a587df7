"""Helpers shared by CLI modules (kept free of heavy imports)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.console import Console


@lru_cache(maxsize=1)
def console() -> Console:
    return Console(highlight=False)


def parse_set(items: Iterable[str]) -> list[tuple[str, Any]]:
    """``["a.b=3", "c=[1,2]"]`` -> ``[("a.b", 3), ("c", [1, 2])]`` (values parsed as YAML)."""
    import yaml

    from aekit.errors import ConfigError

    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        try:
            out.append((key.strip(), yaml.safe_load(value)))
        except yaml.YAMLError:
            raise ConfigError(f"--set {key}: cannot parse value {value!r}") from None
    return out


def run_folder(out: str | None, name: str | None) -> dict[str, str | None]:
    """``--out`` (the run folder itself) as the config's ``out_dir`` + ``name``.

    ``--name`` is the old form (``--out`` was the parent folder then): still accepted, with
    one deprecation line naming the ``--out`` that says the same.
    """
    import os
    import warnings

    from aekit.errors import AekitWarning

    if name is not None:
        parent = out or "runs"
        warnings.warn(f"--name is deprecated: pass the run folder itself, --out {Path(parent) / name}", AekitWarning,
                      stacklevel=2)
        return {"out_dir": parent, "name": name}
    if out is None:
        return {"out_dir": None, "name": None}  # the config's, else runs/<family>-<data>-<time>
    folder = Path(os.path.normpath(out))
    if folder.name in ("", ".", ".."):  # "-o ." names the working folder itself
        folder = folder.resolve()
    return {"out_dir": str(folder.parent), "name": folder.name}


def model_settings(pairs: list[tuple[str, Any]], command: str) -> dict[str, Any]:
    """``--set`` pairs as model parameters. Keys are written as in a YAML config
    (``model.latent_dim``), as ``aekit train`` takes them; the bare ``latent_dim`` is accepted too."""
    from aekit.errors import ConfigError

    out = {}
    for key, value in pairs:
        section, dot, name = key.partition(".")
        if dot and section != "model":
            raise ConfigError(f"--set {key}: {command} takes model settings (model.NAME); use the flags for the others")
        out[name if dot else key] = value
    return out


def write_array(path: Path, array: Any, columns: Sequence[str] | None = None, ids: Sequence[str] | None = None,
                **named: Any) -> Path:
    """Write rows atomically as .npy, .npz (key ``X``, ``ids`` and ``named``) or .csv.

    A CSV has a header (``columns``, default ``c0, c1, ...``) and, when ``ids`` are given,
    an ``id`` column first, so every row says which input it came from.
    """
    import numpy as np

    from aekit.errors import ConfigError
    from aekit.io import atomic_write_with

    suffix = path.suffix.lower()
    if suffix == ".npy":
        return atomic_write_with(path, lambda tmp: np.save(open(tmp, "wb"), array))
    if suffix == ".npz":
        extra = dict(named) if ids is None else {**named, "ids": np.asarray(ids, dtype=str)}
        return atomic_write_with(path, lambda tmp: np.savez(open(tmp, "wb"), X=array, **extra))
    if suffix == ".csv":
        import pandas as pd

        flat = np.asarray(array).reshape(len(array), -1)
        names = list(columns) if columns is not None and len(columns) == flat.shape[1] else [f"c{i}" for i in range(flat.shape[1])]
        frame = pd.DataFrame(flat, columns=names)
        if ids is not None:
            frame.insert(0, "id", list(ids))
        return atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.7g"))
    raise ConfigError(f"{path}: output must end in .npy, .npz or .csv (or be a folder, for images)")
