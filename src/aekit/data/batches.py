"""Fast batching of in-memory tensors.

Small autoencoders are bound by Python overhead: a DataLoader that calls
``__getitem__`` per sample and collates costs more than the model's arithmetic.
Here a batch is one index into a tensor (or into an input and a target tensor).
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor

Batch = Tensor | tuple[Tensor, Tensor]


class TensorBatches:
    """Iterable of ``(batch_size, ...)`` slices of ``X`` (with the matching rows of ``target``,
    as ``(x, target)`` pairs, when one is given), reshuffled per epoch.

    Shuffling depends only on ``seed`` and the epoch set by :meth:`set_epoch`, so a
    resumed run sees the same batches as an uninterrupted one. Under data-parallel
    training each rank takes an equal-sized shard of every epoch's permutation.

    With ``member_seeds`` (an ensemble trained as one batched network,
    :class:`aekit.models.ensemble.MemberStack`) a batch is ``(M, batch_size, ...)``: slice ``m``
    holds exactly the rows a ``TensorBatches`` shuffled with ``seed=member_seeds[m]`` would
    serve, so every member sees its own row order. ``member_share`` < 1 (row bagging) gives each
    member a fixed subset of ``max(1, round(member_share * n))`` rows, drawn once from its seed;
    an epoch is then one pass over each member's own subset (fewer steps).
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
        target: Tensor | None = None,
        member_seeds: list[int] | None = None,
        member_share: float = 1.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if not 0.0 < member_share <= 1.0 or (member_share < 1.0 and member_seeds is None):
            raise ValueError(f"member_share must be in (0, 1] and below 1 only with member_seeds, got {member_share}")
        if target is not None and len(target) != len(X):
            raise ValueError(f"{len(target)} targets for {len(X)} inputs")
        self.X = X
        self.target = target
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.member_seeds = None if member_seeds is None else [int(s) for s in member_seeds]
        self.member_share = float(member_share)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self, rank: int, world_size: int) -> "TensorBatches":
        """The same batches restricted to one rank of ``world_size``."""
        out = TensorBatches(self.X, self.batch_size, self.shuffle, self.seed, self.drop_last, rank, world_size, self.target,
                            self.member_seeds, self.member_share)
        out.epoch = self.epoch
        return out

    def to(self, device: torch.device | str) -> "TensorBatches":
        """Move the whole tensor(s) to ``device`` once, so batches need no per-step copy."""
        self.X = self.X.to(device)
        if self.target is not None:
            self.target = self.target.to(device)
        return self

    def nbytes(self) -> int:
        """Bytes of the tensors served."""
        return sum(t.element_size() * t.nelement() for t in (self.X, self.target) if t is not None)

    def _rows(self) -> int:
        """Rows one pass serves (per member): all of ``X``, or a member's subset."""
        n = len(self.X)
        return n if self.member_share >= 1.0 else max(1, int(round(self.member_share * n)))

    def _order(self, seed: int) -> Tensor:
        """This epoch's row order for ``seed`` (``(rows,)``: every row, or the member's own subset,
        drawn once from ``seed`` whatever the epoch), this rank's shard of it under data parallelism."""
        n = self._rows()
        if self.shuffle:
            g = torch.Generator().manual_seed(seed * 1_000_003 + self.epoch)
            idx = torch.randperm(n, generator=g)
        else:
            idx = torch.arange(n)
        if n < len(self.X):  # the member's fixed subset (seeded as an epoch never reached), in this epoch's order
            g = torch.Generator().manual_seed(seed * 1_000_003 + 1_000_002)
            idx = torch.randperm(len(self.X), generator=g)[:n][idx]
        if self.world_size > 1:  # equal shards so every rank runs the same number of steps
            per_rank = self._per_rank(n)
            if n < self.world_size:  # fewer rows than ranks: one each, wrapping round (DistributedSampler pads alike)
                idx = idx[torch.arange(self.world_size) % n]
            idx = idx[self.rank * per_rank : (self.rank + 1) * per_rank]
        return idx.to(self.X.device)

    def _indices(self) -> Tensor:
        return self._order(self.seed)

    def _per_rank(self, n: int) -> int:
        """Rows each rank takes of ``n``: an equal share (the rest left out of this epoch's
        order), and at least one, so a tiny set or a bagged member's few rows still train."""
        return max(1, n // self.world_size)

    def __len__(self) -> int:
        n = self._per_rank(self._rows())
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        if self.member_seeds is not None:
            yield from self._member_batches()
            return
        idx = self._indices()
        T = self.target
        if not self.shuffle and self.world_size == 1:
            # contiguous slices are views: no copy at all
            for start in range(0, len(idx), self.batch_size):
                chunk = self.X[start : start + self.batch_size]
                if self.drop_last and len(chunk) < self.batch_size:
                    return
                yield chunk if T is None else (chunk, T[start : start + self.batch_size])
            return
        for chunk in idx.split(self.batch_size):
            if self.drop_last and len(chunk) < self.batch_size:
                return
            x = self.X.index_select(0, chunk)
            yield x if T is None else (x, T.index_select(0, chunk))

    def _member_batches(self) -> Iterator[Batch]:
        """``(M, batch_size, ...)`` batches, member ``m`` in its own seed's row order."""
        idx = torch.stack([self._order(s) for s in self.member_seeds or []])  # (M, n)
        T = self.target
        for chunk in idx.split(self.batch_size, dim=1):
            if self.drop_last and chunk.shape[1] < self.batch_size:
                return
            flat = chunk.reshape(-1)
            x = self.X.index_select(0, flat).view(*chunk.shape, *self.X.shape[1:])
            yield x if T is None else (x, T.index_select(0, flat).view(*chunk.shape, *T.shape[1:]))
