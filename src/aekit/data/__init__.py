"""Data: loaders, splits, scaling and fast batching. Adapters reshape at the edges.

Names are imported lazily, so that ``aekit.data.paths`` (used by ``aekit doctor``) and
the CLI's start-up never pay for torch.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "TensorBatches": "aekit.data.batches",
    "ArraySplit": "aekit.data.dataset", "Dataset": "aekit.data.dataset", "Scaler": "aekit.data.dataset",
    "Splits": "aekit.data.dataset", "check_array": "aekit.data.dataset", "split_dataset": "aekit.data.dataset",
    "BUILTIN": "aekit.data.loaders", "builtin_names": "aekit.data.loaders", "is_builtin": "aekit.data.loaders",
    "load_array": "aekit.data.loaders", "load_dataset": "aekit.data.loaders", "read_idx": "aekit.data.loaders",
    "register_builtin": "aekit.data.loaders", "table_to_dataset": "aekit.data.loaders",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aekit.data' has no attribute {name!r}")


__all__ = sorted(_LAZY)
