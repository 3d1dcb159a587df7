"""Helpers shared by CLI modules (kept free of heavy imports)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

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


def write_array(path: Path, array: Any, **named: Any) -> Path:
    """Write an array atomically as .npy, .npz (key ``X`` plus ``named``) or .csv."""
    import numpy as np

    from aekit.errors import ConfigError
    from aekit.io import atomic_write_with

    suffix = path.suffix.lower()
    if suffix == ".npy":
        return atomic_write_with(path, lambda tmp: np.save(open(tmp, "wb"), array))
    if suffix == ".npz":
        return atomic_write_with(path, lambda tmp: np.savez(open(tmp, "wb"), X=array, **named))
    if suffix == ".csv":
        flat = np.asarray(array).reshape(len(array), -1)
        return atomic_write_with(path, lambda tmp: np.savetxt(tmp, flat, delimiter=",", fmt="%.7g"))
    raise ConfigError(f"{path}: output must end in .npy, .npz or .csv")
