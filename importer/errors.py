"""The exception hierarchy. Every error the importer raises is an ``ImporterError``.

ImporterError
├── ConfigError        bad flags, unknown column, unreadable mapping: nothing was sent (exit 2)
│   └── UnknownColumnError      a column the entity lacks (.column, .suggestion)
│       └── UnknownColumnsError every such column of a CSV header at once (.columns, .suggestions)
├── SourceError        the input file itself cannot be read on (truncated gzip, undecodable bytes)
├── RecordError        one record cannot be mapped: becomes an ``invalid`` outcome, the run goes on
├── AuthError          no token could be had (bad client credentials, token endpoint down)
├── ApiError           the API answered with an error that retries did not cure (.status)
└── ResultsWriteError  the results file cannot be written on (full disk, I/O error)

Every class here is exported from ``importer`` and raised by the importer itself; a test
(tests/test_types.py) holds both to that.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ImporterError", "ConfigError", "UnknownColumnError", "UnknownColumnsError", "SourceError",
    "RecordError", "AuthError", "ApiError", "ResultsWriteError",
]


class ImporterError(Exception):
    """Base class of the importer's own errors."""


class ConfigError(ImporterError):
    """The run is misconfigured; raised before anything is sent."""


class UnknownColumnError(ConfigError):
    """A column the entity does not have: ``column``, and the closest one it has (``suggestion``)."""

    def __init__(self, column: str, entity: str, suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"column {column!r} is not a field of {entity}{hint}")
        self.column = column
        self.suggestion = suggestion


class UnknownColumnsError(UnknownColumnError):
    """Every column of an input's header that the entity lacks and no ``--map`` binds, in one error.

    ``columns`` lists them in header order, ``suggestions`` maps each to the closest API
    column where there is one; ``column`` and ``suggestion`` are those of the first.
    """

    def __init__(self, source: str, entity: str, columns: Sequence[str], suggestions: dict[str, str]) -> None:
        self.source = source
        self.columns = list(columns)
        self.suggestions = suggestions
        lines = [f"{c!r}" + (f" (closest API column: {suggestions[c]!r})" if c in suggestions else "")
                 for c in self.columns]
        count = "1 column is not a column" if len(lines) == 1 else f"{len(lines)} columns are not columns"
        ConfigError.__init__(
            self,
            f"{source}: {count} of {entity}:\n  " + "\n  ".join(lines) + "\n"
            f"Rename them, or map them with --map FILE.toml: `importer map init {source} --entity {entity}` "
            f"writes a skeleton map that binds each header to the likeliest API column; "
            f"`importer columns {entity}` lists them all"
        )
        self.column = self.columns[0] if self.columns else ""
        self.suggestion = suggestions.get(self.column)


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
    """The API kept failing a call a run cannot go on without (after the client's retries).

    ``status`` is the HTTP status of the last answer, None when none came (a timeout, a
    refused connection, an answer that was not the API's); ``message`` says which call
    failed and how, and is the error's text.
    """

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ResultsWriteError(ImporterError):
    """The results file cannot be written on (a full disk, an I/O error): the run stops."""
