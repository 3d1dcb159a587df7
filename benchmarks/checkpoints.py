"""Cost of crash-safe checkpoints: Lightning's plain ``torch.save`` against aekit's atomic write.

:class:`aekit.training.checkpoints.AtomicCheckpointIO` serialises in memory, writes a
temporary file, fsyncs it, renames it and fsyncs the folder. This prints the time per
checkpoint of both ways for checkpoints of a few sizes (an MLP's weights plus Adam's two
moment buffers, as in a training checkpoint), in the folder given (default: a temporary
folder; pass a folder on the disk your runs live on, fsync cost depends on it), and the
time to verify a checkpoint before a resume (``checkpoint_problem``: one ``torch.load``).

Run::

    python benchmarks/checkpoints.py [--dir runs/bench] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from aekit.training.checkpoints import AtomicCheckpointIO, checkpoint_problem


def fake_checkpoint(n_params: int) -> dict:
    """A Lightning-shaped checkpoint holding ``n_params`` weights and Adam's two moments."""
    w = torch.randn(n_params)
    return {"epoch": 3, "global_step": 100, "state_dict": {"w": w},
            "optimizer_states": [{"state": {0: {"exp_avg": torch.randn(n_params), "exp_avg_sq": torch.rand(n_params)}}}],
            "loops": {}, "callbacks": {}}


def per_write(io: TorchCheckpointIO, ckpt: dict, path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        io.save_checkpoint(ckpt, path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="aekit-ckpt-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"folder: {folder}; median of {args.repeats} writes each")
    print(f"{'weights':>10} {'file MB':>8} {'torch.save ms':>14} {'atomic ms':>10} {'verify ms':>10}")
    for n in (5_000, 250_000, 2_500_000):
        ckpt = fake_checkpoint(n)
        plain = per_write(TorchCheckpointIO(), ckpt, folder / "plain.ckpt", args.repeats)
        atomic = per_write(AtomicCheckpointIO(), ckpt, folder / "atomic.ckpt", args.repeats)
        start = time.perf_counter()
        assert checkpoint_problem(folder / "atomic.ckpt") is None
        verify = time.perf_counter() - start
        size = (folder / "atomic.ckpt").stat().st_size / 1e6
        print(f"{n:>10,} {size:>8.2f} {plain * 1e3:>14.2f} {atomic * 1e3:>10.2f} {verify * 1e3:>10.2f}")


if __name__ == "__main__":
    main()
