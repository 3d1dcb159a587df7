"""Entry point of the ``aekit`` command.

Each topic lives in its own module with a ``register(app)`` function; this file only
assembles them and turns aekit's errors into one line on stderr with exit code 2.
Nothing here imports torch, Lightning or scikit-learn, so ``aekit --help`` is fast.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer
from typer.exceptions import Abort, Exit, TyperException

# Topic modules under aekit.cli; each defines register(app: typer.Typer) -> None.
COMMAND_MODULES: list[str] = [
    "core",
    "zoo",
    "detect",
    "apps",
    "report",
    "pca",
    "audio",
    "deploy",
]

app = typer.Typer(
    name="aekit",
    help="Autoencoders for images, series, audio and tables: train, inspect, and put them to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"aekit.cli.{_name}").register(app)


def _fail(message: str, code: int = 2) -> None:
    print(f"aekit: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _interrupted(err: BaseException) -> None:
    """One line for SIGINT/SIGTERM: what was kept and how to continue; exit 130 / 143."""
    from pathlib import Path

    run = getattr(err, "run_dir", None)
    if run is not None and (Path(run) / "checkpoints" / "last.ckpt").is_file():
        print(f"interrupted: {run} can be resumed with aekit train --resume {run}", file=sys.stderr)
    else:
        print("interrupted: nothing was kept", file=sys.stderr)
    raise SystemExit(getattr(err, "exit_code", 130))


def _show_warning(message: object, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: object = None) -> None:
    """aekit's own warnings are one line for the user; anything else keeps Python's format."""
    from aekit.errors import AekitWarning

    if issubclass(category, AekitWarning):
        print(f"aekit: warning: {message}", file=sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)  # type: ignore[arg-type]


_default_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; aekit errors and usage errors become a single line and exit code 2.

    SIGINT/SIGTERM stop a command at a safe point with one ``interrupted:`` line and
    exit code 130/143 (see :mod:`aekit.runstate`).
    """
    from aekit.errors import RunInterrupted
    from aekit.runstate import signals_handled

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            with signals_handled():
                _main(argv)
        except RunInterrupted as err:
            _interrupted(err)


def _main(argv: list[str] | None) -> None:
    from aekit.errors import AekitError

    try:
        app(args=argv, standalone_mode=False)
    except AekitError as err:
        _fail(str(err))
    except TyperException as err:  # usage errors: unknown option, missing argument, ...
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            raise SystemExit(0) from None
        cmd = ctx.command_path if ctx is not None else "aekit"
        _fail(f"{err.format_message()} (see '{cmd} --help')", getattr(err, "exit_code", 2) or 2)
    except Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exit as err:
        raise SystemExit(err.exit_code) from None
    except ModuleNotFoundError as err:  # an optional part (the torch or deploy extra) is not installed
        from aekit.doctor import missing_part

        line = missing_part(err.name)
        if line is None:
            raise
        _fail(line)
    except FileNotFoundError as err:
        _fail(f"file not found: {err.filename or err}")
    except OSError as err:  # permission denied, disk full, a folder where a file should go, ...
        where = f"{err.filename}: " if err.filename else ""
        _fail(f"cannot read or write {where}{err.strerror or err}")


if __name__ == "__main__":  # pragma: no cover
    main()
