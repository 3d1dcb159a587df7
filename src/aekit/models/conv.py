"""Convolutional autoencoders in 1-D and 2-D from one configurable builder.

The dimension follows ``input_shape``: ``(C, L)`` builds Conv1d/MaxPool1d/ConvTranspose1d
layers, ``(C, H, W)`` their 2-D versions. The encoder is a list of stages (conv ->
activation -> optional max-pool); the code is either a dense vector (Flatten -> Linear
to ``latent_dim``, Linear back, Reshape) or the last feature map itself. The decoder
is a list of stages, each a transposed convolution with a stride, or a nearest-neighbour
upsampling followed by a convolution (Keras' ``UpSampling`` + ``Conv``). When the
decoder's output is larger than the input, a :class:`Trim` layer crops it.

Three presets reproduce the lecture tables layer by layer (see ``004_*.txt`` and the
Keras blog model of ``003_*.txt``): ``mnist_conv2d``, ``keras_conv2d`` and
``timeseries_conv1d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from aekit.errors import ConfigError
from aekit.models.base import Autoencoder, ReconLoss
from aekit.models.layers import Activation, OutputActivation, make_activation
from aekit.registry import register

Bottleneck = Literal["dense", "conv"]
DecoderKind = Literal["transpose", "upsample"]


@dataclass
class ConvConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)  # (C, L) for 1-D, (C, H, W) for 2-D
    channels: list[int] = field(default_factory=lambda: [32, 64, 64])  # encoder output channels per stage
    kernel_size: list[int] = field(default_factory=lambda: [3])  # per stage; one value applies to all
    stride: list[int] = field(default_factory=lambda: [2])  # conv stride per stage (downsampling by strided conv)
    padding: list[int] | None = None  # per stage; None = kernel_size // 2 ("same" at stride 1)
    pool: list[int] = field(default_factory=lambda: [1])  # max-pool factor after each stage; 1 = no pool
    activation: Activation = "relu"  # after every conv except the decoder's last
    last_activation: Activation | None = None  # after the encoder's last conv; None = activation
    bottleneck: Bottleneck = "dense"  # dense: Flatten -> Linear(latent_dim); conv: the last feature map is the code
    latent_dim: int | None = None  # dense code size (None: 32); for a conv code the map's size (None: inferred)
    latent_activation: Activation = "identity"  # on a dense code
    decoder: DecoderKind = "transpose"  # transposed convs, or nearest upsampling + conv
    decoder_channels: list[int] | None = None  # output channels per stage, last = input channels; None mirrors
    decoder_kernel_size: list[int] | None = None  # None mirrors the encoder
    decoder_stride: list[int] | None = None  # transposed-conv stride or upsampling factor (before the conv)
    decoder_padding: list[int] | None = None  # None = kernel_size // 2
    decoder_output_padding: list[int] | None = None  # transposed convs only; None = stride - 1 (exact growth)
    output_activation: OutputActivation = "sigmoid"  # sigmoid for data in [0, 1]
    loss: ReconLoss = "mse"  # reconstruction loss

    def __post_init__(self) -> None:
        if len(self.input_shape) not in (2, 3) or any(d < 1 for d in self.input_shape):
            raise ValueError(f"conv models need input_shape (C, L) or (C, H, W), got {tuple(self.input_shape)}")
        if not self.channels or any(c < 1 for c in self.channels):
            raise ValueError("channels must be a non-empty list of positive integers")
        if self.latent_dim is not None and self.latent_dim < 1:
            raise ValueError("latent_dim must be >= 1")


def _per_stage(values: list[int] | None, n: int, name: str, default: list[int]) -> list[int]:
    """Broadcast a one-value list to ``n`` stages; check the length otherwise."""
    if values is None:
        return list(default)
    if len(values) == 1:
        return list(values) * n
    if len(values) != n:
        raise ConfigError(f"{name} has {len(values)} values for {n} stages")
    return list(values)


class Trim(nn.Module):
    """Crop the trailing spatial dims to ``size`` (keeps the top-left part, as in the 004 table)."""

    def __init__(self, size: tuple[int, ...]) -> None:
        super().__init__()
        self.size = tuple(size)

    def forward(self, x: Tensor) -> Tensor:
        index = (..., *(slice(0, s) for s in self.size))
        return x[index]

    def extra_repr(self) -> str:
        return f"size={self.size}"


class Reshape(nn.Module):
    """``(B, N) -> (B, *shape)``: the dense code back to a feature map."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


_LAYERS = {
    1: (nn.Conv1d, nn.ConvTranspose1d, nn.MaxPool1d),
    2: (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d),
}


def _encoder_stages(cfg: ConvConfig, dims: int) -> list[nn.Module]:
    conv, _, pool = _LAYERS[dims]
    n = len(cfg.channels)
    ks = _per_stage(cfg.kernel_size, n, "kernel_size", [3])
    st = _per_stage(cfg.stride, n, "stride", [1])
    pools = _per_stage(cfg.pool, n, "pool", [1])
    pads = _per_stage(cfg.padding, n, "padding", [k // 2 for k in ks])
    layers: list[nn.Module] = []
    c_in = cfg.input_shape[0]
    for i, c_out in enumerate(cfg.channels):
        layers.append(conv(c_in, c_out, ks[i], stride=st[i], padding=pads[i]))
        act = cfg.last_activation if i == n - 1 and cfg.last_activation is not None else cfg.activation
        if act != "identity":
            layers.append(make_activation(act))
        if pools[i] > 1:
            # ceil_mode: odd sizes round up (Keras' padding="same" pooling), so decoding can reach the input size
            layers.append(pool(pools[i], ceil_mode=True))
        c_in = c_out
    return layers


def _decoder_stages(cfg: ConvConfig, dims: int, c_code: int) -> list[nn.Module]:
    conv, convt, _ = _LAYERS[dims]
    n_enc = len(cfg.channels)
    enc_ks = _per_stage(cfg.kernel_size, n_enc, "kernel_size", [3])
    enc_down = [s * p for s, p in zip(_per_stage(cfg.stride, n_enc, "stride", [1]), _per_stage(cfg.pool, n_enc, "pool", [1]))]
    chans = cfg.decoder_channels or [*reversed(cfg.channels[:-1]), cfg.input_shape[0]]
    n = len(chans)
    if chans[-1] != cfg.input_shape[0]:
        raise ConfigError(f"decoder_channels must end with the input's {cfg.input_shape[0]} channel(s), got {chans[-1]}")
    ks = _per_stage(cfg.decoder_kernel_size, n, "decoder_kernel_size", list(reversed(enc_ks)) if n == n_enc else [3])
    st = _per_stage(cfg.decoder_stride, n, "decoder_stride", list(reversed(enc_down)) if n == n_enc else [1])
    pads = _per_stage(cfg.decoder_padding, n, "decoder_padding", [k // 2 for k in ks])
    # output_padding = stride - 1 makes a transposed conv grow the size exactly stride-fold
    out_pad = _per_stage(cfg.decoder_output_padding, n, "decoder_output_padding", [s - 1 for s in st])
    layers: list[nn.Module] = []
    c_in = c_code
    for i, c_out in enumerate(chans):
        if cfg.decoder == "transpose":
            layers.append(convt(c_in, c_out, ks[i], stride=st[i], padding=pads[i], output_padding=out_pad[i]))
        else:
            if st[i] > 1:
                layers.append(nn.Upsample(scale_factor=st[i], mode="nearest"))
            layers.append(conv(c_in, c_out, ks[i], padding=pads[i]))
        if i < n - 1 and cfg.activation != "identity":
            layers.append(make_activation(cfg.activation))
        c_in = c_out
    return layers


@register("conv", ConvConfig, "Convolutional autoencoder, 1-D or 2-D (strided conv/max-pool, transposed conv/upsampling).")
class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder built from :class:`ConvConfig`.

    ``encode``: ``(B, C, *spatial) -> (B, latent_dim)`` with a dense bottleneck, or the
    code map ``(B, C', *spatial')`` with ``bottleneck="conv"`` (``latent_dim`` is then
    its number of values). ``decode`` maps back to ``(B, C, *spatial)``.
    """

    config: ConvConfig

    def __init__(self, config: ConvConfig) -> None:
        super().__init__(config)
        dims = len(config.input_shape) - 1
        enc = _encoder_stages(config, dims)
        try:
            with torch.no_grad():  # shapes of the code map, found by one dummy pass
                map_shape = tuple(nn.Sequential(*enc)(torch.zeros(1, *config.input_shape)).shape[1:])
        except RuntimeError:  # torch refuses a kernel larger than its (shrunken) input
            map_shape = (0,)
        if min(map_shape) < 1:
            raise ConfigError(f"the encoder shrinks input {tuple(config.input_shape)} to nothing; use fewer or smaller strides")
        self.code_shape: tuple[int, ...]
        dec_head: list[nn.Module] = []
        n_map = math.prod(map_shape)
        if config.bottleneck == "dense":
            if config.latent_dim is None:
                config.latent_dim = 32
            enc += [nn.Flatten(), nn.Linear(n_map, config.latent_dim)]
            if config.latent_activation != "identity":
                enc.append(make_activation(config.latent_activation))
            dec_head = [nn.Linear(config.latent_dim, n_map), Reshape(map_shape)]
            self.code_shape = (config.latent_dim,)
        else:
            if config.latent_dim is not None and config.latent_dim != n_map:
                raise ConfigError(f"a conv code map {map_shape} has {n_map} values, but latent_dim is {config.latent_dim}")
            config.latent_dim = n_map  # recorded so saved configs state the code size
            self.code_shape = map_shape
        dec = dec_head + _decoder_stages(config, dims, map_shape[0])
        with torch.no_grad():
            out_shape = tuple(nn.Sequential(*dec)(torch.zeros(1, *self.code_shape)).shape[1:])
        target = tuple(config.input_shape)
        if any(o < t for o, t in zip(out_shape[1:], target[1:])):
            raise ConfigError(f"the decoder produces {out_shape}, smaller than the input {target}; adjust decoder strides/padding")
        if out_shape != target:
            dec.append(Trim(target[1:]))
        self.map_shape = map_shape
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    @property
    def latent_dim(self) -> int:
        return math.prod(self.code_shape)


def code_as_grid(z: Tensor) -> Tensor:
    """A 2-D code map ``(B, C, H, W)`` laid out as ``(B, H, C*W)`` for reports.

    The Polish deck shows the Keras model's 8x4x4 code as a 4x32 image: the eight
    4x4 channel maps side by side. 1-D maps ``(B, C, L)`` are returned unchanged.
    """
    if z.dim() == 3:
        return z
    if z.dim() != 4:
        raise ValueError(f"expected a code map (B, C, H, W), got shape {tuple(z.shape)}")
    b, c, h, w = z.shape
    return z.permute(0, 2, 1, 3).reshape(b, h, c * w)


# --- presets: the lecture architectures, layer for layer ---------------------------------


@dataclass
class MnistConv2dConfig(ConvConfig):
    """004 table: Conv2d 32 -> 64 (s2) -> 64 (s2) -> 64, LeakyReLU, 2-d dense code, transposed convs, Trim."""

    input_shape: tuple[int, ...] = (1, 28, 28)
    channels: list[int] = field(default_factory=lambda: [32, 64, 64, 64])
    kernel_size: list[int] = field(default_factory=lambda: [3])
    stride: list[int] = field(default_factory=lambda: [1, 2, 2, 1])
    padding: list[int] | None = None
    pool: list[int] = field(default_factory=lambda: [1])
    activation: Activation = "leaky_relu"
    last_activation: Activation | None = "identity"  # the table goes Conv2d-7 -> Flatten-8 directly
    bottleneck: Bottleneck = "dense"
    latent_dim: int | None = 2
    decoder: DecoderKind = "transpose"
    decoder_channels: list[int] | None = field(default_factory=lambda: [64, 64, 32, 1])
    decoder_kernel_size: list[int] | None = field(default_factory=lambda: [3])
    decoder_stride: list[int] | None = field(default_factory=lambda: [1, 2, 2, 2])
    decoder_padding: list[int] | None = field(default_factory=lambda: [1, 1, 0, 0])  # 7 -> 7 -> 13 -> 27 -> 55
    decoder_output_padding: list[int] | None = field(default_factory=lambda: [0])
    output_activation: OutputActivation = "sigmoid"


@register("mnist_conv2d", MnistConv2dConfig, "Preset: the 004 deck's MNIST Conv2d AE (LeakyReLU, 2-d code, Trim to 28x28).")
class MnistConv2d(ConvAutoencoder):
    """The ``004_*.txt`` MNIST convolutional autoencoder (a ``conv`` with preset defaults)."""


@dataclass
class KerasConv2dConfig(ConvConfig):
    """Keras blog (blog.keras.io, "Building autoencoders in Keras"): 16-8-8 convs with max-pools, 8x4x4 code."""

    input_shape: tuple[int, ...] = (1, 28, 28)
    channels: list[int] = field(default_factory=lambda: [16, 8, 8])
    kernel_size: list[int] = field(default_factory=lambda: [3])
    stride: list[int] = field(default_factory=lambda: [1])
    padding: list[int] | None = None
    pool: list[int] = field(default_factory=lambda: [2])  # 28 -> 14 -> 7 -> 4 ("same" pooling)
    activation: Activation = "relu"
    last_activation: Activation | None = None
    bottleneck: Bottleneck = "conv"
    latent_dim: int | None = None  # 8 * 4 * 4 = 128
    decoder: DecoderKind = "upsample"
    decoder_channels: list[int] | None = field(default_factory=lambda: [8, 8, 16, 1])
    decoder_kernel_size: list[int] | None = field(default_factory=lambda: [3])
    decoder_stride: list[int] | None = field(default_factory=lambda: [1, 2, 2, 2])  # 4 -> 4 -> 8 -> 16 -> 14 -> 28
    decoder_padding: list[int] | None = field(default_factory=lambda: [1, 1, 0, 1])  # the conv 16 is "valid"
    output_activation: OutputActivation = "sigmoid"
    loss: ReconLoss = "bce"


@register("keras_conv2d", KerasConv2dConfig, "Preset: the Keras-blog conv AE (16-8-8 convs + max-pools, 8x4x4 code map).")
class KerasConv2d(ConvAutoencoder):
    """The Keras blog's convolutional autoencoder, as shown in ``003_*.txt``."""


@dataclass
class TimeseriesConv1dConfig(ConvConfig):
    """004 table: Conv1d 32 (k5) -> pool -> 16 (k3) -> pool -> 16, upsample -> 32 (k5) -> upsample -> 1 (k3)."""

    input_shape: tuple[int, ...] = (1, 1000)
    channels: list[int] = field(default_factory=lambda: [32, 16, 16])
    kernel_size: list[int] = field(default_factory=lambda: [5, 3, 3])
    stride: list[int] = field(default_factory=lambda: [1])
    padding: list[int] | None = None
    pool: list[int] = field(default_factory=lambda: [2, 2, 1])
    activation: Activation = "relu"
    last_activation: Activation | None = None
    bottleneck: Bottleneck = "conv"
    latent_dim: int | None = None  # 16 * L/4
    decoder: DecoderKind = "upsample"
    decoder_channels: list[int] | None = field(default_factory=lambda: [32, 1])
    decoder_kernel_size: list[int] | None = field(default_factory=lambda: [5, 3])
    decoder_stride: list[int] | None = field(default_factory=lambda: [2, 2])
    decoder_padding: list[int] | None = None
    output_activation: OutputActivation = "identity"


@register("timeseries_conv1d", TimeseriesConv1dConfig, "Preset: the 004 deck's Conv1d series AE (5,217 parameters at length 1000).")
class TimeseriesConv1d(ConvAutoencoder):
    """The ``004_*.txt`` time-series Conv1d autoencoder."""
