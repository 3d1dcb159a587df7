"""Model zoo at one code size: test reconstruction error per family, and the VAE's ELBO / IWAE.

Every row is trained by the same pipeline (``aekit.train``: seeded split, min-max scaling
fitted on the training split, the one engine) for the same number of epochs with a
32-value code, then scored on the held-out test split:

- ``test MSE``: mean squared pixel error of the deterministic reconstruction (pixels in
  [0, 1]; a VAE reconstructs from its posterior mean), comparable across families;
- for VAEs, ``ELBO`` (mean over ``--elbo-samples`` single-sample estimates) and the
  ``IWAE`` bound with ``--iwae-k`` importance samples, both in nats per image (higher is
  better; IWAE ≥ ELBO, and IWAE is the tighter estimate of log p(x)).

MNIST 5k has no official test split, so 10 % of it is held out (seed 0); Fashion-MNIST
uses its official 10k test set and the first ``--fashion-limit`` training images.

    .venv/bin/python benchmarks/zoo.py [--epochs 15] [--data mnist,fashion-mnist]
        [--fashion-limit 10000] [--only vae,ksparse,autograd] [--iwae-k 50]

The other part of the zoo (conv, stacked, DBN) adds its rows to ``FAMILIES``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np
import torch

CODE = 32  # the code size every row shares
HIDDEN = [256]

# row name -> model config (``family`` plus its parameters); input_shape comes from the data
FAMILIES: dict[str, dict[str, Any]] = {
    "mlp (baseline)": {"family": "mlp", "hidden": HIDDEN, "latent_dim": CODE},
    "linear (PCA subspace)": {"family": "linear", "latent_dim": CODE},
    "sparse_l1 (λ=1e-3, ReLU code)": {"family": "sparse_l1", "hidden": HIDDEN, "latent_dim": CODE, "l1_weight": 1e-3},
    "sparse_kl (ρ=0.1, β=0.1)": {"family": "sparse_kl", "hidden": HIDDEN, "latent_dim": CODE, "rho": 0.1, "beta": 0.1},
    "ksparse (k=10, α=1)": {"family": "ksparse", "hidden": HIDDEN, "latent_dim": CODE, "k": 10},
    "contractive (1 sigmoid layer, closed form)": {"family": "contractive", "hidden": [], "latent_dim": CODE,
                                                   "contractive_weight": 1e-3},
    "vae (Bernoulli, β=1)": {"family": "vae", "hidden": HIDDEN, "latent_dim": CODE},
    "conv_vae (32-64 strided convs, Bernoulli)": {"family": "conv_vae", "channels": [32, 64], "latent_dim": CODE},
    # part B: conv, greedy stacked and DBN rows (stacked/dbn go through aekit.train(cfg, pretrain=True), see run_row)
    "conv (32-64 strided convs, dense code)": {"family": "conv", "channels": [32, 64], "stride": [2], "latent_dim": CODE},
    "keras_conv2d preset (8x4x4 = 128-value code map, BCE as in the blog)": {"family": "keras_conv2d"},
    "stacked (256-32, greedy AE stages + fine-tune)": {"family": "stacked", "hidden": HIDDEN, "latent_dim": CODE,
                                                       "pretrain_epochs": 5},
    "dbn (256-32 sigmoid, CD-1 RBMs + fine-tune)": {"family": "dbn", "hidden": HIDDEN, "latent_dim": CODE,
                                                    "rbm_epochs": 5, "loss": "mse"},
}

# rows run only when named by --only (slow on a CPU: one Jacobian row per code unit)
OPTIONAL: dict[str, dict[str, Any]] = {
    "contractive (256-32, autograd Jacobian)": {"family": "contractive", "hidden": HIDDEN, "latent_dim": CODE,
                                                "contractive_weight": 1e-3, "latent_activation": "sigmoid"},
}


def _batches(X: np.ndarray, size: int = 1000):
    for i in range(0, len(X), size):
        yield torch.from_numpy(X[i : i + size])


def test_mse(model: torch.nn.Module, X: np.ndarray) -> float:
    """Mean squared pixel error of the deterministic reconstruction of scaled ``X``."""
    with torch.no_grad():
        rec = torch.cat([model.reconstruct(xb) for xb in _batches(X)]).numpy()
    return float(((rec - X) ** 2).mean())


def vae_bounds(model: Any, X: np.ndarray, k: int, elbo_samples: int, seed: int = 0) -> tuple[float, float]:
    """Mean test ELBO and IWAE-k bound in nats per example."""
    g = torch.Generator().manual_seed(seed)
    elbo, iwae = [], []
    with torch.no_grad():
        for xb in _batches(X, 250):
            elbo.append(torch.stack([model.elbo(xb, g) for _ in range(elbo_samples)]).mean(0))
            iwae.append(model.iwae_bound(xb, k, g))
    return float(torch.cat(elbo).mean()), float(torch.cat(iwae).mean())


def run_row(config: dict[str, Any], source: str, limit: int | None, args: argparse.Namespace, out: str) -> dict[str, Any]:
    import aekit
    from aekit.pipeline import parse_config, prepare_data

    cfg = {
        "model": dict(config),
        "data": {"source": source, "limit": limit, "seed": 0},
        "trainer": {"max_epochs": args.epochs, "batch_size": args.batch_size, "seed": 0},
        "optim": {"lr": args.lr},
        "out_dir": out,
        "report": False,
    }
    start = time.perf_counter()
    if config["family"] in ("stacked", "dbn"):  # greedy layer-wise pretraining, then the usual fine-tuning
    
        trained = aekit.train(cfg, pretrain=True)
    else:
        trained = aekit.train(cfg)
    seconds = time.perf_counter() - start
    _, splits, scaler = prepare_data(parse_config(cfg))  # same seeded split as the run
    X = scaler.transform(splits.test.X).astype(np.float32)
    model = trained.model.eval()
    row: dict[str, Any] = {"mse": test_mse(model, X), "seconds": seconds, "n_test": len(X)}
    if hasattr(model, "iwae_bound"):
        row["elbo"], row["iwae"] = vae_bounds(model, X, args.iwae_k, args.elbo_samples)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15, help="training epochs of every row")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    ap.add_argument("--data", default="mnist,fashion-mnist", help="comma-separated data sets")
    ap.add_argument("--fashion-limit", type=int, default=10_000, help="Fashion-MNIST training images (0: all 60k)")
    ap.add_argument("--only", default="", help="comma-separated substrings of row names to run")
    ap.add_argument("--iwae-k", type=int, default=50, help="importance samples of the IWAE bound")
    ap.add_argument("--elbo-samples", type=int, default=10, help="single-sample ELBO estimates averaged per image")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    only = [s for s in args.only.split(",") if s]
    rows = {name: cfg for name, cfg in FAMILIES.items() if not only or any(s in name for s in only)}
    rows |= {name: cfg for name, cfg in OPTIONAL.items() if any(s in name for s in only)}
    with tempfile.TemporaryDirectory() as out:
        for source in [s for s in args.data.split(",") if s]:
            limit = (args.fashion_limit or None) if source == "fashion-mnist" else None
            print(f"\n## {source} (code size {CODE}, {args.epochs} epochs, batch {args.batch_size}, Adam lr {args.lr:g})\n")
            print("| model | test MSE | test ELBO (nats) | test IWAE-{} (nats) | train s |".format(args.iwae_k))
            print("|---|---:|---:|---:|---:|")
            for name, cfg in rows.items():
                r = run_row(cfg, source, limit, args, out)
                elbo = f"{r['elbo']:.2f}" if "elbo" in r else "–"
                iwae = f"{r['iwae']:.2f}" if "iwae" in r else "–"
                print(f"| {name} | {r['mse']:.5f} | {elbo} | {iwae} | {r['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
