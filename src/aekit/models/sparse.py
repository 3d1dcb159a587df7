"""Sparse autoencoders: an L1 activity penalty, a KL sparsity target, and k-sparse codes.

All three reuse the fully connected encoder/decoder of :mod:`aekit.models.mlp`, so
every MLP option (depth, widths, tied weights, activations) works, and the code may be
larger than the input (overcomplete): sparsity, not a bottleneck, stops the identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from aekit.models.base import AEOutput, LossOutput
from aekit.models.layers import Activation
from aekit.models.mlp import MLPAutoencoder, MLPConfig
from aekit.registry import register


@dataclass
class SparseL1Config(MLPConfig):
    latent_activation: Activation = "relu"  # ReLU codes reach exact zeros under L1
    l1_weight: float = 1e-3  # λ in λ·mean|h| over code units and examples

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.l1_weight < 0:
            raise ValueError("l1_weight must be >= 0")


@register("sparse_l1", SparseL1Config, "MLP autoencoder with an L1 activity penalty λ·mean|h| on the code.")
class SparseL1Autoencoder(MLPAutoencoder):
    """Activity-regularised autoencoder: loss = recon + λ·mean|h| (part ``"l1"``)."""

    config: SparseL1Config

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        out = self(x)
        recon = self.recon_loss(out, x if target is None else target)
        l1 = self.config.l1_weight * out.z.abs().mean()
        return LossOutput(total=recon + l1, parts={"recon": recon, "l1": l1}, output=out)


@dataclass
class SparseKLConfig(MLPConfig):
    latent_activation: Activation = "sigmoid"  # must be sigmoid: activations are read as probabilities
    rho: float = 0.05  # target mean activation ρ of every code unit
    beta: float = 1e-1  # weight β of Σ_j KL(ρ ‖ ρ̂_j)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.latent_activation != "sigmoid":
            raise ValueError("sparse_kl needs latent_activation 'sigmoid' (activations must lie in (0, 1))")
        if not 0.0 < self.rho < 1.0:
            raise ValueError(f"rho must be in (0, 1), got {self.rho}")
        if self.beta < 0:
            raise ValueError("beta must be >= 0")


def bernoulli_kl(rho: float, rho_hat: Tensor, eps: float = 1e-6) -> Tensor:
    """KL(ρ ‖ ρ̂) between Bernoulli distributions, elementwise over ``rho_hat``."""
    rho_hat = rho_hat.clamp(eps, 1 - eps)
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


@register("sparse_kl", SparseKLConfig, "Sparse autoencoder: KL(ρ‖ρ̂) penalty pulls mean sigmoid code activations to ρ.")
class SparseKLAutoencoder(MLPAutoencoder):
    """Ng's sparse autoencoder: loss = recon + β·Σ_j KL(ρ ‖ ρ̂_j) (part ``"kl_sparsity"``).

    ρ̂_j is unit j's mean activation over the batch, so batches should not be tiny.
    """

    config: SparseKLConfig

    def sparsity_penalty(self, h: Tensor) -> Tensor:
        """Unweighted Σ_j KL(ρ ‖ ρ̂_j) for codes ``h`` of shape ``(B, latent)``."""
        return bernoulli_kl(self.config.rho, h.mean(0)).sum()

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        out = self(x)
        recon = self.recon_loss(out, x if target is None else target)
        kl = self.config.beta * self.sparsity_penalty(out.z)
        return LossOutput(total=recon + kl, parts={"recon": recon, "kl_sparsity": kl}, output=out)


@dataclass
class KSparseConfig(MLPConfig):
    k: int = 10  # code units kept per example while training
    alpha: float = 1.0  # encode() in eval mode keeps round(α·k) units (α ≥ 1; the paper uses α·k for features)
    k_start: int | None = None  # optional schedule: start at this k and fall linearly to k ...
    k_schedule_epochs: int = 0  # ... over this many epochs (the paper's remedy for dead units)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.k <= self.latent_dim:
            raise ValueError(f"k must be in [1, latent_dim={self.latent_dim}], got {self.k}")
        if self.alpha < 1.0:
            raise ValueError(f"alpha must be >= 1, got {self.alpha}")
        if self.k_start is not None and not self.k <= self.k_start <= self.latent_dim:
            raise ValueError(f"k_start must be in [k, latent_dim], got {self.k_start}")


def keep_top_k(h: Tensor, k: int) -> Tensor:
    """Zero all but the ``k`` largest entries of each row of ``h`` (B, D); gradients flow to the kept ones."""
    if k >= h.shape[1]:
        return h
    idx = h.topk(k, dim=1).indices
    mask = torch.zeros_like(h).scatter_(1, idx, 1.0)
    return h * mask


@register("ksparse", KSparseConfig, "k-sparse autoencoder (Makhzani & Frey 2013): only the k largest code units survive.")
class KSparseAutoencoder(MLPAutoencoder):
    """k-sparse autoencoder with a linear code (the paper's setting by default).

    Training reconstructs from the ``k`` largest code activations of each example.
    :meth:`encode` in eval mode keeps ``round(α·k)`` units, the paper's rule for
    extracting features; reconstructions always use ``k`` units, as the decoder was
    trained on them.
    """

    config: KSparseConfig

    def __init__(self, config: KSparseConfig) -> None:
        super().__init__(config)
        self.current_k = config.k_start if config.k_start is not None and config.k_schedule_epochs > 0 else config.k

    def on_train_epoch_start(self, epoch: int) -> None:
        """Engine hook: linear k schedule from ``k_start`` to ``k`` over ``k_schedule_epochs``."""
        cfg = self.config
        if cfg.k_start is None or cfg.k_schedule_epochs <= 0:
            return
        frac = min(1.0, epoch / cfg.k_schedule_epochs)
        self.current_k = int(round(cfg.k_start + frac * (cfg.k - cfg.k_start)))

    def dense_code(self, x: Tensor) -> Tensor:
        """Code before selection, ``(B, latent)``."""
        return self.encoder(x.flatten(1))

    @property
    def encode_k(self) -> int:
        """Units kept by :meth:`encode` in eval mode: ``min(round(α·k), latent_dim)``."""
        return min(self.config.latent_dim, max(1, math.floor(self.config.alpha * self.config.k + 0.5)))

    def encode(self, x: Tensor) -> Tensor:
        k = self.current_k if self.training else self.encode_k
        return keep_top_k(self.dense_code(x), k)

    def forward(self, x: Tensor) -> AEOutput:
        h = self.dense_code(x)
        z = keep_top_k(h, self.current_k if self.training else self.config.k)
        logits = self.decode_logits(z)
        extras = {"h": h}
        if self.config.output_activation == "sigmoid":
            extras["logits"] = logits
        return AEOutput(x_hat=self._activate(logits), z=z, extras=extras)
