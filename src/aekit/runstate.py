"""What a run folder says about itself: its state file, its lock, and stopping on a signal.

Every run folder written by this version holds ``state.json``, one small file rewritten
atomically whenever the run changes state::

    {"state": "running" | "interrupted" | "failed" | "finished", "pid": 123,
     "host": "box", "updated": "2026-11-29T20:50:01+00:00", "attempts": 2, "message": "..."}

``running`` is set when a training starts (or resumes), ``finished`` only after the
very last file (metrics, figures, report) is written, ``interrupted`` on SIGINT/SIGTERM
and ``failed`` on an error. A process killed with ``kill -9`` cannot write anything, so
a ``running`` state whose writer no longer holds the folder's lock (``.lock``, an
``flock`` the kernel releases when the process dies) reads as ``interrupted``. Folders
written by older versions have no state file and are taken as finished.

The signal part: :func:`signals_handled` turns SIGINT/SIGTERM into
:class:`~aekit.errors.RunInterrupted`; inside :func:`deferred_signals` (the training
loop) the exception waits for :func:`raise_if_signalled`, called between batches, so a
checkpoint being written is never cut in half.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any, Iterator

from aekit.errors import ConfigError, ModelFileError, RunInterrupted
from aekit.io import atomic_save_json

STATE_FILE = "state.json"
LOCK_FILE = ".lock"
STATES = ("running", "interrupted", "failed", "finished")


# ---------------------------------------------------------------- state file
def read_state(folder: str | Path) -> dict[str, Any] | None:
    """The folder's ``state.json`` as written, or None when it has none (older runs)."""
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        raise ModelFileError(f"{path}: unreadable run state ({err})") from None
    if not isinstance(data, dict) or data.get("state") not in STATES:
        raise ModelFileError(f"{path}: not an aekit run state (state must be one of {', '.join(STATES)})")
    return data


def write_state(folder: str | Path, state: str, message: str | None = None, new_attempt: bool = False) -> dict[str, Any]:
    """Record ``state`` in ``folder/state.json`` (atomically); keeps the attempt count."""
    assert state in STATES
    folder = Path(folder)
    try:
        old = read_state(folder) or {}
    except ModelFileError:
        old = {}
    attempts = int(old.get("attempts", 0)) + (1 if new_attempt else 0)
    data: dict[str, Any] = {
        "state": state,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "updated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "attempts": max(attempts, 1),
    }
    if message:
        data["message"] = message
    atomic_save_json(folder / STATE_FILE, data)
    return data


def effective_state(folder: str | Path) -> str | None:
    """The state a reader should believe: a ``running`` run whose process is gone is ``interrupted``."""
    data = read_state(folder)
    if data is None:
        return None
    if data["state"] == "running" and not is_locked(folder):
        return "interrupted"
    return str(data["state"])


def is_finished(folder: str | Path) -> bool:
    """True for a finished run: ``state.json`` says so, or (older runs) model and metrics exist."""
    folder = Path(folder)
    state = effective_state(folder)
    if state is not None:
        return state == "finished"
    return (folder / "model.json").is_file() and (folder / "metrics.json").is_file()


def ensure_finished(folder: str | Path) -> None:
    """Raise :class:`ModelFileError` (one line) unless ``folder`` holds a finished run.

    A folder without ``state.json`` (written by an older aekit) is accepted as it is.
    """
    folder = Path(folder)
    state = effective_state(folder)
    if state in (None, "finished"):
        return
    data = read_state(folder) or {}
    resumable = (folder / "checkpoints" / "last.ckpt").is_file()
    hint = f"; resume it with aekit train --resume {folder}" if resumable else ""
    if state == "running":
        raise ModelFileError(f"{folder}: run is still in progress (pid {data.get('pid')}); wait until it finishes")
    if state == "failed":
        why = f" ({data['message']})" if data.get("message") else ""
        raise ModelFileError(f"{folder}: run failed before it finished{why}{hint}")
    raise ModelFileError(f"{folder}: run was interrupted before it finished{hint}")


# ---------------------------------------------------------------- lock
def is_locked(folder: str | Path) -> bool:
    """True while a live aekit process holds ``folder``'s lock."""
    import fcntl

    path = Path(folder) / LOCK_FILE
    if not path.is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we may just have taken
    return False


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[Path]:
    """Hold ``folder``'s exclusive lock for the block; a second writer gets a one-line error.

    The kernel drops the lock when the process dies, even under ``kill -9``, so a stale
    lock never blocks a resume.
    """
    import fcntl

    folder = Path(folder)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = (read_state(folder) or {}).get("pid", "?")
            raise ConfigError(f"run folder {folder} is in use by another aekit process (pid {pid})") from None
        yield folder
    finally:
        os.close(fd)


# ---------------------------------------------------------------- signals
_pending: int | None = None
_defer_depth = 0
_installed = 0


def _on_signal(signum: int, frame: Any) -> None:
    global _pending
    if _pending is not None:
        return  # a second Ctrl-C while shutting down must not cut the clean-up short
    _pending = signum
    if _defer_depth == 0:
        raise RunInterrupted(signum)


def raise_if_signalled() -> None:
    """Raise :class:`RunInterrupted` if SIGINT/SIGTERM arrived (call at safe points)."""
    if _pending is not None:
        raise RunInterrupted(_pending)


@contextlib.contextmanager
def signals_handled() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into :class:`RunInterrupted` for the block (main thread only; nests)."""
    global _installed, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if _installed == 0 else {}
    if _installed == 0:
        _pending = None
        for s in previous:
            signal.signal(s, _on_signal)
    _installed += 1
    try:
        yield
    finally:
        _installed -= 1
        if _installed == 0:
            for s, handler in previous.items():
                signal.signal(s, handler)
            _pending = None  # a later call without handlers must not see this block's signal


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Inside the block a signal only records itself; :func:`raise_if_signalled` raises it."""
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1


__all__ = ["STATES", "read_state", "write_state", "effective_state", "is_finished", "ensure_finished", "is_locked",
           "folder_lock", "signals_handled", "deferred_signals", "raise_if_signalled"]
