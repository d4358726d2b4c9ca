"""Errors meant for people.

Every error ``dl_core`` raises on purpose is a :class:`DLExplorerError`. Messages say what was
expected, what was received and how to fix it, so the UI and the CLI can show them verbatim.
"""


class DLExplorerError(Exception):
    """Base class of every error raised deliberately by dl_core."""


class DataError(DLExplorerError):
    """The data cannot be read or does not fit the chosen task."""


class ConfigError(DLExplorerError):
    """A hyperparameter or option is out of range or inconsistent."""


class TrainingError(DLExplorerError):
    """Training could not start or failed."""


class TrackingError(DLExplorerError):
    """The MLflow store cannot be reached or holds no such run."""
