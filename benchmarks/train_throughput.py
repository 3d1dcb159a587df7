"""Training throughput: aekit's Lightning engine vs a minimal hand-written PyTorch loop.

Same MLP autoencoder (784-128-64-32), same in-memory data (60,000 x 784 random
values in [0, 1], or --data fashion-mnist), batch 256, Adam, same number of epochs.
Prints samples/s of each and their ratio (target: aekit >= 0.9 x the hand loop).

    .venv/bin/python benchmarks/train_throughput.py [--epochs 2] [--rows 60000] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def hand_loop(model: torch.nn.Module, X: torch.Tensor, epochs: int, batch: int, seed: int) -> float:
    """The loop a tutorial would write: shuffle, slice, forward, MSE, backward, step."""
    model.to(X.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator(device=X.device).manual_seed(seed)
    model.train()
    sync = torch.cuda.synchronize if X.is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=g, device=X.device)
        for idx in perm.split(batch):
            x = X[idx]
            loss = torch.nn.functional.mse_loss(model(x).x_hat, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    sync()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rows", type=int, default=60_000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--accelerator", default="cpu", help="cpu or gpu (the hand loop runs on the same device)")
    ap.add_argument("--precision", default="32-true", help="engine precision, e.g. bf16-mixed on a GPU")
    ap.add_argument("--repeats", type=int, default=3, help="alternate the two loops this many times; best of each")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from aekit.registry import build_model
    from aekit.training import OptimConfig, TrainerConfig, fit_model

    X = np.random.default_rng(0).random((args.rows, 784), dtype=np.float32)
    device = "cuda" if args.accelerator == "gpu" else "cpu"
    Xt = torch.from_numpy(X).to(device)
    params = {"input_shape": [784], "hidden": [128, 64], "latent_dim": 32, "activation": "relu"}
    n = args.rows * args.epochs
    aekit_s, hand_s = [], []
    for r in range(args.repeats):
        torch.manual_seed(r)
        hand_s.append(hand_loop(build_model("mlp", params), Xt, args.epochs, args.batch, r))
        res = fit_model(
            build_model("mlp", params), X,
            trainer=TrainerConfig(max_epochs=args.epochs, batch_size=args.batch, seed=r, progress=False,
                                  accelerator=args.accelerator, precision=args.precision),
            optim=OptimConfig(lr=1e-3),
        )
        aekit_s.append(res.seconds)
    a, h = n / min(aekit_s), n / min(hand_s)
    print(f"rows={args.rows} epochs={args.epochs} batch={args.batch} threads={args.threads} repeats={args.repeats} "
          f"device={device} engine precision={args.precision}")
    print(f"{'loop':<24}{'best s':>10}{'samples/s':>14}")
    print(f"{'hand-written PyTorch':<24}{min(hand_s):>10.2f}{h:>14,.0f}")
    print(f"{'aekit engine':<24}{min(aekit_s):>10.2f}{a:>14,.0f}")
    print(f"ratio aekit/hand = {a / h:.3f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
