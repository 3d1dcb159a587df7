"""Does ``aekit tune`` beat the default config on MNIST 5k? Prints every trial and the verdict.

    python benchmarks/tune.py --trials 12 --epochs 5 --out /tmp/aekit-tune-bench

The base config (trial 0) is the MLP of ``aekit train``'s defaults: hidden [128, 64],
code 32, ReLU, MSE, lr 1e-3, no noise. Values are validation MSE in scaled units
(pixels in [0, 1]); the test MSE of the best and the default trial is measured on
the held-out test split of the same seeded split.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/aekit-tune-bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import aekit
    from aekit.pipeline import parse_config, prepare_data
    from aekit.tune import tune

    shutil.rmtree(args.out, ignore_errors=True)
    base = {
        "model": {"family": "mlp", "hidden": [128, 64], "latent_dim": 32},
        "data": {"source": "mnist", "validation_fraction": 0.2, "test_fraction": 0.1},
        "trainer": {"max_epochs": args.epochs, "batch_size": 128},
    }
    start = time.perf_counter()
    result = tune(base, trials=args.trials, out=args.out, study_name="mnist", seed=args.seed)
    seconds = time.perf_counter() - start

    _, splits, _ = prepare_data(parse_config(base))
    def test_mse(trial_number: int) -> float:
        run = aekit.load(result.study.trials[trial_number].user_attrs["run"])
        Xs = run.scaler.transform(splits.test.X)
        return float(np.mean((run.scaler.transform(run.reconstruct(splits.test.X)) - Xs) ** 2))

    print("| trial | state | latent | hidden | activation | loss | noise sigma | lr | val MSE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in result.study.trials:
        p = t.params
        hidden = ",".join(str(p[f"width_{i}"]) for i in range(p.get("depth", 0)))
        value = "-" if t.value is None else f"{t.value:.5f}"
        print(f"| {t.number}{' (default)' if t.user_attrs.get('default') else ''} | {t.state.name.lower()} | {p.get('latent_dim')} | {hidden} "
              f"| {p.get('activation')} | {p.get('loss')} | {p.get('noise_sigma', 0):.3f} | {p.get('lr', 0):.2e} | {value} |")
    print()
    print(f"trials: {result.counts}; {seconds:.0f} s in total on this machine")
    print(f"default (trial 0): val MSE {result.default_value:.5f}, test MSE {test_mse(0):.5f}")
    print(f"best (trial {result.best_trial}): val MSE {result.best_value:.5f}, test MSE {test_mse(result.best_trial):.5f}")
    verdict = (f"search beat the default by {1 - result.best_value / result.default_value:.1%} (validation)"
               if result.improved else "search did not beat the default")
    print(verdict)


if __name__ == "__main__":
    main()
