"""In-memory datasets, seeded splits, and scaling fitted on the training split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from aekit.errors import DataError, ShapeError

# image (N, C, H, W); table (N, F); series: ONE long series (T, C), cut into windows to train;
# sequence (N, C, L): examples that are short series (windows, signals); audio
DataKind = Literal["image", "table", "series", "sequence", "audio"]


@dataclass
class Dataset:
    """Examples as one float32 array ``X`` of shape ``(N, *shape)`` plus optional labels.

    ``X_test``/``y_test`` hold an official test split when the source has one
    (MNIST-style idx pairs, Fashion-MNIST); otherwise they are ``None``.
    """

    X: np.ndarray
    y: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    name: str = ""
    kind: DataKind = "table"
    feature_names: list[str] | None = None
    class_names: list[str] | None = None
    ids: list[str] | None = None  # one identifier per row of X: file names of an image folder, an id column

    def __post_init__(self) -> None:
        self.X = check_array(self.X, self.name or "data")
        if self.X_test is not None:
            self.X_test = check_array(self.X_test, f"{self.name or 'data'} (test split)")
            if self.X_test.shape[1:] != self.X.shape[1:]:
                raise DataError(f"{self.name}: test examples have shape {self.X_test.shape[1:]}, train {self.X.shape[1:]}")
        for lab, arr in (("y", self.y), ("y_test", self.y_test)):
            ref = self.X if lab == "y" else self.X_test
            if arr is not None and ref is not None and len(arr) != len(ref):
                raise DataError(f"{self.name}: {len(arr)} labels for {len(ref)} examples")
        if self.ids is not None and len(self.ids) != len(self.X):
            raise DataError(f"{self.name}: {len(self.ids)} identifiers for {len(self.X)} examples")

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example."""
        return tuple(self.X.shape[1:])


def check_array(X: Any, what: str = "data") -> np.ndarray:
    """Return ``X`` as float32, rejecting empty arrays, non-numbers and NaN/inf with a clear message."""
    try:
        arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"{what}: values are not numeric ({err})") from None
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise DataError(f"{what}: dataset is empty")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.size == 0:
        raise DataError(f"{what}: examples have no features")
    bad = ~np.isfinite(arr)
    if bad.any():
        n = int(bad.sum())
        rows = np.unique(np.nonzero(bad.reshape(len(arr), -1))[0])
        raise DataError(f"{what}: {n} NaN/inf values (first in row {int(rows[0])}, {len(rows)} rows affected)")
    return arr


@dataclass
class ArraySplit:
    """One split: examples and optional labels."""

    X: np.ndarray
    y: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class Splits:
    train: ArraySplit
    val: ArraySplit | None
    test: ArraySplit | None
    info: dict[str, Any] = field(default_factory=dict)


def split_dataset(
    ds: Dataset, validation_fraction: float = 0.2, test_fraction: float | None = None, seed: int = 0
) -> Splits:
    """Seeded train/validation/test split.

    With an official test split (``ds.X_test``) and ``test_fraction`` None, the test set
    is the official one and ``validation_fraction`` of the rest becomes validation: 60,000
    MNIST-style rows give the 48k/12k/10k split of the 004 deck. Without one,
    ``test_fraction`` (default 0.1) of the rows are held out first.
    """
    for name, frac in (("validation_fraction", validation_fraction), ("test_fraction", test_fraction or 0.0)):
        if not 0.0 <= frac < 1.0:
            raise DataError(f"{name} must be in [0, 1), got {frac}")
    rng = np.random.default_rng(seed)
    n = len(ds.X)
    perm = rng.permutation(n)
    test = None
    if ds.X_test is not None and test_fraction is None:
        test = ArraySplit(ds.X_test, ds.y_test)
    else:
        n_test = int(round(n * (0.1 if test_fraction is None else test_fraction)))
        test_idx, perm = perm[:n_test], perm[n_test:]
        if n_test:
            test = ArraySplit(ds.X[test_idx], None if ds.y is None else ds.y[test_idx])
    n_val = int(round(len(perm) * validation_fraction))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if len(train_idx) == 0:
        raise DataError(f"{ds.name or 'data'}: no examples left for training ({n} rows)")
    pick = lambda idx: ArraySplit(ds.X[idx], None if ds.y is None else ds.y[idx])  # noqa: E731
    val = pick(val_idx) if n_val else None
    info = {"train": len(train_idx), "val": n_val, "test": 0 if test is None else len(test)}
    return Splits(pick(train_idx), val, test, info)


ScalingKind = Literal["minmax", "standard", "robust", "none"]
IQR_TO_STD = 1.0 / 1.349  # the interquartile range of a normal distribution is 1.349 standard deviations


class Scaler:
    """Min-max to [0, 1], standardisation or robust scaling (median / IQR), fitted on training
    data and saved with the model.

    aekit's one scaler: tables, images, series windows and audio features all use it.
    ``per_feature=None`` picks per-feature statistics for tables ``(N, F)`` and one global
    statistic for images and series, whose values share a unit. A spread below
    ``min_scale`` is raised to it (audio features: a near-silent bin must not be blown up);
    without it only a constant feature (spread 0) is left unscaled.
    Saved as plain numbers (:meth:`to_dict`), never pickled.
    """

    def __init__(self, kind: ScalingKind = "minmax", per_feature: bool | None = None,
                 min_scale: float | None = None) -> None:
        if kind not in ("minmax", "standard", "robust", "none"):
            raise DataError(f"unknown scaling {kind!r}; use minmax, standard, robust or none")
        self.kind = kind
        self.per_feature = per_feature
        self.min_scale = min_scale
        self.shift_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.shape_: tuple[int, ...] | None = None

    def fit(self, X: np.ndarray) -> "Scaler":
        X = np.asarray(X, dtype=np.float32)
        self.shape_ = tuple(X.shape[1:])
        per = self.per_feature if self.per_feature is not None else X.ndim == 2
        self.per_feature = per
        axis = 0 if per else None
        if self.kind == "minmax":
            lo, hi = X.min(axis=axis), X.max(axis=axis)
            shift, scale = lo, hi - lo
        elif self.kind == "standard":
            shift, scale = X.mean(axis=axis), X.std(axis=axis)
        elif self.kind == "robust":
            # median and IQR (in standard-deviation units): a few huge values in a heavy-tailed
            # column no longer squash every other row to ~0; a column whose quartiles coincide
            # (mostly one value, as blank image pixels) falls back to its standard deviation
            q1, shift, q3 = np.percentile(X, [25, 50, 75], axis=axis)
            scale = np.where((q3 - q1) > 1e-12, (q3 - q1) * IQR_TO_STD, X.std(axis=axis))
        else:
            shift, scale = np.zeros(()), np.ones(())
        if self.min_scale is not None and self.kind != "none":
            scale = np.maximum(scale, self.min_scale)
        scale = np.where(np.asarray(scale) > 1e-12, scale, 1.0)  # constant features stay finite
        self.shift_ = np.asarray(shift, dtype=np.float32)
        self.scale_ = np.asarray(scale, dtype=np.float32)
        return self

    def _check(self, X: np.ndarray) -> np.ndarray:
        if self.shift_ is None:
            raise DataError("scaler is not fitted")
        X = np.asarray(X, dtype=np.float32)
        if self.shape_ is not None and tuple(X.shape[1:]) != self.shape_:
            raise ShapeError(f"input has shape {tuple(X.shape[1:])} per example, the model expects {self.shape_}")
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X)
        return ((X - self.shift_) / self.scale_).astype(np.float32, copy=False)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = self._check(X)
        return (X * self.scale_ + self.shift_).astype(np.float32, copy=False)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state (saved in model.json)."""
        return {
            "kind": self.kind,
            "per_feature": self.per_feature,
            "min_scale": self.min_scale,
            "shape": list(self.shape_ or ()),
            "shift": None if self.shift_ is None else self.shift_.tolist(),
            "scale": None if self.scale_ is None else self.scale_.tolist(),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "Scaler":
        s = cls(state["kind"], state.get("per_feature"), state.get("min_scale"))
        s.shape_ = tuple(state.get("shape") or ())
        if state.get("shift") is not None:
            s.shift_ = np.asarray(state["shift"], dtype=np.float32)
            s.scale_ = np.asarray(state["scale"], dtype=np.float32)
        return s
