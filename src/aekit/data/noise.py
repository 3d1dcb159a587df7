"""Input corruption for denoising autoencoders (Vincent et al. 2008; the Polish deck).

Corruptions are composable and seeded: ``build_corruption(specs)`` returns a callable
``(x, generator) -> x_noisy`` that the training engine applies to training batches
only; the loss compares the reconstruction with the clean input.

Spec kinds (a list of dicts, applied in order)::

    {"kind": "gaussian", "sigma": 0.3, "clip": true}    # additive N(0, sigma^2), optionally clipped to [0, 1]
    {"kind": "salt_pepper", "fraction": 0.2, "low": 0.0, "high": 1.0}  # a fraction of values set to low/high
    {"kind": "masking", "fraction": 0.3}                # a fraction of values set to 0
    {"kind": "dropout", "p": 0.4, "rescale": false}     # input dropout (30-50 % in the deck)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from aekit.config import from_dict
from aekit.errors import ConfigError


@dataclass
class Gaussian:
    sigma: float = 0.1  # standard deviation of the additive noise
    clip: bool = False  # clip the result to [0, 1] (images scaled by min-max)

    def __call__(self, x: Tensor, g: torch.Generator | None) -> Tensor:
        noisy = x + self.sigma * torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
        return noisy.clamp(0.0, 1.0) if self.clip else noisy


@dataclass
class SaltPepper:
    fraction: float = 0.1  # share of values replaced, half by `low`, half by `high`
    low: float = 0.0
    high: float = 1.0

    def __call__(self, x: Tensor, g: torch.Generator | None) -> Tensor:
        u = torch.rand(x.shape, generator=g, device=x.device)
        out = torch.where(u < self.fraction / 2, torch.full_like(x, self.low), x)
        return torch.where((u >= self.fraction / 2) & (u < self.fraction), torch.full_like(x, self.high), out)


@dataclass
class Masking:
    fraction: float = 0.25  # share of values set to zero

    def __call__(self, x: Tensor, g: torch.Generator | None) -> Tensor:
        keep = torch.rand(x.shape, generator=g, device=x.device) >= self.fraction
        return x * keep


@dataclass
class Dropout:
    p: float = 0.4  # probability of dropping each input value
    rescale: bool = False  # scale kept values by 1/(1-p) like nn.Dropout

    def __call__(self, x: Tensor, g: torch.Generator | None) -> Tensor:
        keep = torch.rand(x.shape, generator=g, device=x.device) >= self.p
        out = x * keep
        return out / (1.0 - self.p) if self.rescale else out


KINDS: dict[str, type] = {"gaussian": Gaussian, "salt_pepper": SaltPepper, "masking": Masking, "dropout": Dropout}


class Corruption:
    """A sequence of corruptions applied in order; call with a seeded generator."""

    def __init__(self, steps: Sequence[Callable[[Tensor, torch.Generator | None], Tensor]]) -> None:
        self.steps = list(steps)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        for step in self.steps:
            x = step(x, generator)
        return x

    def __repr__(self) -> str:
        return f"Corruption({self.steps})"


def _check_fraction(spec: Any, name: str) -> None:
    value = getattr(spec, name, None)
    if value is not None and not 0.0 <= value <= 1.0:
        raise ConfigError(f"noise {type(spec).__name__.lower()}: {name} must be in [0, 1], got {value}")


def build_corruption(specs: Sequence[dict[str, Any]]) -> Corruption:
    """Build a :class:`Corruption` from dict specs; unknown kinds or keys raise ConfigError."""
    steps = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ConfigError(f"noise[{i}]: expected a mapping with a 'kind' ({', '.join(KINDS)})")
        kind = spec["kind"]
        if kind not in KINDS:
            import difflib

            close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"noise[{i}]: unknown kind {kind!r}{hint}; known: {', '.join(KINDS)}")
        step = from_dict(KINDS[kind], {k: v for k, v in spec.items() if k != "kind"}, where=f"noise[{i}] ({kind})")
        for name in ("fraction", "p"):
            _check_fraction(step, name)
        if isinstance(step, Gaussian) and step.sigma < 0:
            raise ConfigError(f"noise[{i}] (gaussian): sigma must be >= 0")
        if isinstance(step, Dropout) and step.rescale and step.p >= 1:
            raise ConfigError(f"noise[{i}] (dropout): rescale needs p < 1 (p = 1 drops every value)")
        steps.append(step)
    return Corruption(steps)


def corrupt(x: Tensor, specs: Sequence[dict[str, Any]], seed: int = 0) -> Tensor:
    """Corrupt ``x`` once with a fresh generator seeded by ``seed`` (for evaluation and figures)."""
    g = torch.Generator(device=x.device).manual_seed(seed)
    return build_corruption(specs)(x, g)
