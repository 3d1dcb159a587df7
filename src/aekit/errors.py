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
