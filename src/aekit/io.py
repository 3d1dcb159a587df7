"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or a bad input never leaves a half-written model or result behind: the
destination either holds the old content or the complete new one. The folder helpers
do the same for commands that write many files.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from aekit.errors import ConfigError


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    return atomic_write_with(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def atomic_write_with(path: str | Path, writer: Callable[[str], Any]) -> Path:
    """Call ``writer(tmp_path)`` to produce the file, then move it onto ``path``.

    Use for writers that need a filename (safetensors, matplotlib, numpy).
    """
    dest = Path(path)
    if dest.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp" + dest.suffix, dir=dest.parent)
    os.close(fd)
    try:
        writer(tmp)
        # mkstemp creates files readable by the owner only; give the result normal permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


@contextlib.contextmanager
def removed_on_failure(folder: str | Path, keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield ``folder``; if it did not exist before and the body raises, delete it again.

    Writers inside create the folder as they need it. A folder that already existed is
    left alone (it may hold the user's files), and so is one for which ``keep(folder)``
    is true (e.g. a run with a checkpoint to resume from).
    """
    folder = Path(folder)
    created = not folder.exists()
    try:
        yield folder
    except BaseException:
        if created and not (keep is not None and keep(folder)):
            shutil.rmtree(folder, ignore_errors=True)
        raise
@contextlib.contextmanager
def staged_folder(dst: str | Path) -> Iterator[Path]:
    """Yield an empty hidden folder next to ``dst``; when the block succeeds its files move into ``dst``.

    A new ``dst`` appears in one rename, complete; into an existing folder the files are
    moved one by one (each move atomic). When the block raises, the staging folder and any
    parent folders made for it are removed, so ``dst`` stays as it was (absent, or with its
    old files) and no half-written output is left behind.
    """
    dst = Path(dst)
    if dst.exists() and not dst.is_dir():
        raise ConfigError(f"{dst} exists and is not a folder")
    where = Path(os.path.abspath(dst))
    made = [p for p in (where.parent, *where.parent.parents) if not p.exists()]  # innermost first
    where.parent.mkdir(parents=True, exist_ok=True)
    tmp = where.parent / f".{where.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        yield tmp
        if not dst.exists():
            os.replace(tmp, dst)
        else:
            for f in sorted(tmp.rglob("*")):
                if f.is_file():
                    target = dst / f.relative_to(tmp)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(f, target)
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in made:
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
