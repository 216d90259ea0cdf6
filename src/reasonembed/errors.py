"""Errors that name where bad input came from (file, line, field), so a user can fix it."""

from __future__ import annotations

from pathlib import Path


class ReasonEmbedError(Exception):
    """Base class for every error this package raises on purpose."""


class RecordError(ReasonEmbedError, ValueError):
    """A record in an input file is malformed or breaks a contract.

    The message always names the file, the 1-based line (or row) number and the field.
    """

    def __init__(self, path: str | Path | None, line: int | None, field: str | None, message: str):
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.message = message
        where = self.path or "<input>"
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class ConfigError(ReasonEmbedError, ValueError):
    """A configuration value is missing, has the wrong type, or is out of range."""
