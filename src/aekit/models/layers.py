"""Small building blocks shared by the model families."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Activation = Literal["relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity"]
OutputActivation = Literal["sigmoid", "identity"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (see :data:`Activation`)."""
    return _ACTIVATIONS[name]()


class TiedLinear(nn.Module):
    """Linear layer whose weight is the transpose of another layer's (W' = Wᵀ).

    Only the bias is a parameter of its own. The source layer is held outside the
    module tree so the shared weight is registered (and saved) exactly once.
    """

    def __init__(self, source: nn.Linear) -> None:
        super().__init__()
        object.__setattr__(self, "_source", source)
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(h, self._source.weight.t(), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self._source.out_features}, out_features={self._source.in_features}, tied=True"
