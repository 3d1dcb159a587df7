"""Anomaly-detection commands: ``aekit detect`` (train + score + threshold + evaluate) and ``aekit score``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from aekit.cli.common import console, parse_set
from aekit.cli.core import parse_noise

THRESHOLDS = "contamination, percentile, mean_std, median_mad or best_f1 (uses labels)"


def register(app: typer.Typer) -> None:
    app.command("detect")(detect)
    app.command("score")(score)


def detect(
    data: str = typer.Argument(..., help="Table (CSV/Parquet/npy), series file, or built-in set (cardio, arrhythmia, lympho, mitdb, yahoo)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write (default runs/detect-<data>-<time>)."),
    model: str = typer.Option("", "--model", "-m", help="Model family; default mlp for tables, conv for series."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Model config value, e.g. latent_dim=4 (repeatable)."),
    series: Optional[bool] = typer.Option(None, "--series/--table", help="Rows are time steps (default: from the data kind)."),
    window: int = typer.Option(64, help="Series: window length."),
    stride: int = typer.Option(1, help="Series: window stride."),
    aggregation: str = typer.Option("mean", help="Series: window-to-point aggregation, mean or max."),
    label_column: Optional[str] = typer.Option(None, help="Column holding 0/1 labels (default: a column named label/y/class/target)."),
    contamination: float = typer.Option(0.1, help="Expected outlier share, for --threshold contamination."),
    threshold: str = typer.Option("contamination", help=f"Threshold rule: {THRESHOLDS}."),
    threshold_param: Optional[float] = typer.Option(None, help="Percentile q or k of mean_std/median_mad."),
    epochs: int = typer.Option(30, "--epochs", "-e", help="Training epochs."),
    batch_size: int = typer.Option(64, help="Batch size."),
    lr: float = typer.Option(1e-3, help="Learning rate."),
    seed: int = typer.Option(0, help="Random seed."),
    noise: Optional[list[str]] = typer.Option(None, help="Training corruption (a denoising detector), e.g. dropout:p=0.5 (repeatable)."),
    standardize_errors: bool = typer.Option(False, "--standardize-errors/--raw-errors",
                                            help="Tables: standardise each feature's error on the training rows before averaging."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
) -> None:
    """Train a detector on DATA, score every row/point, threshold, and evaluate when labels exist."""
    import numpy as np

    from aekit.apps.detect import AutoencoderDetector, SeriesDetector, save_detector
    from aekit.apps.metrics import evaluate
    from aekit.apps.thresholds import METHODS, best_f1
    from aekit.data import load_dataset
    from aekit.errors import ConfigError
    from aekit.io import atomic_save_json, new_folder, refuse_existing
    from aekit.runstate import write_state

    if out is not None:  # before any training: never write into another run's folder
        refuse_existing(out, overwrite, "run folder")
    if threshold not in METHODS:
        raise ConfigError(f"--threshold must be {THRESHOLDS}; got {threshold!r}")
    opts = {"label_column": label_column} if label_column else {}
    ds = load_dataset(data, **opts)
    is_series = ds.kind == "series" if series is None else series
    X = ds.X.reshape(len(ds.X), -1)
    y = None if ds.y is None else np.asarray(ds.y)
    if y is not None and not np.isin(y, (0, 1)).all():
        raise ConfigError(f"{ds.name}: labels must be 0 (normal) / 1 (anomaly) to evaluate; found {np.unique(y)[:5].tolist()}")
    if threshold == "best_f1" and y is None:
        raise ConfigError("--threshold best_f1 needs labels in the data")
    if is_series and (noise or standardize_errors):
        raise ConfigError("--noise and --standardize-errors apply to tables; a series detector takes neither")
    params = dict(parse_set(set_ or [])) or None
    corruption = [parse_noise(n) for n in noise] if noise else None
    rule = "contamination" if threshold == "best_f1" else threshold
    common: dict[str, Any] = dict(model_params=params, threshold=rule, threshold_param=threshold_param,
                                  contamination=contamination, max_epochs=epochs, batch_size=batch_size,
                                  lr=lr, random_state=seed)
    det: Any = (SeriesDetector(window=window, stride=stride, aggregation=aggregation, model=model or "conv", **common)
                if is_series else AutoencoderDetector(model=model or "mlp", noise=corruption,
                                                standardize_errors=standardize_errors, **common))
    start = time.perf_counter()
    det.fit(X)
    fit_s = time.perf_counter() - start
    if threshold == "best_f1":
        det.set_threshold(X, y, "best_f1")
    start = time.perf_counter()
    scores = det.anomaly_score(X)
    score_s = time.perf_counter() - start
    flagged = scores > det.threshold_.value
    metrics: dict[str, Any] = {"data": ds.name, "rows": len(X), "series": bool(is_series), "fit_seconds": fit_s,
                               "score_seconds": score_s, "threshold_rule": det.threshold_.to_dict(),
                               "flagged": int(flagged.sum())}
    if y is not None:
        metrics.update(evaluate(y, scores, det.threshold_.value, series=bool(is_series)))
        if y.sum() > 0:
            value, f1 = best_f1(scores, y)
            metrics["oracle_best_f1"] = {"threshold": value, "f1": f1, "note": "uses labels; for reference only"}
    run = out or Path("runs") / f"detect-{ds.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with new_folder(run, overwrite, "run folder") as tmp:  # the folder appears complete, in one rename
        save_detector(det, tmp)
        _write_scores(tmp / "scores.csv", scores, flagged, y)
        atomic_save_json(tmp / "metrics.json", metrics)
        write_state(tmp, "finished")
    _report(metrics, run)


def _write_scores(path: Path, scores: Any, flagged: Any, labels: Any = None) -> None:
    """CSV with one row per input row/point: ``score,is_anomaly[,label]``."""
    import numpy as np

    from aekit.io import atomic_write_with

    cols = [np.asarray(scores, dtype=np.float64), np.asarray(flagged).astype(np.int64)]
    header = "score,is_anomaly"
    if labels is not None:
        cols.append(np.asarray(labels).astype(np.int64))
        header += ",label"
    table = np.column_stack(cols)
    fmt = ["%.8g"] + ["%d"] * (len(cols) - 1)
    atomic_write_with(path, lambda tmp: np.savetxt(tmp, table, delimiter=",", header=header, comments="", fmt=fmt))


def _report(metrics: dict[str, Any], run: Path) -> None:
    from rich.table import Table

    t = metrics["threshold_rule"]
    table = Table(title=f"{metrics['data']}: {metrics['rows']} {'points' if metrics['series'] else 'rows'}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [("threshold", f"{t['value']:.6g} ({t['method']}{'' if t['param'] is None else ' ' + format(t['param'], 'g')}"
             f"{', uses labels' if t['uses_labels'] else ''})"), ("flagged", str(metrics["flagged"]))]
    for key in ("roc_auc", "average_precision", "precision", "recall", "f1", "event_precision", "event_recall", "event_f1"):
        if key in metrics:
            rows.append((key, f"{metrics[key]:.4f}"))
    if "confusion_matrix" in metrics:
        (tn, fp), (fn, tp) = metrics["confusion_matrix"]
        rows.append(("confusion (tn fp / fn tp)", f"{tn} {fp} / {fn} {tp}"))
    if "oracle_best_f1" in metrics:
        rows.append(("best F1 (oracle, uses labels)", f"{metrics['oracle_best_f1']['f1']:.4f}"))
    rows.append(("fit / score seconds", f"{metrics['fit_seconds']:.2f} / {metrics['score_seconds']:.3f}"))
    for k, v in rows:
        table.add_row(k, v)
    console().print(table)
    console().print(f"run: {run} (scores.csv, metrics.json, model.json)")


def score(
    run: Path = typer.Argument(..., help="Run folder from `aekit detect` (or `aekit train`)."),
    input: str = typer.Argument(..., help="Data to score (file or built-in name)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output CSV (default: <input stem>.scores.csv)."),
    contamination: Optional[float] = typer.Option(None, help="For a plain `aekit train` run: flag this share of INPUT."),
) -> None:
    """Write anomaly scores (higher = worse) and 0/1 labels for every row/point of INPUT to a CSV."""
    import json

    import numpy as np

    from aekit.data import load_dataset
    from aekit.errors import ConfigError, ModelFileError

    target = out or Path(f"{Path(input).stem}.scores.csv")
    if target.suffix.lower() != ".csv":
        raise ConfigError(f"--out must be a .csv file, got {target}")
    if contamination is not None and not 0.0 < contamination <= 0.5:
        raise ConfigError(f"--contamination must be in (0, 0.5], got {contamination:g}")
    meta_path = run / "model.json"
    if run.is_dir():
        from aekit.runstate import ensure_finished

        ensure_finished(run)
    if not meta_path.is_file():
        raise ModelFileError(f"{run}: no model.json (not a finished aekit run?)")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{meta_path}: not valid JSON ({err})") from None
    is_detector = isinstance(meta, dict) and "detector" in meta
    ds = load_dataset(input)
    if is_detector:
        from aekit.apps.detect import load_detector

        det = load_detector(run)
        scores = det.anomaly_score(ds.X.reshape(len(ds.X), -1))
        flagged = scores > det.threshold_.value
        how = f"threshold {det.threshold_.value:.6g} ({det.threshold_.method})"
    else:
        from aekit.apps.thresholds import by_contamination
        from aekit.runs import load

        scores = load(run).score(ds.X).astype(np.float64)
        if contamination is None:
            flagged = np.zeros(len(scores), dtype=bool)
            how = "no threshold (pass --contamination to flag rows)"
        else:
            flagged = scores > by_contamination(scores, contamination)
            how = f"contamination {contamination:g} of the input"
    _write_scores(target, scores, flagged)
    console().print(f"wrote {len(scores)} scores to {target}; {int(flagged.sum())} flagged, {how}")
