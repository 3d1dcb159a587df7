"""Hyperparameter search with Optuna: ``aekit tune CONFIG --trials N``.

Every trial is an ordinary training run (``aekit.train``) of the base config with some
values replaced: code size, depth and widths, activation, loss, Gaussian input noise
and learning rate. Trials are judged by one metric that does not depend on the loss
being tried: the mean squared reconstruction error on the validation split, in scaled
units (``val MSE``). A Lightning callback reports it after every epoch so the median
pruner can stop poor trials early.

- The base config itself is the first trial (enqueued), so the best config found is at
  least as good as the default by construction; :class:`TuneResult` says whether the
  search actually beat it.
- The study lives in SQLite (``<out>/study.db`` unless ``storage`` is given), so running
  the same command again resumes it: ``trials`` is the total number of finished
  (complete or pruned) trials wanted, and a trial left running by an interrupted process
  is marked failed and re-run with the same values. Run one tuner per study at a time.
- Writes ``runs/<study>/trial-NNN/`` (one run folder per trial), ``best.yaml`` (the best
  run config), ``trials.csv`` and ``compare.html`` (every trial that produced a model).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import AekitError, ConfigError

DIMENSIONS = ("latent_dim", "depth", "widths", "activation", "loss", "noise", "lr")


@dataclass
class SearchSpace:
    """Values a trial may take. The base config's own values are always added to the choices."""

    latent_dim: list[int] = field(default_factory=lambda: [2, 4, 8, 16, 32, 64])  # code sizes
    depth: list[int] = field(default_factory=lambda: [1, 2, 3])  # hidden layers in the encoder (mirrored)
    widths: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])  # width of each hidden layer
    activation: list[str] = field(default_factory=lambda: ["relu", "leaky_relu", "elu", "gelu", "tanh"])
    loss: list[str] = field(default_factory=lambda: ["mse", "bce", "l1"])  # bce only for min-max scaled data
    noise: tuple[float, float] = (0.0, 0.5)  # Gaussian input-noise sigma (0 = plain autoencoder)
    lr: tuple[float, float] = (1e-4, 1e-2)  # learning rate, log-uniform
    search: tuple[str, ...] = DIMENSIONS  # dimensions to search; the others keep the base values


@dataclass
class TuneResult:
    """Outcome of :func:`tune`; values are validation MSE in scaled units (lower is better)."""

    study: Any
    best_value: float
    best_trial: int
    best_config: dict[str, Any]
    default_value: float | None
    improved: bool  # True when a searched config beat the base config
    out_dir: Path
    best_config_path: Path
    compare_path: Path | None
    counts: dict[str, int]


def _with_default(choices: list[Any], value: Any) -> list[Any]:
    return choices if value in choices else [value, *choices]


class _Space:
    """The search space resolved against one base config: what is searched and the base values."""

    def __init__(self, base: dict[str, Any], space: SearchSpace) -> None:
        from aekit.config import from_dict
        from aekit.registry import get_family

        unknown = set(space.search) - set(DIMENSIONS)
        if unknown:
            raise ConfigError(f"unknown search dimension(s) {', '.join(sorted(unknown))}; choose from {', '.join(DIMENSIONS)}")
        family = get_family(str(base["model"]["family"]))
        params = {k: v for k, v in base["model"].items() if k != "family"}
        model_fields = {f.name for f in fields(family.config_class)}
        # the family's defaults fill what the base config leaves out (input_shape is not known yet)
        filled = {k: v for k, v in params.items() if k != "input_shape"}
        cfg = from_dict(family.config_class, filled, where="config.model")
        self.base_model = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
        self.space = space
        search = set(space.search)
        self.dims: dict[str, Any] = {}
        if "latent_dim" in search and "latent_dim" in model_fields:
            # a family default of None (e.g. conv: "inferred") stays a choice of its own
            self.dims["latent_dim"] = _with_default(sorted(space.latent_dim), self.base_model["latent_dim"])
        if "hidden" in model_fields and search & {"depth", "widths"}:
            hidden = list(self.base_model["hidden"])
            self.dims["depth"] = _with_default(sorted(space.depth), len(hidden)) if "depth" in search else [len(hidden)]
            self.dims["widths"] = sorted(set(space.widths) | set(hidden)) if "widths" in search else None
            self.base_hidden = hidden
        for name in ("activation", "loss"):
            if name in search and name in model_fields:
                choices = list(getattr(space, name))
                if name == "loss" and (base.get("data", {}).get("scaling", "minmax") != "minmax"
                                       or self.base_model.get("output_activation", "sigmoid") != "sigmoid"):
                    choices = [c for c in choices if c != "bce"]  # bce needs targets and outputs in [0, 1]
                self.dims[name] = _with_default(choices, self.base_model[name])
        noise = base.get("noise") or []
        gaussian_only = all(n.get("kind") == "gaussian" for n in noise) and len(noise) <= 1
        if "noise" in search and gaussian_only:
            sigma = float(noise[0].get("sigma", 0.1)) if noise else 0.0
            lo, hi = space.noise
            self.dims["noise"] = (min(lo, sigma), max(hi, sigma))
            self.base_sigma = sigma
        if "lr" in search:
            lr = float(base.get("optim", {}).get("lr", 1e-3))
            self.dims["lr"] = (min(space.lr[0], lr), max(space.lr[1], lr))
            self.base_lr = lr
        if not self.dims:
            raise ConfigError(f"nothing to search for family {family.name!r} with search={list(space.search)}")

    def default_params(self) -> dict[str, Any]:
        """The Optuna parameters that reproduce the base config (the first, enqueued trial)."""
        p: dict[str, Any] = {}
        for name in ("latent_dim", "activation", "loss"):
            if name in self.dims:
                p[name] = self.base_model[name]
        if "depth" in self.dims:
            p["depth"] = len(self.base_hidden)
            if self.dims["widths"] is not None:
                p.update({f"width_{i}": w for i, w in enumerate(self.base_hidden)})
        if "noise" in self.dims:
            p["noise_sigma"] = self.base_sigma
        if "lr" in self.dims:
            p["lr"] = self.base_lr
        return p

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Draw one trial's values and return them as config overrides (dotted keys)."""
        out: dict[str, Any] = {}
        for name in ("latent_dim", "activation", "loss"):
            if name in self.dims:
                out[f"model.{name}"] = trial.suggest_categorical(name, self.dims[name])
        if "depth" in self.dims:
            depth = trial.suggest_categorical("depth", self.dims["depth"])
            if self.dims["widths"] is None:
                hidden = (self.base_hidden * depth)[:depth]
            else:
                hidden = [trial.suggest_categorical(f"width_{i}", self.dims["widths"]) for i in range(depth)]
            out["model.hidden"] = hidden
        if "noise" in self.dims:
            sigma = trial.suggest_float("noise_sigma", *self.dims["noise"])
            out["noise"] = [{"kind": "gaussian", "sigma": round(sigma, 4)}] if sigma > 0 else []
        if "lr" in self.dims:
            out["optim.lr"] = trial.suggest_float("lr", *self.dims["lr"], log=True)
        return out


def apply_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with dotted-key ``overrides`` set."""
    from aekit.config import set_dotted

    cfg = copy.deepcopy(base)
    for key, value in overrides.items():
        set_dotted(cfg, key, value)
    return cfg


def _pruning_callback(trial: Any, X_val: np.ndarray) -> Any:
    """Lightning callback: after each epoch, report the validation MSE to ``trial`` and stop when pruned."""
    import lightning as L
    import torch

    class OptunaPruning(L.Callback):
        def __init__(self) -> None:
            self.pruned = False
            self.X = torch.from_numpy(np.ascontiguousarray(X_val, np.float32))

        def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
            value = val_mse(pl_module.model, self.X)
            trial.report(value, step=trainer.current_epoch)
            if not math.isfinite(value) or trial.should_prune():
                self.pruned = True
                trainer.should_stop = True  # the engine keeps the best weights; the tuner marks the trial pruned

    return OptunaPruning()


def val_mse(model: Any, X: Any, batch_size: int = 4096) -> float:
    """Mean squared reconstruction error of ``model`` on scaled inputs ``X`` (eval mode, no gradients)."""
    from aekit.runs import batched

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device

    def per_example(t: Any) -> Any:
        t = t.to(device)
        return ((model.reconstruct(t) - t) ** 2).mean(dim=tuple(range(1, t.ndim))).cpu()

    try:
        errors = batched(per_example, X, batch_size)
    finally:
        model.train(was_training)
    return float(errors.mean()) if len(errors) else 0.0


def tune(config: dict[str, Any] | str | Path, trials: int = 20, out: str | Path | None = None,
         study_name: str | None = None, storage: str | None = None, space: SearchSpace | None = None,
         seed: int = 0, timeout: float | None = None) -> TuneResult:
    """Search around ``config`` until the study has ``trials`` finished trials; see the module docs."""
    import optuna
    from optuna.trial import TrialState

    from aekit.config import load_yaml, to_dict
    from aekit.pipeline import parse_config, prepare_data
    from aekit.reports.training import train

    if trials < 1:
        raise ConfigError("--trials must be >= 1")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"--timeout must be > 0 seconds, got {timeout}")
    raw = load_yaml(config) if isinstance(config, (str, Path)) else copy.deepcopy(dict(config))
    name = study_name or (Path(config).stem if isinstance(config, (str, Path)) else "study")
    base = to_dict(parse_config(raw))  # validated, every section filled in
    base.pop("name", None)
    base["report"] = False  # one compare page at the end instead of a report per trial
    base["trainer"]["progress"] = False
    resolved = _Space(base, space or SearchSpace())
    out_dir = Path(out) if out is not None else Path("tune") / name
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"tune output {out_dir} exists and is not a folder")

    _, splits, scaler = prepare_data(parse_config(base))
    if splits.val is None:
        raise ConfigError("tuning needs a validation split: set data.validation_fraction > 0")
    X_val = scaler.transform(splits.val.X)

    out_dir.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out_dir / 'study.db').resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            study_name=name, storage=storage, direction="minimize", load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        )
    except Exception as err:  # sqlalchemy: unknown URL scheme, unreachable database, ...
        if isinstance(err, AekitError):
            raise
        raise ConfigError(f"cannot open the study storage {storage!r}: {str(err).splitlines()[0]}") from None
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # left running by an interrupted tuner: fail it and run the same values again
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs=dict(t.user_attrs))
    if not study.trials:
        study.enqueue_trial(resolved.default_params(), user_attrs={"default": True})

    def objective(trial: Any) -> float:
        cfg = apply_overrides(base, resolved.suggest(trial))
        # one folder per study: studies sharing an output folder or a storage never collide
        cfg["out_dir"], cfg["name"] = str(out_dir / "runs" / study.study_name), f"trial-{trial.number:03d}"
        cb = _pruning_callback(trial, X_val)
        trained = train(cfg, callbacks=[cb])
        trial.set_user_attr("run", str(trained.path))
        value = val_mse(trained.model, X_val)
        if cb.pruned:
            raise optuna.TrialPruned(f"pruned at epoch {len(trained.metrics.get('history', []))}")
        return value

    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(study.get_trials(deepcopy=False, states=finished))
    if trials > done:
        study.optimize(objective, n_trials=trials - done, timeout=timeout, catch=(AekitError,), gc_after_trial=False)
    return _finish(study, base, resolved, out_dir)


def _finish(study: Any, base: dict[str, Any], resolved: _Space, out_dir: Path) -> TuneResult:
    from optuna.trial import TrialState

    import yaml

    from aekit.io import atomic_write_text
    from aekit.reports.compare import compare_runs

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise AekitError(f"study {study.study_name!r} has no completed trial yet (all failed or pruned)")
    best = min(complete, key=lambda t: t.value)
    default = next((t for t in complete if t.user_attrs.get("default")), None)
    best_cfg = apply_overrides(base, _overrides_from_params(resolved, best.params))
    best_cfg.pop("out_dir", None)
    best_cfg["report"] = True
    best_path = atomic_write_text(out_dir / "best.yaml", yaml.safe_dump(best_cfg, sort_keys=False))
    study.trials_dataframe().to_csv(out_dir / "trials.csv", index=False)
    runs, extra = [], {}
    for t in study.trials:
        run = t.user_attrs.get("run")
        if run and (Path(run) / "model.json").is_file():
            runs.append(run)
            extra[Path(run).name] = {"trial": t.number, "state": t.state.name.lower(),
                                     "val MSE": t.value if t.value is not None else (max(t.intermediate_values.items())[1] if t.intermediate_values else math.nan),
                                     "default": "yes" if t.user_attrs.get("default") else ""}
    compare_path = None
    if runs:
        compare_path = compare_runs(runs, out_dir / "compare.html", extra=extra,
                                    title=f"aekit tune: study {study.study_name}").path
    counts = {s.name.lower(): len(study.get_trials(deepcopy=False, states=(s,))) for s in TrialState}
    default_value = None if default is None else float(default.value)
    improved = default_value is not None and best.value < default_value and best.number != default.number
    return TuneResult(study, float(best.value), best.number, best_cfg, default_value, improved, out_dir, best_path, compare_path,
                      {k: v for k, v in counts.items() if v})


def _overrides_from_params(resolved: _Space, params: dict[str, Any]) -> dict[str, Any]:
    """Replay stored trial parameters through :meth:`_Space.suggest` to get config overrides."""
    class _Fixed:
        def suggest_categorical(self, name: str, choices: Any) -> Any:
            return params[name]

        def suggest_float(self, name: str, *args: Any, **kw: Any) -> float:
            return float(params[name])

    return resolved.suggest(_Fixed())
