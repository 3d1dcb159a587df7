"""Batch scoring of tables larger than memory: streaming in chunks, or on a Dask cluster.

:func:`score_stream` reads tables (a file or a folder of such files) chunk by chunk
(:func:`aekit.data.tablefiles.iter_table_chunks`: pandas' CSV reader in the file's sniffed
format, pyarrow's Parquet batches), scores each chunk and appends it to the
output, so memory holds one chunk, not the table. The output (CSV or Parquet, by suffix)
is written to a temporary file and renamed at the end: it appears complete or not at all.

:func:`score_parquet_dask` scores a folder of Parquet files with Dask
(``read_parquet(...).map_partitions``) on a cluster (a local one of ``n_workers``
processes unless a scheduler address is given). Dask rather than Ray: pure-Python wheels,
a small install next to pandas/pyarrow, no daemon to run, and its data frames read
Parquet folders natively. Workers score through :mod:`aekit.runtime` (onnxruntime, no
torch), so a partition's scores equal the exported file's.

Scorers (:func:`open_scorer`) come from a run folder (a detector is scored by the fitted
detector itself, so streamed scores equal in-memory ``aekit score`` bit for bit; a plain
run by its mean reconstruction error) or from an ``.onnx`` export.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from aekit.errors import ConfigError, DataError, ShapeError

from aekit.data.tablefiles import LABEL_COLUMNS

OUTPUT_SUFFIXES = (".csv", ".parquet")  # what the scores are written as


@dataclass
class Scorer:
    """Scores float32 rows ``(n, n_features)``: ``fn(x) -> (score float64 (n,), flagged bool (n,))``.

    ``feature_names``: when known, frame columns are matched by name; ``threshold``: ``None``
    for a plain run (nothing is flagged). A detector fitted on a mixed-type table
    (:mod:`aekit.data.tables`) takes the chunk's frame itself (``frame``) and adds up the
    values its preprocessing filled in or found unseen (``counts``). ``id_column``: the run's
    row id column (its preprocessing's, or the ``--id-column`` `aekit detect` was given), copied
    beside the scores when the input has it. ``label_column``: a column
    the run's labels came from, left out of the features when the input has it.
    """

    fn: Callable[[Any], tuple[np.ndarray, np.ndarray]]
    n_features: int
    feature_names: list[str] | None
    threshold: float | None
    label: str
    frame: bool = False
    id_column: str | None = None
    counts: Any = None
    label_column: str | None = None  # the label column `aekit detect` read from the training file
    text_columns: tuple[str, ...] = ()  # columns a file's chunks are read as text (the run's word categories)


def open_scorer(source: str | Path) -> Scorer:
    """A :class:`Scorer` for a run folder (torch) or an ``.onnx`` export (onnxruntime)."""
    path = Path(source)
    if path.is_file():
        from aekit.runtime import load_exported

        m = load_exported(path)
        if m.series is not None:
            raise ConfigError(f"{path}: a series export scores one whole series; chunked scoring takes independent rows "
                              "(use aekit.runtime's score on the series)")
        thr = None if m.threshold is None else float(m.threshold["value"])

        def onnx_fn(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = m.run_prepared(x, [o for o in ("score", "is_anomaly") if o in m.outputs])
            return out["score"], out.get("is_anomaly", np.zeros(len(x), dtype=bool))

        return Scorer(onnx_fn, m.n_features, m.feature_names, thr, f"{m.kind} {path.name}")
    from aekit.apps.base import load
    from aekit.apps.detect import AutoencoderDetector, SeriesDetector

    obj = load(path)
    if isinstance(obj, SeriesDetector):
        raise ConfigError(f"{path}: a series detector scores a whole series; streaming scores independent rows")
    if isinstance(obj, AutoencoderDetector):
        value = float(obj.threshold_.value)
        table = getattr(obj, "table_", None)
        if table is not None:  # text, dates, ids, gaps: the frame goes to the detector, which encodes it
            from aekit.data.tables import TableCounts

            tally = TableCounts()
            table.check_unread = False  # a column of which nothing read is decided on the stream's totals (score_stream)

            def table_fn(df: Any) -> tuple[np.ndarray, np.ndarray]:
                s = obj.anomaly_score(df)
                tally.add(obj.table_.last_counts_)
                return s, s > value

            given_id = _recorded(path, "id_column")
            return Scorer(table_fn, len(table.feature_columns), table.known_columns, value, f"detector {path.name}",
                          frame=True, id_column=given_id or table.id_column_, counts=tally,
                          label_column=_recorded(path, "label_column"),
                          text_columns=tuple(table.text_columns) + ((given_id,) if given_id else ()))
        recorded = _recorded(path, "feature_names")
        names = list(obj.feature_names_in_) if hasattr(obj, "feature_names_in_") else \
            None if not recorded else [str(n) for n in recorded]

        def det_fn(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            s = obj.anomaly_score(x)
            return s, s > value

        given_id = _recorded(path, "id_column")
        return Scorer(det_fn, int(obj.n_features_in_), names, value, f"detector {path.name}", id_column=given_id,
                      label_column=_recorded(path, "label_column"), text_columns=(given_id,) if given_id else ())
    if not hasattr(obj, "score") or not hasattr(obj, "model"):
        raise ConfigError(f"{path}: a {type(obj).__name__} run gives no row scores; stream a detector or a training run")
    names = (obj.meta.get("data") or {}).get("feature_names")
    n = int(np.prod(obj.model.input_shape))
    return Scorer(lambda x: (obj.score(x).astype(np.float64), np.zeros(len(x), dtype=bool)), n, names, None,
                  f"run {path.name}")


def _recorded(path: Path, key: str) -> Any:
    """What `aekit detect` recorded beside the model under ``key`` (``feature_names``,
    ``label_column``), or ``None``."""
    import json

    try:
        return json.loads((path / "model.json").read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None


def is_series_model(source: str | Path) -> bool:
    """Whether ``source`` (run folder or ``.onnx``) scores whole series rather than independent rows."""
    import json

    path = Path(source)
    if path.is_file():
        from aekit.runtime import load_exported

        return load_exported(path).series is not None
    try:
        meta = json.loads((path / "model.json").read_text())
    except (OSError, ValueError):
        return False  # not readable here: open_scorer says why
    if not isinstance(meta, dict):
        return False
    legacy = meta.get("detector")  # aekit 0.1's schema
    return meta.get("kind") == "series_detector" or (isinstance(legacy, dict) and legacy.get("class") == "SeriesDetector")


def table_files(source: str | Path) -> list[Path]:
    """The table files of ``source`` (one file, or a folder's files sorted by name; the
    suffixes of :data:`aekit.data.tablefiles.TABLE_SUFFIXES`)."""
    from aekit.data.tablefiles import is_table_file

    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_table_file(p))
        if not files:
            raise DataError(f"{path}: no table files (.csv, .tsv, .parquet, ...) in the folder")
        return files
    if not path.is_file():
        raise DataError(f"input not found: {path}")
    if not is_table_file(path):
        raise DataError(f"{path}: streaming reads tables (.csv, .tsv, .tab, .txt, .data, .dat, .parquet), "
                        f"got {path.suffix or 'no suffix'}")
    return [path]


def iter_chunks(files: list[Path], chunk_rows: int, text_columns: tuple[str, ...] = ()) -> Iterator[tuple[Path, Any]]:
    """``(file, pandas chunk)`` of at most ``chunk_rows`` rows, file after file, each file read
    in the format :func:`aekit.data.tablefiles.read_table` reads it in (``text_columns`` as text)."""
    from aekit.data.tablefiles import iter_table_chunks

    for f in files:
        yield from ((f, chunk) for chunk in iter_table_chunks(f, chunk_rows, text_columns))


def _total_rows(files: list[Path]) -> int | None:
    """Rows of Parquet files from their footers (``None`` when a CSV is among them: unknown without reading)."""
    if any(f.suffix.lower() != ".parquet" for f in files):
        return None
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def recorded_columns(run: str | Path) -> tuple[str | None, str | None]:
    """The label column and the ``--id-column`` `aekit detect` recorded in run folder ``run``'s
    ``model.json`` (each ``None`` when there was none, or ``run`` is an export file)."""
    path = Path(run)
    if not path.is_dir():
        return None, None
    return _recorded(path, "label_column"), _recorded(path, "id_column")


def left_out(columns: Any, feature_names: Any, label_column: str | None, id_column: str | None) -> set[str]:
    """The columns of an input (``columns``) that scoring leaves out of the features, as `aekit score`
    and `aekit serve` uploads do (the Python API does not: it takes the features only): the id column,
    the run's label column (:func:`recorded_columns`) and any column named like labels
    (:data:`~aekit.data.tablefiles.LABEL_COLUMNS`) that is not one of the run's ``feature_names``."""
    names = [str(c) for c in columns]
    known = set(map(str, feature_names or ()))
    ignore = {id_column} if id_column else set()
    if label_column is not None and label_column not in known:
        ignore.add(label_column)
    ignore |= {c for c in names if c.lower() in LABEL_COLUMNS and (feature_names is None or c not in known)}
    return ignore


def _chunk_features(scorer: Scorer, df: Any, id_column: str | None, where: str, first_row: int) -> Any:
    from aekit.runtime import frame_to_array

    ignore = left_out(df.columns, scorer.feature_names, scorer.label_column, id_column)
    if scorer.frame:  # the scorer checks and encodes the columns itself (aekit.data.tables)
        frame = df.rename(columns=str)
        return frame.drop(columns=[c for c in frame.columns if c in ignore])
    try:
        return frame_to_array(df, scorer.n_features, scorer.feature_names, ignore)
    except DataError as err:
        msg = str(err)
        if "NaN/inf" in msg:  # say the row over the whole input, not within the chunk
            from aekit.runtime import check_finite

            cols = [c for c in map(str, df.columns) if c not in ignore]
            try:
                check_finite(df.rename(columns=str)[cols].to_numpy(np.float32), cols, first_row)
            except DataError as again:
                msg = str(again)
        raise DataError(f"{where}: {msg}") from None
    except ShapeError as err:
        raise ShapeError(f"{where}: {err}") from None


def score_stream(model: str | Path | Scorer, source: str | Path, out: str | Path, id_column: str | None = None,
                 chunk_rows: int = 65536, overwrite: bool = False, progress: bool = False) -> int:
    """Score every row of ``source`` (CSV/Parquet file or folder) into ``out`` (``.csv``/``.parquet``).

    Output columns: ``id_column`` (when given; for a run fitted on a mixed-type table, its
    own id column when the input has it; else ``row``: the 0-based row number over all
    input files in order), ``score`` (float64, higher = worse) and
    ``is_anomaly`` (0/1; all 0 for a plain run). Memory holds one chunk of ``chunk_rows``
    rows. Returns the number of rows written. Raises :class:`ConfigError` for an existing
    ``out`` (without ``overwrite``) or a bad suffix, :class:`DataError` for a missing id
    column or bad values (naming file and row); ``out`` is then left as it was.
    """
    from aekit.io import atomic_write_with

    out = Path(out)
    fmt = out.suffix.lower()
    if fmt not in OUTPUT_SUFFIXES:
        raise ConfigError(f"output must be a .csv or .parquet file, got {out}")
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass --overwrite to replace it")
    if chunk_rows < 1:
        raise ConfigError(f"chunk size must be at least 1 row, got {chunk_rows}")
    files = table_files(source)
    scorer = model if isinstance(model, Scorer) else open_scorer(model)
    written = 0

    def write(tmp: str) -> None:
        nonlocal written
        writer: Any = None
        first_file: dict[str, Path] = {}  # per column: the file its first unread value is in
        try:
            with _progress(progress, _total_rows(files)) as advance:
                for f, df in iter_chunks(files, chunk_rows, scorer.text_columns):
                    if len(df) == 0:  # an empty file among others: nothing to write
                        continue
                    # rows are named by their number in the whole input (a Parquet batch's index restarts at 0)
                    df.index = range(written, written + len(df))
                    writer = _write_chunk(writer, tmp, fmt, _scored_chunk(scorer, f, df, id_column, written), written == 0)
                    for col in () if scorer.counts is None else scorer.counts.first_unread:
                        first_file.setdefault(col, f)
                    written += len(df)
                    advance(len(df))
        finally:
            if writer is not None:
                writer.close()
        if written == 0:
            raise DataError(f"{source}: no rows to score")
        problem = None if scorer.counts is None else scorer.counts.unreadable()
        if problem is not None:  # schema drift over the whole input: no output (the write is atomic), whatever the chunks
            col = scorer.counts.unreadable_column()
            where = f" (in {first_file[col].name}; rows counted over the folder's files in order)" if len(files) > 1 else ""
            raise DataError(f"{source}: {problem}{where}")

    atomic_write_with(out, write)
    return written


def _scored_chunk(scorer: Scorer, f: Path, df: Any, id_column: str | None, first_row: int) -> Any:
    """One input chunk -> its output frame: ``id_column`` (or ``row``), ``score``, ``is_anomaly``."""
    import pandas as pd

    if id_column is not None and id_column not in map(str, df.columns):
        raise DataError(f"{f}: id column {id_column!r} not found; columns: {', '.join(map(str, df.columns[:10]))}")
    if id_column is None and scorer.id_column is not None and scorer.id_column in map(str, df.columns):
        id_column = scorer.id_column
    try:
        score, flagged = scorer.fn(_chunk_features(scorer, df, id_column, str(f), first_row))
    except DataError as err:
        if not scorer.frame:
            raise
        raise DataError(f"{f}: {err}") from None
    # without an id column the global row number (0-based, over all files in order) says which row each score is
    cols: dict[str, Any] = {"row": np.arange(first_row, first_row + len(df), dtype=np.int64)} if id_column is None \
        else {id_column: df[id_column].to_numpy()}
    cols.update(score=np.asarray(score, dtype=np.float64), is_anomaly=np.asarray(flagged).astype(np.int8))
    return pd.DataFrame(cols)


def _write_chunk(writer: Any, tmp: str, fmt: str, part: Any, first: bool) -> Any:
    """Append ``part`` to the output being written at ``tmp``; returns the (opened on first use) writer."""
    if fmt == ".csv":
        if writer is None:
            writer = open(tmp, "w", newline="")  # noqa: SIM115 - closed by score_stream
        part.to_csv(writer, header=first, index=False, float_format="%.8g")
        return writer
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(part, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(tmp, table.schema)
    elif table.schema != writer.schema:  # e.g. an id column read as int in one file, str in another
        table = table.cast(writer.schema)
    writer.write_table(table)
    return writer


class _progress:
    """A rich progress bar on stderr (rows done; a total when known), silent unless ``enabled`` on a terminal."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        task = self.bar.add_task("score", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


# --- Dask ---------------------------------------------------------------------------------

_SESSIONS: dict[str, Any] = {}  # per worker process: export hash -> loaded model (loaded once, reused)


def _score_partition(df: Any, model_bytes: bytes, key: str, id_column: str | None, offsets: list[int] | None,
                     partition_info: dict[str, Any] | None = None) -> Any:
    """One Dask partition -> ``[id or row], score, is_anomaly`` (runs on a worker, torch-free)."""
    import pandas as pd

    from aekit.runtime import load_exported

    if key not in _SESSIONS:
        _SESSIONS[key] = load_exported(model_bytes, threads=1)
    m = _SESSIONS[key]
    n = len(df)
    cols: dict[str, Any] = {}
    if id_column is not None:
        cols[id_column] = df[id_column].to_numpy()
    elif offsets is not None:
        start = offsets[partition_info["number"]] if partition_info else 0
        cols["row"] = np.arange(start, start + n, dtype=np.int64)
    if n == 0:
        return pd.DataFrame({**cols, "score": np.zeros(0), "is_anomaly": np.zeros(0, dtype=np.int8)})
    ignore = ({id_column} if id_column else set())
    if m.feature_names is None:
        ignore |= {str(c) for c in df.columns if str(c).lower() in LABEL_COLUMNS}
    out = m.predict(df, [o for o in ("score", "is_anomaly") if o in m.outputs], ignore=ignore)
    flagged = out.get("is_anomaly", np.zeros(n, dtype=bool))
    return pd.DataFrame({**cols, "score": out["score"], "is_anomaly": np.asarray(flagged).astype(np.int8)})


def score_parquet_dask(model: str | Path, source: str | Path, out: str | Path, id_column: str | None = None,
                       n_workers: int = 2, scheduler: str | None = None, overwrite: bool = False) -> int:
    """Score a folder (or file) of Parquet with Dask into the Parquet folder ``out``; returns the row count.

    ``model``: an ``.onnx`` export or a run folder (exported in memory first). ``scheduler``:
    the address of a running Dask scheduler; without it a local cluster of ``n_workers``
    single-threaded worker processes is started and stopped. Output rows keep the input's
    order, with ``id_column`` or a global ``row`` number beside ``score`` and ``is_anomaly``.
    """
    import hashlib
    import logging

    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    import os
    import shutil

    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass --overwrite to replace it")
    files = [f for f in table_files(source) if f.name.lower().endswith(".parquet")]
    if not files:
        raise DataError(f"{source}: distributed scoring reads Parquet files; found none")
    from aekit.runtime import load_exported

    path = Path(model)
    if path.is_dir():
        from aekit.export import export_bytes

        blob = export_bytes(path)
    else:
        blob = path.read_bytes()
    if load_exported(blob).series is not None:  # also refuses a bad file here, not on every worker
        raise ConfigError(f"{path}: a series model scores one whole series, not independent Parquet rows")
    key = hashlib.sha256(blob).hexdigest()
    cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None, silence_logs=logging.WARNING)
    try:
        with Client(scheduler or cluster) as client:  # noqa: F841 - makes this cluster Dask's default
            ddf = dd.read_parquet([str(f) for f in files])
            if id_column is not None and id_column not in ddf.columns:
                raise DataError(f"{source}: id column {id_column!r} not found; columns: {', '.join(map(str, ddf.columns[:10]))}")
            offsets = None
            if id_column is None:
                lengths = ddf.map_partitions(len).compute().tolist()
                offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(int).tolist()
            import pandas as pd

            meta = pd.DataFrame({**({id_column: ddf._meta[id_column]} if id_column else {"row": np.zeros(0, np.int64)}),
                                 "score": np.zeros(0, np.float64), "is_anomaly": np.zeros(0, np.int8)})
            scored = ddf.map_partitions(_score_partition, blob, key, id_column, offsets, meta=meta)
            tmp = out.parent / f".{out.name}.{key[:8]}.tmp"
            out.parent.mkdir(parents=True, exist_ok=True)
            try:  # write beside, then swap: a failure leaves the old output (or none), never a part
                scored.to_parquet(str(tmp), write_index=False)
                if out.exists():
                    shutil.rmtree(out)
                os.replace(tmp, out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return int(offsets[-1]) if offsets is not None else int(ddf.map_partitions(len).compute().sum())
    finally:
        if cluster is not None:
            cluster.close()
