"""Time series as windows: cut a series into sliding windows, and spread window scores back to points.

A series is ``(T,)`` or ``(T, C)`` (time steps × channels). Windows are ``(N, C, L)``,
the layout 1-D conv autoencoders take. Window starts step by ``stride``; when
``(T - L)`` is not a multiple of the stride a last window ending exactly at ``T`` is
added, so every point is covered by at least one window.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from aekit.errors import ConfigError, DataError

Aggregation = Literal["mean", "max"]


def as_series(values: Any, what: str = "series") -> np.ndarray:
    """``(T,)`` or ``(T, C)`` numbers -> float32 ``(T, C)``; rejects NaN/inf and empty input."""
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{what}: expected a (time, channels) array, got shape {np.shape(values)}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(f"{what}: {int(bad.sum())} NaN/inf values (first at time step {int(np.argwhere(bad)[0, 0])})")
    return arr


def window_starts(n_steps: int, length: int, stride: int) -> np.ndarray:
    """Start index of every window; the last window always ends at ``n_steps``."""
    if length < 1 or stride < 1:
        raise ConfigError(f"window length and stride must be >= 1 (got {length}, {stride})")
    if n_steps < length:
        raise DataError(f"series has {n_steps} time steps, shorter than one window of {length}")
    starts = np.arange(0, n_steps - length + 1, stride)
    if starts[-1] != n_steps - length:
        starts = np.append(starts, n_steps - length)
    return starts


def sliding_windows(series: Any, length: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``(T,)``/``(T, C)`` into windows ``(N, C, length)``; returns ``(windows, starts)``.

    The windows are a copy (not a strided view), so scaling them in place is safe.
    """
    x = as_series(series)
    starts = window_starts(len(x), length, stride)
    view = np.lib.stride_tricks.sliding_window_view(x, length, axis=0)  # (T-L+1, C, L)
    return np.ascontiguousarray(view[starts]), starts


def windows_to_points(
    window_scores: Any, starts: Any, length: int, n_steps: int, how: Aggregation = "mean"
) -> np.ndarray:
    """Per-point scores ``(T,)`` from window scores.

    ``window_scores`` is ``(N,)`` (one score per window, given to every point it covers)
    or ``(N, L)`` (a score per time step of each window, e.g. an error map averaged
    over channels). Each point gets the mean or max over the windows covering it.
    """
    if how not in ("mean", "max"):
        raise ConfigError(f"unknown aggregation {how!r}; use mean or max")
    s = np.asarray(window_scores, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    if s.ndim == 1:
        s = np.repeat(s[:, None], length, axis=1)
    if s.shape != (len(starts), length):
        raise DataError(f"window scores of shape {s.shape} do not match {len(starts)} windows of length {length}")
    idx = (starts[:, None] + np.arange(length)[None, :]).reshape(-1)  # (N*L,) time step of every entry
    if idx.min() < 0 or idx.max() >= n_steps:
        raise DataError(f"windows reach outside a series of {n_steps} steps")
    flat = s.reshape(-1)
    if how == "mean":
        total = np.bincount(idx, weights=flat, minlength=n_steps)
        count = np.bincount(idx, minlength=n_steps)
        out = np.divide(total, count, out=np.full(n_steps, np.nan), where=count > 0)
    else:
        out = np.full(n_steps, -np.inf)
        np.maximum.at(out, idx, flat)
        out[np.isneginf(out)] = np.nan
    return out


def window_labels(point_labels: Any, starts: Any, length: int) -> np.ndarray:
    """A window is anomalous (1) when any point it covers is labelled 1."""
    y = np.asarray(point_labels).reshape(-1).astype(np.int64)
    c = np.concatenate([[0], np.cumsum(y)])
    starts = np.asarray(starts, dtype=np.int64)
    return ((c[starts + length] - c[starts]) > 0).astype(np.int64)
