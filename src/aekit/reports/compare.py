"""Compare runs: ``aekit compare RUN...``.

One table of the runs' settings and metrics (best value per metric column marked),
validation curves overlaid, and the same held-out examples reconstructed by every
run side by side. The losses of runs trained with different loss functions are not
comparable, so every run is also scored with one common metric: the mean squared
reconstruction error on its test split in scaled units (``test MSE``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from aekit.errors import ConfigError, ModelFileError

# metric columns: lower is better; the best value of each is marked
METRIC_COLUMNS = ("best val loss", "test loss", "test recon", "test MSE", "seconds")


@dataclass
class Comparison:
    """``rows``: one dict per run (column -> value); ``best``: column -> index of the best row."""

    runs: list[Path]
    columns: list[str]
    rows: list[dict[str, Any]]
    best: dict[str, int] = field(default_factory=dict)
    common: dict[str, Any] = field(default_factory=dict)  # settings every run shares (left out of the table)
    path: Path | None = None


def expand_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders from ``paths``; a folder holding run folders (e.g. a tuning study) stands for all of them."""
    runs: list[Path] = []
    for p in map(Path, paths):
        if (p / "model.json").is_file():
            runs.append(p)
        elif p.is_dir() and (subs := sorted(q.parent for q in p.rglob("model.json"))):
            runs.extend(subs)
        else:
            raise ModelFileError(f"{p}: not a run folder (no model.json) and holds no run folders")
    if not runs:
        raise ConfigError("compare needs at least one run folder")
    return runs


def _short(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) if all(not isinstance(v, dict) for v in value) else json.dumps(value)
    return value


def _noise_label(noise: Any) -> str:
    if not noise:
        return "-"
    return "+".join(f"{n.get('kind')}({', '.join(f'{k}={v}' for k, v in n.items() if k != 'kind')})" for n in noise)


def _row(run: Path) -> tuple[dict[str, Any], Any, Any]:
    from aekit.data.dataset import ArraySplit
    from aekit.runs import load, load_examples

    trained = load(run)
    cfg = trained.config
    m = trained.metrics
    model = cfg.get("model", {})
    hist = m.get("history") or []
    vals = [r["val/loss"] for r in hist if "val/loss" in r]
    test = m.get("test") or {}
    row: dict[str, Any] = {
        "run": run.name,
        "family": trained.family,
        "latent": model.get("latent_dim", "-"),
        "hidden": _short(model.get("hidden", "-")),
        "activation": model.get("activation", "-"),
        "loss fn": model.get("loss", "-"),
        "noise": _noise_label(cfg.get("noise")),
        "lr": cfg.get("optim", {}).get("lr", "-"),
        "epochs": m.get("epochs", len(hist)),
        "params": sum(p.numel() for p in trained.model.parameters()),
        "best val loss": min(vals) if vals else math.nan,
        "test loss": test.get("loss", math.nan),
        "test recon": test.get("recon", math.nan),
        "test MSE": math.nan,
        "seconds": m.get("seconds", math.nan),
    }
    split = None
    try:
        examples = load_examples(run)  # the run's own held-out examples; the data set is not re-loaded
        if examples is None:
            raise ValueError("no examples.npz")
        split = ArraySplit(*examples)
        Xs = trained.scaler.transform(split.X) if trained.scaler is not None else split.X
        R = trained.scaler.transform(trained.reconstruct(split.X)) if trained.scaler is not None else trained.reconstruct(split.X)
        row["test MSE"] = float(np.mean((R - Xs) ** 2))
    except Exception:  # noqa: BLE001 - data gone or shape mismatch: the column stays empty for this run
        split = None
    return row, trained, split


def compare_runs(runs: Sequence[str | Path], out: str | Path | None = None,
                 extra: Mapping[str, Mapping[str, Any]] | None = None, title: str = "aekit comparison") -> Comparison:
    """Build the comparison of ``runs`` and, with ``out``, write it as an HTML page (+ PNGs beside it).

    ``extra`` adds columns per run folder name (e.g. a tuning trial's number and state).
    """
    paths = expand_runs(runs)
    rows, trained, splits = [], [], []
    for p in paths:
        row, t, split = _row(p)
        row.update((extra or {}).get(p.name, {}))
        rows.append(row)
        trained.append(t)
        splits.append(split)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    common = {}
    if len(rows) > 1:  # a setting all runs share is said once, not repeated in every row
        for c in columns:
            vals = {json.dumps(r.get(c), default=str) for r in rows}
            if c not in METRIC_COLUMNS and c != "run" and len(vals) == 1:
                common[c] = rows[0].get(c)
        columns = [c for c in columns if c not in common]
    best = {}
    for col in METRIC_COLUMNS:
        vals = [r.get(col, math.nan) for r in rows]
        finite = [(v, i) for i, v in enumerate(vals) if isinstance(v, (int, float)) and math.isfinite(v)]
        if len(finite) > 1:
            best[col] = min(finite)[1]
    comp = Comparison(paths, columns, rows, best, common)
    if out is not None:
        comp.path = _write_page(comp, trained, splits, Path(out), title)
    return comp


def _write_page(comp: Comparison, trained: list[Any], splits: list[Any], out: Path, title: str) -> Path:
    from aekit.reports.html import Cell, Section, Table, embed_png, fmt, render_page
    from aekit.reports.plots import overlaid_curves

    fig_dir = out.parent / f"{out.stem}_figures"
    cells = [[Cell(fmt(r.get(c, "-")), ("num " if isinstance(r.get(c), (int, float)) else "") + ("best" if comp.best.get(c) == i else ""))
              for c in comp.columns] for i, r in enumerate(comp.rows)]
    shared = ", ".join(f"{k}: {fmt(v)}" for k, v in comp.common.items())
    table = Section("table", "Settings and metrics", tables=[Table(comp.columns, cells)],
                    notes=([f"Shared by all runs: {shared}."] if shared else []) + ["Green: best (lowest) value of a metric column. 'test MSE' is the mean squared reconstruction "
                           "error on each run's test split in scaled units, comparable across loss functions."])
    histories = {r["run"]: (t.metrics.get("history") or []) for r, t in zip(comp.rows, trained)}
    curves = Section("curves", "Loss curves", figures=[embed_png(overlaid_curves(histories, fig_dir / "loss_curves.png"),
                                                                 "Validation loss per epoch of every run (* marks each run's best epoch).")])
    sections = [table, curves]
    recon = _reconstructions(comp, trained, splits, fig_dir)
    if recon is not None:
        sections.append(Section("reconstructions", "Reconstructions side by side", figures=[recon]))
    return render_page(out, title, sections, subtitle=f"{len(comp.rows)} runs")


def _reconstructions(comp: Comparison, trained: list[Any], splits: list[Any], fig_dir: Path) -> Any:
    """The first run's first 8 test examples through every run with the same input shape (best 8 runs)."""
    from aekit.reports.html import embed_png

    ref = next((s for s in splits if s is not None), None)
    if ref is None:
        return None
    X = ref.X[:8]
    order = sorted(range(len(trained)), key=lambda i: (not math.isfinite(comp.rows[i]["test MSE"]), comp.rows[i]["test MSE"]))
    chosen = [i for i in order if tuple(trained[i].model.input_shape) == tuple(X.shape[1:])][:8]
    if not chosen:
        return None
    outs = {comp.rows[i]["run"]: trained[i].reconstruct(X) for i in chosen}
    if X.ndim == 4:
        from aekit.plotting import image_rows

        lo, hi = float(X.min()), float(X.max())
        path = image_rows({"input": X, **outs}, fig_dir / "reconstructions.png", vmin=lo, vmax=hi)
        caption = "Held-out inputs (top row) and each run's reconstruction (one row per run, best test MSE first)."
    else:
        from aekit.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(9, 3))
        ax.plot(np.asarray(X[0]).reshape(-1), "k-", lw=1.5, label="input")
        for name, R in outs.items():
            ax.plot(np.asarray(R[0]).reshape(-1), lw=0.9, alpha=0.8, label=name)
        ax.legend(fontsize=7)
        path = save_figure(fig, fig_dir / "reconstructions.png")
        caption = "One held-out example and each run's reconstruction."
    return embed_png(path, caption)


def rich_table(comp: Comparison) -> Any:
    """The comparison as a rich Table, best metric values in bold green."""
    from rich.table import Table as RichTable

    from aekit.reports.html import fmt

    shared = "; ".join(f"{k}: {fmt(v)}" for k, v in comp.common.items())
    t = RichTable(title=f"{len(comp.rows)} runs", caption=f"shared: {shared}" if shared else None)
    for c in comp.columns:
        # fold rather than cut: at 80 columns a number or run name wraps instead of ending in "…"
        t.add_column(c, justify="right" if c in METRIC_COLUMNS or c in ("epochs", "params", "lr", "latent") else "left",
                     overflow="fold")
    for i, r in enumerate(comp.rows):
        t.add_row(*(f"[bold green]{fmt(r.get(c, '-'))}[/]" if comp.best.get(c) == i else fmt(r.get(c, "-")) for c in comp.columns))
    return t
