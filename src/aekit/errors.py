"""Exception classes raised by aekit's public API.

The CLI turns any :class:`AekitError` into one line on stderr and a non-zero
exit; the Python API lets them propagate so callers can catch specific kinds.
"""

from __future__ import annotations


class AekitError(Exception):
    """Base class of every error aekit raises on purpose (bad input, bad files)."""


class ConfigError(AekitError, ValueError):
    """A configuration is invalid: unknown key, wrong type, unknown model or option."""


class DataError(AekitError, ValueError):
    """A data file is missing, unreadable, empty, or holds NaN/inf values."""


class ShapeError(AekitError, ValueError):
    """Input does not have the shape a trained model expects."""


class ModelFileError(AekitError, OSError):
    """A saved model or run folder is missing, truncated, tampered with, or inconsistent."""


class AekitWarning(UserWarning):
    """Something valid but probably unintended (e.g. a latent code wider than the input)."""


class RunInterrupted(BaseException):
    """SIGINT or SIGTERM stopped a command at a safe point.

    A ``BaseException`` like ``KeyboardInterrupt`` so that no ``except Exception`` in
    between swallows it, but not a ``KeyboardInterrupt``: Lightning turns that into
    ``sys.exit(1)``. ``run_dir`` is the run folder the command was writing (if any);
    ``exit_code`` is the shell convention ``128 + signal number`` (130, 143).
    """

    def __init__(self, signum: int, run_dir: object = None) -> None:
        super().__init__(signum)
        self.signum = signum
        self.run_dir = run_dir

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)
