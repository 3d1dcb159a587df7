"""Score an exported aekit model (``aekit export``) with numpy and onnxruntime only.

This module never imports torch, Lightning or scikit-learn: ``pip install aekit[runtime]``
is enough to use it, and a new process reaches its first score in a fraction of the time
a torch load takes (see ``benchmarks/deploy.py``)::

    from aekit.runtime import load_exported
    m = load_exported("detector.onnx")
    m.score(df)          # (N,) float64, higher = more anomalous
    m.predict(df)        # dict of every output: score, is_anomaly, code, reconstruction, error_map

Inputs are numpy arrays ``(N, n_features)`` (or ``(N, *example_shape)``) or pandas data
frames; a frame's columns are matched by feature name when the export knows the names
(any order; unknown or missing features are refused), else by position.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from aekit.errors import DataError, ModelFileError, ShapeError

EXPORT_FORMAT = "aekit-onnx/1"  # equals aekit.export.EXPORT_FORMAT (not imported: that module needs torch)
CHUNK_ROWS = 8192  # rows per onnxruntime call: bounds the memory of the intermediate tensors


class ExportedModel:
    """An aekit ONNX export loaded into an onnxruntime session.

    Attributes: ``kind`` (``"detector"``, ``"series"`` or ``"autoencoder"``), ``family``, ``threshold``
    (dict with ``value`` and ``method``, or ``None``), ``feature_names`` (list or ``None``),
    ``n_features``, ``example_shape``, ``outputs`` (output names), ``series`` (window,
    stride, aggregation of a series export: its input is one series ``(T, channels)``, scored
    whole), ``metadata`` (all of it).
    """

    def __init__(self, session: Any, metadata: dict[str, Any], source: str = "model") -> None:
        self.session = session
        self.metadata = metadata
        self.source = source
        schema = metadata["input_schema"]
        self.input_name: str = schema["name"]
        self.n_features: int = int(schema["shape"][1])
        self.example_shape: tuple[int, ...] = tuple(int(s) for s in schema.get("example_shape") or (self.n_features,))
        self.kind: str = metadata["kind"]
        self.family: str = metadata["family"]
        self.threshold: dict[str, Any] | None = metadata.get("threshold")
        self.feature_names: list[str] | None = metadata.get("feature_names")
        self.outputs: list[str] = [o.name for o in session.get_outputs()]
        self.series: dict[str, Any] | None = metadata.get("series")  # window, stride, aggregation

    # --- input checks --------------------------------------------------------------

    def prepare(self, X: Any, ignore: Iterable[str] = ()) -> np.ndarray:
        """``X`` -> float32 ``(N, n_features)``, checked: width, feature names, numbers, NaN/inf.

        A data frame's columns listed in ``ignore`` (an id column, labels) are dropped first.
        Raises :class:`ShapeError` for a wrong width and :class:`DataError` for unknown or
        missing features, non-numeric values and NaN/inf (each naming the column or row).
        """
        if hasattr(X, "columns") and hasattr(X, "to_numpy"):
            return self._from_frame(X, set(map(str, ignore)))
        try:
            arr = np.asarray(X, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise DataError(f"input: values are not numeric ({err})") from None
        if arr.ndim == 1:  # one row of a multi-feature model, or one value per row of a 1-feature one
            arr = arr[:, None] if self.n_features == 1 else arr[None, :]
        if arr.ndim < 2 or arr.shape[0] == 0:
            raise DataError("input: no rows to score")
        width = int(np.prod(arr.shape[1:]))
        if width != self.n_features:
            raise ShapeError(f"input has {width} features per row, the model expects {self.n_features}")
        arr = arr.reshape(len(arr), self.n_features)
        check_finite(arr, self.feature_names)
        return np.ascontiguousarray(arr)

    def _from_frame(self, df: Any, ignore: set[str]) -> np.ndarray:
        return frame_to_array(df, self.n_features, self.feature_names, ignore)

    # --- scoring ---------------------------------------------------------------------

    def predict(self, X: Any, outputs: Sequence[str] | None = None, ignore: Iterable[str] = ()) -> dict[str, np.ndarray]:
        """Every requested output (default: all) for the rows of ``X``, computed in chunks."""
        x = self.prepare(X, ignore)
        return self.run_prepared(x, outputs)

    def run_prepared(self, x: np.ndarray, outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Outputs for an already checked float32 ``(N, n_features)`` array (see :meth:`prepare`)."""
        names = list(outputs) if outputs is not None else self.outputs
        unknown = [n for n in names if n not in self.outputs]
        if unknown:
            raise DataError(f"output {unknown[0]!r} not in this export (it has {', '.join(self.outputs)})")
        if self.series is not None:  # rows are one series' time steps: scored whole, never cut into chunks
            window = int(self.series["window"])
            if len(x) < window:
                raise DataError(f"series has {len(x)} time steps, shorter than one window of {window}")
            return dict(zip(names, self.session.run(names, {self.input_name: x})))
        parts = [self.session.run(names, {self.input_name: x[i : i + CHUNK_ROWS]}) for i in range(0, len(x), CHUNK_ROWS)]
        return {n: np.concatenate([p[j] for p in parts]) for j, n in enumerate(names)}

    def score(self, X: Any, ignore: Iterable[str] = ()) -> np.ndarray:
        """Anomaly score per row, ``(N,)`` float64 (higher = worse)."""
        return self.predict(X, ["score"], ignore)["score"]

    def is_anomaly(self, X: Any, ignore: Iterable[str] = ()) -> np.ndarray:
        """Boolean per row: ``score > threshold`` (detector exports only)."""
        if "is_anomaly" not in self.outputs:
            raise DataError(f"{self.source}: a plain autoencoder export has no threshold (export a detector run)")
        return self.predict(X, ["is_anomaly"], ignore)["is_anomaly"]

    def encode(self, X: Any, ignore: Iterable[str] = ()) -> np.ndarray:
        """Codes ``(N, *latent)`` float32."""
        return self.predict(X, ["code"], ignore)["code"]

    def reconstruct(self, X: Any, ignore: Iterable[str] = ()) -> np.ndarray:
        """Reconstructions ``(N, n_features)`` in the input's original units."""
        return self.predict(X, ["reconstruction"], ignore)["reconstruction"]

    def info(self) -> dict[str, Any]:
        """JSON-safe description (what ``GET /v1/metadata`` of ``aekit serve`` returns)."""
        return {"kind": self.kind, "family": self.family, "threshold": self.threshold,
                "feature_names": self.feature_names, "n_features": self.n_features,
                "example_shape": list(self.example_shape), "outputs": self.outputs,
                "aekit_version": self.metadata.get("version"), "reduction": self.metadata.get("reduction"),
                "series": self.series}


def frame_to_array(df: Any, n_features: int, feature_names: Sequence[str] | None = None,
                   ignore: Iterable[str] = ()) -> np.ndarray:
    """A data frame's feature columns as float32 ``(N, n_features)``, checked.

    Columns in ``ignore`` are dropped. With ``feature_names`` the rest must be exactly
    those features (any order; they are put in the model's order); without, their number
    must equal ``n_features`` and they are taken in order.
    """
    ignore = set(map(str, ignore))
    columns = [str(c) for c in df.columns]
    keep = [c for c in columns if c not in ignore]
    if feature_names is not None:
        unknown = [c for c in keep if c not in feature_names]
        if unknown:
            raise DataError(f"unknown feature {unknown[0]!r} (the model takes {', '.join(feature_names[:8])}"
                            f"{', ...' if len(feature_names) > 8 else ''})")
        missing = [n for n in feature_names if n not in keep]
        if missing:
            raise DataError(f"missing feature {missing[0]!r} ({len(missing)} of {n_features} missing)")
        keep = list(feature_names)
    elif len(keep) != n_features:
        raise ShapeError(f"input has {len(keep)} feature columns, the model expects {n_features}")
    if len(df) == 0:
        raise DataError("input: no rows to score")
    frame = df.rename(columns=str)[keep]
    bad = [c for c in keep if frame[c].dtype.kind not in "iufb"]
    if bad:
        raise DataError(f"feature {bad[0]!r}: values are not numeric (dtype {frame[bad[0]].dtype})")
    arr = frame.to_numpy(dtype=np.float32)
    check_finite(arr, keep)
    return np.ascontiguousarray(arr)


def check_finite(arr: np.ndarray, names: Sequence[str] | None = None, first_row: int = 0) -> None:
    """Raise :class:`DataError` naming the feature and row of the first NaN/inf in ``arr`` ``(N, F)``."""
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        name = repr(names[col]) if names is not None and col < len(names) else f"column {col}"
        raise DataError(f"feature {name}: NaN/inf value in row {first_row + row} ({int(bad.sum())} bad values)")


def _read_metadata(session: Any, source: str) -> dict[str, Any]:
    props = session.get_modelmeta().custom_metadata_map
    if props.get("aekit.format") != EXPORT_FORMAT:
        raise ModelFileError(f"{source}: an ONNX file, but not an aekit export (no aekit.format={EXPORT_FORMAT} metadata)")
    meta: dict[str, Any] = {}
    for key, value in props.items():
        if not key.startswith("aekit."):
            continue
        name = key[len("aekit."):]
        if name in ("input_schema", "outputs", "feature_names", "threshold", "standardized_errors", "series"):
            try:
                meta[name] = json.loads(value)
            except json.JSONDecodeError:
                raise ModelFileError(f"{source}: metadata {key} is not valid JSON") from None
        else:
            meta[name] = value
    for key in ("input_schema", "kind", "family"):
        if key not in meta:
            raise ModelFileError(f"{source}: aekit export without {key} metadata")
    return meta


def load_exported(source: str | Path | bytes, threads: int | None = None) -> ExportedModel:
    """Load an ``aekit export`` file (a path, or its bytes) into an :class:`ExportedModel`.

    ``threads``: onnxruntime intra-op threads (``None`` = its default). Raises
    :class:`ModelFileError` for a missing, truncated or foreign file.
    """
    import onnxruntime as ort

    label = "model" if isinstance(source, (bytes, bytearray)) else str(source)
    data: bytes
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise ModelFileError(f"{path}: a folder; the runtime loads an .onnx file written by `aekit export`")
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        data = path.read_bytes()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # onnxruntime's warnings are about graph rewrites, not the user's input
    if threads is not None:
        opts.intra_op_num_threads = int(threads)
    try:
        session = ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types for bad files
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ModelFileError(f"{label}: not a readable ONNX model (truncated or corrupt? {first[:160]})") from None
    return ExportedModel(session, _read_metadata(session, label), label)
