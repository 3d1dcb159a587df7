"""Fast batching of in-memory tensors.

Small autoencoders are bound by Python overhead: a DataLoader that calls
``__getitem__`` per sample and collates costs more than the model's arithmetic.
Here a batch is one index into a tensor.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor


class TensorBatches:
    """Iterable of ``(batch_size, ...)`` slices of ``X``, reshuffled per epoch.

    Shuffling depends only on ``seed`` and the epoch set by :meth:`set_epoch`, so a
    resumed run sees the same batches as an uninterrupted one. Under data-parallel
    training each rank takes an equal-sized shard of every epoch's permutation.
    """

    def __init__(
        self,
        X: Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.X = X
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self, rank: int, world_size: int) -> "TensorBatches":
        """The same batches restricted to one rank of ``world_size``."""
        out = TensorBatches(self.X, self.batch_size, self.shuffle, self.seed, self.drop_last, rank, world_size)
        out.epoch = self.epoch
        return out

    def to(self, device: torch.device | str) -> "TensorBatches":
        """Move the whole tensor to ``device`` once, so batches need no per-step copy."""
        self.X = self.X.to(device)
        return self

    def _indices(self) -> Tensor:
        n = len(self.X)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            idx = torch.randperm(n, generator=g)
        else:
            idx = torch.arange(n)
        if self.world_size > 1:  # equal shards so every rank runs the same number of steps
            per_rank = n // self.world_size
            idx = idx[self.rank * per_rank : (self.rank + 1) * per_rank]
        return idx.to(self.X.device)

    def __len__(self) -> int:
        n = len(self.X) // self.world_size
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        idx = self._indices()
        if not self.shuffle and self.world_size == 1:
            # contiguous slices are views: no copy at all
            for start in range(0, len(idx), self.batch_size):
                chunk = self.X[start : start + self.batch_size]
                if self.drop_last and len(chunk) < self.batch_size:
                    return
                yield chunk
            return
        for chunk in idx.split(self.batch_size):
            if self.drop_last and len(chunk) < self.batch_size:
                return
            yield self.X.index_select(0, chunk)
