"""Restricted Boltzmann machines and the deep belief network autoencoder.

An RBM is an energy model over visible ``v`` and hidden ``h`` units,
``E(v, h) = -b_vᵀv - b_hᵀh - hᵀWv`` (plus ``|v - b_v|²/2`` for Gaussian visibles and
``|h|²/2`` for Gaussian hiddens). It is trained by contrastive divergence, which is
*not* a reconstruction loss, so it has its own small trainer
(:func:`aekit.training.rbm.fit_rbm`) instead of going through the autoencoder engine. The gradient uses the free-energy trick:
``F(v_data).mean() - F(v_model).mean()`` with the negative samples detached has the
CD gradient, so a standard torch optimiser applies it.

The ``dbn`` family (Hinton & Salakhutdinov 2006, https://doi.org/10.1126/science.1127647)
stacks RBMs greedily, each trained on the previous one's hidden probabilities, and
unrolls them into a deep autoencoder with sigmoid layers and a linear code layer;
fine-tuning then goes through the ordinary engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from aekit.models.base import ReconLoss
from aekit.models.layers import OutputActivation
from aekit.models.mlp import MLPAutoencoder
from aekit.registry import register

UnitKind = Literal["bernoulli", "gaussian"]


@dataclass
class RBMConfig:
    n_visible: int = 784  # visible units (flattened input)
    n_hidden: int = 128  # hidden units
    visible: UnitKind = "bernoulli"  # gaussian: real-valued unit-variance visibles (standardise the data)
    hidden: UnitKind = "bernoulli"  # gaussian: linear hidden units with unit-variance noise (a linear code)

    def __post_init__(self) -> None:
        if self.n_visible < 1 or self.n_hidden < 1:
            raise ValueError("n_visible and n_hidden must be positive")
        if self.visible == "gaussian" and self.hidden == "gaussian":
            raise ValueError("a Gaussian-Gaussian RBM has no proper distribution; make one side bernoulli")


class RBM(nn.Module):
    """Bernoulli/Gaussian RBM with weights ``W`` ``(n_hidden, n_visible)`` and biases ``b_v``, ``b_h``."""

    def __init__(self, config: RBMConfig) -> None:
        super().__init__()
        self.config = config
        self.W = nn.Parameter(0.01 * torch.randn(config.n_hidden, config.n_visible))
        self.b_v = nn.Parameter(torch.zeros(config.n_visible))
        self.b_h = nn.Parameter(torch.zeros(config.n_hidden))

    def hidden_mean(self, v: Tensor) -> Tensor:
        """``E[h | v]``, ``(B, n_visible) -> (B, n_hidden)``: probabilities, or the linear response."""
        pre = F.linear(v, self.W, self.b_h)
        return torch.sigmoid(pre) if self.config.hidden == "bernoulli" else pre

    def visible_mean(self, h: Tensor) -> Tensor:
        """``E[v | h]``, ``(B, n_hidden) -> (B, n_visible)``."""
        pre = F.linear(h, self.W.t(), self.b_v)
        return torch.sigmoid(pre) if self.config.visible == "bernoulli" else pre

    @staticmethod
    def _sample(mean: Tensor, kind: str, gen: torch.Generator | None) -> Tensor:
        if kind == "bernoulli":
            return torch.bernoulli(mean, generator=gen)
        return mean + torch.randn(mean.shape, generator=gen, device=mean.device, dtype=mean.dtype)

    def sample_hidden(self, v: Tensor, gen: torch.Generator | None = None) -> Tensor:
        return self._sample(self.hidden_mean(v), self.config.hidden, gen)

    def sample_visible(self, h: Tensor, gen: torch.Generator | None = None) -> Tensor:
        return self._sample(self.visible_mean(h), self.config.visible, gen)

    def free_energy(self, v: Tensor) -> Tensor:
        """``F(v) = -log Σ_h exp(-E(v, h))`` up to a constant, shape ``(B,)`` (lower = more probable)."""
        pre = F.linear(v, self.W, self.b_h)
        hidden = -F.softplus(pre).sum(1) if self.config.hidden == "bernoulli" else -0.5 * pre.pow(2).sum(1)
        visible = -(v @ self.b_v) if self.config.visible == "bernoulli" else 0.5 * (v - self.b_v).pow(2).sum(1)
        return visible + hidden

    @torch.no_grad()
    def gibbs(self, v: Tensor, k: int = 1, gen: torch.Generator | None = None, mean_last: bool = False) -> Tensor:
        """``k`` steps of block Gibbs sampling v -> h -> v; ``mean_last`` returns ``E[v | h]`` at the end."""
        for step in range(k):
            h = self.sample_hidden(v, gen)
            v = self.visible_mean(h) if mean_last and step == k - 1 else self.sample_visible(h, gen)
        return v

    @torch.no_grad()
    def reconstruct(self, v: Tensor) -> Tensor:
        """Mean-field reconstruction ``E[v | E[h | v]]``."""
        return self.visible_mean(self.hidden_mean(v))


# --- deep belief network unrolled into an autoencoder ------------------------------------


@dataclass
class DBNConfig:
    input_shape: tuple[int, ...] = (784,)  # one example's shape; flattened at the edge
    hidden: list[int] = field(default_factory=lambda: [1000, 500, 250])  # sigmoid layers (H&S 2006)
    latent_dim: int = 30  # linear code layer (top RBM with Gaussian hidden units)
    visible: UnitKind = "bernoulli"  # first RBM's visibles: bernoulli for [0, 1] data, gaussian for standardised data
    output_activation: OutputActivation = "sigmoid"  # sigmoid for bernoulli visibles
    loss: ReconLoss = "bce"  # fine-tuning loss (H&S used cross-entropy for MNIST)
    rbm_epochs: int = 10  # CD epochs per RBM during pretraining
    rbm_lr: float = 0.05  # RBM learning rate; layers with Gaussian units use a tenth of it
    rbm_batch_size: int = 64  # RBM mini-batch size
    cd_k: int = 1  # Gibbs steps per update
    persistent: bool = False  # PCD instead of CD-k

    # the unrolled network is an MLP with these fixed choices (read by MLPAutoencoder)
    activation = "sigmoid"
    latent_activation = "identity"
    tied = False

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or any(w < 1 for w in self.hidden):
            raise ValueError("layer widths and latent_dim must be positive")
        if self.rbm_epochs < 0 or self.rbm_batch_size < 1 or self.cd_k < 1:
            raise ValueError("rbm_epochs must be >= 0, rbm_batch_size and cd_k >= 1")
        if self.visible == "gaussian" and (self.output_activation, self.loss) != ("identity", "mse"):
            raise ValueError("visible 'gaussian' (standardised data) needs output_activation 'identity' and loss 'mse'")


@register("dbn", DBNConfig, "Deep belief network: stacked RBMs unrolled into a deep AE (use `aekit pretrain`).")
class DBNAutoencoder(MLPAutoencoder):
    """Deep autoencoder whose layers are initialised from a stack of RBMs.

    Encoder: sigmoid layers, linear code; decoder: the transposed RBM weights
    initially (untied, so fine-tuning can change them), sigmoid output for Bernoulli
    visibles. :meth:`pretrain` trains the RBMs; fine-tune with the normal engine.
    """

    config: DBNConfig  # type: ignore[assignment]

    def rbm_configs(self) -> list[RBMConfig]:
        """The RBM of each layer: first sees the data, the top one has a linear (Gaussian) hidden layer."""
        widths = [math.prod(self.config.input_shape), *self.config.hidden, self.config.latent_dim]
        n = len(widths) - 1
        return [
            RBMConfig(a, b, visible=self.config.visible if i == 0 else "bernoulli", hidden="gaussian" if i == n - 1 else "bernoulli")
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]))
        ]

    def load_rbms(self, rbms: list[RBM]) -> None:
        """Unroll: encoder layer i = (W_i, b_h), mirrored decoder layer = (W_iᵀ, b_v)."""
        enc = [m for m in self.encoder if isinstance(m, nn.Linear)]
        dec = [m for m in self.decoder if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for i, rbm in enumerate(rbms):
                enc[i].weight.copy_(rbm.W)
                enc[i].bias.copy_(rbm.b_h)
                dec[-1 - i].weight.copy_(rbm.W.t())
                dec[-1 - i].bias.copy_(rbm.b_v)
