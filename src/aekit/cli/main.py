"""Entry point of the ``aekit`` command.

Each topic lives in its own module with a ``register(app)`` function; this file only
assembles them and turns aekit's errors into one line on stderr with exit code 2.
Nothing here imports torch, Lightning or scikit-learn, so ``aekit --help`` is fast.
"""

from __future__ import annotations

import importlib
import sys

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


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; aekit errors and usage errors become a single line and exit code 2."""
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
    except FileNotFoundError as err:
        _fail(f"file not found: {err.filename or err}")
    except OSError as err:  # permission denied, disk full, a folder where a file should go, ...
        where = f"{err.filename}: " if err.filename else ""
        _fail(f"cannot read or write {where}{err.strerror or err}")


if __name__ == "__main__":  # pragma: no cover
    main()
