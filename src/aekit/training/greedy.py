"""Greedy layer-wise pretraining followed by end-to-end fine-tuning.

Two schedules, chosen by the model's family: ``stacked`` trains one-hidden-layer
autoencoders stage by stage (each on the frozen codes of the one below, through the
ordinary engine); ``dbn`` trains a stack of RBMs by contrastive divergence
(:mod:`aekit.training.rbm`). Models only describe their structure (which layer each
stage fills); the schedules live here. The fine-tuning is an ordinary
:func:`~aekit.training.engine.fit_model` run, so the result is a normal model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch

from aekit.errors import ConfigError
from aekit.models.rbm import RBM, DBNAutoencoder
from aekit.models.stacked import StackedAutoencoder
from aekit.registry import build_model
from aekit.training.engine import FitResult, OptimConfig, TrainerConfig, as_tensor, fit_model
from aekit.training.rbm import RBMTrainConfig, fit_rbm, rbm_metrics


@dataclass
class GreedyResult:
    """Per-stage reports of the pretraining and the fine-tuning run."""

    model: Any
    stages: list[dict[str, Any]]
    finetune: FitResult
    pretrain_seconds: float


def _flat(X: Any, device: torch.device | str = "cpu") -> torch.Tensor | None:
    return None if X is None or len(X) == 0 else as_tensor(X).flatten(1).to(device)


def pretrain_stages(
    model: StackedAutoencoder, train_X: Any, val_X: Any = None, *, trainer: TrainerConfig | None = None,
    optim: OptimConfig | None = None, noise: list[dict[str, Any]] | None = None, seed: int = 0,
) -> list[dict[str, Any]]:
    """Greedy autoencoder stages: train, freeze, encode, move one layer up. One report per stage."""
    cfg = model.config
    tcfg = replace(trainer or TrainerConfig(), max_epochs=cfg.pretrain_epochs, seed=seed)
    ocfg = replace(optim or OptimConfig(), lr=cfg.pretrain_lr, schedule="none")
    data, val = _flat(train_X), _flat(val_X)
    reports: list[dict[str, Any]] = []
    if cfg.pretrain_epochs == 0:
        return reports
    for i in range(len(cfg.hidden) + 1):
        stage = build_model("mlp", model.stage_params(i), seed=seed + i)
        # corruption kinds that assume [0, 1] data only make sense on the input stage
        fit = fit_model(stage, data, val, trainer=tcfg, optim=ocfg, noise=noise if i == 0 else None)
        model.load_stage(i, fit.model)
        last = fit.history[-1] if fit.history else {}
        reports.append({
            "stage": i + 1, "kind": "autoencoder", "layer": f"{stage.input_shape[0]}-{stage.latent_dim}",
            "epochs": len(fit.history), "train_loss": last.get("train/loss"), "val_loss": last.get("val/loss"),
            "seconds": round(fit.seconds, 3), "history": fit.history,
        })
        with torch.no_grad():  # frozen: the next stage learns from fixed codes
            data = fit.model.encode(data)
            val = None if val is None else fit.model.encode(val)
    return reports


def pretrain_rbms(
    model: DBNAutoencoder, train_X: Any, val_X: Any = None, *, trainer: TrainerConfig | None = None,
    seed: int = 0, **_: Any,
) -> list[dict[str, Any]]:
    """Greedy RBM stack: each RBM learns the previous one's hidden probabilities.

    Returns one report per RBM (layer sizes, unit kinds, final free energy and
    reconstruction error, per-epoch history) and loads the weights into ``model``.
    The RBMs train on a GPU when ``trainer.accelerator`` asks for one and one exists.
    """
    cfg = model.config
    wants_gpu = getattr(trainer, "accelerator", "cpu") in ("gpu", "cuda", "auto")
    device = torch.device("cuda" if wants_gpu and torch.cuda.is_available() else "cpu")
    data, val = _flat(train_X, device), _flat(val_X, device)
    rbms, reports = [], []
    for i, rcfg in enumerate(model.rbm_configs()):
        with torch.random.fork_rng(devices=[]):  # the initial weights, seeded without touching the caller's state
            torch.manual_seed(seed + i)
            rbm = RBM(rcfg).to(device)
        gaussian = "gaussian" in (rcfg.visible, rcfg.hidden)
        tcfg = RBMTrainConfig(
            epochs=cfg.rbm_epochs, batch_size=cfg.rbm_batch_size, k=cfg.cd_k, persistent=cfg.persistent,
            lr=cfg.rbm_lr * (0.1 if gaussian else 1.0), seed=seed + i,
        )
        hist = fit_rbm(rbm, data, val, tcfg)
        last = hist.epochs[-1] if hist.epochs else {"epoch": 0, **rbm_metrics(rbm, data)}
        reports.append({
            "stage": i + 1, "kind": "rbm", "layer": f"{rcfg.n_visible}-{rcfg.n_hidden}",
            "units": f"{rcfg.visible}-{rcfg.hidden}", "epochs": len(hist.epochs),
            "free_energy": last["free_energy"], "recon_error": last["recon_error"],
            "seconds": round(hist.seconds, 3), "history": hist.epochs,
        })
        rbms.append(rbm)
        with torch.no_grad():  # the next RBM sees this one's hidden probabilities (frozen)
            data = rbm.hidden_mean(data)
            val = None if val is None else rbm.hidden_mean(val)
    model.load_rbms([r.cpu() for r in rbms])
    return reports


# the greedy schedule of each family that has one
SCHEDULES: dict[type, Callable[..., list[dict[str, Any]]]] = {
    StackedAutoencoder: pretrain_stages,
    DBNAutoencoder: pretrain_rbms,
}


def check_pretrainable(model: Any) -> Callable[..., list[dict[str, Any]]]:
    """The schedule for ``model``; families without one raise :class:`ConfigError`."""
    for cls, schedule in SCHEDULES.items():
        if isinstance(model, cls):
            return schedule
    raise ConfigError(f"model family {model.family!r} has no greedy pretraining; use 'stacked' or 'dbn'")


def pretrain(model: Any, train_X: Any, val_X: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
    """Run ``model``'s greedy schedule only (no fine-tuning); returns one report per stage."""
    return check_pretrainable(model)(model, train_X, val_X, **kwargs)


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
    schedule = check_pretrainable(model)
    tcfg = trainer or TrainerConfig()
    start = time.perf_counter()
    model.train()
    stages = schedule(model, train_X, val_X, trainer=tcfg, optim=optim, noise=noise, seed=tcfg.seed)
    pre_seconds = time.perf_counter() - start
    fit = fit_model(model, train_X, val_X, trainer=tcfg, optim=optim, noise=noise, run_dir=run_dir)
    return GreedyResult(fit.model, stages, fit, pre_seconds)


__all__ = ["GreedyResult", "SCHEDULES", "check_pretrainable", "pretrain", "pretrain_rbms", "pretrain_stacked", "pretrain_stages"]
