"""Errors a user can act on: each names the file and line, or the field, at fault."""

from __future__ import annotations

from pathlib import Path


class QaBotError(Exception):
    """Base class for errors shown to the user as one clean message, never a traceback."""


class TranscriptError(QaBotError):
    """A transcript could not be read or parsed.

    Attributes:
        path: the file at fault.
        line: 1-based line of the fault, or None when the whole file is at fault.
        reason: what is wrong, in words a user understands.
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class IndexBusyError(QaBotError):
    """Another process kept the index folder's write lock for longer than the lock timeout."""


class ConfigError(QaBotError):
    """A setting (flag, environment variable or argument) has a bad value; the message names it."""


class ModelError(QaBotError):
    """The embedding model could not be found, loaded or verified."""


class QuestionError(QaBotError):
    """The question (or its scope: transcript, speaker, top_k) cannot be answered as asked."""


class Cancelled(QaBotError):
    """Stopped at the user's request (an upload's Cancel) before anything was changed."""
