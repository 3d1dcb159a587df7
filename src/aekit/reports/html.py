"""Self-contained HTML reports: one page per run, rendered with Jinja2.

A report is a list of :class:`Section` objects (warnings, notes, tables, figures,
preformatted text) rendered by ``templates/page.html``. Figures are saved as PNG
under the run's ``figures/`` and embedded as base64 data URIs, so the page opens
offline and can be mailed as one file. Which sections appear depends on what the
run folder holds:

- always: overview, config, model summary, training curves (+ fitting diagnosis), metrics;
- with held-out examples (handed over by training, or the run's ``examples.npz``):
  reconstructions (image grid or waveform overlay), latent scatter beside a PCA of the inputs;
- VAEs (a model with a prior): samples and an interpolation;
- denoising runs (``noise`` in the config, images): noisy / median-filtered / denoised grids;
- detectors: ``scores.csv`` + threshold in ``model.json`` (written by ``aekit detect``) or
  ``scores.npz`` + ``detector.json`` (:func:`save_detector_scores`): score histogram with
  the threshold, ROC and PR curves (with labels).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from aekit.errors import AekitError, ModelFileError

DETECTOR_FILE = "detector.json"  # {"threshold": float, "method": str, "metrics": {...}, ...}
SCORES_FILE = "scores.npz"  # arrays "scores" (N,), optional "labels" (N,) in {0, 1}
REPORT_FILE = "report.html"
MAX_EXAMPLES = 1000  # examples encoded for the data figures (keeps a report to ~1-2 s)


@dataclass
class Cell:
    text: str
    cls: str = ""  # "num", "best" or both


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Figure:
    src: str  # data URI of the PNG
    alt: str
    caption: str = ""


@dataclass
class Section:
    id: str
    title: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    oks: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    pre: str = ""


# --- rendering -----------------------------------------------------------------------

def embed_png(path: str | Path, caption: str = "") -> Figure:
    """A saved PNG as an embeddable figure (base64 data URI)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Figure(src=f"data:image/png;base64,{data}", alt=Path(path).stem.replace("_", " "), caption=caption)


def fmt(value: Any) -> str:
    """Numbers with 4-5 significant digits, everything else as text."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return "nan" if math.isnan(v) else (f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}")
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def simple_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> Table:
    """A table of plain values (numbers right-aligned)."""
    cells = [[Cell(fmt(v), "num" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else "") for v in r] for r in rows]
    return Table(list(columns), cells, caption)


def render_page(path: str | Path, title: str, sections: Sequence[Section], subtitle: str = "") -> Path:
    """Render ``templates/page.html`` to ``path`` atomically; returns the path."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from aekit import __version__
    from aekit.io import atomic_write_text

    env = Environment(loader=PackageLoader("aekit.reports", "templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("page.html").render(
        title=title, subtitle=subtitle, sections=list(sections), version=__version__,
        created=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )
    return atomic_write_text(path, html)


# --- fitting diagnosis -----------------------------------------------------------------

def diagnose(history: Sequence[dict[str, float]]) -> tuple[list[str], list[str]]:
    """Over-/underfitting hints from the per-epoch history: ``(warnings, ok_messages)``.

    Rules (on ``train/loss`` and ``val/loss``): validation loss rising well above its best
    while training loss keeps falling (overfitting); a large final validation/training gap;
    training loss still falling fast at the last epoch (underfitting: train longer); loss
    that barely moved or is not finite.
    """
    tr = np.array([r.get("train/loss", np.nan) for r in history], dtype=float)
    va = np.array([r.get("val/loss", np.nan) for r in history], dtype=float)
    warn: list[str] = []
    if len(tr) == 0:
        return ["no training history in metrics.json: nothing to diagnose"], []
    if not np.isfinite(tr[-1]) or (np.isfinite(va).any() and not np.isfinite(va[-1])):
        return ["the loss is not finite at the last epoch: training diverged (lower the learning rate)"], []
    if len(tr) < 3:
        return [f"only {len(tr)} epoch(s): too few to judge over- or underfitting"], []
    scale = max(abs(tr[0]), 1e-12)
    has_val = np.isfinite(va).all()
    if has_val:
        best = int(np.argmin(va))
        rise = (va[-1] - va[best]) / max(abs(va[best]), 1e-12)
        if best < len(va) - 2 and rise > 0.05 and tr[-1] < tr[best]:
            warn.append(
                f"overfitting: validation loss is {rise:.0%} above its best (epoch {best + 1}) while the "
                f"training loss kept falling; keep the best epoch's weights (done), use early stopping, "
                f"more data, a smaller code or regularisation"
            )
        gap = (va[-1] - tr[-1]) / max(abs(tr[-1]), 1e-12)
        if gap > 0.25 and va[-1] > tr[-1]:
            warn.append(f"generalisation gap: final validation loss is {gap:.0%} above the training loss")
    recent = (tr[-3] - tr[-1]) / scale
    if recent > 0.02:
        warn.append(
            f"underfitting: training loss still fell {recent:.1%} of its starting value over the last two "
            f"epochs; train for more epochs (or raise the learning rate)"
        )
    if (tr[0] - np.nanmin(tr)) / scale < 0.01:
        warn.append("the training loss barely moved: check the learning rate, the scaling of the data and the loss")
    ok = [] if warn else ["no sign of over- or underfitting: the curves flattened and validation follows training"]
    return warn, ok


# --- detector contract -------------------------------------------------------------------

def save_detector_scores(run_dir: str | Path, scores: Any, labels: Any = None, threshold: float | None = None,
                         info: dict[str, Any] | None = None) -> Path:
    """Write ``scores.npz`` and ``detector.json`` into a run folder for the report's detector section.

    ``scores`` are anomaly scores (higher = more anomalous), ``labels`` optional 0/1 truth,
    ``info`` anything else worth showing (method, metrics, data name).
    """
    from aekit.io import atomic_save_json, atomic_write_with

    run_dir = Path(run_dir)
    arrays = {"scores": np.asarray(scores, np.float64).reshape(-1)}
    if labels is not None:
        arrays["labels"] = np.asarray(labels).astype(np.int64).reshape(-1)
        if len(arrays["labels"]) != len(arrays["scores"]):
            raise AekitError(f"{len(arrays['labels'])} labels for {len(arrays['scores'])} scores")
    atomic_write_with(run_dir / SCORES_FILE, lambda tmp: np.savez(open(tmp, "wb"), **arrays))
    return atomic_save_json(run_dir / DETECTOR_FILE, {"threshold": threshold, **(info or {})})


# --- the run report ------------------------------------------------------------------------

def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{path}: not valid JSON ({err})") from None
    return data if isinstance(data, dict) else {}


class _RunContext:
    """What the section builders share: the folder, its files, the loaded model and data."""

    def __init__(self, run_dir: Path) -> None:
        import yaml

        self.dir = run_dir
        self.shown_as = run_dir  # the folder's name on the page (a staging folder shows its final name)
        self.fig_dir = run_dir / "figures"
        self.metrics = _read_json(run_dir / "metrics.json")
        self.meta = _read_json(run_dir / "model.json")
        cfg_path = run_dir / "config.yaml"
        self.config_text = cfg_path.read_text() if cfg_path.is_file() else ""
        self.config: dict[str, Any] = (yaml.safe_load(self.config_text) or {}) if self.config_text else {}
        self.trained: Any = None
        self.X: np.ndarray | None = None  # test (else val/train) examples in original units, <= MAX_EXAMPLES
        self.y: np.ndarray | None = None
        self.skipped: list[str] = []

    def load(self, examples: tuple[np.ndarray, np.ndarray | None] | None = None) -> None:
        """Load the model and the held-out examples: those handed over by the training that
        just finished, else the run's own ``examples.npz`` (the data set is never re-loaded)."""
        from aekit.runs import load, load_examples

        if (self.dir / "model.json").is_file():
            self.trained = load(self.dir, check_state=False)  # also drawn while the run finishes
        if self.trained is None:
            return
        if examples is None:
            examples = load_examples(self.dir)
        if examples is None:
            self.skipped.append("data figures skipped: the run folder keeps no held-out examples (examples.npz)")
            return
        X, y = examples
        self.X = np.asarray(X)[:MAX_EXAMPLES]
        self.y = None if y is None else np.asarray(y)[:MAX_EXAMPLES]

    def scaled(self, X: np.ndarray) -> np.ndarray:
        scaler = self.trained.scaler
        return X if scaler is None else scaler.transform(X)

    def apply(self, fn_name: str, Xs: np.ndarray) -> np.ndarray:
        """Run a model method on scaled inputs in batches, without gradients."""
        from aekit.runs import batched

        return batched(getattr(self.trained.model, fn_name), Xs, 2048)

    def figure(self, draw: Callable[[Path], Any], name: str, caption: str, reuse: bool = False) -> Figure:
        """Draw (or, with ``reuse``, take the training's own up-to-date PNG) and embed it."""
        target = self.fig_dir / f"{name}.png"
        stamp = self.dir / "metrics.json"
        if reuse and target.is_file() and stamp.is_file() and target.stat().st_mtime >= stamp.stat().st_mtime:
            return embed_png(target, caption)
        out = draw(target)
        path = out[0] if isinstance(out, tuple) else out
        return embed_png(path, caption)


def _overview(ctx: _RunContext) -> Section:
    """Who made the run and on what; an application run (``aekit detect``) fills it from its own
    metrics and model, so no row is left as a placeholder."""
    m, meta = ctx.metrics, ctx.meta
    data = meta.get("data") or {}
    shape = tuple(data.get("input_shape") or (meta.get("config") or {}).get("input_shape") or ())
    cfg_data = ctx.config.get("data") if isinstance(ctx.config.get("data"), dict) else {}
    series = bool(cfg_data.get("series") or m.get("series"))
    kind = data.get("kind") or ("series" if series else _data_kind(shape))
    name = data.get("name") or m.get("data")
    # an estimator saved from Python (AutoencoderReducer(...).fit(X).save(...)) records no data set
    what = f"{name} ({kind})" if name else f"{kind} handed over as arrays (fit in Python)"
    rows = [("run folder", str(ctx.shown_as)), ("kind", meta.get("kind", "autoencoder")),
            ("family", meta.get("family") or m.get("family") or "not recorded"),
            ("data", what + (f", input shape {shape}" if shape else ""))]
    estimator = meta.get("estimator") if isinstance(meta.get("estimator"), dict) else None
    if estimator:
        params = estimator.get("params") or {}
        shown = ", ".join(f"{k}={_setting(params[k])}" for k in ESTIMATOR_SETTINGS if params.get(k) is not None)
        rows.append(("estimator", f"{estimator.get('class', meta.get('kind'))}" + (f" ({shown})" if shown else "")))
    if isinstance(m.get("splits"), dict):
        rows.append(("examples (train / val / test)", " / ".join(str(m["splits"].get(k, "-")) for k in ("train", "val", "test"))))
    elif "rows" in m:
        rows.append(("examples scored", f"{m['rows']:,}"))
    if m.get("history") or "epochs" in m:
        epochs = m.get("epochs", len(m.get("history") or []))
        best = m.get("best_epoch")
        rows.append(("epochs run (best)", f"{epochs}" + (f" ({best})" if isinstance(best, int) else "")))
    seconds = m.get("seconds", m.get("fit_seconds"))
    if isinstance(seconds, (int, float)):
        rows.append(("training time", f"{seconds:.1f} s"))
    # a series detector draws its series from the scores, not from held-out examples
    warnings = [w for w in ctx.skipped if not (series and w.startswith("data figures skipped"))]
    return Section("overview", "Overview", tables=[Table(["item", "value"], [[Cell(a), Cell(str(b))] for a, b in rows])],
                   warnings=warnings)


# training settings an application run's overview names (aekit.apps.base.TRAINING_SETTINGS' names)
ESTIMATOR_SETTINGS = ("model", "n_components", "max_epochs", "batch_size", "lr", "noise", "window", "stride")


def _setting(value: Any) -> str:
    """A setting as a person writes it: noise specs as ``gaussian sigma=0.3``, dicts as ``k=v``."""
    if isinstance(value, dict):
        if "kind" in value:
            return " ".join([str(value["kind"]), *(f"{k}={v}" for k, v in value.items() if k != "kind")])
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
        return " + ".join(_setting(v) for v in value)
    return str(value)


def _data_kind(shape: tuple[int, ...]) -> str:
    """What one example of ``shape`` is, in the words the data loaders use."""
    return {0: "data", 1: "table", 2: "sequences", 3: "images"}.get(len(shape), "arrays")


def _config(ctx: _RunContext) -> Section | None:
    if not ctx.config_text:
        return None
    return Section("config", "Configuration", notes=["config.yaml of the run (model parameters as built):"], pre=ctx.config_text)


def _model_summary(ctx: _RunContext) -> Section | None:
    if ctx.trained is None:
        return None
    from aekit.summary import summarize

    s = summarize(ctx.trained.model)
    rows = [[Cell(r.name), Cell(str(tuple(r.output_shape))), Cell(f"{r.params:,}", "num")] for r in s.rows]
    totals = [("Total params", s.total_params), ("Trainable params", s.trainable_params), ("Non-trainable params", s.non_trainable_params)]
    rows += [[Cell(a), Cell(""), Cell(f"{b:,}", "num")] for a, b in totals]
    note = f"{s.family}: input {tuple(s.input_shape)} -> code {tuple(s.code_shape)}"
    return Section("model", "Model summary", notes=[note], tables=[Table(["Layer (type)", "Output Shape", "Param #"], rows)])


def _curves(ctx: _RunContext) -> Section | None:
    history = ctx.metrics.get("history") or []
    if not history:
        return None
    from aekit.reports.figures import loss_curves

    warn, ok = diagnose(history)
    fig = ctx.figure(lambda p: loss_curves(history, p), "loss_curves",
                     "Loss by part per epoch, training (solid) and validation (dashed); dotted line: best validation epoch, whose weights were kept.", reuse=True)
    return Section("curves", "Training curves and fitting diagnosis", warnings=warn, oks=ok, figures=[fig])


def _metrics(ctx: _RunContext) -> Section | None:
    splits = [s for s in ("train", "val", "test") if isinstance(ctx.metrics.get(s), dict)]
    if not splits:
        return None
    parts = list(dict.fromkeys(k for s in splits for k in ctx.metrics[s]))
    rows = [[p, *(ctx.metrics[s].get(p, float("nan")) for s in splits)] for p in parts]
    units = ctx.metrics.get("units") or {}
    rows = [[*r, units.get(r[0], "-")] for r in rows] if units else rows
    columns = ["part", *splits, *(["unit"] if units else [])]
    return Section("metrics", "Metrics", notes=["Mean of each loss part per split (best weights, no corruption)."],
                   tables=[simple_table(columns, rows)])


def _reconstructions(ctx: _RunContext) -> Section | None:
    if ctx.X is None or ctx.trained is None:
        return None
    from aekit.reports.figures import reconstruction_grid

    X = ctx.X[:10]
    X_hat = ctx.trained.reconstruct(X)
    if X.ndim == 4:
        labels = None if ctx.y is None else ctx.y[:10]
        fig = ctx.figure(lambda p: reconstruction_grid(X, X_hat, p, labels=labels), "reconstructions", "Held-out inputs (top) and their reconstructions (bottom).", reuse=True)
    elif X.ndim == 2:  # a table: per-feature errors, named, in scaled units
        from aekit.reports.plots import feature_errors

        Xa = ctx.X
        names = (ctx.meta.get("data") or {}).get("feature_names") or ctx.meta.get("feature_names")
        fig = ctx.figure(lambda p: feature_errors(Xa, ctx.trained.reconstruct(Xa), names, ctx.trained.scaler, p),
                         "reconstructions", f"Mean squared reconstruction error of each feature over {len(Xa)} "
                         "held-out rows, in scaled units, worst first.")
    else:
        from aekit.reports.plots import series_overlay

        fig = ctx.figure(lambda p: series_overlay(X, X_hat, p), "reconstructions", "Held-out examples and their reconstructions drawn over each other.")
    return Section("reconstructions", "Reconstructions", figures=[fig])


def _latent(ctx: _RunContext) -> Section | None:
    if ctx.X is None or ctx.trained is None or len(ctx.X) < 3:
        return None
    from aekit.reports.plots import latent_scatter

    Z = ctx.trained.encode(ctx.X)
    X, y = ctx.X, ctx.y
    fig = ctx.figure(lambda p: latent_scatter(Z, X, y, p), "latent_scatter",
                     f"Codes of {len(X)} held-out examples{' coloured by label' if y is not None else ''} (left) beside the first two principal components of the inputs (right).")
    return Section("latent", "Latent space", figures=[fig])


def _generative(ctx: _RunContext) -> Section | None:
    if ctx.trained is None or ctx.X is None or ctx.X.ndim != 4:
        return None
    from aekit.apps.generate import has_prior, interpolate, sample_prior
    from aekit.plotting import image_rows

    if not has_prior(ctx.trained):
        return None
    samples, _ = sample_prior(ctx.trained, 10, seed=0)
    path, _ = interpolate(ctx.trained, ctx.X[0], ctx.X[1], steps=10)
    lo, hi = float(ctx.X.min()), float(ctx.X.max())
    rows = {"prior samples": samples, "interpolation": path}
    fig = ctx.figure(lambda p: image_rows(rows, p, vmin=lo, vmax=hi), "vae_samples",
                     "Top: decoded draws from the prior N(0, I). Bottom: decoded codes on the line between two held-out examples.")
    return Section("generative", "Samples and interpolation", figures=[fig])


def _denoising(ctx: _RunContext) -> Section | None:
    noise = ctx.config.get("noise") or []
    if not noise or ctx.X is None or ctx.trained is None or ctx.X.ndim != 4:
        return None
    from aekit.apps.denoise import classic_filters, corrupt, psnr
    from aekit.plotting import image_rows

    clean = ctx.scaled(ctx.X[:200])
    noisy = corrupt(clean, noise, seed=1)
    rows = {"clean": clean, "noisy": noisy, "median 3x3": classic_filters(noisy)["median"], "denoised": ctx.apply("reconstruct", noisy)}
    lo, hi = float(clean.min()), float(clean.max())
    table = simple_table(["images", "PSNR (dB)"], [[k, float(psnr(clean, v, hi - lo).mean())] for k, v in rows.items() if k != "clean"])
    grid = {k: v[:10] for k, v in rows.items()}
    fig = ctx.figure(lambda p: image_rows(grid, p, vmin=lo, vmax=hi), "denoising",
                     "Held-out images, the training corruption applied, a 3x3 median filter of the noisy images, and the autoencoder's output.")
    return Section("denoising", "Denoising", notes=[f"corruption: {json.dumps(noise)}; PSNR over {len(clean)} held-out images (scaled units)"],
                   tables=[table], figures=[fig])


def read_scores(run_dir: Path) -> tuple[np.ndarray, np.ndarray | None, float | None, dict[str, Any]] | None:
    """Anomaly scores of a run folder: ``(scores, labels or None, threshold or None, info)``.

    Reads ``scores.npz`` + ``detector.json`` (:func:`save_detector_scores`) or, as written
    by ``aekit detect``, ``scores.csv`` (``id or row,score,is_anomaly[,label]``) with the threshold
    in ``model.json``'s estimator state and the metrics in ``metrics.json``.
    """
    npz, csv = run_dir / SCORES_FILE, run_dir / "scores.csv"
    if npz.is_file():
        info = _read_json(run_dir / DETECTOR_FILE)
        try:
            with np.load(npz) as data:
                scores = np.asarray(data["scores"], np.float64)
                labels = np.asarray(data["labels"]) if "labels" in data.files else None
        except (OSError, KeyError, ValueError) as err:
            raise ModelFileError(f"{npz}: cannot read scores ({err})") from None
        return scores, labels, info.pop("threshold", None), info
    if not csv.is_file():
        return None
    import pandas as pd

    try:  # the first column is an id (text for a table's own ids) or the row number: only score and label are read
        table = pd.read_csv(csv, usecols=lambda c: c in ("score", "label"))
        scores = table["score"].to_numpy(np.float64)
    except (OSError, ValueError, KeyError) as err:
        raise ModelFileError(f"{csv}: cannot read scores ({err})") from None
    labels = table["label"].to_numpy().astype(np.int64) if "label" in table.columns else None
    meta = _read_json(run_dir / "model.json")
    state = (meta.get("estimator") or {}).get("state") or meta.get("detector") or {}  # today's schema, or aekit 0.1's
    threshold = (state.get("threshold") or {}).get("value")
    info = {k: v for k, v in _read_json(run_dir / "metrics.json").items() if isinstance(v, (str, int, float))}
    return scores, labels, threshold, info


def _detector(ctx: _RunContext) -> Section | None:
    found = read_scores(ctx.dir)
    if found is None:
        return None
    from aekit.reports.plots import error_histogram, roc_pr_curves

    scores, labels, threshold, info = found
    figs = [ctx.figure(lambda p: error_histogram(scores, labels, threshold, p), "score_histogram",
                       "Anomaly scores with the decision threshold (dashed).")]
    if ctx.metrics.get("series"):  # a series detector: where in time the scores rise
        from aekit.reports.plots import scores_over_time

        figs.append(ctx.figure(lambda p: scores_over_time(scores, labels, threshold, p), "scores_over_time",
                               "Point scores along the series, the threshold (dashed) and labelled anomalies (shaded)."))
    rows: list[list[Any]] = [["examples scored", len(scores)], ["threshold", threshold]]
    if threshold is not None:
        rows.append(["flagged as anomalous", int((scores > threshold).sum())])
    if labels is not None and len(np.unique(labels)) == 2:
        out: dict[str, float] = {}

        def draw(p: Path) -> Path:
            saved, auc = roc_pr_curves(scores, labels, p)
            out.update(auc)
            return saved

        figs.append(ctx.figure(draw, "roc_pr", "ROC and precision-recall curves of the anomaly score."))
        rows += [["ROC-AUC", out["roc_auc"]], ["average precision", out["average_precision"]]]
        if threshold is not None:
            pred = scores > threshold
            tp, fp = int((pred & (labels == 1)).sum()), int((pred & (labels == 0)).sum())
            fn = int((~pred & (labels == 1)).sum())
            prec, rec = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
            rows += [["precision at threshold", prec], ["recall at threshold", rec],
                     ["F1 at threshold", 2 * prec * rec / max(prec + rec, 1e-12)]]
    # each metric once: names the table already shows (ROC-AUC as roc_auc, ...) are not repeated
    same = {"roc_auc": "ROC-AUC", "average_precision": "average precision", "threshold": "threshold",
            "precision": "precision at threshold", "recall": "recall at threshold", "f1": "F1 at threshold"}
    shown = {str(r[0]) for r in rows}
    rows += [[k, v] for k, v in info.items()
             if k not in shown and same.get(k) not in shown and not isinstance(v, (dict, list))]
    return Section("detector", "Anomaly detection", tables=[simple_table(["", "value"], rows)], figures=figs)


def _sound_detection(ctx: _RunContext) -> Section | None:
    """A machine-sound detector's evaluation (``aekit audio detect --out``): AUC and pAUC per fault
    kind from ``metrics.json`` and the command's own figure (``figures/detection.png``)."""
    per_kind = {k: v for k, v in ctx.metrics.items() if isinstance(v, dict) and "auc" in v}
    if not per_kind:
        return None
    rows = [[kind, r.get("n_normal"), r.get("n_anomaly"), r["auc"], r.get("pauc")] for kind, r in per_kind.items()]
    figure = ctx.fig_dir / "detection.png"
    figs = [embed_png(figure, "Clip scores by kind (normal vs each fault) and ROC curves.")] if figure.is_file() else []
    return Section("sound_detection", "Machine-sound detection",
                   tables=[simple_table(["clips", "normal", "anomalous", "AUC", "pAUC"], rows)], figures=figs)


SECTION_BUILDERS: list[Callable[[_RunContext], Section | None]] = [
    _overview, _config, _model_summary, _curves, _metrics, _reconstructions, _latent, _generative, _denoising, _detector,
    _sound_detection,
]


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 examples: tuple[np.ndarray, np.ndarray | None] | None = None, shown_as: str | Path | None = None) -> Path:
    """Write ``report.html`` (or ``out``) for a run folder; figures also go to ``figures/*.png``.

    ``examples`` (held-out ``X``, ``y`` in original units) are what the data figures
    draw; without them the run's ``examples.npz`` is read. ``shown_as`` is the folder the
    page names, when it is written in a staging folder that becomes the run folder later.

    Raises only :class:`~aekit.errors.ModelFileError` (no run folder, page not writable);
    a model, data set or figure that cannot be loaded or drawn becomes a warning on the
    page instead, so a report never breaks the training that calls it.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ModelFileError(f"run folder not found: {run_dir}")
    if not any((run_dir / f).is_file() for f in ("model.json", "metrics.json", SCORES_FILE, "scores.csv")):
        raise ModelFileError(f"{run_dir}: no model.json, metrics.json or scores: not an aekit run folder")
    ctx = _RunContext(run_dir)
    ctx.shown_as = Path(shown_as) if shown_as is not None else run_dir
    try:
        ctx.load(examples)
    except Exception as err:  # noqa: BLE001 - the report must never break training
        ctx.skipped.append(f"model/data not loaded ({type(err).__name__}: {err})")
    sections: list[Section] = []
    for build in SECTION_BUILDERS:
        try:
            section = build(ctx)
        except Exception as err:  # noqa: BLE001 - one failing figure must not lose the whole report
            section = Section(build.__name__.strip("_"), build.__name__.strip("_").replace("_", " ").capitalize(),
                              warnings=[f"could not draw this section: {type(err).__name__}: {err}"])
        if section is not None:
            sections.append(section)
    family = ctx.meta.get("family") or ctx.metrics.get("family") or "run"
    target = Path(out) if out is not None else run_dir / REPORT_FILE
    try:
        return render_page(target, f"aekit report: {ctx.shown_as.name}", sections, subtitle=f"{family} autoencoder")
    except OSError as err:
        raise ModelFileError(f"cannot write {target}: {err}") from None
