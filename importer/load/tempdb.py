"""Temporary SQLite databases, for indexes too big for memory, and what a full temporary directory means.

An index of the load stage (what a results file holds, the identities of the input, the
units held to its end) can hold as many entries as the input has records, so it lives in a
temporary SQLite database: a file the OS removes when it is closed, of which SQLite keeps
only a small page cache in memory. A million records cost disk, not memory.

    db = temporary_db("the identities of the records read so far")
    db.execute("CREATE TABLE seen (identity TEXT PRIMARY KEY) WITHOUT ROWID")

SQLite writes these files to the directory ``SQLITE_TMPDIR`` or ``TMPDIR`` names (else
``/var/tmp``, ``/usr/tmp``, ``/tmp``). When that directory fills up, the run stops as it
does when the results file cannot be written (a :class:`TemporarySpaceError`, which
is a ``ResultsWriteError``): nothing in flight is lost, ``--resume`` continues it, and
the message names the directory, what it has free, the room the index needs and how to
point ``TMPDIR`` elsewhere, never ``database or disk is full``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterable
from typing import Any

from importer.errors import ResultsWriteError

__all__ = ["TemporarySpaceError", "temporary_directory", "temporary_db", "no_room", "readable_size"]


_CACHE_KIB = 2048  # the memory an index may keep; the rest is in its file
# What all the indexes of a process may keep together (SQLite's soft heap limit, which holds
# for the whole process). A fleet runs a hundred companies' runs at once; without it each of
# their indexes would fill its own cache: a process of 60 indexes of 30,000 keys peaked at 117 MB,
# and at 80 MB with it.
_ALL_INDEXES_KIB = 64 * 1024
_limited = False
# What SQLite answers when it cannot write its file: SQLITE_FULL, SQLITE_IOERR (and its
# extended codes), SQLITE_CANTOPEN; and the answer of an index a failed write left broken.
_NO_ROOM = {13, 10, 14}
_BROKEN = 11  # SQLITE_CORRUPT


class TemporarySpaceError(ResultsWriteError):
    """The temporary directory has no room for an index: the run stops, and ``--resume`` continues it.

    A ``ResultsWriteError``, because the run cannot keep track of what it does without the
    index, just as without its results file: it stops the same way.
    """


def temporary_directory() -> tuple[str, str]:
    """The directory SQLite keeps its temporary files in, and what chose it (as SQLite's unix VFS does)."""
    for name in ("SQLITE_TMPDIR", "TMPDIR"):
        value = os.environ.get(name)
        if value and os.path.isdir(value) and os.access(value, os.W_OK | os.X_OK):
            return value, name
    for value in ("/var/tmp", "/usr/tmp", "/tmp"):
        if os.path.isdir(value) and os.access(value, os.W_OK | os.X_OK):
            return value, "the default"
    return ".", "the default"


def readable_size(n: float) -> str:
    """``n`` bytes in words: ``512 bytes``, ``2.0 MiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"  # pragma: no cover - the loop returns


def no_room(what: str, exc: sqlite3.Error, need: str | None = None) -> TemporarySpaceError:
    """Why an index could not be written, in words: where, how much is free, what to do."""
    where, chosen = temporary_directory()
    try:
        usage = shutil.disk_usage(where)
        free = f"{readable_size(usage.free)} free of {readable_size(usage.total)}"
    except OSError:
        free = "its free space unknown"
    source = f"from {chosen}" if chosen != "the default" else "the default: TMPDIR is not set"
    need = need or (f"it grows with the input, by some 30 to 100 bytes a record once past the "
                    f"{readable_size(_CACHE_KIB * 1024)} it keeps in memory")
    reason = "is full" if getattr(exc, "sqlite_errorcode", 13) == 13 else f"cannot be written ({exc})"
    return TemporarySpaceError(
        f"the temporary directory {where} ({source}) {reason}: the importer keeps {what} in a file there, "
        f"and it has {free} ({need}). Free some space there, or point TMPDIR at a directory with room "
        f"(TMPDIR=/var/tmp importer ...)"
    )


class _Index(sqlite3.Connection):
    """A connection whose failures to write its file are a :class:`TemporarySpaceError`, not SQLite's words."""

    what = "an index"  # set by temporary_db
    need: str | None = None  # the room it needs, where that can be told
    broken: TemporarySpaceError | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.broken is not None:
            raise self.broken
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        if self.broken is not None:
            raise self.broken
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: sqlite3.DatabaseError) -> Exception:
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code not in _NO_ROOM and code != _BROKEN:
            return exc  # a bug of ours: not the disk's
        self.broken = no_room(self.what, exc, self.need)
        return self.broken


def _limit_all(db: sqlite3.Connection) -> None:
    """Once a process: SQLite frees cached pages of any connection past :data:`_ALL_INDEXES_KIB`
    (a lower limit set by whoever embeds the importer stays)."""
    global _limited
    if _limited:
        return
    _limited = True
    (current,) = db.execute("PRAGMA soft_heap_limit").fetchone()
    if current == 0 or current > _ALL_INDEXES_KIB * 1024:
        db.execute(f"PRAGMA soft_heap_limit = {_ALL_INDEXES_KIB * 1024}")


def temporary_db(what: str = "an index of the records it reads") -> sqlite3.Connection:
    """A SQLite database in a temporary file, for indexes too big for memory (gone when closed).

    ``what`` names what it holds, for the message when the temporary directory is full.
    """
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False, factory=_Index)  # "": a temporary file
    assert isinstance(db, _Index)
    db.what = what
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")  # KiB: the memory it may keep (the rest is in the file)
    _limit_all(db)
    db.execute("BEGIN")  # one transaction for the life of the run: nothing here must survive it
    return db
