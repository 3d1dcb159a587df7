"""How FewShotClassifier's defaults were chosen (ensemble, translations, fine-tuning schedule): no test label.

Validation protocol (docs/applications.md, "How the defaults were chosen"): the autoencoders
are pretrained without labels on all 60,000 *training* images; the N labels per class are
drawn (stratified, seeded) from training images 0-49,999 and accuracy is measured on
training images 50,000-59,999. The official test set is never read. Label draws 0-4
choose, draws 5-9 confirm: the script prints both halves, each candidate's accuracy and
its gain over PCA (32) + logistic regression in points, sorted by the worst gain over N.

Candidates, for each label draw and N (one worker process per (N, draw) cell):

* ``ft_e{m}_s{s}_C{C}``: :class:`~aekit.apps.fewshot.FewShotClassifier` on pretrained
  autoencoder ``m`` alone (pretrain, head, fine-tune), labelled images translated by up to
  ``s`` pixels, head strength ``C``; ``ft_ens{M}_...``: the M members' probabilities averaged;
* ``probe_e{m}_{code|all}_s{s}_C{C}``: logistic regression on the frozen code, or on every
  encoder layer's activations concatenated (256 + 128 + 32), standardised with the pool's
  statistics; ``probe_ens{M}_...`` averages the members;
* ``scratch_s{s}``: the same network from scratch on the (translated) labels; ``pca``.

Run (the documented table: an H200 machine, three GPU pretrainings at once, 16 workers)::

    for s in 0 1 2; do python benchmarks/fewshot_select.py pretrain --seed $s --device gpu --cache runs/select & done; wait
    python benchmarks/fewshot_select.py eval --cache runs/select --jobs 16 --json runs/select/rows.json

Part ``finetune`` (how the fine-tuning schedule was chosen): only the fine-tuning settings
vary, so the cached members are pretrained once and every candidate is
``FewShotClassifier(encoder=members, **settings)`` (``--candidates``, ``;`` between them,
an empty one is the defaults), scored with PCA + LR and the same members from scratch;
``--data mnist`` uses MNIST 5k's validation split instead (the benchmark's 4,000-row
training pool: labels from rows 0-2,999, accuracy on rows 3,000-3,999). On the 2-core CPU::

    for s in 0 1 2; do python benchmarks/fewshot_select.py pretrain --data mnist --seed $s --cache runs/select-mnist --threads 1; done
    python benchmarks/fewshot_select.py finetune --data mnist --cache runs/select-mnist --seeds 0,1,2,3,4 \
        --shots 1,5,10,100 --candidates "encoder_lr=1e-4,finetune_steps=200;encoder_lr=3e-4,finetune_steps=200;encoder_lr=1e-3,finetune_steps=200"

Toy size (does it run?): ``pretrain --seed 0 --epochs 1 --limit 3000`` then
``eval --limit 3000 --seeds 0 --shots 2`` (or ``finetune --limit 3000 --seeds 0 --shots 2``).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# the scored part of the pool: Fashion-MNIST's training images 50,000-59,999 of 60,000; MNIST 5k's
# pool rows 3,000-3,999 of 4,000; the rows before it give the labels
VALIDATION_FROM = {"fashion-mnist": 5 / 6, "mnist": 3 / 4}


def load(limit: int | None, data: str = "fashion-mnist") -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's *training* pool ``(n, 1, 28, 28)``, min-max scaled, and its labels (never a test row).

    Fashion-MNIST: the 60,000 official training images. MNIST 5k: the 4,000 rows
    ``benchmarks/fewshot.py`` trains on (20 % held out with seed 0 are its test set).
    """
    from aekit.data import load_dataset, split_dataset
    from aekit.data.dataset import Scaler

    ds = load_dataset(data)
    if data == "mnist":  # the same split as benchmarks/fewshot.py: its test rows never enter
        pool = split_dataset(ds, validation_fraction=0.0, test_fraction=0.2, seed=0).train
        X, y = pool.X[:limit], pool.y[:limit]
    else:
        X, y = ds.X[:limit], ds.y[:limit]
    return Scaler("minmax", per_feature=False).fit(X).transform(X).astype(np.float32), y


def pretrain(a: argparse.Namespace) -> None:
    import torch

    from aekit.apps.fewshot import pretrain_autoencoder

    X, _ = load(a.limit, a.data)
    start = time.perf_counter()
    ae = pretrain_autoencoder(X, max_epochs=a.epochs, random_state=a.seed, device=a.device).model.cpu()
    Path(a.cache).mkdir(parents=True, exist_ok=True)
    torch.save(ae, Path(a.cache) / f"ae{a.seed}.pt")
    print(f"pretrained member {a.seed}, {a.epochs} epochs: {time.perf_counter() - start:.0f} s", flush=True)


def layer_features(ae: Any, X: np.ndarray, which: str) -> np.ndarray:
    """The MLP encoder's code ``(n, latent)`` (``which="code"``) or every layer's activations concatenated."""
    import torch

    with torch.no_grad():
        h, outs = torch.from_numpy(X).flatten(1), []
        mods = list(ae.encoder)
        for i, m in enumerate(mods):
            h = m(h)
            if not isinstance(m, torch.nn.Linear) and i < len(mods) - 1:
                outs.append(h)
        return (h if which == "code" else torch.cat([*outs, h], 1)).numpy()


def cell(n: int, seed: int, Xl_all: np.ndarray, yl_all: np.ndarray, Xv: np.ndarray, yv: np.ndarray, pool: np.ndarray,
         paths: list[str], stats: dict, pca: Any, Zv: np.ndarray) -> dict[str, Any]:
    """Every candidate's validation accuracy for one N and label draw."""
    import torch
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from aekit.apps.fewshot import FewShotClassifier, sample_per_class, shifted_copies

    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    idx = sample_per_class(yl_all, n, seed)
    Xl, yl = Xl_all[idx], yl_all[idx]
    res: dict[str, Any] = {"n": n, "seed": seed}
    res["pca"] = float(LogisticRegression(max_iter=2000).fit(pca.transform(Xl.reshape(len(Xl), -1)), yl).score(Zv, yv))
    encs = [torch.load(p, weights_only=False).eval() for p in paths]
    M, probs = len(encs), {}
    for e, ae in enumerate(encs):
        for feats in ("code", "all"):
            mu, sd, Fv = stats[(e, feats)]
            for s in (0, 1, 2):
                Xa, ya = (t.numpy() for t in shifted_copies(torch.from_numpy(Xl), torch.from_numpy(yl), s))
                Fa = (layer_features(ae, Xa, feats) - mu) / sd
                for C in (0.01, 0.03, 0.1, 0.3):
                    key = f"probe_e{e}_{feats}_s{s}_C{C}"
                    probs[key] = LogisticRegression(C=C, max_iter=300).fit(Fa, ya).predict_proba(Fv)
                    res[key] = float(np.mean(probs[key].argmax(1) == yv))
    for feats in ("code", "all"):
        for s in (0, 1, 2):
            for C in (0.01, 0.03, 0.1, 0.3):
                p = sum(probs[f"probe_e{e}_{feats}_s{s}_C{C}"] for e in range(M))
                res[f"probe_ens{M}_{feats}_s{s}_C{C}"] = float(np.mean(p.argmax(1) == yv))
    tuned = {}
    for e, ae in enumerate(encs):
        for s in ((0, 1, 2) if e == 0 else (0, 1)):
            for C in ((0.1, 0.03) if s else (0.1,)):
                est = FewShotClassifier(encoder=ae, augment_shift=s, head_C=C, random_state=seed).fit(Xl, yl, X_unlabelled=pool)
                key = f"ft_e{e}_s{s}_C{C}"
                tuned[key] = est.predict_proba(Xv)
                res[key] = float(np.mean(tuned[key].argmax(1) == yv))
                res[key + "_steps"] = getattr(est, "selected_steps_", None)
    for s in (0, 1):
        for C in ((0.1, 0.03) if s else (0.1,)):
            p = sum(tuned[f"ft_e{e}_s{s}_C{C}"] for e in range(M))  # = FewShotClassifier(encoder=encs)'s argmax
            res[f"ft_ens{M}_s{s}_C{C}"] = float(np.mean(p.argmax(1) == yv))
    for s in (0, 1):
        est = FewShotClassifier(encoder=encs[0], pretrained=False, augment_shift=s, random_state=seed)
        res[f"scratch_s{s}"] = float(np.mean(est.fit(Xl, yl, X_unlabelled=pool).predict(Xv) == yv))
    return res


def parse_candidates(text: str) -> dict[str, dict[str, float]]:
    """``"encoder_lr=1e-4;encoder_lr=1e-3,finetune_steps=400"`` -> ``{"ft_encoder_lr=1e-4": {"encoder_lr": 1e-4}, ...}``:
    :class:`~aekit.apps.fewshot.FewShotClassifier` parameters over its defaults, one candidate per ``;`` part
    (an empty part is the defaults themselves, ``ft_default``)."""
    out = {}
    for part in text.split(";"):
        kw = {k.strip(): float(v) for k, v in (item.split("=") for item in part.split(",") if item.strip())}
        kw = {k: int(v) if k.endswith("_steps") else v for k, v in kw.items()}
        out["ft_" + (part.strip() or "default")] = kw
    return out


def tune_cell(n: int, seed: int, Xl_all: np.ndarray, yl_all: np.ndarray, Xv: np.ndarray, yv: np.ndarray,
              pool: np.ndarray, paths: list[str], pca: Any, Zv: np.ndarray, candidates: dict[str, dict[str, float]],
              scratch: bool) -> dict[str, Any]:
    """Validation accuracy of each fine-tuning candidate (all the cached members as one ensemble, the
    other defaults unchanged), PCA + LR and, with ``scratch``, the same ensemble from scratch."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from aekit.apps.fewshot import FewShotClassifier, sample_per_class

    torch.set_num_threads(1)
    idx = sample_per_class(yl_all, n, seed)
    Xl, yl = Xl_all[idx], yl_all[idx]
    res: dict[str, Any] = {"n": n, "seed": seed}
    res["pca"] = float(LogisticRegression(max_iter=2000).fit(pca.transform(Xl.reshape(len(Xl), -1)), yl).score(Zv, yv))
    encs = [torch.load(p, weights_only=False).eval() for p in paths]
    for key, kw in candidates.items():
        est = FewShotClassifier(encoder=encs, random_state=seed, **kw).fit(Xl, yl, X_unlabelled=pool)
        res[key] = float(np.mean(est.predict(Xv) == yv))
        res[key + "_steps"] = getattr(est, "selected_steps_", None)
    if scratch:
        est = FewShotClassifier(encoder=encs, pretrained=False, random_state=seed)
        res["scratch"] = float(np.mean(est.fit(Xl, yl, X_unlabelled=pool).predict(Xv) == yv))
    return res


def tune(a: argparse.Namespace) -> None:
    """Part ``finetune``: only the fine-tuning settings vary; the cached members are pretrained once."""
    from joblib import Parallel, delayed
    from sklearn.decomposition import PCA

    Xs, y = load(a.limit, a.data)
    cut = int(len(Xs) * VALIDATION_FROM[a.data])
    Xl_all, yl_all, Xv, yv = Xs[:cut], y[:cut], Xs[cut:], y[cut:]
    paths = sorted(str(p) for p in Path(a.cache).glob("ae*.pt"))
    print(f"{a.data}: labels from pool rows 0-{cut - 1}, scored on {cut}-{len(Xs) - 1}; members:", ", ".join(paths),
          flush=True)
    pca = PCA(n_components=32, random_state=0).fit(Xs.reshape(len(Xs), -1))
    Zv = pca.transform(Xv.reshape(len(Xv), -1))
    seeds, shots = [int(v) for v in a.seeds.split(",")], [int(v) for v in a.shots.split(",")]
    candidates = parse_candidates(a.candidates)
    start, rows = time.perf_counter(), []
    for r in Parallel(n_jobs=a.jobs, return_as="generator_unordered")(
            delayed(tune_cell)(n, s, Xl_all, yl_all, Xv, yv, Xs, paths, pca, Zv, candidates, not a.no_scratch)
            for n in shots for s in seeds):
        rows.append(r)
        print({k: v for k, v in r.items() if not k.endswith("_steps")}, flush=True)
        if a.json:
            Path(a.json).write_text(json.dumps(rows))
    print(f"evaluation: {time.perf_counter() - start:.0f} s", flush=True)
    summarize(rows)


def evaluate(a: argparse.Namespace) -> None:
    import torch
    from joblib import Parallel, delayed
    from sklearn.decomposition import PCA

    Xs, y = load(a.limit, a.data)
    cut = int(len(Xs) * VALIDATION_FROM[a.data])
    Xl_all, yl_all, Xv, yv = Xs[:cut], y[:cut], Xs[cut:], y[cut:]
    paths = sorted(str(p) for p in Path(a.cache).glob("ae*.pt"))
    print("members:", ", ".join(paths), flush=True)
    stats = {}
    for e, p in enumerate(paths):
        ae = torch.load(p, weights_only=False).eval()
        for feats in ("code", "all"):
            F = layer_features(ae, Xs, feats)
            mu, sd = F.mean(0), F.std(0).clip(1e-6)
            stats[(e, feats)] = (mu, sd, (layer_features(ae, Xv, feats) - mu) / sd)
    pca = PCA(n_components=32, random_state=0).fit(Xs.reshape(len(Xs), -1))
    Zv = pca.transform(Xv.reshape(len(Xv), -1))
    seeds, shots = [int(v) for v in a.seeds.split(",")], [int(v) for v in a.shots.split(",")]
    start, rows = time.perf_counter(), []
    # the pool is the scaled training set: each classifier's own min-max scaler is then the identity
    for r in Parallel(n_jobs=a.jobs, return_as="generator_unordered")(
            delayed(cell)(n, s, Xl_all, yl_all, Xv, yv, Xs, paths, stats, pca, Zv) for n in shots for s in seeds):
        rows.append(r)
        if a.json:
            Path(a.json).write_text(json.dumps(rows))
    print(f"evaluation: {time.perf_counter() - start:.0f} s", flush=True)
    summarize(rows)


def summarize(rows: list[dict[str, Any]], halves: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))) -> None:
    """Per half of the label draws: mean accuracy and mean gain over PCA + LR (points), worst gain first;
    with a ``scratch`` column (part ``finetune``) also the gain over the ensemble from scratch."""
    keys = [k for k in rows[0] if k not in ("n", "seed") and not k.endswith("_steps")]
    shots = sorted({r["n"] for r in rows})
    for half in halves:
        sub = [r for r in rows if r["seed"] in half]
        if not sub:
            continue
        print(f"\nlabel draws {half} ({'choose' if half == halves[0] else 'confirm'}): accuracy | gain over PCA + LR, N = {shots}")
        table = []
        for k in keys:
            acc = [np.mean([r[k] for r in sub if r["n"] == n]) for n in shots]
            gain = [100 * np.mean([r[k] - r["pca"] for r in sub if r["n"] == n]) for n in shots]
            vs = [100 * np.mean([r[k] - r["scratch"] for r in sub if r["n"] == n]) for n in shots] if "scratch" in sub[0] else []
            table.append((min(gain), k, acc, gain, vs))
        for worst, k, acc, gain, vs in sorted(table, reverse=True):
            print(f"{k:36s} " + " ".join(f"{v:.3f}" for v in acc) + " | " + " ".join(f"{g:+5.1f}" for g in gain)
                  + f" | worst {worst:+.1f}" + (" | vs scratch " + " ".join(f"{g:+5.1f}" for g in vs) if vs else ""))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("part", choices=("pretrain", "eval", "finetune", "summary"))
    p.add_argument("--data", default="fashion-mnist", choices=tuple(VALIDATION_FROM), help="the pool (training rows only)")
    p.add_argument("--cache", default="runs/fewshot-select", help="folder of the pretrained members (ae<seed>.pt)")
    p.add_argument("--seed", type=int, default=0, help="pretrain: the member's seed")
    p.add_argument("--epochs", type=int, default=20, help="pretrain: epochs")
    p.add_argument("--device", default="cpu", help="pretrain: cpu, gpu or auto")
    p.add_argument("--limit", type=int, default=None, help="keep the first N training images (toy runs only)")
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9", help="eval: label draws")
    p.add_argument("--shots", default="1,5,10", help="eval: labels per class")
    p.add_argument("--jobs", type=int, default=1, help="eval: worker processes")
    p.add_argument("--candidates", default=";encoder_lr=1e-3",
                   help="finetune: FewShotClassifier settings per candidate, ';' between candidates, e.g. "
                        "'encoder_lr=1e-4;encoder_lr=1e-3,finetune_steps=400' (empty: the defaults)")
    p.add_argument("--no-scratch", action="store_true", help="finetune: leave out the from-scratch ensemble")
    p.add_argument("--threads", type=int, default=None, help="pretrain: torch CPU threads")
    p.add_argument("--json", default=None, help="eval, finetune: write every cell's row here; summary: read them")
    a = p.parse_args()
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    if a.part == "pretrain":
        pretrain(a)
    elif a.part == "eval":
        evaluate(a)
    elif a.part == "finetune":
        tune(a)
    else:
        summarize(json.loads(Path(a.json).read_text()))


if __name__ == "__main__":
    main()
