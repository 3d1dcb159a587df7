"""The training pipeline behind ``aekit train`` and :func:`aekit.train`.

config -> load data -> seeded split -> scaler fitted on train -> model from the
registry -> one engine -> run folder (config, weights, metrics, logs, figures).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import re
import shutil
import time
import warnings
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
    limit: int | None = None  # keep a seeded, stratified sample of N rows (quick experiments)
    window: int | None = None  # a single series (a 1-D array, say) trains on windows of this many steps (None: 64)
    stride: int | None = None  # steps between window starts (None: a quarter of the window)
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

    # where the run trains is checked by train(): reading a GPU-trained run needs no GPU
    check_settings(cfg.trainer, cfg.optim, check_device=False)
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
def new_run_dir(cfg: RunConfig, overwrite: bool = False) -> Iterator[Path]:
    """Create the run folder of ``cfg`` for a fresh run, locked and marked ``running``.

    A named folder that already holds files is refused (resume it instead), so a finished
    run is never overwritten; ``overwrite=True`` moves the old folder aside and deletes it
    once the new run has finished (it comes back if the new run leaves nothing, and stays
    aside as ``.NAME.PID.replaced`` if the new run stops with a checkpoint). A failed
    run leaves nothing behind unless it got far enough to write ``checkpoints/last.ckpt``,
    which ``--resume`` can continue from; then ``state.json`` says why it stopped.
    """
    from aekit.runstate import LOCK_FILE, folder_lock, is_locked

    run_dir = _run_dir(cfg)
    if os.environ.get(RUN_DIR_ENV):  # a DDP worker's folder belongs to rank 0, which records and cleans up
        run_dir.mkdir(parents=True, exist_ok=True)
        yield run_dir
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"run folder {run_dir} exists and is not a folder")
    old: Path | None = None
    if _has_files(run_dir):
        if not overwrite:
            raise ConfigError(f"run folder {run_dir} already exists and is not empty: pick another --out folder, "
                              f"continue it with --resume {run_dir}, or replace it with --overwrite")
        if is_locked(run_dir):
            raise ConfigError(f"run folder {run_dir} is in use by another aekit process; it cannot be overwritten")
        old = run_dir.with_name(f".{run_dir.name}.{os.getpid()}.replaced")
        os.replace(run_dir, old)
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with folder_lock(run_dir):
            if _has_files(run_dir, ignore=(LOCK_FILE,)):  # another command got here first
                raise ConfigError(f"run folder {run_dir} already exists and is not empty: pick another --out folder, "
                                  f"or continue it with --resume {run_dir}")
            try:
                with run_attempt(run_dir):
                    yield run_dir
            except BaseException:
                if not (run_dir / "checkpoints" / "last.ckpt").exists():  # nothing to resume: leave no trace
                    if created:
                        shutil.rmtree(run_dir, ignore_errors=True)
                    else:  # the user's empty folder stays, empty (it was checked empty above)
                        for child in run_dir.iterdir():
                            if child.is_dir():
                                shutil.rmtree(child, ignore_errors=True)
                            else:
                                child.unlink(missing_ok=True)
                raise
    except BaseException:
        if old is not None and not run_dir.exists():
            os.replace(old, run_dir)  # the new run left nothing: the user keeps the old one
        # otherwise (the new run kept a checkpoint) the old folder stays aside, hidden but not lost
        raise
    if old is not None:  # the new run finished: now the old one may go
        shutil.rmtree(old, ignore_errors=True)


def _has_files(folder: Path, ignore: Sequence[str] = ()) -> bool:
    return folder.is_dir() and any(p.name not in ignore for p in folder.iterdir())


@contextlib.contextmanager
def run_attempt(run_dir: Path) -> Iterator[Path]:
    """Mark ``run_dir`` running for the block and record how the attempt ended.

    :func:`finish_run` marks it ``finished``; a signal leaves ``interrupted``, an error
    ``failed`` with the error's first line. The caller holds the folder's lock.
    """
    from aekit.errors import RunInterrupted
    from aekit.runstate import write_state

    for folder in (run_dir, run_dir / "checkpoints", run_dir / "logs"):  # left by a kill -9 mid-write
        for tmp in folder.glob(".*.tmp*"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
    write_state(run_dir, "running", new_attempt=True)
    try:
        yield run_dir
    except RunInterrupted as err:
        err.run_dir = run_dir
        _record_state(run_dir, "interrupted")
        raise
    except BaseException as err:
        _record_state(run_dir, "failed", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        if isinstance(err, OSError) and err.errno == errno.ENOSPC and (run_dir / "checkpoints" / "last.ckpt").is_file():
            raise OSError(err.errno, f"{err.strerror}; the run keeps its last complete checkpoint: free space, "
                                     f"then continue with aekit train --resume {run_dir}", err.filename) from None
        raise


def _record_state(run_dir: Path, state: str, message: str | None = None) -> None:
    from aekit.runstate import read_state, write_state

    try:
        if (read_state(run_dir) or {}).get("state") != "finished":  # a complete run stays complete
            write_state(run_dir, state, message)
    except Exception:  # noqa: BLE001 - e.g. a full disk: the original error is the one to report
        pass


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
    if ds.kind == "series":
        ds = series_windows(ds, cfg.data.window, cfg.data.stride)
    splits = split_dataset(ds, cfg.data.validation_fraction, cfg.data.test_fraction, cfg.data.seed)
    n = len(ds.X)
    test_fraction = 0.1 if cfg.data.test_fraction is None and ds.X_test is None else (cfg.data.test_fraction or 0.0)
    for name, frac, split in (("validation_fraction", cfg.data.validation_fraction, splits.val),
                              ("test_fraction", test_fraction, splits.test)):
        if frac > 0 and (split is None or len(split.X) == 0):
            raise DataError(f"{ds.name or cfg.data.source}: only {n} row{'s' if n != 1 else ''}, too few for "
                            f"data.{name} {frac:g} (that split would be empty); use more rows or set data.{name}: 0")
    scaler = Scaler(cfg.data.scaling, cfg.data.per_feature).fit(splits.train.X)  # type: ignore[arg-type]
    return ds, splits, scaler


DEFAULT_WINDOW = 64


def series_windows(ds: Any, window: int | None, stride: int | None) -> Any:
    """One long series ``(T, C)`` as a data set of windows ``(N, C, window)`` (kind ``sequence``).

    Without a ``window`` the default (64 steps, stride 16) is used and a warning says so,
    so a series never trains silently as a one-column table.
    """
    from aekit.data.dataset import Dataset
    from aekit.data.series import sliding_windows
    from aekit.errors import AekitWarning

    T, C = ds.X.shape[0], ds.X.shape[1]
    if window is None:
        window = min(DEFAULT_WINDOW, T)
        warnings.warn(f"{ds.name}: one series of {T} steps x {C} channel(s); training on windows of {window} steps "
                      f"(set data.window / data.stride to choose)", AekitWarning, stacklevel=3)
    stride = stride or max(1, window // 4)
    W, _ = sliding_windows(ds.X, int(window), int(stride))
    return Dataset(W, name=ds.name, kind="sequence")


def train(config: RunConfig | dict[str, Any] | str | Path, resume: str | Path | None = None,
          callbacks: Sequence[Any] = (), overwrite: bool = False, *, pretrain: bool = False,
          on_finish: Sequence[Callable[["RunOutcome"], Any]] = (), data: Any = None) -> "TrainedAutoencoder":
    """Train the model of ``config`` and write a run folder; returns the trained model.

    ``resume`` continues an interrupted or failed run folder from its last checkpoint
    that loads (the folder's own ``config.yaml`` is used); resuming a finished run
    changes nothing and returns it. ``overwrite`` replaces an existing run folder of the
    same name. ``callbacks`` are extra Lightning callbacks (e.g. the tuner's pruning
    callback). SIGINT/SIGTERM raise :class:`~aekit.errors.RunInterrupted` after the
    folder is marked ``interrupted``. ``pretrain`` runs the family's greedy layer-wise
    schedule (``stacked``, ``dbn``; :mod:`aekit.training.greedy`) before the end-to-end
    training. ``on_finish`` functions get the :class:`RunOutcome` (the trained model and
    the in-memory splits) once the folder is written: that is how the layers above draw
    figures and reports without loading anything again.

    ``data`` hands the examples over in memory (a numpy array, torch tensor, ``(X, y)``
    pair or pandas data frame) instead of ``data.source``; a config whose ``data.source``
    is such an object works the same. The run folder then records ``<in-memory data>``.
    """
    from aekit.runstate import signals_handled

    with signals_handled():
        return _train(config, resume, callbacks, overwrite, pretrain, on_finish, data)


def _train(config: RunConfig | dict[str, Any] | str | Path, resume: str | Path | None, callbacks: Sequence[Any],
           overwrite: bool, pretrain: bool, on_finish: Sequence[Callable[["RunOutcome"], Any]],
           data: Any) -> "TrainedAutoencoder":
    from aekit.io import atomic_write_text
    from aekit.registry import build_model
    from aekit.runs import TrainedAutoencoder
    from aekit.training.engine import fit_model, is_launched_worker

    import yaml

    worker = is_launched_worker()
    checkpoint: Path | None = None
    if resume is not None:
        from aekit.runstate import folder_lock, is_finished, is_locked, read_state

        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"cannot resume: {run_dir} has no config.yaml")
        if not worker and is_locked(run_dir):  # say so before loading any data
            raise ConfigError(f"run folder {run_dir} is in use by another aekit process "
                              f"(pid {(read_state(run_dir) or {}).get('pid', '?')})")
        if is_finished(run_dir) and not worker:
            from aekit.runs import load

            return load(run_dir)  # nothing to do, and nothing is touched
        if worker:
            checkpoint = run_dir / "checkpoints" / "last.ckpt"
        else:
            from aekit.training.checkpoints import pick_resume_checkpoint

            checkpoint, note = pick_resume_checkpoint(run_dir)
            if note:
                from aekit.errors import AekitWarning

                warnings.warn(note, AekitWarning, stacklevel=3)
        cfg = parse_config(run_dir / "config.yaml")

        @contextlib.contextmanager
        def resumed() -> Iterator[Path]:
            with folder_lock(run_dir), run_attempt(run_dir):
                yield run_dir

        folder: Any = contextlib.nullcontext(run_dir) if worker else resumed()
    else:
        config, data = _in_memory_source(config, data)
        cfg = parse_config(config)
        if data is not None:
            from aekit.data.loaders import IN_MEMORY

            cfg.data.source = IN_MEMORY
        folder = contextlib.nullcontext(_run_dir(cfg)) if worker else new_run_dir(cfg, overwrite=overwrite)
    from aekit.training.engine import check_accelerator

    check_accelerator(cfg.trainer.accelerator)
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
    if resume is None:
        warn_if_not_compressing(model)
    Xtr = scaler.transform(splits.train.X)
    Xva = None if splits.val is None else scaler.transform(splits.val.X)

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
                run_dir=run_dir, resume=checkpoint if checkpoint is not None else False, callbacks=callbacks,
            )
        finally:
            if not worker:
                os.environ.pop(RUN_DIR_ENV, None)
        if not result.is_global_zero or worker:
            return TrainedAutoencoder(result.model, scaler, {}, None)
        from aekit.runstate import raise_if_signalled

        raise_if_signalled()  # a signal during the last batch: stop before writing a finished-looking folder
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


def warn_if_not_compressing(model: Any) -> None:
    """An undercomplete ``mlp`` whose code is at least as wide as its input can learn the identity: say so."""
    import math

    latent = getattr(model.config, "latent_dim", None)
    if model.family != "mlp" or not isinstance(latent, int):
        return
    size = math.prod(model.input_shape)
    if latent > size:
        from aekit.errors import AekitWarning

        warnings.warn(f"model.latent_dim {latent} is larger than the input size {size}: this mlp is overcomplete "
                      f"and may learn the identity (use a smaller latent_dim, or a sparse/contractive/denoising "
                      f"model)", AekitWarning, stacklevel=4)


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
    parts = list(next((metrics[k] for k in ("test", "val", "train") if k in metrics), {"loss": 0.0}))
    metrics["units"] = model.loss_units(parts)  # what each number of train/val/test measures
    atomic_save_json(run_dir / "metrics.json", metrics)
    held_out = splits.test or splits.val or splits.train
    save_examples(run_dir, held_out.X, held_out.y)
    outcome = RunOutcome(cfg, ds, splits, trained, metrics)
    for hook in on_finish:
        hook(outcome)
    from aekit.runstate import write_state

    write_state(run_dir, "finished")  # last: a folder marked finished has every file
    return trained
