"""The exception hierarchy. Every error the importer raises is an ``ImporterError``.

ImporterError
├── ConfigError        bad flags, unknown column, unreadable mapping: nothing was sent (exit 2)
│   └── UnknownColumnError
├── SourceError        the input file itself cannot be read on (truncated gzip, undecodable bytes)
├── RecordError        one record cannot be mapped: becomes an ``invalid`` outcome, the run goes on
├── AuthError          no token could be had (bad client credentials, token endpoint down)
├── ApiError           the API answered with an error that retries did not cure
└── ResultsWriteError  the results file cannot be written on (full disk, I/O error)
"""

from __future__ import annotations

__all__ = [
    "ImporterError", "ConfigError", "UnknownColumnError", "SourceError",
    "RecordError", "AuthError", "ApiError", "ResultsWriteError",
]


class ImporterError(Exception):
    """Base class of the importer's own errors."""


class ConfigError(ImporterError):
    """The run is misconfigured; raised before anything is sent."""


class UnknownColumnError(ConfigError):
    def __init__(self, column: str, entity: str, suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"column {column!r} is not a field of {entity}{hint}")
        self.column = column
        self.suggestion = suggestion


class SourceError(ImporterError):
    """The input stopped being readable at ``record`` (1-based, header excluded)."""

    def __init__(self, message: str, record: int | None = None) -> None:
        where = f" after record {record}" if record else ""
        super().__init__(f"{message}{where}")
        self.record = record


class RecordError(ImporterError):
    """A record's value cannot be used; names the column and the reason."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(f"{column}: {reason}" if column else reason)
        self.column = column
        self.reason = reason


class AuthError(ImporterError):
    """Authentication failed. The message never carries the secret or the token."""


class ApiError(ImporterError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class ResultsWriteError(ImporterError):
    """The results file cannot be written on (a full disk, an I/O error): the run stops."""
