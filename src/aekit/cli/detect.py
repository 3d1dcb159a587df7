"""Anomaly-detection commands: ``aekit detect`` (train + score + threshold + evaluate) and ``aekit score``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from aekit.cli.common import console, model_settings, parse_set
from aekit.cli.core import parse_noise

THRESHOLDS = "contamination, percentile, mean_std, median_mad or best_f1 (uses labels)"
# Options left unset take the detector's own default (AutoencoderDetector for tables, SeriesDetector
# for series): the defaults live in one place, the estimator, and `aekit detect` trains exactly
# what AutoencoderDetector() trains.
OWN = "default: the detector's own"


def register(app: typer.Typer) -> None:
    app.command("detect")(detect)
    app.command("score")(score)
    app.command("sine-anomalies")(sine_anomalies)


def detect(
    data: str = typer.Argument(..., help="Table (CSV, TSV, R .tab, UCI .data, Parquet, npy), series file, or built-in set (cardio, arrhythmia, lympho, mitdb, yahoo)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder to write (default runs/detect-<data>-<time>)."),
    model: str = typer.Option("", "--model", "-m", help="Model family; default mlp for tables, conv for series."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Model config value with the same key as in a YAML config, e.g. model.latent_dim=4 (repeatable)."),
    series: Optional[bool] = typer.Option(None, "--series/--table", help="Rows are time steps (default: from the data kind)."),
    window: int = typer.Option(64, help="Series: window length."),
    stride: int = typer.Option(1, help="Series: window stride."),
    aggregation: str = typer.Option("mean", help="Series: window-to-point aggregation, mean or max."),
    label_column: Optional[str] = typer.Option(None, help="Column holding the labels: 0/1, or two values with the rarer one the anomaly "
                                      "(default: a two-valued column named label/y/class/target)."),
    id_column: Optional[str] = typer.Option(None, help="Tables: column of row ids, not a feature; written beside the "
                                            "scores (default: a column named like an id, or R's row names)."),
    category_column: Optional[list[str]] = typer.Option(None, help="Tables: column read as text and fitted as a category "
                                                        "(one-hot), whatever its values (never a date or an id), e.g. zip codes (repeatable; "
                                                        "default: categories found from the values)."),
    contamination: Optional[float] = typer.Option(None, help="Expected outlier share; given without --threshold, rows are flagged by it (rule contamination)."),
    threshold: Optional[str] = typer.Option(None, help=f"Threshold rule: {THRESHOLDS} ({OWN})."),
    threshold_param: Optional[float] = typer.Option(None, help="Percentile q or k of mean_std/median_mad."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help=f"Training epochs ({OWN})."),
    batch_size: Optional[int] = typer.Option(None, help=f"Batch size ({OWN})."),
    lr: Optional[float] = typer.Option(None, help=f"Learning rate ({OWN})."),
    seed: Optional[int] = typer.Option(None, help=f"Random seed ({OWN})."),
    n_estimators: Optional[int] = typer.Option(None, "--n-estimators", help=f"Tables: autoencoders in the ensemble ({OWN})."),
    max_features: Optional[float] = typer.Option(None, "--max-features",
                                                 help=f"Tables: share of the columns each member sees, in (0, 1] (feature bagging; {OWN})."),
    max_samples: Optional[float] = typer.Option(None, "--max-samples",
                                                help=f"Tables: share of the training rows each member trains on, in (0, 1] (row bagging; {OWN})."),
    code_distance: Optional[str] = typer.Option(None, "--code-distance",
                                                help=f"Tables: knn (add the code's distance to the nearest training codes to the score) or none ({OWN})."),
    scaling: Optional[str] = typer.Option(None, help=f"Per-feature scaling: standard, robust, minmax or none ({OWN})."),
    noise: Optional[list[str]] = typer.Option(None, help="Training corruption (a denoising detector), e.g. dropout:p=0.5 (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress (a bar on a terminal, a line per epoch otherwise)."),
    standardize_errors: Optional[bool] = typer.Option(None, "--standardize-errors/--raw-errors",
                                                      help=f"Standardise each feature's (or time step's) error on the training data before averaging ({OWN})."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out folder."),
) -> None:
    """Train a detector on DATA, score every row/point, threshold, and evaluate when labels exist."""
    import json

    import numpy as np

    from aekit.apps.detect import AutoencoderDetector, SeriesDetector, save_detector
    from aekit.apps.metrics import evaluate
    from aekit.apps.thresholds import METHODS, best_f1
    from aekit.data import load_dataset
    from aekit.data.tablefiles import layout_note
    from aekit.errors import ConfigError
    from aekit.io import atomic_save_json, new_folder, refuse_existing
    from aekit.runstate import write_state

    if out is not None:  # before any training: never write into another run's folder
        refuse_existing(out, overwrite, "run folder")
    if threshold is not None and threshold not in METHODS:
        raise ConfigError(f"--threshold must be {THRESHOLDS}; got {threshold!r}")
    opts = {"label_column": label_column} if label_column else {}
    # a table file is read once here; one with text, dates, ids or gaps is encoded (aekit.data.tables)
    read = _read_table_file(data, label_column, id_column, series, category_column or [])
    if read is None and (id_column is not None or category_column):
        raise ConfigError(f"{'--id-column' if id_column is not None else '--category-column'} needs a table file "
                          "(CSV, Parquet, ...) scored as a table")
    ds, frame, table, labels, ids = read or (load_dataset(data, **opts), None, None, None, None)
    is_series = ds.kind == "series" if series is None else series
    if is_series and ds.X.ndim > 2:
        raise ConfigError(f"{ds.name} holds {len(ds.X)} sequences of shape {ds.shape} (examples), not one long series: "
                          "drop --series to score each sequence")
    console().print(_describe(ds, is_series, window, stride), markup=False)
    layout = layout_note(Path(data).expanduser()) if read is not None else None
    if layout is not None:
        console().print(f"file: {layout}", markup=False)
    if table is not None:
        console().print(table.summary(), markup=False)
    if labels is not None and labels.note is not None:
        console().print(labels.note, markup=False)
    X = ds.X.reshape(len(ds.X), -1) if frame is None else frame  # the detector fits the table's preprocessing itself
    y = None if ds.y is None else np.asarray(ds.y)
    if y is not None and not np.isin(y, (0, 1)).all():
        raise ConfigError(f"{ds.name}: labels must be 0 (normal) / 1 (anomaly) to evaluate; found {np.unique(y)[:5].tolist()}")
    if threshold == "best_f1" and y is None:
        raise ConfigError("--threshold best_f1 needs labels in the data")
    params = model_settings(parse_set(set_ or []), "detect") or None
    corruption = [parse_noise(n) for n in noise] if noise else None
    given = {"threshold": None if threshold == "best_f1" else threshold, "threshold_param": threshold_param,
             "contamination": contamination, "max_epochs": epochs, "batch_size": batch_size, "lr": lr,
             "random_state": seed, "noise": corruption, "standardize_errors": standardize_errors, "scaling": scaling,
             "model_params": params}
    common: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if is_series:
        if any(v is not None for v in (n_estimators, max_features, max_samples, code_distance)):
            raise ConfigError("--n-estimators, --max-features, --max-samples and --code-distance are for tables; "
                              "a series detector trains one autoencoder and scores its reconstruction")
        det: Any = SeriesDetector(window=window, stride=stride, aggregation=aggregation, model=model or "conv",
                                  verbose=0 if quiet else 1, **common)
    else:
        if n_estimators is not None:
            common["n_estimators"] = n_estimators
        if max_features is not None:
            common["max_features"] = max_features
        if max_samples is not None:
            common["max_samples"] = max_samples
        if code_distance is not None:
            common["code_distance"] = code_distance
        det = AutoencoderDetector(model=model or "mlp", input_shape=ds.shape if ds.X.ndim > 2 else None,
                                  verbose=0 if quiet else 1, **common)
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
        names = ds.feature_names if not is_series and ds.feature_names and len(ds.feature_names) == X.shape[1] else None
        _record_columns(tmp, names, None if labels is None else labels.column, id_column)
        _write_scores(tmp / "scores.csv", scores, flagged, y, ids=ids)
        saved = tmp / "metrics.json"  # the detector's save() wrote its per-epoch history there: keep it
        atomic_save_json(saved, {**(json.loads(saved.read_text()) if saved.is_file() else {}), **metrics})
        _write_config(tmp, data, det, is_series)
        if not is_series:  # held-out examples for the report's figures (a series is drawn from its scores)
            from aekit.runs import save_examples

            save_examples(tmp, X if ds.X.ndim <= 2 and frame is None else ds.X, y)
        from aekit.reports.html import write_report

        write_report(tmp, shown_as=run)
        write_state(tmp, "finished")
    _report(metrics, run)


def _read_table_file(data: str, label_column: str | None, id_column: str | None, series: bool | None,
                     category_columns: list[str]) -> tuple[Any, Any, Any, Any, tuple[str, Any] | None] | None:
    """A table file (:data:`aekit.data.tablefiles.TABLE_SUFFIXES`) as ``(Dataset, feature frame or
    None, fitted TablePreprocessor or None, AnomalyLabels or None, (id column, ids) or None)``;
    ``None`` for other data. Labels are read for detection
    (:func:`aekit.data.loaders.split_anomaly_labels`); ``id_column``, or the id the preprocessing
    finds, is taken out of the features and written beside the scores. A table with text,
    category, date or id columns or missing values (:func:`aekit.data.tables.needs_preprocessing`)
    comes with its feature frame (labels and the named id taken out; what the detector fits) and
    the preprocessing, whose encoded features the Dataset holds. ``category_columns`` are read as
    text and made categories (:func:`aekit.data.tables.given_categories`: never a date or an id, so
    not the row id the preprocessing would find); one that is not a column, is ``id_column`` or is the
    label column (given or found by name) is a one-line DataError."""
    import dataclasses

    import numpy as np

    from aekit.data.dataset import Dataset
    from aekit.data.loaders import is_builtin, split_anomaly_labels, table_to_dataset
    from aekit.data.tablefiles import is_table_file, read_table
    from aekit.data.tables import TablePreprocessor, given_categories, needs_preprocessing
    from aekit.errors import DataError

    path = Path(data).expanduser()
    if series or is_builtin(data) or not path.is_file() or not is_table_file(path):
        return None
    # ids and given categories as text: "000999" and "02139" keep their zeros
    df = read_table(path, [*([id_column] if id_column is not None else []), *category_columns], keep_codes=True)
    name = path.stem  # as aekit.data.load_dataset names a table
    for col in category_columns:
        if col not in df.columns:
            raise DataError(f"{name}: category column {col!r} not found; columns: {', '.join(map(str, df.columns))}")
        if col == id_column:
            raise DataError(f"{name}: column {col!r} is given both as --id-column and as --category-column; pass it as one")
    if len(df) == 0:
        return table_to_dataset(df, name=name, label_column=label_column), None, None, None, None  # says "no rows"
    ids = None
    if id_column is not None:
        if id_column not in df.columns:
            raise DataError(f"{name}: id column {id_column!r} not found; columns: {', '.join(map(str, df.columns))}")
        ids = (id_column, df[id_column].to_numpy())
        df = df.drop(columns=[id_column])
    labels = split_anomaly_labels(df, name, label_column)
    frame, y = labels.features, labels.y
    taken = [c for c in category_columns if c not in frame.columns]
    if taken:
        raise DataError(f"{name}: column {taken[0]!r} holds the labels (--label-column, or one named label/y/class/target), "
                        "not a feature; it cannot be a --category-column")
    frame = given_categories(frame, category_columns)
    if not needs_preprocessing(frame):
        ds = table_to_dataset(frame, name=name, find_label=False)
        return dataclasses.replace(ds, y=y, ids=None if ids is None else ids[1].astype(str).tolist()), None, None, labels, ids
    table = TablePreprocessor().fit(frame)
    if ids is None and table.id_column_ is not None:  # found by the preprocessing: that column again, as text (its zeros)
        ids = (table.id_column_, read_table(path, [table.id_column_], [table.id_column_])[table.id_column_].to_numpy())
    ds = Dataset(table.transform(frame).astype(np.float32), y, name=name, kind="table",
                 ids=None if ids is None else ids[1].astype(str).tolist())
    return ds, frame, table, labels, ids


def _describe(ds: Any, is_series: bool, window: int, stride: int) -> str:
    """One line saying how DATA was read, and the flag that changes it."""
    if is_series:
        T, C = ds.X.shape[0], ds.X.shape[1]
        how = "a series" if ds.kind == "series" else "a series (--series)"
        return (f"data: {ds.name} read as {how} of {T} time steps x {C} channel(s); windows of {window} every "
                f"{stride} step(s) (--window/--stride; --table scores rows instead)")
    if ds.X.ndim > 2:
        return f"data: {ds.name} read as {len(ds.X)} examples of shape {ds.shape} (conv families take them as they are)"
    note = " (--series reads the rows as time steps)" if ds.kind == "series" or ds.X.shape[1] <= 4 else ""
    return f"data: {ds.name} read as a table of {len(ds.X)} rows x {ds.X.shape[1]} features{note}"


def _write_config(run: Path, data: str, det: Any, is_series: bool) -> None:
    """``config.yaml``: the data and every setting of the detector, as a run folder of `aekit train` has."""
    import json

    import yaml

    from aekit.apps.base import _json_safe
    from aekit.data.loaders import is_builtin
    from aekit.io import atomic_write_text

    source = data if is_builtin(data) else str(Path(data).expanduser().resolve())
    params = _json_safe(det.get_params(deep=False))
    text = yaml.safe_dump({"command": "detect", "data": {"source": source, "series": is_series},
                           "detector": {"class": type(det).__name__, **json.loads(json.dumps(params))}}, sort_keys=False)
    atomic_write_text(run / "config.yaml", text)


def _record_columns(run: Path, names: list[str] | None, label_column: str | None, id_column: str | None) -> None:
    """Add the table's column names to model.json, so `aekit export` / `serve` match inputs by name,
    and its label and id columns, so `aekit score` leaves them out of the features (and writes
    the ids beside the scores) when the same file is scored."""
    import json

    from aekit.io import atomic_save_json

    extra = {"feature_names": None if names is None else [str(n) for n in names], "label_column": label_column,
             "id_column": id_column}
    if all(v is None for v in extra.values()):
        return
    meta = json.loads((run / "model.json").read_text())
    meta.update({k: v for k, v in extra.items() if v is not None})
    atomic_save_json(run / "model.json", meta)


def _write_scores(path: Path, scores: Any, flagged: Any, labels: Any = None, ids: tuple[str, Any] | None = None) -> None:
    """CSV with one row per input row/point: ``id,score,is_anomaly[,label]``.

    ``ids``: (column name, values), e.g. a table's id column; without one the first column
    is ``row``, the 0-based row (or time step) of the input, so every score says where it came from.
    """
    import numpy as np
    import pandas as pd

    from aekit.io import atomic_write_with

    scores = np.asarray(scores, dtype=np.float64)
    name, values = ids if ids is not None else ("row", np.arange(len(scores)))
    cols = {name: values, "score": scores, "is_anomaly": np.asarray(flagged).astype(np.int64)}
    if labels is not None:
        cols["label"] = np.asarray(labels).astype(np.int64)
    frame = pd.DataFrame(cols)  # ids may be text: written through pandas
    atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.8g"))


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
    console().print(f"run: {run} (scores.csv, metrics.json, model.json, config.yaml)")
    console().print(f"report: {run / 'report.html'}")


def score(
    run: Path = typer.Argument(..., help="Run folder from `aekit detect` / `aekit train`, or an .onnx file from `aekit export`."),
    input: str = typer.Argument(..., help="Data to score: a table file (CSV, Parquet, ...) or folder (streamed in chunks), or any aekit data source."),
    output: Optional[Path] = typer.Argument(None, help="Output .csv or .parquet (same as --out)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output .csv or .parquet (default: <input stem>.scores.csv)."),
    contamination: Optional[float] = typer.Option(None, help="For a plain `aekit train` run: flag this share of INPUT (reads INPUT into memory)."),
    id_column: Optional[str] = typer.Option(None, help="Input column copied beside each score (tables)."),
    chunk_rows: int = typer.Option(65536, help="Rows read and scored at a time (tables)."),
    workers: int = typer.Option(0, help="Score a Parquet folder on a local Dask cluster of this many workers (output: a Parquet folder)."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a running Dask scheduler to score on instead."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write anomaly scores (higher = worse) and 0/1 labels for every row/point of INPUT.

    A table file (CSV, Parquet, the text layouts detect reads) is streamed chunk by chunk (memory holds one chunk), written to a
    .csv or .parquet output atomically; --workers/--scheduler score a Parquet folder with Dask.
    """
    from aekit.errors import ConfigError

    if output is not None and out is not None and output != out:
        raise ConfigError(f"two outputs given ({output} and --out {out}); pass one")
    target = output or out or Path(f"{Path(input).stem}.scores.csv")
    if contamination is not None and not 0.0 < contamination <= 0.5:
        raise ConfigError(f"--contamination must be in (0, 0.5], got {contamination:g}")
    if workers or scheduler:
        from aekit.stream import score_parquet_dask

        if target.suffix:
            raise ConfigError(f"distributed scoring writes a folder of Parquet files; give a folder name, not {target}")
        n = score_parquet_dask(run, input, target, id_column=id_column, n_workers=workers or 2, scheduler=scheduler,
                               overwrite=overwrite)
        console().print(f"wrote {n} scores to {target}/ (Dask, {'scheduler ' + scheduler if scheduler else f'{workers} workers'})")
        return
    if target.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out must be a .csv or .parquet file, got {target}")
    if target.exists() and not overwrite:
        raise ConfigError(f"{target} exists; pass --overwrite to replace it")
    src = Path(input)
    from aekit.data.tablefiles import is_table_file

    is_table = src.is_dir() or (src.is_file() and is_table_file(src))
    from aekit.stream import is_series_model

    if is_table and contamination is None and not is_series_model(run):  # a series is scored whole, in memory
        from aekit.stream import open_scorer, score_stream

        scorer = open_scorer(run)
        n = score_stream(scorer, src, target, id_column=id_column, chunk_rows=chunk_rows, overwrite=overwrite,
                         progress=not quiet)
        how = "no threshold" if scorer.threshold is None else f"threshold {scorer.threshold:.6g}"
        console().print(f"wrote {n} scores to {target} ({scorer.label}, {how})")
        if scorer.counts is not None and scorer.counts.line():  # a mixed-type table's gaps and unseen categories
            console().print(scorer.counts.line(), markup=False)
        return
    if id_column is not None:
        raise ConfigError("--id-column needs a CSV/Parquet input (and no --contamination)")
    _score_in_memory(run, input, target, contamination)


def _score_in_memory(run: Path, input: str, target: Path, contamination: float | None) -> None:
    """Score a whole data set at once (arrays, images, built-in sets; --contamination needs every score)."""
    import numpy as np

    from aekit.data import load_dataset

    if run.is_file():
        from aekit.runtime import load_exported

        m = load_exported(run)
        ds = load_dataset(input)
        scores = m.score(ds.X.reshape(len(ds.X), -1))
        flagged = m.is_anomaly(ds.X.reshape(len(ds.X), -1)) if m.threshold is not None else np.zeros(len(scores), bool)
        if contamination is not None and m.threshold is None:
            from aekit.apps.thresholds import by_contamination

            flagged = scores > by_contamination(scores, contamination)
        _write_table(target, scores, flagged)
        console().print(f"wrote {len(scores)} scores to {target}; {int(flagged.sum())} flagged")
        return
    import aekit
    from aekit.apps.detect import score_run

    scores, flagged, how = score_run(aekit.load(run), load_dataset(input).X, contamination)
    _write_table(target, scores, flagged)
    console().print(f"wrote {len(scores)} scores to {target}; {int(flagged.sum())} flagged, {how}")


def _write_table(path: Path, scores: Any, flagged: Any) -> None:
    """``row,score,is_anomaly`` as CSV (:func:`_write_scores`) or Parquet, atomically."""
    if path.suffix.lower() == ".csv":
        _write_scores(path, scores, flagged)
        return
    import numpy as np
    import pandas as pd

    from aekit.io import atomic_write_with

    frame = pd.DataFrame({"row": np.arange(len(scores)), "score": np.asarray(scores, np.float64),
                          "is_anomaly": np.asarray(flagged).astype(np.int8)})
    atomic_write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))


def sine_anomalies(
    n_train: int = typer.Option(400, min=2, help="Normal training signals."),
    n_normal: int = typer.Option(100, min=1, help="Normal test signals."),
    n_per_kind: int = typer.Option(30, min=1, help="Test signals of each of the six anomaly kinds."),
    length: int = typer.Option(1000, min=16, help="Points per signal (a multiple of 4 for the Conv1D preset)."),
    epochs: int = typer.Option(30, "--epochs", "-e", min=1, help="Training epochs."),
    percentile: float = typer.Option(99.0, min=0.0, max=100.0, help="Threshold: this percentile of held-out normal errors."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    out: Path = typer.Option(Path("runs/sine-anomalies"), "--out", "-o", help="Folder for the JSON and figures."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write over an existing --out folder."),
) -> None:
    """The English deck's experiment: the Conv1D autoencoder on sine mixtures with six anomaly kinds;
    ROC-AUC per kind, threshold, precision/recall/F1, confusion matrix and figures."""
    from aekit.errors import ConfigError
    from aekit.experiments.sine import sine_anomaly_experiment

    if length % 4:
        raise ConfigError(f"--length must be a multiple of 4 (two pools of 2 in the Conv1D preset), got {length}")
    from aekit.io import refuse_existing

    refuse_existing(out, overwrite)  # before any training, not after
    r = sine_anomaly_experiment(n_train, n_normal, n_per_kind, length, epochs, threshold_param=percentile, seed=seed)
    s = r.summary
    from rich.table import Table

    t = Table(title=f"Conv1D autoencoder on sine mixtures: ROC-AUC {s['roc_auc']:.3f}, AP {s['average_precision']:.3f}")
    for col in ("anomaly kind", "ROC-AUC", "recall at threshold"):
        t.add_column(col, justify="left" if col == "anomaly kind" else "right")
    for row in s["per_kind"]:
        t.add_row(row["kind"], f"{row['roc_auc']:.3f}", f"{row['recall_at_threshold']:.2f}")
    console().print(t)
    (tn, fp), (fn, tp) = s["confusion_matrix"]
    console().print(f"threshold {s['threshold']:.4g} ({s['settings']['threshold']}): precision {s['precision']:.3f}, "
                    f"recall {s['recall']:.3f}, F1 {s['f1']:.3f}; confusion tn {tn} fp {fp} / fn {fn} tp {tp}")
    written = r.save(out, overwrite)
    console().print(f"results: {written.pop('json')}")
    for f in written.values():
        console().print(f"figure: {f}")
