"""Logging: quiet by default; ``-v`` failed records and retries, ``-vv`` every request.

``--log-format json`` writes one JSON object per line (time, level, logger,
message and the record's fields: records, key, entity, status, attempt, error),
for log collectors. Tokens and secrets are never logged: no code path passes
them to a logger.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

import orjson

__all__ = ["setup_logging", "JsonFormatter", "FIELDS"]

# Extra attributes a log call may carry, copied into JSON lines.
FIELDS = ("records", "key", "entity", "action", "outcome", "status", "attempt", "error", "method", "path")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def setup_logging(verbosity: int, fmt: str = "text") -> None:
    level = logging.ERROR if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("importer")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
