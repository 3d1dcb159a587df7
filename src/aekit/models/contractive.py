"""Contractive autoencoder (Rifai et al. 2011): penalise the encoder's Jacobian.

loss = recon + λ·mean_over_batch ‖∂h/∂x‖²_F. For one sigmoid layer h = σ(Wx + b) the
norm has the closed form Σ_j (h_j(1−h_j))² Σ_i W_ji²; any other encoder gets its exact
Jacobian from ``torch.func`` (one vectorised reverse pass per code unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from aekit.models.base import LossOutput
from aekit.models.layers import Activation
from aekit.models.mlp import MLPAutoencoder, MLPConfig
from aekit.registry import register


@dataclass
class ContractiveConfig(MLPConfig):
    hidden: list[int] = field(default_factory=list)  # [] = one encoder layer, as in Rifai et al.
    latent_activation: Activation = "sigmoid"  # sigmoid + no hidden layers enables the closed form
    contractive_weight: float = 1e-3  # λ
    jacobian: Literal["auto", "closed_form", "autograd"] = "auto"  # auto: closed form when it applies

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.contractive_weight < 0:
            raise ValueError("contractive_weight must be >= 0")
        if self.jacobian == "closed_form" and not self.closed_form_applies:
            raise ValueError("jacobian 'closed_form' needs hidden: [] and latent_activation: sigmoid")

    @property
    def closed_form_applies(self) -> bool:
        return not self.hidden and self.latent_activation == "sigmoid"


def sigmoid_layer_jacobian_norm(h: Tensor, weight: Tensor) -> Tensor:
    """‖∂h/∂x‖²_F per example for h = σ(Wx + b): ``h`` (B, D), ``weight`` (D, N) -> (B,)."""
    return (h * (1 - h)).pow(2) @ weight.pow(2).sum(1)


def jacobian_norm(fn: nn.Module, x: Tensor) -> Tensor:
    """Exact ‖∂fn(x)/∂x‖²_F per example of a per-example map ``fn``: ``x`` (B, N) -> (B,).

    The result stays differentiable with respect to ``fn``'s parameters.
    """
    jac = torch.func.vmap(torch.func.jacrev(lambda v: fn(v.unsqueeze(0)).squeeze(0)))(x)  # (B, D, N)
    return jac.pow(2).flatten(1).sum(1)


@register("contractive", ContractiveConfig, "Contractive autoencoder: λ·‖J_encoder(x)‖²_F penalty (closed form or autograd).")
class ContractiveAutoencoder(MLPAutoencoder):
    """MLP autoencoder whose loss adds λ·‖J_f(x)‖²_F (part ``"contractive"``)."""

    config: ContractiveConfig

    def use_closed_form(self) -> bool:
        return self.config.jacobian != "autograd" and self.config.closed_form_applies

    def jacobian_penalty(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """Unweighted ‖J_f(x)‖²_F per example, shape ``(B,)``; ``h`` may pass the codes of ``x``."""
        flat = x.flatten(1)
        if self.use_closed_form():
            codes = self.encoder(flat) if h is None else h
            return sigmoid_layer_jacobian_norm(codes, self.encoder[0].weight)
        return jacobian_norm(self.encoder, flat)

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        out = self(x)
        recon = self.recon_loss(out, x if target is None else target)
        penalty = self.config.contractive_weight * self.jacobian_penalty(x, out.z).mean()
        return LossOutput(total=recon + penalty, parts={"recon": recon, "contractive": penalty}, output=out)
