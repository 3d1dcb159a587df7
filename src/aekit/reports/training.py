"""A training run with its figures and HTML report: what ``aekit train`` and :func:`aekit.train` do.

:func:`aekit.pipeline.train` writes the run folder (runs layer); this module, one layer
up, hands it a hook that draws the figures and the report from the run still in memory,
so nothing is loaded or split again after training.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from aekit.pipeline import RunOutcome, RunConfig
    from aekit.runs import TrainedAutoencoder


def draw_run(outcome: "RunOutcome") -> list[Path]:
    """``figures/`` (loss curves, reconstructions of images, greedy stages) and, unless the
    config says ``report: false``, ``report.html``; returns the files written."""
    from aekit.reports.figures import loss_curves, pretraining_figure, reconstruction_grid

    trained, metrics = outcome.trained, outcome.metrics
    assert trained.path is not None
    fig_dir = trained.path / "figures"
    written = [loss_curves(metrics["history"], fig_dir / "loss_curves.png")]
    split = outcome.splits.test or outcome.splits.val or outcome.splits.train
    if split.X.ndim == 4:
        X = split.X[:10]
        labels = None if split.y is None else split.y[:10]
        written.append(reconstruction_grid(X, trained.reconstruct(X), fig_dir / "reconstructions.png", labels=labels))
    if metrics.get("pretraining"):
        written.append(pretraining_figure(metrics["pretraining"], fig_dir / "pretraining.png"))
    if outcome.config.report:
        from aekit.reports.html import write_report

        written.append(write_report(trained.path, examples=(split.X, split.y)))
    return written


def train(config: "RunConfig | dict[str, Any] | str | Path", resume: str | Path | None = None,
          callbacks: Sequence[Any] = (), overwrite: bool = False, *, pretrain: bool = False,
          data: Any = None) -> "TrainedAutoencoder":
    """Train the model of ``config`` into a run folder with figures and report (:func:`aekit.train`).

    ``config`` is a dict, a YAML path or a :class:`~aekit.pipeline.RunConfig`; ``resume``
    continues an interrupted run folder; ``overwrite`` replaces an existing run folder of the
    same name once the new run has finished; ``pretrain`` runs the greedy layer-wise schedule
    of ``stacked``/``dbn`` first (what ``aekit pretrain`` does); ``data`` hands the examples
    over in memory (array, tensor, ``(X, y)`` or data frame) instead of ``data.source``.
    """
    from aekit.pipeline import train as train_run

    return train_run(config, resume, callbacks, overwrite, pretrain=pretrain, on_finish=[draw_run], data=data)


__all__ = ["draw_run", "train"]
