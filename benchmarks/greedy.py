"""Does layer-wise pretraining help? Same deep AE from random init, greedy AE stages, and RBMs.

All three rows use one architecture, 784-256-128-32 with sigmoid hidden layers, a
linear 32-d code, a sigmoid output and BCE (the Hinton & Salakhutdinov 2006 recipe,
scaled down): ``mlp`` trained end to end from random weights, ``stacked`` after greedy
one-layer-AE stages, ``dbn`` after a stack of CD-1 RBMs. The conv rows add the two
Conv2d presets of the decks and a conv AE with the same 32-d dense code. Every model
gets the same fine-tuning epochs. Prints test pixel MSE (pixels in [0, 1]) per data set.

    .venv/bin/python benchmarks/greedy.py [--epochs 20] [--stage-epochs 5] [--fashion-limit 12000]
        [--accelerator gpu] [--mnist PATH.npz] [--fashion IDX_FOLDER]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np
import torch

ARCH = {"hidden": [256, 128], "latent_dim": 32, "activation": "sigmoid", "latent_activation": "identity",
        "output_activation": "sigmoid", "loss": "bce"}


def models(stage_epochs: int) -> dict[str, tuple[dict[str, Any], bool]]:
    """name -> (model config, greedy?)."""
    return {
        "mlp, random init": ({"family": "mlp", **ARCH}, False),
        "stacked, greedy AE stages": ({"family": "stacked", **ARCH, "pretrain_epochs": stage_epochs, "pretrain_lr": 1e-3}, True),
        "dbn, CD-1 RBM stack": ({"family": "dbn", "hidden": [256, 128], "latent_dim": 32, "rbm_epochs": stage_epochs}, True),
        "conv, 32-d dense code": ({"family": "conv", "channels": [32, 64], "stride": [2], "latent_dim": 32, "loss": "bce"}, False),
        "keras_conv2d (8x4x4 map)": ({"family": "keras_conv2d"}, False),
        "mnist_conv2d (2-d code)": ({"family": "mnist_conv2d", "loss": "bce"}, False),
    }


def test_mse(trained: Any, X: np.ndarray) -> float:
    """Mean squared error of the reconstruction on the scaled test images (pixels in [0, 1])."""
    scaled = trained.scaler.transform(X)
    with torch.no_grad():
        rec = torch.cat([trained.model.reconstruct(torch.from_numpy(scaled[i : i + 2048])) for i in range(0, len(scaled), 2048)])
    return float(((rec.numpy() - scaled) ** 2).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20, help="fine-tuning / training epochs of every model")
    ap.add_argument("--stage-epochs", type=int, default=5, help="epochs per greedy stage or RBM")
    ap.add_argument("--fashion-limit", type=int, default=12_000, help="Fashion-MNIST training rows (0: all 60k; test: official 10k)")
    ap.add_argument("--data", default="mnist,fashion-mnist")
    ap.add_argument("--mnist", default="mnist", help="source of MNIST 5k (built-in name, or an .npz copy of it)")
    ap.add_argument("--fashion", default="fashion-mnist", help="source of Fashion-MNIST (built-in name or idx folder)")
    ap.add_argument("--accelerator", default="cpu", help="cpu or gpu (engine and RBMs)")
    ap.add_argument("--only", default="", help="comma-separated substrings of model names to run")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import aekit
    from aekit.pipeline import parse_config, prepare_data

    results: dict[tuple[str, str], tuple[float, float]] = {}
    datasets = args.data.split(",")
    with tempfile.TemporaryDirectory() as out:
        for source in datasets:
            data: dict[str, Any] = {"source": args.mnist if source == "mnist" else args.fashion, "validation_fraction": 0.2}
            if source == "fashion-mnist" and args.fashion_limit:
                data["limit"] = args.fashion_limit
            for name, (model, greedy) in models(args.stage_epochs).items():
                if args.only and not any(s in name for s in args.only.split(",")):
                    continue
                trainer = {"max_epochs": args.epochs, "batch_size": 128, "seed": 0, "accelerator": args.accelerator}
                cfg = {"model": model, "data": data, "trainer": trainer,
                       "optim": {"lr": 2e-3}, "out_dir": out, "report": False}
                start = time.perf_counter()
                trained = aekit.train(cfg, pretrain=True) if greedy else aekit.train(cfg)
                seconds = time.perf_counter() - start
                _, splits, _ = prepare_data(parse_config(cfg))
                results[(name, source)] = (test_mse(trained, splits.test.X), seconds)
                print(f"{source:14s} {name:28s} test MSE {results[(name, source)][0]:.5f}  ({seconds:.0f} s)", flush=True)
    names = list(dict.fromkeys(n for n, _ in results))
    header = f"| model | {' | '.join(f'{d} test MSE' for d in datasets)} |"
    print("\n" + header + "\n|" + "---|" * (len(datasets) + 1))
    for n in names:
        cells = [f"{results[(n, d)][0]:.5f} ({results[(n, d)][1]:.0f} s)" if (n, d) in results else "-" for d in datasets]
        print(f"| {n} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
