"""The model contract every autoencoder family follows.

A model is a plain :class:`torch.nn.Module` built from one config dataclass. It has
``encode(x) -> z``, ``decode(z) -> x_hat``, ``forward(x) -> AEOutput`` and
``loss(x, target) -> LossOutput`` (total plus named parts). The training engine only
ever reads ``LossOutput.total`` and logs ``LossOutput.parts``; it knows nothing
about particular families.

Shapes: inputs are ``(B, features)`` for tables or ``(B, C, *spatial)`` for images
and series; ``x_hat`` always has the input's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from aekit.errors import ConfigError

ReconLoss = Literal["mse", "bce", "l1"]


@dataclass
class AEOutput:
    """What ``forward`` returns.

    ``x_hat``: reconstruction, shape of the input. ``z``: the code the decoder used.
    ``extras``: family-specific tensors (``logits`` of a sigmoid output, ``mu`` and
    ``logvar`` of a VAE, the dense code ``h`` before k-sparse selection, ...).
    """

    x_hat: Tensor
    z: Tensor
    extras: dict[str, Tensor] = field(default_factory=dict)


@dataclass
class LossOutput:
    """What ``loss`` returns: the scalar to minimise and its named parts.

    ``parts`` always holds ``"recon"``; regularisers add their own keys (``"kl"``,
    ``"l1"``, ``"contractive"``, ...) with the *weighted* value that enters ``total``.
    """

    total: Tensor
    parts: dict[str, Tensor]
    output: AEOutput


def element_loss(out: AEOutput, target: Tensor, kind: ReconLoss) -> Tensor:
    """Per-element reconstruction loss, the shape of ``target`` (BCE from the logits when given)."""
    if kind == "bce" and out.extras.get("logits") is not None:
        return F.binary_cross_entropy_with_logits(out.extras["logits"], target, reduction="none")
    return per_sample_error(out.x_hat, target, kind)


def trimmed_mean(per_row: Tensor, trim: float) -> Tensor:
    """Mean of ``per_row`` ``(..., B)`` over its last axis, leaving out its ``floor(trim·B)`` largest
    entries: ``(...)``. The left-out rows get no gradient (a trimmed loss does not learn them)."""
    n = per_row.shape[-1]
    drop = math.floor(trim * n + 1e-9)  # 1e-9: 0.1·30 is 3.0000000000000004 in floats, 0.29·100 28.999...
    if drop <= 0:
        return per_row.mean(-1)
    return per_row.topk(n - drop, dim=-1, largest=False, sorted=False).values.mean(-1)


def reconstruction_loss(out: AEOutput, target: Tensor, kind: ReconLoss, trim: float = 0.0) -> Tensor:
    """Mean per-element reconstruction loss between ``out.x_hat`` and ``target``.

    BCE uses the decoder's logits when the family provides them (numerically stable);
    it expects targets in [0, 1]. ``trim`` (a share in [0, 0.5)): the batch's ``floor(trim·B)``
    rows with the largest mean error are left out (a trimmed loss, robust to outliers among the
    training rows); the mean is then over the kept rows' elements.
    """
    if trim > 0:
        return trimmed_mean(element_loss(out, target, kind).flatten(1).mean(1), trim)
    if kind == "mse":
        return F.mse_loss(out.x_hat, target)
    if kind == "l1":
        return F.l1_loss(out.x_hat, target)
    if kind == "bce":
        logits = out.extras.get("logits")
        if logits is not None:
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.binary_cross_entropy(out.x_hat.clamp(1e-6, 1 - 1e-6), target)
    raise ValueError(f"unknown reconstruction loss {kind!r}")


def per_sample_error(x_hat: Tensor, x: Tensor, kind: ReconLoss = "mse") -> Tensor:
    """Element-wise reconstruction error, same shape as ``x`` (for scores and error maps)."""
    if kind == "l1":
        return (x_hat - x).abs()
    if kind == "bce":
        p = x_hat.clamp(1e-6, 1 - 1e-6)
        return -(x * p.log() + (1 - x) * (1 - p).log())
    return (x_hat - x).pow(2)


class Autoencoder(nn.Module):
    """Base class: a deterministic autoencoder with a reconstruction loss.

    Subclasses set ``self.encoder`` / ``self.decoder`` (or override ``encode`` /
    ``decode``) and add regularisers by overriding :meth:`loss`. ``config`` must have
    ``input_shape`` and ``loss`` fields.
    """

    family: ClassVar[str] = "base"
    config: Any

    def __init__(self, config: Any) -> None:
        super().__init__()
        if getattr(config, "loss", None) == "bce" and getattr(config, "output_activation", "sigmoid") != "sigmoid":
            # clamping an unbounded output into (0, 1) would give a meaningless loss and zero gradients
            raise ConfigError("loss 'bce' needs output_activation 'sigmoid' (outputs are probabilities); "
                              "use loss 'mse' or 'l1' with an identity output")
        self.config = config

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, without the batch dimension."""
        return tuple(self.config.input_shape)

    @property
    def latent_dim(self) -> int:
        """Number of values in one example's code."""
        return int(self.config.latent_dim)

    def encode(self, x: Tensor) -> Tensor:
        """``(B, *input_shape) -> (B, latent...)``: the deterministic code."""
        return self.encoder(x)

    def decode_logits(self, z: Tensor) -> Tensor:
        """Decoder output before the output activation, shape ``(B, *input_shape)``."""
        return self.decoder(z)

    def decode(self, z: Tensor) -> Tensor:
        """``(B, latent...) -> (B, *input_shape)``: the reconstruction."""
        return self._activate(self.decode_logits(z))

    def _activate(self, logits: Tensor) -> Tensor:
        if getattr(self.config, "output_activation", "identity") == "sigmoid":
            return torch.sigmoid(logits)
        return logits

    def forward(self, x: Tensor) -> AEOutput:
        z = self.encode(x)
        logits = self.decode_logits(z)
        extras = {"logits": logits} if getattr(self.config, "output_activation", "") == "sigmoid" else {}
        return AEOutput(x_hat=self._activate(logits), z=z, extras=extras)

    def loss(self, x: Tensor, target: Tensor | None = None) -> LossOutput:
        """Reconstruct ``x`` and compare with ``target`` (defaults to ``x``; a denoiser passes the clean input)."""
        out = self(x)
        recon = self.recon_loss(out, x if target is None else target)
        return LossOutput(total=recon, parts={"recon": recon}, output=out)

    def recon_loss(self, out: AEOutput, target: Tensor) -> Tensor:
        """The reconstruction term of the loss: ``config.loss`` per element, without the batch's worst
        rows when the config has a ``trim`` share (the MLP family's)."""
        return reconstruction_loss(out, target, self.config.loss, float(getattr(self.config, "trim", 0.0)))

    def loss_units(self, parts: list[str] | tuple[str, ...] = ("loss", "recon")) -> dict[str, str]:
        """What each loss part measures, for metrics and reports (a number without its unit misleads:
        a mean BCE per element and nats per example differ by a factor of the input size)."""
        recon = f"mean {self.config.loss.upper()} per input element, in scaled units"
        trim = float(getattr(self.config, "trim", 0.0))
        if trim > 0:
            recon = f"mean {self.config.loss.upper()} per input element of each batch's rows less its {trim:g} share " \
                    "with the largest errors, in scaled units"
        units = {"loss": recon if list(parts) in (["loss", "recon"], ["recon"]) else f"{recon}, plus the weighted penalties",
                 "recon": recon}
        return {p: units.get(p, "weighted penalty, added to the loss") for p in parts}

    def reconstruct(self, x: Tensor) -> Tensor:
        """Deterministic reconstruction (the mean of a VAE's decoder at the posterior mean)."""
        return self(x).x_hat

    def score(self, x: Tensor) -> Tensor:
        """Per-example mean reconstruction error (``config.loss`` per input element, scaled units),
        shape ``(B,)`` (higher = worse)."""
        err = per_sample_error(self.reconstruct(x), x, self.config.loss)
        return err.flatten(1).mean(1)
