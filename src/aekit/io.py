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
        _fsync_file(tmp)  # the data reaches the disk before the name does: no empty file after a crash
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.filename in (None, tmp):  # name what the user asked for, not our temporary file
            raise OSError(err.errno, err.strerror or str(err), str(dest)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_folder(src: str | Path, dst: str | Path) -> Path:
    """Put the complete folder ``src`` in place of ``dst`` (which may exist) and return ``dst``.

    The old ``dst`` is first renamed aside, so at every moment ``dst`` is either the old
    folder or the new one, never a mix; the old one is deleted last.
    """
    src, dst = Path(src), Path(dst)
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.old")
        os.replace(dst, old)
    try:
        os.replace(src, dst)
    except BaseException:
        if old is not None:
            os.replace(old, dst)
        raise
    _fsync_dir(dst.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dst


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
def staged_folder(dst: str | Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty hidden folder next to ``dst``; when the block succeeds its files move into ``dst``.

    A new ``dst`` appears in one rename, complete; into an existing folder the files are
    moved one by one (each move atomic); with ``replace`` the new folder takes the place of
    the old one whole (see :func:`replace_folder`). When the block raises, the staging folder and any
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
        if replace:
            replace_folder(tmp, dst)
        elif not dst.exists():
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


def refuse_existing(folder: str | Path, overwrite: bool = False, what: str = "output folder") -> Path:
    """Refuse an existing non-empty ``folder`` (one line) unless ``overwrite``; check before any work."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} exists and is not a folder")
    if not overwrite and folder.is_dir() and any(folder.iterdir()):
        raise ConfigError(f"{what} {folder} already exists and is not empty: pick another one, "
                          f"or replace it with --overwrite")
    return folder


@contextlib.contextmanager
def new_folder(dst: str | Path, overwrite: bool = False, what: str = "output folder") -> Iterator[Path]:
    """Yield a hidden staging folder that becomes ``dst`` in one rename when the block succeeds.

    An existing non-empty ``dst`` is refused (checked again at the end, in case another
    command wrote it meanwhile) unless ``overwrite``, which replaces it whole. On failure
    nothing of the new folder is left and ``dst`` is untouched.
    """
    dst = refuse_existing(dst, overwrite, what)
    if overwrite:
        with staged_folder(dst, replace=True) as tmp:
            yield tmp
        return
    done = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.new")
    with staged_folder(done) as tmp:  # on success the complete folder is at `done`
        yield tmp
    try:
        os.rename(done, dst)  # fails rather than merge if another command filled dst meanwhile
    except OSError as err:
        shutil.rmtree(done, ignore_errors=True)
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise ConfigError(f"{what} {dst} already exists and is not empty: pick another one, "
                              f"or replace it with --overwrite") from None
        raise
    _fsync_dir(dst.parent)


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
