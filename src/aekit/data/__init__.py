"""Data: loaders, splits, scaling and fast batching. Adapters reshape at the edges."""

from aekit.data.batches import TensorBatches
from aekit.data.dataset import ArraySplit, Dataset, Scaler, Splits, check_array, split_dataset
from aekit.data.loaders import BUILTIN, load_array, load_dataset, read_idx, register_builtin, table_to_dataset

__all__ = [
    "ArraySplit", "BUILTIN", "Dataset", "Scaler", "Splits", "TensorBatches", "check_array",
    "load_array", "load_dataset", "read_idx", "register_builtin", "split_dataset", "table_to_dataset",
]

from aekit.data import odds as _odds  # noqa: E402,F401  (registers cardio, arrhythmia, lympho, mitdb, yahoo)
