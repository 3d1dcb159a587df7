"""Linear autoencoder: x̂ = W_d (W_e x + b_e) + b_d with identity activations and MSE.

Trained to its optimum, the decoder's columns span the top-k principal subspace of the
data (Baldi & Hornik 1989), although they are not the principal axes themselves; see
:func:`aekit.experiments.subspace.linear_ae_vs_pca`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from aekit.models.base import Autoencoder, ReconLoss
from aekit.registry import register


@dataclass
class LinearConfig:
    input_shape: tuple[int, ...] = (784,)  # one example's shape; flattened at the edge
    latent_dim: int = 32  # k: dimension of the learned subspace
    bias: bool = True  # without biases the data must be centred (data.scaling: standard)
    loss: ReconLoss = "mse"  # MSE is what makes the optimum the PCA subspace

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be positive")
        if not self.input_shape or any(d < 1 for d in self.input_shape):
            raise ValueError(f"input_shape must be positive, got {self.input_shape}")

    @property
    def output_activation(self) -> str:
        return "identity"


@register("linear", LinearConfig, "Linear autoencoder (identity activations, MSE): learns PCA's principal subspace.")
class LinearAutoencoder(Autoencoder):
    """One linear encoder layer and one linear decoder layer."""

    config: LinearConfig

    def __init__(self, config: LinearConfig) -> None:
        super().__init__(config)
        n_in = math.prod(config.input_shape)
        self.encoder = nn.Linear(n_in, config.latent_dim, bias=config.bias)
        self.decoder = nn.Linear(config.latent_dim, n_in, bias=config.bias)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1))  # (B, k)

    def decode_logits(self, z: Tensor) -> Tensor:
        return self.decoder(z).view(z.shape[0], *self.config.input_shape)

    @property
    def decoder_basis(self) -> Tensor:
        """Decoder weight ``(features, k)``: its columns span the reconstructions' subspace."""
        return self.decoder.weight
