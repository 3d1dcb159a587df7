"""Small helpers the applications share: batched no-grad inference and seeded model building."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor


@torch.no_grad()
def batched(fn: Callable[[Tensor], Tensor], X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Apply ``fn`` to float32 slices of ``X`` without gradients; returns one float32 array."""
    t = torch.from_numpy(np.array(X, dtype=np.float32, copy=True))  # copy: inputs may be read-only
    if len(t) == 0:
        return np.zeros((0,), dtype=np.float32)
    return torch.cat([fn(t[i : i + batch_size]) for i in range(0, len(t), batch_size)]).numpy()


def seeded_model(family: str, params: dict[str, Any], seed: int) -> Any:
    """Build a registered model with weights initialised from ``seed`` (reproducible fits)."""
    from aekit.registry import build_model

    return build_model(family, params, seed=seed)

