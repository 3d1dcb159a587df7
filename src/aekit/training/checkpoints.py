"""Checkpoints and logs of a run folder that survive crashes, full disks and resumes.

* :class:`AtomicCheckpointIO` writes every Lightning checkpoint as temp file + fsync +
  rename (:func:`aekit.io.atomic_write_bytes`), so ``last.ckpt`` is always either the
  previous complete checkpoint or the new complete one, never a truncated file.
* :func:`pick_resume_checkpoint` verifies a checkpoint loads before a resume trusts it
  and falls back to ``best.ckpt``.
* :class:`AppendingCSVLogger` keeps ``logs/metrics.csv`` across resumes (Lightning's
  own logger deletes it), dropping the rows of epochs the resume will re-run and
  restoring, from the checkpoint's history, an epoch a crash kept out of the log.
* :func:`warnings_to_file` sends third-party warnings raised while training to
  ``logs/warnings.log`` instead of the user's terminal.
"""

from __future__ import annotations

import contextlib
import csv
import io
import warnings
from pathlib import Path
from typing import Any, Iterator

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.plugins.io import TorchCheckpointIO

from aekit.errors import ModelFileError
from aekit.io import atomic_write_bytes, atomic_write_text


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O whose writes are atomic and name the checkpoint on failure.

    The checkpoint is serialised in memory first: torch's zip writer reports a full disk
    as an anonymous ``RuntimeError``, a plain file write reports ``ENOSPC`` with the path.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        import torch

        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(Path(path), buffer.getvalue())


def checkpoint_problem(path: Path) -> str | None:
    """None when ``path`` is a complete Lightning checkpoint, else why not (one phrase)."""
    import torch

    if not path.is_file():
        return "missing"
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any decode failure means the file is unusable
        return f"unreadable ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "epoch" not in ckpt:
        return "not a training checkpoint"
    return None


def pick_resume_checkpoint(run_dir: Path) -> tuple[Path, str | None]:
    """The checkpoint a resume of ``run_dir`` should start from, and a note if it is not last.ckpt.

    ``last.ckpt`` is used when it loads; otherwise ``best.ckpt`` (an earlier, complete
    state of the same run). With neither usable, :class:`ModelFileError` names the file.
    """
    last, best = run_dir / "checkpoints" / "last.ckpt", run_dir / "checkpoints" / "best.ckpt"
    problem = checkpoint_problem(last)
    if problem is None:
        return last, None
    if best.is_file() and checkpoint_problem(best) is None:
        return best, f"{last} is {problem}; resuming from {best.name} (an earlier epoch)"
    if problem == "missing":
        raise ModelFileError(f"cannot resume: {last} does not exist")
    raise ModelFileError(f"cannot resume: {last} is {problem} and no earlier checkpoint is usable")


def checkpoint_history(path: Path) -> tuple[int, list[dict[str, float]]]:
    """(epochs completed, per-epoch history) stored in the checkpoint at ``path``.

    The history counts epochs from 1 (as aekit does everywhere); Lightning's own ``epoch``
    (in the checkpoint and in ``logs/metrics.csv``) counts from 0."""
    import torch

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    history = list(ckpt.get("aekit_history") or [])
    if history:
        return int(max(row["epoch"] for row in history)), history
    return int(ckpt.get("epoch", -1)) + 1, history  # checkpoints are written at the end of an epoch


class _AppendingWriter(ExperimentWriter):
    """Lightning's CSV writer without the "previous log files will be deleted" step."""

    keep_epochs_below: int | None = None
    history: list[dict[str, float]] = []

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        text = path.read_text()
        if text and not text.endswith("\n"):  # a process killed mid-write left half a row
            text = text[: text.rfind("\n") + 1]
        reader = csv.DictReader(io.StringIO(text))
        header = list(reader.fieldnames or [])
        rows = [r for r in reader if None not in r.values()]  # short rows are cut-off writes too
        limit = self.keep_epochs_below
        if limit is not None:  # rows of epochs the resumed run will train again would repeat
            rows = [r for r in rows if not r.get("epoch") or float(r["epoch"]) < limit]
        # an epoch the checkpoint holds but the log missed (killed between the two writes)
        logged = {int(float(r["epoch"])) for r in rows if r.get("epoch") and r.get("train/loss")}
        for h in self.history:  # history epochs count from 1, the CSV's (Lightning's) from 0
            if int(h["epoch"]) - 1 not in logged:
                rows.append({k: (int(v) - 1 if k == "epoch" else v) for k, v in h.items() if k in header})
        rows.sort(key=lambda r: float(r.get("epoch") or 0))
        self.metrics_keys = sorted(header)
        self._write_all(rows)

    def _rewrite_with_new_header(self, fieldnames: list[str]) -> None:
        with open(self.metrics_file_path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        self.metrics_keys = fieldnames
        self._write_all(rows)

    def _write_all(self, rows: list[dict[str, Any]]) -> None:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.metrics_keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.metrics_file_path, out.getvalue())


class AppendingCSVLogger(CSVLogger):
    """``logs/metrics.csv`` that keeps earlier attempts' rows; ``completed_epochs`` trims re-run ones."""

    def __init__(self, save_dir: Any, completed_epochs: int | None = None,
                 history: list[dict[str, float]] | None = None, **kwargs: Any) -> None:
        super().__init__(save_dir, **kwargs)
        self._completed = completed_epochs
        self._history = list(history or [])

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            writer = _AppendingWriter.__new__(_AppendingWriter)
            writer.keep_epochs_below = self._completed
            writer.history = self._history
            writer.__init__(log_dir=self.log_dir)  # type: ignore[misc]
            self._experiment = writer
        return self._experiment


@contextlib.contextmanager
def warnings_to_file(path: Path | None) -> Iterator[None]:
    """Inside the block, warnings from Lightning/PyTorch go to ``path`` (appended), not stderr.

    Only warnings raised while aekit trains are redirected; the global filters are
    restored afterwards. aekit's own :class:`~aekit.errors.AekitWarning` still reaches the user.
    """
    from aekit.errors import AekitWarning

    with warnings.catch_warnings():
        # known noise of in-memory batching, not a problem of the user's setup
        warnings.filterwarnings("ignore", message=r".*(does not have many workers|LeafSpec|treespec).*")
        warnings.filterwarnings("ignore", message=r".*the number of training batches.*")
        if path is not None:
            shown = warnings.showwarning

            def to_file(message: Any, category: type[Warning], filename: str, lineno: int,
                        file: Any = None, line: str | None = None) -> None:
                if issubclass(category, AekitWarning):
                    shown(message, category, filename, lineno, file, line)
                    return
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with path.open("a") as fh:
                        fh.write(warnings.formatwarning(message, category, filename, lineno, line))
                except OSError:
                    pass  # a log line is not worth failing a training for

            warnings.showwarning = to_file  # restored by catch_warnings
        yield


__all__ = ["AtomicCheckpointIO", "AppendingCSVLogger", "checkpoint_problem", "checkpoint_history",
           "pick_resume_checkpoint", "warnings_to_file"]
