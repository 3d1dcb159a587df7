"""Variational autoencoder (Kingma & Welling 2014) with a fully connected encoder/decoder.

Encoder q(z|x) = N(μ(x), diag σ²(x)); prior p(z) = N(0, I); decoder p(x|z) is
Bernoulli (logits, for data in [0, 1]) or Gaussian (fixed or learned per-dimension
standard deviation). Training minimises −ELBO with a β weight and a linear KL warm-up:

    loss = −log p(x|z) + w·β·KL(q(z|x) ‖ p(z)),   z = μ + σ·ε  (reparameterisation)

Both parts are in nats per example (summed over dimensions, averaged over the batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from aekit.models.base import AEOutput, Autoencoder, LossOutput
from aekit.models.layers import Activation, make_activation
from aekit.registry import register

_LOG_2PI = math.log(2 * math.pi)


@dataclass
class VAEObjectiveConfig:
    """Fields every VAE shares: the data shape, the code size and the likelihood/KL settings."""

    input_shape: tuple[int, ...] = (784,)  # one example's shape
    latent_dim: int = 16  # size of z
    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"  # decoder distribution p(x|z)
    learn_std: bool = False  # gaussian only: learn a per-dimension σ instead of the fixed obs_std
    obs_std: float = 0.1  # gaussian only: fixed (or initial) decoder σ, in data units
    beta: float = 1.0  # β-VAE weight on the KL term
    warmup_epochs: int = 0  # KL weight rises linearly from 0 to β over these epochs

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be positive")
        if not self.input_shape or any(d < 1 for d in self.input_shape):
            raise ValueError(f"input_shape must be positive, got {self.input_shape}")
        if self.obs_std <= 0 or self.beta < 0 or self.warmup_epochs < 0:
            raise ValueError("obs_std must be > 0, beta and warmup_epochs >= 0")

    @property
    def loss(self) -> str:
        """Reconstruction error used by ``score`` and error maps (matches the likelihood)."""
        return "bce" if self.likelihood == "bernoulli" else "mse"

    @property
    def output_activation(self) -> str:
        return "sigmoid" if self.likelihood == "bernoulli" else "identity"


@dataclass
class VAEConfig(VAEObjectiveConfig):
    hidden: list[int] = field(default_factory=lambda: [256, 128])  # encoder widths; decoder mirrors them
    activation: Activation = "relu"  # hidden-layer activation

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(w < 1 for w in self.hidden):
            raise ValueError("hidden widths must be positive")


@dataclass
class DiagonalGaussian:
    """A batch of diagonal Gaussians q(z|x): ``mean`` and ``logvar`` of shape ``(B, D)``."""

    mean: Tensor
    logvar: Tensor

    @property
    def std(self) -> Tensor:
        return torch.exp(0.5 * self.logvar)

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """Reparameterised draw μ + σ·ε (differentiable in μ and σ)."""
        return self.mean + self.std * randn(tuple(self.mean.shape), generator, self.mean)

    def mode(self) -> Tensor:
        return self.mean

    def kl(self) -> Tensor:
        """KL(q ‖ N(0, I)) in nats per example, shape ``(B,)``."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar).sum(1)

    def log_prob(self, z: Tensor) -> Tensor:
        """log q(z) summed over dimensions; ``z`` is ``(..., B, D)`` -> ``(..., B)``."""
        return -0.5 * (((z - self.mean) / self.std).pow(2) + self.logvar + _LOG_2PI).sum(-1)


def randn(shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor) -> Tensor:
    """Standard normal draws shaped ``shape`` on ``like``'s device and dtype.

    A seeded CPU generator also works for a model on the GPU: the draws are made where
    the generator lives and moved, so results do not depend on the model's device.
    """
    device = generator.device if generator is not None else like.device
    return torch.randn(shape, generator=generator, device=device).to(like.device, like.dtype)


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) summed over the last dimension."""
    return -0.5 * (z.pow(2) + _LOG_2PI).sum(-1)


@register("vae", VAEConfig, "Variational autoencoder: Gaussian encoder, Bernoulli/Gaussian decoder, β and KL warm-up.")
class VAE(Autoencoder):
    """Fully connected VAE. ``encode`` gives the posterior mean, so embeddings are deterministic.

    In training mode ``forward`` samples z; in eval mode it decodes the posterior mean.
    """

    config: VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        self.encoder, n_features, self.decoder = self._build_networks()
        self.to_mean = nn.Linear(n_features, config.latent_dim)
        self.to_logvar = nn.Linear(n_features, config.latent_dim)
        if config.likelihood == "gaussian" and config.learn_std:
            self.log_std = nn.Parameter(torch.full(tuple(config.input_shape), math.log(config.obs_std)))
        self.kl_scale = 0.0 if config.warmup_epochs > 0 else 1.0  # warm-up factor w in [0, 1]

    def _build_networks(self) -> tuple[nn.Module, int, nn.Module]:
        """(encoder body ``(B, *input_shape) -> (B, F)``, F, decoder ``(B, latent) -> (B, *input_shape)`` logits)."""
        cfg = self.config
        widths = [math.prod(cfg.input_shape), *cfg.hidden]
        body: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            body += [nn.Linear(a, b), make_activation(cfg.activation)]
        dec: list[nn.Module] = []
        back = [cfg.latent_dim, *reversed(widths)]
        for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
            dec.append(nn.Linear(a, b))
            if i < len(back) - 2:
                dec.append(make_activation(cfg.activation))
        return nn.Sequential(*body), widths[-1], nn.Sequential(*dec)

    # --- warm-up -----------------------------------------------------------------
    def on_train_epoch_start(self, epoch: int) -> None:
        """Engine hook (called with the 0-based epoch): linear KL warm-up."""
        w = self.config.warmup_epochs
        self.kl_scale = 1.0 if w == 0 else min(1.0, epoch / w)

    @property
    def kl_weight(self) -> float:
        """Weight on KL in the loss. Evaluation always uses β, so validation losses of
        warm-up epochs stay comparable and early stopping keeps no half-regularised model."""
        return self.config.beta * (self.kl_scale if self.training else 1.0)

    # --- encoder / decoder -------------------------------------------------------
    def posterior(self, x: Tensor) -> DiagonalGaussian:
        """q(z|x) for ``x`` of shape ``(B, *input_shape)``."""
        h = self.encoder(x)  # (B, F)
        return DiagonalGaussian(self.to_mean(h), self.to_logvar(h).clamp(-30.0, 20.0))

    def encode(self, x: Tensor) -> Tensor:
        return self.posterior(x).mean  # (B, latent)

    def decode_logits(self, z: Tensor) -> Tensor:
        return self.decoder(z).reshape(z.shape[0], *self.config.input_shape)  # reshape: a Trim leaves it non-contiguous

    def _obs_log_std(self, like: Tensor) -> Tensor:
        if hasattr(self, "log_std"):
            return self.log_std.clamp(min=math.log(1e-3)).expand_as(like)
        return torch.full_like(like, math.log(self.config.obs_std))

    def log_likelihood(self, x: Tensor, logits: Tensor) -> Tensor:
        """log p(x|z) in nats, summed over dimensions: ``logits`` (..., *input_shape) -> (...)."""
        nd = len(self.config.input_shape)
        if self.config.likelihood == "bernoulli":
            ll = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
        else:
            log_std = self._obs_log_std(logits)
            ll = -0.5 * ((x - logits) / log_std.exp()).pow(2) - log_std - 0.5 * _LOG_2PI
        return ll.flatten(-nd).sum(-1)

    def forward(self, x: Tensor) -> AEOutput:
        q = self.posterior(x)
        z = q.sample() if self.training else q.mode()
        logits = self.decode_logits(z)
        extras = {"mu": q.mean, "logvar": q.logvar}
        if self.config.likelihood == "bernoulli":
            extras["logits"] = logits
        return AEOutput(x_hat=self._activate(logits), z=z, extras=extras)

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        out = self(x)
        q = DiagonalGaussian(out.extras["mu"], out.extras["logvar"])
        if self.training:
            logits = out.extras.get("logits", out.x_hat)  # the gaussian decoder's mean is its raw output
        else:
            # eval outputs decode the posterior mean, which is not a bound: the loss stays the
            # negative ELBO (comparable with training), from one sample of a fixed-seed generator
            gen = torch.Generator(device=x.device).manual_seed(0)
            logits = self.decode_logits(q.sample(gen))
        recon = -self.log_likelihood(x if target is None else target, logits).mean()
        kl = self.kl_weight * q.kl().mean()
        return LossOutput(total=recon + kl, parts={"recon": recon, "kl": kl}, output=out)

    def loss_units(self, parts: list[str] | tuple[str, ...] = ("loss", "recon", "kl")) -> dict[str, str]:
        """The VAE's loss parts are in nats per example (summed over dimensions), not per element."""
        units = {"loss": "nats per example (the negative ELBO, with beta)", "recon": "nats per example (-log p(x|z))",
                 "kl": "nats per example (beta-weighted KL(q(z|x) || p(z)))"}
        return {p: units.get(p, "nats per example") for p in parts}

    # --- evaluation --------------------------------------------------------------
    def elbo(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Single-sample ELBO = E_q[log p(x|z)] − KL, nats per example, shape ``(B,)`` (β = 1)."""
        q = self.posterior(x)
        return self.log_likelihood(x, self.decode_logits(q.sample(generator))) - q.kl()

    def iwae_bound(self, x: Tensor, k: int = 50, generator: torch.Generator | None = None) -> Tensor:
        """Importance-weighted bound on log p(x) with ``k`` samples, nats per example, ``(B,)``.

        log (1/k) Σ_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x); it is ≥ the ELBO in expectation
        and tightens as k grows (Burda et al. 2016).
        """
        if k < 1:
            raise ValueError("k must be >= 1")
        q = self.posterior(x)
        b, d = q.mean.shape
        z = q.mean + q.std * randn((k, b, d), generator, q.mean)  # (k, B, D)
        logits = self.decode_logits(z.reshape(k * b, d)).reshape(k, b, *self.config.input_shape)
        log_w = self.log_likelihood(x, logits) + standard_normal_log_prob(z) - q.log_prob(z)  # (k, B)
        return torch.logsumexp(log_w, 0) - math.log(k)

    # --- generation and latent arithmetic ----------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Decode ``n`` draws from the prior; returns decoder means, ``(n, *input_shape)``."""
        return self.decode(randn((n, self.config.latent_dim), generator, self.to_mean.weight))

    def interpolate(self, x1: Tensor, x2: Tensor, steps: int = 8) -> Tensor:
        """Decode ``steps`` points on the line between the posterior means of two inputs.

        ``x1``/``x2``: one example each, shaped ``input_shape`` or ``(1, *input_shape)``.
        Returns ``(steps, *input_shape)``; the ends equal the inputs' reconstructions.
        """
        shape = tuple(self.config.input_shape)
        z = self.encode(torch.stack([x1.reshape(shape), x2.reshape(shape)]))
        t = torch.linspace(0.0, 1.0, steps, device=z.device).unsqueeze(1)
        return self.decode((1 - t) * z[0] + t * z[1])

    def attribute_vector(self, x_group_a: Tensor, x_group_b: Tensor) -> Tensor:
        """Mean code of group A minus mean code of group B, shape ``(latent,)``."""
        return self.encode(x_group_a).mean(0) - self.encode(x_group_b).mean(0)

    def apply_attribute(self, x: Tensor, vector: Tensor, strength: float = 1.0) -> Tensor:
        """Decode ``encode(x) + strength · vector`` (e.g. add "smiling" to a face), shape of ``x``."""
        return self.decode(self.encode(x) + strength * vector)


@dataclass
class ConvVAEConfig(VAEObjectiveConfig):
    input_shape: tuple[int, ...] = (1, 28, 28)  # (C, L) or (C, H, W)
    channels: list[int] = field(default_factory=lambda: [32, 64])  # encoder conv channels; the decoder mirrors them
    kernel_size: list[int] = field(default_factory=lambda: [3])  # per stage (one value: all stages)
    stride: list[int] = field(default_factory=lambda: [2])  # per stage
    pool: list[int] = field(default_factory=lambda: [1])  # max-pool factor per stage
    activation: Activation = "relu"
    decoder: Literal["transpose", "upsample"] = "transpose"  # transposed convs or upsampling + conv

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.input_shape) not in (2, 3):
            raise ValueError(f"conv_vae needs input_shape (C, L) or (C, H, W), got {tuple(self.input_shape)}")


@register("conv_vae", ConvVAEConfig, "Convolutional VAE (1-D or 2-D): the conv builder's encoder/decoder around a Gaussian code.")
class ConvVAE(VAE):
    """VAE whose encoder body and decoder come from the convolutional builder of :mod:`aekit.models.conv`."""

    config: ConvVAEConfig  # type: ignore[assignment]

    def _build_networks(self) -> tuple[nn.Module, int, nn.Module]:
        from aekit.models.conv import ConvAutoencoder, ConvConfig

        cfg = self.config
        conv = ConvAutoencoder(ConvConfig(
            input_shape=tuple(cfg.input_shape), channels=list(cfg.channels), kernel_size=list(cfg.kernel_size),
            stride=list(cfg.stride), pool=list(cfg.pool), activation=cfg.activation, bottleneck="dense",
            latent_dim=cfg.latent_dim, decoder=cfg.decoder,
        ))
        layers = list(conv.encoder)
        cut = next(i for i, m in enumerate(layers) if isinstance(m, nn.Flatten)) + 1  # drop the dense code layer
        return nn.Sequential(*layers[:cut]), math.prod(conv.map_shape), conv.decoder
