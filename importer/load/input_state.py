"""What this run's input has held so far, kept on disk: its identities, and the units held to its end.

Both can hold as many entries as the input has records, so both live in a temporary SQLite
database (:func:`~importer.load.tempdb.temporary_db`): a million records cost disk, not memory.

    seen = SeenIdentities()
    seen.first("key:C1", 7)              # None: first time; else the record that had it first

    held = HeldUnits()                   # units that wait for the end of the input, on disk
    held.hold(job); list(held)           # in the order they came

    known = KnownKeys()                  # keys as written, on disk: known.add("K1"); "K1" in known

Identities are kept as :func:`~importer.load.identity.identity_key` makes them, so ``C1``
and ``c1`` are one customer, as they are to the API.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterator

from importer.load.identity import identity_key
from importer.load.tempdb import temporary_db

__all__ = ["SeenIdentities", "HeldUnits", "KnownKeys"]


class SeenIdentities:
    """The identities one input has held so far, and the first record of each."""

    def __init__(self) -> None:
        self._db = temporary_db("the identities of the records read so far (to find any that repeat)")
        self._db.execute("CREATE TABLE seen (identity TEXT PRIMARY KEY, record INTEGER) WITHOUT ROWID")

    def first(self, identity: str, record: int) -> int | None:
        """None when ``identity`` is new (it is remembered); else the record that had it first."""
        identity = identity_key(identity)  # "C1" and "c1" are one customer to the API
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (identity, record))
        if cursor.rowcount == 1:
            return None
        return self._db.execute("SELECT record FROM seen WHERE identity = ?", (identity,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


class HeldUnits:
    """Units of work held until the input is read, kept on disk (as many as the input holds)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None  # made for the first unit held
        self.count = 0

    def hold(self, unit: object) -> None:
        if self._db is None:
            self._db = temporary_db("the documents it holds until the whole input is read")
            self._db.execute("CREATE TABLE held (n INTEGER PRIMARY KEY, unit BLOB)")
        self._db.execute("INSERT INTO held (unit) VALUES (?)", (pickle.dumps(unit, pickle.HIGHEST_PROTOCOL),))
        self.count += 1

    def __iter__(self) -> Iterator[object]:
        """The units held, in the order they came, each once (read back a page at a time)."""
        after = 0
        while self._db is not None:
            rows = self._db.execute("SELECT n, unit FROM held WHERE n > ? ORDER BY n LIMIT 256", (after,)).fetchall()
            if not rows:
                return
            for n, blob in rows:
                after = n
                yield pickle.loads(blob)  # noqa: S301 - written by this process, to its own temporary file

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class KnownKeys:
    """A set of keys, exactly as written, kept on disk (``add``, ``in``); made at the first key.

    Keys are written a thousand at a time; a question (``in``) writes those waiting first.
    """

    _BATCH = 1000

    def __init__(self, what: str = "the keys it has noted") -> None:
        self._what = what
        self._db: sqlite3.Connection | None = None
        self._waiting: list[tuple[str]] = []

    def add(self, key: str) -> None:
        self._waiting.append((key,))
        if len(self._waiting) >= self._BATCH:
            self._write()

    def __contains__(self, key: object) -> bool:
        if self._waiting:
            self._write()
        if self._db is None or not isinstance(key, str):
            return False
        return self._db.execute("SELECT 1 FROM known WHERE key = ?", (key,)).fetchone() is not None

    def _write(self) -> None:
        if self._db is None:
            self._db = temporary_db(self._what)
            self._db.execute("CREATE TABLE known (key TEXT PRIMARY KEY) WITHOUT ROWID")
        self._db.executemany("INSERT OR IGNORE INTO known VALUES (?)", self._waiting)
        self._waiting = []

    def close(self) -> None:
        self._waiting = []
        if self._db is not None:
            self._db.close()
            self._db = None
