"""Thresholds on anomaly scores (higher = more anomalous; flagged when ``score > threshold``).

Unsupervised rules read only scores of (mostly) normal data:

* ``contamination``: the ``1 - c`` quantile, so a fraction ``c`` of the given scores is flagged;
* ``percentile``: the ``q``-th percentile of errors on held-out normal data;
* ``mean_std``: ``mean + k·std`` (Gaussian-looking errors);
* ``median_mad``: ``median + k·1.4826·MAD`` (robust to outliers already in the data).

``best_f1`` needs labels; it is an oracle for reporting ("what F1 could this score
reach?") and is only ever used when asked for by name: :class:`Threshold` records
``uses_labels=True`` so a report can say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from aekit.errors import ConfigError, DataError

ThresholdMethod = Literal["contamination", "percentile", "mean_std", "median_mad", "best_f1"]
METHODS: tuple[str, ...] = ("contamination", "percentile", "mean_std", "median_mad", "best_f1")
# default parameter of each rule: contamination fraction, percentile, k, k
DEFAULTS: dict[str, float] = {"contamination": 0.1, "percentile": 99.0, "mean_std": 3.0, "median_mad": 3.0}
MAD_TO_STD = 1.4826  # MAD of a normal distribution times this = its standard deviation


@dataclass
class Threshold:
    """A chosen threshold and how it was obtained."""

    value: float
    method: str
    param: float | None = None
    uses_labels: bool = False
    info: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scores(scores: Any) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) == 0:
        raise DataError("cannot choose a threshold from zero scores")
    if not np.isfinite(s).all():
        raise DataError("scores contain NaN/inf")
    return s


def by_contamination(scores: Any, contamination: float = 0.1) -> float:
    """Threshold flagging a fraction ``contamination`` of ``scores`` (ties aside)."""
    if not 0.0 < contamination <= 0.5:
        raise ConfigError(f"contamination must be in (0, 0.5], got {contamination}")
    return float(np.percentile(_scores(scores), 100.0 * (1.0 - contamination)))


def by_percentile(scores: Any, q: float = 99.0) -> float:
    """The ``q``-th percentile of (held-out, normal) scores."""
    if not 0.0 <= q <= 100.0:
        raise ConfigError(f"percentile must be in [0, 100], got {q}")
    return float(np.percentile(_scores(scores), q))


def by_mean_std(scores: Any, k: float = 3.0) -> float:
    """``mean + k·std`` of the scores."""
    _check_k(k)
    s = _scores(scores)
    return float(s.mean() + k * s.std())


def by_median_mad(scores: Any, k: float = 3.0) -> float:
    """``median + k·1.4826·MAD``: a robust mean + kσ."""
    _check_k(k)
    s = _scores(scores)
    med = np.median(s)
    return float(med + k * MAD_TO_STD * np.median(np.abs(s - med)))


def _check_k(k: float) -> None:
    # a negative k puts the cut below the typical normal score: most normal data would be flagged
    if not (np.isfinite(k) and k >= 0):
        raise ConfigError(f"threshold k must be a finite number >= 0, got {k}")


def check_threshold_param(method: str, param: float | None) -> None:
    """Refuse a rule's number before any training: percentile in [0, 100], k >= 0."""
    if param is None or method in ("best_f1", "contamination"):
        return
    if isinstance(param, bool) or not isinstance(param, (int, float, np.floating, np.integer)):
        raise ConfigError(f"threshold_param must be a number, got {param!r}")
    if method == "percentile" and not 0.0 <= float(param) <= 100.0:
        raise ConfigError(f"percentile must be in [0, 100], got {param}")
    if method in ("mean_std", "median_mad"):
        _check_k(float(param))


def best_f1(scores: Any, y_true: Any) -> tuple[float, float]:
    """The threshold maximising F1 of ``scores > threshold`` against 0/1 labels; returns ``(threshold, f1)``.

    Uses labels: an oracle for evaluation, not an unsupervised rule.
    """
    from sklearn.metrics import precision_recall_curve

    s = _scores(scores)
    y = np.asarray(y_true).reshape(-1)
    if len(y) != len(s):
        raise DataError(f"{len(y)} labels for {len(s)} scores")
    if y.sum() == 0:
        raise DataError("best_f1 needs at least one anomaly among the labels")
    precision, recall, cuts = precision_recall_curve(y, s)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    i = int(np.argmax(f1))
    # precision_recall_curve flags score >= cut; step just below so "score > threshold" flags the same points
    value = float(np.nextafter(cuts[i], -np.inf))
    return value, float(f1[i])


def choose_threshold(method: str, scores: Any, param: float | None = None, y_true: Any = None) -> Threshold:
    """Apply a named rule to ``scores``; ``param`` is the rule's number (defaults in :data:`DEFAULTS`)."""
    if method not in METHODS:
        raise ConfigError(f"unknown threshold method {method!r}; use one of {', '.join(METHODS)}")
    if method == "best_f1":
        if y_true is None:
            raise ConfigError("threshold 'best_f1' needs labels")
        value, f1 = best_f1(scores, y_true)
        return Threshold(value, method, None, uses_labels=True, info={"f1": f1})
    p = DEFAULTS[method] if param is None else float(param)
    rule = {"contamination": by_contamination, "percentile": by_percentile,
            "mean_std": by_mean_std, "median_mad": by_median_mad}[method]
    return Threshold(rule(scores, p), method, p)
