"""Logging: quiet by default; ``-v`` the run's lifecycle, failed records and retries, ``-vv`` every request.

``-v`` tells when a run starts (entity, input, mode, base URL), each plan step
starting and finishing, each wait for the rate-limit window (once per wait, with
until when), each retry, and the run finishing with its summary's numbers.

``--log-format json`` makes every line on stderr one JSON object (time, level,
logger, message and the fields the log call carried), for log collectors: log
records of other libraries, Python warnings and the command's own messages for
the user (:func:`tell`) included. Tokens and secrets are never logged: no code
path passes them to a logger, and base URLs are logged without user info or query
(:func:`safe_url`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

__all__ = ["setup_logging", "JsonFormatter", "json_lines", "tell", "safe_url", "company_context"]

# Attributes every LogRecord has: anything else on a record is a field its log call passed.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_json = False  # whether stderr carries JSON lines only (set by setup_logging)
# The fleet company whose task logs (a task inherits it): lines then name the company.
_company: ContextVar[str | None] = ContextVar("importer_company", default=None)


@contextmanager
def company_context(name: str) -> Iterator[None]:
    """Every log line and :func:`tell` message in this block (and tasks started in it) names ``name``."""
    token = _company.set(name)
    try:
        yield
    finally:
        _company.reset(token)


class _CompanyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        company = _company.get()
        if company is not None and not hasattr(record, "company"):
            record.company = company
        return True


class _TextFormatter(logging.Formatter):
    """The text layout, with ``[company]`` before the message of a fleet company's line."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        text = super().formatMessage(record)
        company = getattr(record, "company", None)
        if company is None:
            return text
        head, sep, message = text.partition(f"{record.name}: ")
        return f"{head}{sep}[{company}] {message}" if sep else f"[{company}] {text}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the call's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and value is not None and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now: the live progress display redirects it above its line."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(verbosity: int, fmt: str = "text") -> None:
    global _json
    _json = fmt == "json"
    level = logging.ERROR if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if _json else _TextFormatter(_TEXT_FORMAT))
    handler.addFilter(_CompanyFilter())
    logger = logging.getLogger("importer")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    if _json:
        # Other libraries' warnings would otherwise reach stderr as bare text (logging's
        # last-resort handler, or the warnings module): JSON too.
        root = _StderrHandler()
        root.setFormatter(JsonFormatter())
        logging.getLogger().handlers[:] = [root]
        logging.captureWarnings(True)


def json_lines() -> bool:
    """Whether stderr carries JSON objects only (``--log-format json``)."""
    return _json


def tell(message: str, level: int = logging.ERROR, **fields: Any) -> None:
    """A message for the user on stderr, whatever the verbosity: as it is, or as a JSON object."""
    company = _company.get()
    if not _json:
        print(message if company is None else f"[{company}] {message}", file=sys.stderr)
        return
    if company is not None:
        fields.setdefault("company", company)
    record = logging.makeLogRecord({"name": "importer", "levelno": level,
                                    "levelname": logging.getLevelName(level), "msg": message, **fields})
    sys.stderr.write(JsonFormatter().format(record) + "\n")
    sys.stderr.flush()


def safe_url(url: str | None) -> str | None:
    """``url`` without user info, query or fragment: what a log may show of it."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
