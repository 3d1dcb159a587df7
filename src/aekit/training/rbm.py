"""Contrastive-divergence training of restricted Boltzmann machines (:class:`aekit.models.rbm.RBM`).

CD is not a reconstruction loss, so RBMs train here rather than in the autoencoder engine.
The gradient uses the free-energy trick: ``F(v_data).mean() - F(v_model).mean()`` with the
negative samples detached has the CD gradient, so a standard torch optimiser applies it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from aekit.models.rbm import RBM
from aekit.training.engine import as_tensor


@dataclass
class RBMTrainConfig:
    epochs: int = 10  # passes over the data
    batch_size: int = 64  # examples per update
    lr: float = 0.05  # SGD learning rate (Gaussian units want ~10x smaller)
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 2e-4  # L2 on W only (Hinton's practical guide)
    k: int = 1  # Gibbs steps per update (CD-k / PCD-k)
    persistent: bool = False  # persistent CD: keep the negative chains between updates
    seed: int = 0  # seeds initial chains, sampling and shuffling


@dataclass
class RBMHistory:
    """Per-epoch tracking of :func:`fit_rbm`: mean free energy and reconstruction MSE."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


@torch.no_grad()
def rbm_metrics(rbm: RBM, X: Tensor, batch_size: int = 4096) -> dict[str, float]:
    """Mean free energy and mean squared mean-field reconstruction error over ``X``."""
    fe, err = 0.0, 0.0
    for i in range(0, len(X), batch_size):
        xb = X[i : i + batch_size]
        fe += float(rbm.free_energy(xb).sum())
        err += float((rbm.reconstruct(xb) - xb).pow(2).mean(1).sum())
    return {"free_energy": fe / len(X), "recon_error": err / len(X)}


def fit_rbm(rbm: RBM, X: Any, val_X: Any = None, config: RBMTrainConfig | None = None) -> RBMHistory:
    """Train ``rbm`` on ``X`` ``(N, n_visible)`` with CD-k or persistent CD; returns per-epoch metrics.

    Batches are index slices of one tensor; the Gibbs chain runs on whole batches.
    With ``val_X``, the validation free energy is tracked too (a widening gap to the
    training free energy signals overfitting).
    """
    cfg = config or RBMTrainConfig()
    if cfg.epochs < 0 or cfg.batch_size < 1 or cfg.k < 1:
        raise ValueError("epochs must be >= 0, batch_size and k >= 1")
    device = rbm.W.device  # train where the RBM lives (move it to a GPU first for speed)
    X = as_tensor(X).flatten(1).to(device)
    V = None if val_X is None else as_tensor(val_X).flatten(1).to(device)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    opt = torch.optim.SGD([
        {"params": [rbm.W], "weight_decay": cfg.weight_decay},
        {"params": [rbm.b_v, rbm.b_h], "weight_decay": 0.0},
    ], lr=cfg.lr, momentum=cfg.momentum)
    # PCD's fantasy particles start from data rows and then never restart
    chain = X[torch.randint(len(X), (min(cfg.batch_size, len(X)),), generator=gen, device=device)].clone() if cfg.persistent else None
    history = RBMHistory()
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(X), generator=gen, device=device)
        for i in range(0, len(X), cfg.batch_size):
            v0 = X[order[i : i + cfg.batch_size]]
            if chain is not None:
                chain = rbm.gibbs(chain, cfg.k, gen)
                negative = chain
            else:
                negative = rbm.gibbs(v0, cfg.k, gen, mean_last=True)  # probabilities: less sampling noise
            loss = rbm.free_energy(v0).mean() - rbm.free_energy(negative).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        row = {"epoch": epoch + 1, **rbm_metrics(rbm, X)}  # counted from 1
        if V is not None:
            row["val_free_energy"] = rbm_metrics(rbm, V)["free_energy"]
        history.epochs.append(row)
    history.seconds = time.perf_counter() - start
    return history


__all__ = ["RBMHistory", "RBMTrainConfig", "fit_rbm", "rbm_metrics"]
