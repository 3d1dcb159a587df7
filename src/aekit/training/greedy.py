"""Greedy layer-wise pretraining followed by end-to-end fine-tuning.

Works for every family whose model has a ``pretrain(train_X, val_X, *, trainer,
optim, noise, seed) -> list[dict]`` method: ``stacked`` (one-hidden-layer
autoencoders, one per layer) and ``dbn`` (a stack of RBMs). The fine-tuning is an
ordinary :func:`~aekit.training.engine.fit_model` run, so the result is a normal
model and :func:`train_greedy` writes a normal run folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aekit.errors import ConfigError
from aekit.training.engine import FitResult, OptimConfig, TrainerConfig, fit_model


@dataclass
class GreedyResult:
    """Per-stage reports of the pretraining and the fine-tuning run."""

    model: Any
    stages: list[dict[str, Any]]
    finetune: FitResult
    pretrain_seconds: float


def _check_pretrainable(model: Any) -> None:
    if not callable(getattr(model, "pretrain", None)):
        raise ConfigError(f"model family {model.family!r} has no greedy pretraining; use 'stacked' or 'dbn'")


def pretrain_stacked(
    model: Any,
    train_X: Any,
    val_X: Any = None,
    *,
    trainer: TrainerConfig | None = None,
    optim: OptimConfig | None = None,
    noise: list[dict[str, Any]] | None = None,
    run_dir: str | Path | None = None,
) -> GreedyResult:
    """Pretrain ``model`` layer by layer, then fine-tune it end to end on ``train_X``.

    Stage settings (epochs, learning rate, CD steps) come from the model's config, so a
    run folder's ``config.yaml`` reproduces the whole schedule.
    """
    _check_pretrainable(model)
    tcfg = trainer or TrainerConfig()
    start = time.perf_counter()
    model.train()
    stages = model.pretrain(train_X, val_X, trainer=tcfg, optim=optim, noise=noise, seed=tcfg.seed)
    pre_seconds = time.perf_counter() - start
    fit = fit_model(model, train_X, val_X, trainer=tcfg, optim=optim, noise=noise, run_dir=run_dir)
    return GreedyResult(fit.model, stages, fit, pre_seconds)


def pretraining_figure(stages: list[dict[str, Any]], path: str | Path) -> Path:
    """One panel per greedy stage: train/val loss of an AE stage, free energy and reconstruction MSE of an RBM."""
    from aekit.reports.figures import _plt, save_figure

    plt = _plt()
    fig, axes = plt.subplots(1, max(len(stages), 1), figsize=(3.6 * max(len(stages), 1), 3.0), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        hist = stage["history"]
        epochs = [int(r["epoch"]) + 1 for r in hist]
        if stage["kind"] == "rbm":
            ax.plot(epochs, [r["free_energy"] for r in hist], marker="o", ms=3, label="free energy (train)")
            ax.set_ylabel("free energy")
            twin = ax.twinx()
            twin.plot(epochs, [r["recon_error"] for r in hist], "--", color="C1", marker="o", ms=3, label="recon MSE")
            twin.set_ylabel("reconstruction MSE")
            handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
            ax.legend(handles=handles, fontsize=7)
            ax.set_title(f"stage {stage['stage']}: rbm {stage['layer']}", fontsize=9)
            ax.set_xlabel("epoch")
            continue
        else:
            for key, style in (("train/loss", "-"), ("val/loss", "--")):
                if any(key in r for r in hist):
                    ax.plot(epochs, [r.get(key, float("nan")) for r in hist], style, marker="o", ms=3, label=key.split("/")[0])
            ax.set_ylabel("loss")
        ax.set_title(f"stage {stage['stage']}: {stage['kind']} {stage['layer']}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def train_greedy(config: Any) -> Any:
    """The :func:`aekit.train` pipeline with greedy pretraining before the fine-tuning.

    Loads and splits the data as :func:`aekit.train` does, pretrains on the scaled
    training split, fine-tunes, and writes the run folder; ``metrics.json`` gets a
    ``pretraining`` list with each stage's loss. Returns a ``TrainedAutoencoder``.
    """
    import yaml

    from aekit.config import to_dict
    from aekit.errors import DataError
    from aekit.io import atomic_write_text
    from aekit.pipeline import check_data_range, finish_run, new_run_dir, parse_config, prepare_data
    from aekit.registry import build_model

    cfg = parse_config(config)
    ds, splits, scaler = prepare_data(cfg)
    params = {k: v for k, v in cfg.model.items() if k != "family"}
    params.setdefault("input_shape", list(ds.shape))
    model = build_model(cfg.model["family"], params, seed=cfg.trainer.seed)
    _check_pretrainable(model)
    if tuple(model.input_shape) != ds.shape:
        raise DataError(f"model input_shape {model.input_shape} does not match the data's {ds.shape}")
    check_data_range(model, cfg.data.scaling)
    with new_run_dir(cfg) as run_dir:
        stored = to_dict(cfg)
        stored["model"] = {"family": cfg.model["family"], **to_dict(model.config)}
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(stored, sort_keys=False))
        Xtr = scaler.transform(splits.train.X)
        Xva = None if splits.val is None else scaler.transform(splits.val.X)
        result = pretrain_stacked(
            model, Xtr, Xva, trainer=cfg.trainer, optim=cfg.optim, noise=cfg.noise or None, run_dir=run_dir,
        )
        fit = result.finetune
        stages = result.stages
        return finish_run(
            cfg, ds, splits, scaler, result.model, run_dir, fit.history, fit.best_epoch,
            fit.seconds + result.pretrain_seconds,
            extra_metrics={"pretrain_seconds": round(result.pretrain_seconds, 3), "pretraining": stages},
            extra_figures=[lambda d: pretraining_figure(stages, d / "pretraining.png")] if stages else (),
        )

__all__ = ["GreedyResult", "pretrain_stacked", "pretraining_figure", "train_greedy"]
