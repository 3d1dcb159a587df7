"""Names the few-shot application still imports; the loop itself is :func:`aekit.runs.batched`."""

from __future__ import annotations

from typing import Any

from aekit.runs import batched


def seeded_model(family: str, params: dict[str, Any], seed: int) -> Any:
    """Build a registered model with weights initialised from ``seed`` (reproducible fits)."""
    from aekit.registry import build_model

    return build_model(family, params, seed=seed)


__all__ = ["batched", "seeded_model"]
