"""Stacked autoencoder with greedy layer-wise pretraining (the Polish deck, ``003_*.txt``).

The model is a deep MLP autoencoder. :meth:`StackedAutoencoder.pretrain` trains it
stage by stage: a one-hidden-layer AE (an ordinary ``mlp`` model) on the input,
then - with that layer frozen - the next one on its codes, and so on. Each stage's
weights are copied into the matching encoder layer and its mirror decoder layer;
fine-tuning end to end then goes through the normal engine. The schedule itself is
:func:`aekit.training.greedy.pretrain_stacked` (models know their structure, training
knows how to train it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from aekit.models.layers import TiedLinear
from aekit.models.mlp import MLPAutoencoder, MLPConfig
from aekit.registry import register


@dataclass
class StackedConfig(MLPConfig):
    pretrain_epochs: int = 10  # epochs of each greedy stage; 0 skips pretraining
    pretrain_lr: float = 1e-3  # learning rate of the greedy stages

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decoder_hidden is not None:
            raise ValueError("stacked pretraining fills mirrored encoder/decoder layers: leave decoder_hidden unset")
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
            "output_activation": out_act, "loss": loss, "tied": cfg.tied, "trim": cfg.trim,
        }

    def load_stage(self, i: int, stage: MLPAutoencoder) -> None:
        """Copy a trained stage into encoder layer ``i`` and its mirror decoder layer."""
        enc, dec = _linears(self.encoder), _linears(self.decoder)
        src_enc, src_dec = _linears(stage.encoder)[0], _linears(stage.decoder)[0]
        with torch.no_grad():
            enc[i].load_state_dict(src_enc.state_dict())
            dec[-1 - i].load_state_dict(src_dec.state_dict())
