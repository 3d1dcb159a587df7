"""The training pipeline behind ``aekit train`` and :func:`aekit.train`.

config -> load data -> seeded split -> scaler fitted on train -> model from the
registry -> one engine -> run folder (config, weights, metrics, logs, figures).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

from aekit.config import from_dict, load_yaml, to_dict
from aekit.errors import ConfigError, DataError
from aekit.training.engine import OptimConfig, TrainerConfig

if TYPE_CHECKING:
    from aekit.runs import TrainedAutoencoder

RUN_DIR_ENV = "AEKIT_RUN_DIR"  # shared by DDP worker processes so all ranks use one folder


@dataclass
class DataConfig:
    source: str = "mnist"  # built-in name (mnist, digits, fashion-mnist, ...) or a path
    label_column: str | None = None  # label column of a CSV/Parquet table
    id_column: str | None = None  # a table column that names rows (kept as ids, not a feature)
    validation_fraction: float = 0.2  # share of the training rows held out for validation (the estimators' name)
    test_fraction: float | None = None  # None: official test split if any, else 0.1
    scaling: str = "minmax"  # minmax, standard or none; fitted on the training split
    per_feature: bool | None = None  # None: per feature for tables, global for images/series
    limit: int | None = None  # keep only the first N rows (quick experiments)
    seed: int = 0  # split seed


@dataclass
class RunConfig:
    model: dict[str, Any] = field(default_factory=lambda: {"family": "mlp"})  # family + its parameters
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    noise: list[dict[str, Any]] = field(default_factory=list)  # corruption for denoising training
    out_dir: str = "runs"  # parent folder of run folders
    name: str | None = None  # run folder name (default: family-data-timestamp)
    report: bool = True  # write the HTML report at the end


def parse_config(config: RunConfig | dict[str, Any] | str | Path) -> RunConfig:
    """Accept a RunConfig, a dict, or a YAML path; validate strictly."""
    if isinstance(config, RunConfig):
        return config
    data = load_yaml(config) if isinstance(config, (str, Path)) else dict(config)
    section = data.get("data")
    if isinstance(section, dict) and "val_fraction" in section:  # the 0.1 name, in configs and old run folders
        section = dict(section)
        if "validation_fraction" in section:
            raise ConfigError("config.data: give validation_fraction only (val_fraction is its old name)")
        section["validation_fraction"] = section.pop("val_fraction")
        data["data"] = section
    cfg = from_dict(RunConfig, data, where="config")
    if "family" not in cfg.model:
        raise ConfigError("config.model needs a 'family' (see `aekit models`)")
    from aekit.registry import get_family

    get_family(str(cfg.model["family"]))
    from aekit.data.loaders import is_builtin
    from aekit.training.engine import check_settings

    check_settings(cfg.trainer, cfg.optim)
    if not is_builtin(cfg.data.source) and Path(cfg.data.source).expanduser().exists():
        # stored runs must find their data again from any working folder
        cfg.data.source = str(Path(cfg.data.source).expanduser().resolve())
    return cfg


def _run_dir(cfg: RunConfig) -> Path:
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    if cfg.name:
        return Path(cfg.out_dir) / cfg.name
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    src = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(cfg.data.source).stem).strip("_")[:32] or "data"
    base = Path(cfg.out_dir) / f"{cfg.model['family']}-{src}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


@contextlib.contextmanager
def new_run_dir(cfg: RunConfig) -> Iterator[Path]:
    """Create the run folder of ``cfg`` for a fresh run; remove it again if the run fails.

    A named folder that already holds files is refused (resume it instead), so a finished
    run is never overwritten. A failed run leaves nothing behind unless it got far enough
    to write ``checkpoints/last.ckpt``, which ``--resume`` can continue from.
    """
    run_dir = _run_dir(cfg)
    from_env = bool(os.environ.get(RUN_DIR_ENV))
    if not from_env and run_dir.is_dir() and any(run_dir.iterdir()):
        raise ConfigError(f"run folder {run_dir} already exists and is not empty: pick another name, "
                          f"or continue it with --resume {run_dir}")
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"run folder {run_dir} exists and is not a folder")
    from aekit.io import removed_on_failure

    # a DDP worker's folder (from the environment) belongs to rank 0, which cleans up
    keep = (lambda d: True) if from_env else (lambda d: (d / "checkpoints" / "last.ckpt").exists())
    with removed_on_failure(run_dir, keep=keep) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        yield folder


def prepare_data(cfg: RunConfig, data: Any = None) -> tuple[Any, Any, Any]:
    """Load (or take ``data`` handed over in memory), split and scale the data of ``cfg``:
    returns (dataset, splits, scaler)."""
    from aekit.data import Scaler, load_dataset, split_dataset
    from aekit.data.loaders import IN_MEMORY, as_dataset, sample_rows

    if data is not None:
        ds = as_dataset(data, label_column=cfg.data.label_column)
        if cfg.data.limit is not None and cfg.data.limit < len(ds.X):
            keep = sample_rows(ds.y, len(ds.X), cfg.data.limit)
            ds.X, ds.y = ds.X[keep], None if ds.y is None else ds.y[keep]
    elif cfg.data.source == IN_MEMORY:
        raise DataError("this run was trained on data handed over in memory; pass the same data again (data=...)")
    else:
        columns = {k: v for k, v in (("label_column", cfg.data.label_column), ("id_column", cfg.data.id_column)) if v}
        ds = load_dataset(cfg.data.source, limit=cfg.data.limit, **columns)
    splits = split_dataset(ds, cfg.data.validation_fraction, cfg.data.test_fraction, cfg.data.seed)
    scaler = Scaler(cfg.data.scaling, cfg.data.per_feature).fit(splits.train.X)  # type: ignore[arg-type]
    return ds, splits, scaler


def train(config: RunConfig | dict[str, Any] | str | Path, resume: str | Path | None = None,
          callbacks: Sequence[Any] = (), *, pretrain: bool = False,
          on_finish: Sequence[Callable[["RunOutcome"], Any]] = (), data: Any = None) -> "TrainedAutoencoder":
    """Train the model of ``config`` and write a run folder; returns the trained model.

    ``resume`` continues an interrupted run folder from its ``checkpoints/last.ckpt``
    (the folder's own ``config.yaml`` is used). ``callbacks`` are extra Lightning
    callbacks (e.g. the tuner's pruning callback). ``pretrain`` runs the family's greedy
    layer-wise schedule (``stacked``, ``dbn``; :mod:`aekit.training.greedy`) before the
    end-to-end training. ``on_finish`` functions get the :class:`RunOutcome` (the
    trained model and the in-memory splits) once the folder is written: that is how the
    layers above draw figures and reports without loading anything again.

    ``data`` hands the examples over in memory (a numpy array, torch tensor, ``(X, y)``
    pair or pandas data frame) instead of ``data.source``; a config whose ``data.source``
    is such an object works the same. The run folder then records ``<in-memory data>``.
    """
    from aekit.io import atomic_write_text
    from aekit.registry import build_model
    from aekit.runs import TrainedAutoencoder
    from aekit.training.engine import fit_model, is_launched_worker

    import yaml

    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"cannot resume: {run_dir} has no config.yaml")
        if not (run_dir / "checkpoints" / "last.ckpt").is_file():
            raise ConfigError(f"cannot resume: {run_dir / 'checkpoints' / 'last.ckpt'} does not exist")
        cfg = parse_config(run_dir / "config.yaml")
        folder: Any = contextlib.nullcontext(run_dir)
    else:
        config, data = _in_memory_source(config, data)
        cfg = parse_config(config)
        if data is not None:
            from aekit.data.loaders import IN_MEMORY

            cfg.data.source = IN_MEMORY
        folder = contextlib.nullcontext(_run_dir(cfg)) if is_launched_worker() else new_run_dir(cfg)
    ds, splits, scaler = prepare_data(cfg, data)
    params = {k: v for k, v in cfg.model.items() if k != "family"}
    params.setdefault("input_shape", list(ds.shape))
    # weight initialisation is part of the seeded run
    model = build_model(cfg.model["family"], params, seed=cfg.trainer.seed)
    check_data_range(model, cfg.data.scaling, splits.train.X)
    if tuple(model.input_shape) != ds.shape:
        raise DataError(f"model input_shape {model.input_shape} does not match the data's {ds.shape}")
    if pretrain:
        from aekit.training.greedy import check_pretrainable, pretrain as run_schedule

        check_pretrainable(model)
    Xtr = scaler.transform(splits.train.X)
    Xva = None if splits.val is None else scaler.transform(splits.val.X)

    worker = is_launched_worker()
    with folder as run_dir:
        try:
            if not worker:
                os.environ[RUN_DIR_ENV] = str(run_dir)  # DDP workers started by Lightning inherit it
                stored = to_dict(cfg)
                stored["model"] = {"family": cfg.model["family"], **to_dict(model.config)}
                if resume is None:
                    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(stored, sort_keys=False))
            extra: dict[str, Any] = {}
            pre_seconds = 0.0
            if pretrain:
                start = time.perf_counter()
                model.train()
                stages = run_schedule(model, Xtr, Xva, trainer=cfg.trainer, optim=cfg.optim, noise=cfg.noise or None,
                                      seed=cfg.trainer.seed)
                pre_seconds = time.perf_counter() - start
                extra = {"pretrain_seconds": round(pre_seconds, 3), "pretraining": stages}
            result = fit_model(
                model, Xtr, Xva, trainer=cfg.trainer, optim=cfg.optim, noise=cfg.noise or None,
                run_dir=run_dir, resume=resume is not None, callbacks=callbacks,
            )
        finally:
            if not worker:
                os.environ.pop(RUN_DIR_ENV, None)
        if not result.is_global_zero or worker:
            return TrainedAutoencoder(result.model, scaler, {}, None)
        return finish_run(cfg, ds, splits, scaler, result.model, run_dir, result.history, result.best_epoch,
                          result.seconds + pre_seconds, extra_metrics=extra, on_finish=on_finish)


def _in_memory_source(config: Any, data: Any) -> tuple[Any, Any]:
    """A dict config whose ``data.source`` is an array or data frame: move it to ``data``."""
    if not isinstance(config, dict) or not isinstance(config.get("data"), dict):
        return config, data
    source = config["data"].get("source")
    if source is None or isinstance(source, (str, Path)):
        return config, data
    if data is not None:
        raise ConfigError("give the data either as data.source or as data=..., not both")
    section = {k: v for k, v in config["data"].items() if k != "source"}
    return {**config, "data": section}, source


def check_data_range(model: Any, scaling: str, X: Any = None) -> None:
    """A Bernoulli reconstruction term (BCE loss, Bernoulli VAE, Bernoulli RBM visibles) needs
    targets in [0, 1]: min-max scaling gives that, and so does unscaled data already in [0, 1]
    (``X``, the training rows); anything else is refused instead of training on a meaningless loss."""
    cfg = model.config
    bernoulli = (getattr(cfg, "loss", None) == "bce" or getattr(cfg, "likelihood", None) == "bernoulli"
                 or getattr(cfg, "visible", None) == "bernoulli")
    if not bernoulli or scaling == "minmax":
        return
    if scaling == "none" and X is not None and float(np.min(X)) >= 0.0 and float(np.max(X)) <= 1.0:
        return
    raise ConfigError(f"model family {model.family!r} uses loss 'bce' or a Bernoulli likelihood, which needs "
                      f"data in [0, 1]: use data.scaling: minmax, data already in [0, 1] with scaling none, "
                      f"or an MSE/Gaussian model")


@dataclass
class RunOutcome:
    """What a finished run hands to ``on_finish``: the run folder's contents, still in memory."""

    config: RunConfig
    dataset: Any  # the loaded Dataset (name, kind, class names, feature names)
    splits: Any  # the run's own train/val/test split
    trained: "TrainedAutoencoder"
    metrics: dict[str, Any]


def finish_run(cfg: RunConfig, ds: Any, splits: Any, scaler: Any, model: Any, run_dir: Path,
               history: list[dict[str, float]], best_epoch: int | None, seconds: float,
               extra_metrics: dict[str, Any] | None = None,
               on_finish: Sequence[Callable[[RunOutcome], Any]] = ()) -> "TrainedAutoencoder":
    """Save a trained model into ``run_dir`` and write what every run folder holds.

    ``model.safetensors`` + ``model.json``, ``metrics.json`` (loss parts per split, the
    history, ``extra_metrics``) and ``examples.npz`` (a sample of the held-out examples,
    what reports draw later without loading the data set again); then each ``on_finish``
    (figures, the HTML report) with the run still in memory.
    """
    from aekit.io import atomic_save_json
    from aekit.runs import TrainedAutoencoder, save_examples, save_model

    extra = {"data": {"source": cfg.data.source, "name": ds.name, "kind": ds.kind, "input_shape": list(ds.shape),
                      "feature_names": ds.feature_names, "class_names": ds.class_names}}
    save_model(run_dir, model, scaler, extra)
    trained = TrainedAutoencoder(model, scaler, extra, run_dir)
    metrics: dict[str, Any] = {
        "family": cfg.model["family"],
        "epochs": len(history),
        "best_epoch": best_epoch,
        "seconds": round(seconds, 3),
        **(extra_metrics or {}),
        "splits": splits.info,
        "history": history,
    }
    for name, split in (("train", splits.train), ("val", splits.val), ("test", splits.test)):
        if split is not None:
            metrics[name] = trained.evaluate(split.X)
    atomic_save_json(run_dir / "metrics.json", metrics)
    held_out = splits.test or splits.val or splits.train
    save_examples(run_dir, held_out.X, held_out.y)
    outcome = RunOutcome(cfg, ds, splits, trained, metrics)
    for hook in on_finish:
        hook(outcome)
    return trained
