"""Stacked autoencoder with greedy layer-wise pretraining (the Polish deck, ``003_*.txt``).

The model is a deep MLP autoencoder. :meth:`StackedAutoencoder.pretrain` trains it
stage by stage: a one-hidden-layer AE (an ordinary ``mlp`` model) on the input,
then - with that layer frozen - the next one on its codes, and so on. Each stage's
weights are copied into the matching encoder layer and its mirror decoder layer;
fine-tuning end to end then goes through the normal engine
(see :func:`aekit.training.greedy.pretrain_stacked`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from aekit.models.layers import TiedLinear
from aekit.models.mlp import MLPAutoencoder, MLPConfig
from aekit.registry import build_model, register


@dataclass
class StackedConfig(MLPConfig):
    pretrain_epochs: int = 10  # epochs of each greedy stage; 0 skips pretraining
    pretrain_lr: float = 1e-3  # learning rate of the greedy stages

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pretrain_epochs < 0 or self.pretrain_lr <= 0:
            raise ValueError("pretrain_epochs must be >= 0 and pretrain_lr > 0")


def _linears(seq: nn.Sequential) -> list[nn.Module]:
    return [m for m in seq if isinstance(m, (nn.Linear, TiedLinear))]


@register("stacked", StackedConfig, "Deep MLP AE trained greedily layer by layer, then fine-tuned (use `aekit pretrain`).")
class StackedAutoencoder(MLPAutoencoder):
    """Deep MLP autoencoder whose layers can be pretrained one stage at a time."""

    config: StackedConfig

    def stage_params(self, i: int) -> dict[str, Any]:
        """Config of the one-hidden-layer ``mlp`` AE that pretrains encoder layer ``i``."""
        cfg = self.config
        widths = [math.prod(cfg.input_shape), *cfg.hidden, cfg.latent_dim]
        last = i == len(widths) - 2
        if i == 0:  # reconstructs the data, like the full model's output layer
            out_act, loss = cfg.output_activation, cfg.loss
        else:  # reconstructs hidden activations; sigmoid codes are in [0, 1]
            out_act, loss = ("sigmoid" if cfg.activation == "sigmoid" else "identity"), "mse"
        return {
            "input_shape": [widths[i]], "hidden": [], "latent_dim": widths[i + 1],
            "latent_activation": cfg.latent_activation if last else cfg.activation,
            "output_activation": out_act, "loss": loss, "tied": cfg.tied,
        }

    def load_stage(self, i: int, stage: MLPAutoencoder) -> None:
        """Copy a trained stage into encoder layer ``i`` and its mirror decoder layer."""
        enc, dec = _linears(self.encoder), _linears(self.decoder)
        src_enc, src_dec = _linears(stage.encoder)[0], _linears(stage.decoder)[0]
        with torch.no_grad():
            enc[i].load_state_dict(src_enc.state_dict())
            dec[-1 - i].load_state_dict(src_dec.state_dict())

    def pretrain(
        self, train_X: Any, val_X: Any = None, *, trainer: Any = None, optim: Any = None,
        noise: list[dict[str, Any]] | None = None, seed: int = 0,
    ) -> list[dict[str, Any]]:
        """Greedy stages: train, freeze, encode, move one layer up. Returns one report per stage."""
        from aekit.training.engine import OptimConfig, TrainerConfig, as_tensor, fit_model

        cfg = self.config
        tcfg = replace(trainer or TrainerConfig(), max_epochs=cfg.pretrain_epochs, seed=seed)
        ocfg = replace(optim or OptimConfig(), lr=cfg.pretrain_lr, schedule="none")
        data = as_tensor(train_X).flatten(1)
        val = None if val_X is None or len(val_X) == 0 else as_tensor(val_X).flatten(1)
        reports: list[dict[str, Any]] = []
        if cfg.pretrain_epochs == 0:
            return reports
        for i in range(len(cfg.hidden) + 1):
            stage = build_model("mlp", self.stage_params(i), seed=seed + i)
            # corruption kinds that assume [0, 1] data only make sense on the input stage
            fit = fit_model(stage, data, val, trainer=tcfg, optim=ocfg, noise=noise if i == 0 else None)
            self.load_stage(i, fit.model)
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
