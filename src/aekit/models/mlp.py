"""Fully connected autoencoders: shallow or deep, under- or overcomplete, optionally tied."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import Tensor, nn

from aekit.errors import ConfigError
from aekit.models.base import Autoencoder, ReconLoss
from aekit.models.layers import Activation, OutputActivation, TiedLinear, make_activation
from aekit.registry import register


@dataclass
class MLPConfig:
    input_shape: tuple[int, ...] = (784,)  # one example's shape; flattened at the edge
    hidden: list[int] = field(default_factory=lambda: [128, 64])  # encoder widths
    decoder_hidden: list[int] | None = None  # decoder widths from the code outwards; None mirrors ``hidden``
    latent_dim: int = 32  # code size; larger than the input makes it overcomplete
    activation: Activation = "relu"  # hidden-layer activation
    latent_activation: Activation = "identity"  # activation on the code
    output_activation: OutputActivation = "sigmoid"  # sigmoid for data in [0, 1]
    loss: ReconLoss = "mse"  # reconstruction loss
    tied: bool = False  # decoder reuses the encoder's transposed weights (W' = Wᵀ)
    # trimmed loss: the share in [0, 0.5) of each batch's rows, those with the largest mean
    # reconstruction error, left out of the loss (training and validation batches alike), so that
    # outliers among the training rows are not learned; 0 = every row counts. floor(trim * B) rows
    # go, so a share below 1 / batch_size (or a batch smaller than 1 / trim rows) leaves out none
    trim: float = 0.0

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or any(w < 1 for w in [*self.hidden, *(self.decoder_hidden or [])]):
            raise ValueError("layer widths and latent_dim must be positive")
        if self.tied and self.decoder_hidden is not None and list(self.decoder_hidden) != list(reversed(self.hidden)):
            raise ValueError("tied weights need the mirrored decoder: leave decoder_hidden unset")
        if not self.input_shape or any(d < 1 for d in self.input_shape):
            raise ValueError(f"input_shape must be positive, got {self.input_shape}")
        if not 0.0 <= self.trim < 0.5:  # half or more would leave out the batch's typical rows
            raise ConfigError(f"trim is the share of a batch's rows left out of the loss, in [0, 0.5); got {self.trim}")


def _mlp_encoder(widths: list[int], activation: str, latent_activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        last = i == len(widths) - 2
        layers.append(make_activation(latent_activation if last else activation))
    return nn.Sequential(*layers)


@register("mlp", MLPConfig, "Fully connected autoencoder (shallow/deep, under/overcomplete, tied weights).")
class MLPAutoencoder(Autoencoder):
    """Fully connected autoencoder; images and series are flattened at the edge."""

    config: MLPConfig

    def __init__(self, config: MLPConfig) -> None:
        super().__init__(config)
        n_in = math.prod(config.input_shape)
        widths = [n_in, *config.hidden, config.latent_dim]
        self.encoder = _mlp_encoder(widths, config.activation, config.latent_activation)
        dec: list[nn.Module] = []
        decoder_hidden = getattr(config, "decoder_hidden", None)
        if decoder_hidden is None:  # the mirror of the encoder (tied weights reuse its layers)
            enc_linears = [m for m in self.encoder if isinstance(m, nn.Linear)]
            layers = [TiedLinear(src) if config.tied else nn.Linear(src.out_features, src.in_features)
                      for src in reversed(enc_linears)]
        else:  # a decoder shape of its own: code -> decoder_hidden -> input
            back = [config.latent_dim, *decoder_hidden, n_in]
            layers = [nn.Linear(a, b) for a, b in zip(back[:-1], back[1:])]
        for i, layer in enumerate(layers):
            dec.append(layer)
            if i < len(layers) - 1:
                dec.append(make_activation(config.activation))
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1))  # (B, *shape) -> (B, latent)

    def decode_logits(self, z: Tensor) -> Tensor:
        return self.decoder(z).view(z.shape[0], *self.config.input_shape)
