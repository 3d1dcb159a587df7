"""What every experiment shares: a held-out split of a data set, and saving results."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import DataError


@dataclass
class HeldOut:
    """A data set split for an experiment: training rows and a held-out test set (original units)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray | None
    class_names: list[str] | None = None


def train_test_split_of(source: str, limit: int | None = None, test_limit: int | None = None, seed: int = 0) -> HeldOut:
    """Training rows and test rows of ``source``: the official test split if it has one, else 20 % held out.

    ``limit`` keeps a seeded, stratified sample of the training rows (see
    :func:`aekit.data.loaders.load_dataset`); ``test_limit`` the first rows of the test split.
    """
    from aekit.data import load_dataset, split_dataset

    ds = load_dataset(source, limit=limit)
    sp = split_dataset(ds, validation_fraction=0.0, test_fraction=None if ds.X_test is not None else 0.2, seed=seed)
    if sp.test is None:
        raise DataError(f"{ds.name}: {len(ds.X)} row(s) are too few to hold out a test split; use more rows (--limit)")
    Xte, yte = sp.test.X, sp.test.y
    if test_limit is not None:
        Xte, yte = Xte[:test_limit], None if yte is None else yte[:test_limit]
    return HeldOut(ds.name, sp.train.X, sp.train.y, Xte, yte, ds.class_names)


def run_split(run: str | Path, test_limit: int | None = None) -> HeldOut:
    """The training rows and held-out rows (test split, else validation) of a training run,
    split exactly as the run split them (its ``config.yaml``: source, limit, fractions, seed)."""
    from aekit.errors import ConfigError
    from aekit.pipeline import parse_config, prepare_data

    config = Path(run) / "config.yaml"
    if not config.is_file():
        raise ConfigError(f"{run}: no config.yaml, so its splits are unknown; pass --data")
    ds, splits, _ = prepare_data(parse_config(config))
    held = splits.test if splits.test is not None and len(splits.test.X) else splits.val
    if held is None or len(held.X) == 0:
        raise DataError(f"{run}: the run holds out no rows (test and validation fractions are 0); pass --data")
    Xte, yte = held.X, held.y
    if test_limit is not None:
        Xte, yte = Xte[:test_limit], None if yte is None else yte[:test_limit]
    return HeldOut(ds.name, splits.train.X, splits.train.y, Xte, yte, ds.class_names)


@dataclass
class Result:
    """Base of every experiment's result: ``summary`` (JSON-safe numbers and settings) and ``figures``."""

    summary: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict, repr=False)  # name -> matplotlib Figure
    json_name: str = "result.json"
    table_key: str = ""  # the summary entry (a list of row dicts) that ``table`` shows

    @property
    def table(self) -> Any:
        """``summary[table_key]`` as a data frame (one row per entry)."""
        import pandas as pd

        return pd.DataFrame(self.summary[self.table_key])

    def save(self, folder: str | Path, overwrite: bool = False, add_to: bool = False) -> dict[str, Path]:
        """Write ``json_name`` and one PNG per figure into ``folder``, all or nothing.

        A folder that already holds files is refused, so a finished result is never mixed
        with a new one by accident: ``overwrite`` replaces it whole, ``add_to`` adds these
        files to it (a run's own ``figures/``).
        """
        from aekit.io import new_folder, staged_folder

        folder = Path(folder)
        with (staged_folder(folder) if add_to else new_folder(folder, overwrite)) as tmp:
            self._write(tmp)
        return self._paths(folder)

    def _write(self, folder: Path) -> None:
        from aekit.io import atomic_write_text
        from aekit.plotting import save_figure

        for name, fig in self.figures.items():
            save_figure(fig, folder / f"{name}.png")
        atomic_write_text(folder / self.json_name, json.dumps(self.summary, indent=2, default=_plain) + "\n")

    def _paths(self, folder: Path) -> dict[str, Path]:
        return {**{name: folder / f"{name}.png" for name in self.figures}, "json": folder / self.json_name}


def _plain(obj: Any) -> Any:
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)
