"""What names a run for whoever watches it unattended: its id, wall-clock times, the input's fingerprint.

Every run has a run id (:func:`new_run_id`); a command that runs several imports (a plan's
steps, a fleet's companies) gives them all its own (:func:`command_run_id`), so a log
collector, the summary and the metrics file tie together.

An input's fingerprint (:func:`fingerprint`) is the SHA-256 of the file's bytes as they
are on disk (a ``.gz`` file's compressed bytes), read once in a worker thread before the
run starts: about 1.2 s a gigabyte on a warm page cache. A file above :data:`WHOLE_LIMIT` bytes is fingerprinted
by its size, its modification time and the SHA-256 of its first MiB instead; ``method``
says which.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

__all__ = ["new_run_id", "command_run_id", "run_id", "fingerprint", "utc", "WHOLE_LIMIT"]

WHOLE_LIMIT = 1 << 30  # bytes: a larger file is fingerprinted by size, mtime and its first MiB
_HEAD = 1 << 20
_CHUNK = 1 << 20

_command: ContextVar[str | None] = ContextVar("importer_run_id", default=None)


def new_run_id() -> str:
    """A fresh run id: 32 hex digits, random."""
    return uuid.uuid4().hex


def run_id() -> str:
    """The command's run id when one is set (:func:`command_run_id`), else a fresh one."""
    return _command.get() or new_run_id()


@contextmanager
def command_run_id(value: str | None = None) -> Iterator[str]:
    """Every run started in this block (and tasks started in it) takes this run id."""
    value = value or new_run_id()
    token = _command.set(value)
    try:
        yield value
    finally:
        _command.reset(token)


def fingerprint(path: str, whole_limit: int = WHOLE_LIMIT) -> dict[str, Any]:
    """``{"method": "sha256", "sha256": ..., "bytes": ...}`` of the file at ``path``, or, above
    ``whole_limit`` bytes, ``{"method": "size-mtime-head", ...}`` with the first MiB's SHA-256."""
    stat = os.stat(path)
    digest = hashlib.sha256()
    whole = stat.st_size <= whole_limit
    with open(path, "rb") as f:
        if whole:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        else:
            digest.update(f.read(_HEAD))
    if whole:
        return {"method": "sha256", "bytes": stat.st_size, "sha256": digest.hexdigest()}
    return {"method": "size-mtime-head", "bytes": stat.st_size, "mtime": utc(stat.st_mtime),
            "head_sha256": digest.hexdigest()}


def utc(epoch: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC, to the millisecond (None stays None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")
