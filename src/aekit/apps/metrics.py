"""Evaluation of anomaly scores: ranking metrics, metrics at a threshold, events.

Convention throughout: ``y_true`` is 1 for an anomaly and 0 for a normal example,
``scores`` are "higher = more anomalous" (:meth:`AutoencoderDetector.anomaly_score`),
and a point is flagged when its score is strictly above the threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from aekit.errors import ConfigError, DataError


def _labels_scores(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(y) != len(s):
        raise DataError(f"{len(y)} labels for {len(s)} scores")
    if not np.isin(y, (0, 1)).all():
        raise DataError("labels must be 0 (normal) or 1 (anomaly)")
    if not np.isfinite(s).all():
        raise DataError("scores contain NaN/inf")
    return y.astype(np.int64), s


def roc_auc(y_true: Any, scores: Any) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    from sklearn.metrics import roc_auc_score

    y, s = _labels_scores(y_true, scores)
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def partial_auc(labels: np.ndarray, scores: np.ndarray, max_fpr: float = 0.1, mcclish: bool = False) -> float:
    """Partial AUC over FPR in [0, ``max_fpr``], divided by ``max_fpr`` (DCASE 2020 Task 2 definition).

    The DCASE task description defines pAUC as this uncorrected, normalised area (a
    random detector scores ``max_fpr / 2``). scikit-learn's ``roc_auc_score(max_fpr=p)``,
    which the baseline script calls, applies the McClish correction instead (random =
    0.5); ``mcclish=True`` returns that value.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    if not 0 < max_fpr <= 1:
        raise ConfigError("max_fpr must be in (0, 1]")
    labels, scores = _labels_scores(labels, scores)
    if not 0 < labels.sum() < len(labels):
        return float("nan")
    if mcclish:
        return float(roc_auc_score(labels, scores, max_fpr=max_fpr))
    fpr, tpr, _ = roc_curve(labels, scores)
    stop = np.searchsorted(fpr, max_fpr, side="right")
    x = np.concatenate([fpr[:stop], [max_fpr]])
    y = np.concatenate([tpr[:stop], [np.interp(max_fpr, fpr, tpr)]])
    return float(np.trapezoid(y, x) / max_fpr)


def average_precision(y_true: Any, scores: Any) -> float:
    """Average precision (area under the precision-recall curve); NaN without anomalies."""
    from sklearn.metrics import average_precision_score

    y, s = _labels_scores(y_true, scores)
    return float(average_precision_score(y, s)) if y.sum() > 0 else float("nan")


@dataclass
class ThresholdMetrics:
    """Point-level metrics of the labels ``scores > threshold``."""

    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def confusion_matrix(self) -> np.ndarray:
        """``[[tn, fp], [fn, tp]]`` (rows = truth normal/anomaly, columns = predicted), as scikit-learn."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def metrics_at(y_true: Any, scores: Any, threshold: float) -> ThresholdMetrics:
    """Precision, recall, F1 and the confusion matrix of ``scores > threshold``."""
    y, s = _labels_scores(y_true, scores)
    pred = s > threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    p, r, f = _prf(tp, fp, fn)
    return ThresholdMetrics(float(threshold), p, r, f, tp, fp, tn, fn)


def events(labels: Any) -> np.ndarray:
    """Contiguous runs of 1s in a 0/1 sequence as ``(n_events, 2)`` half-open ``[start, stop)``."""
    lab = np.asarray(labels).reshape(-1).astype(bool).astype(np.int8)
    edges = np.diff(np.concatenate([[0], lab, [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _hits(spans: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For each ``[start, stop)`` span: does ``mask`` hold any True inside it (vectorised via a cumsum)?"""
    if len(spans) == 0:
        return np.zeros(0, dtype=bool)
    c = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return (c[spans[:, 1]] - c[spans[:, 0]]) > 0


@dataclass
class EventMetrics:
    """Event-level metrics: a true event counts as detected when any of its points is flagged;
    a predicted event counts as correct when it overlaps any true event."""

    n_true_events: int
    n_pred_events: int
    detected_events: int
    correct_pred_events: int
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def event_metrics(y_true: Any, predicted: Any) -> EventMetrics:
    """Event-level precision/recall/F1 of 0/1 point predictions against 0/1 point labels."""
    y = np.asarray(y_true).reshape(-1).astype(bool)
    p = np.asarray(predicted).reshape(-1).astype(bool)
    if len(y) != len(p):
        raise DataError(f"{len(y)} labels for {len(p)} predictions")
    true_ev, pred_ev = events(y), events(p)
    detected = int(_hits(true_ev, p).sum())
    correct = int(_hits(pred_ev, y).sum())
    precision = correct / len(pred_ev) if len(pred_ev) else 0.0
    recall = detected / len(true_ev) if len(true_ev) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EventMetrics(len(true_ev), len(pred_ev), detected, correct, precision, recall, f1)


def evaluate(y_true: Any, scores: Any, threshold: float | None = None, series: bool = False) -> dict[str, Any]:
    """All metrics in one dict: ``roc_auc``, ``average_precision`` and, with a threshold,
    ``precision``/``recall``/``f1``/``confusion_matrix`` (and ``event_*`` for a series)."""
    out: dict[str, Any] = {"roc_auc": roc_auc(y_true, scores), "average_precision": average_precision(y_true, scores)}
    if threshold is not None:
        m = metrics_at(y_true, scores, threshold)
        out.update({"threshold": m.threshold, "precision": m.precision, "recall": m.recall, "f1": m.f1,
                    "confusion_matrix": m.confusion_matrix.tolist()})
        if series:
            ev = event_metrics(y_true, np.asarray(scores).reshape(-1) > threshold)
            out.update({f"event_{k}": v for k, v in ev.to_dict().items()})
    return out
