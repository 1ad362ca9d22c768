"""What waits for a listing, kept on disk: the records ``verify`` has read and not yet found.

A listing answers the ledger's records in its own order, so each input record waits until
its key comes by, and an input of 300,000 documents has most of them waiting at once. They
wait in a temporary SQLite database (:func:`~importer.load.tempdb.temporary_db`), the way
the load stage keeps its indexes: only a small page cache stays in memory, and a waiting
document costs disk, not memory, however many lines it has.

    waiting = Waiting("the documents it compares with the listing")
    waiting.add("10001", item)              # any picklable item, under its key
    for item in waiting.take(["10001", "10002"]):   # those of these keys, in the order they came;
        ...                                         # gone from the store once taken
    for item in waiting.drain():            # the rest, in the order they came
        ...
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from importer.load.tempdb import temporary_db

__all__ = ["Waiting"]

_BATCH = 256  # keys asked for, or items read back, at a time


class Waiting:
    """Items under their keys, on disk, taken out by key or all at once; each item once."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._db: sqlite3.Connection | None = None  # made for the first item
        self.count = 0  # items waiting now

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = temporary_db(self._what)
            self._db.execute("CREATE TABLE waiting (n INTEGER PRIMARY KEY, key TEXT, item BLOB)")
            self._db.execute("CREATE INDEX waiting_key ON waiting (key)")
        return self._db

    def add(self, key: str, item: Any) -> None:
        self._open().execute("INSERT INTO waiting (key, item) VALUES (?, ?)",
                             (key, pickle.dumps(item, pickle.HIGHEST_PROTOCOL)))
        self.count += 1

    def take(self, keys: Iterable[str]) -> Iterator[tuple[str, Any]]:
        """(key, item) for the items of ``keys``: by the keys' order, then the order they came."""
        if self._db is None or not self.count:
            return
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT n, key, item FROM waiting WHERE key IN ({marks}) ORDER BY n",  # noqa: S608
                                    batch).fetchall()
            if not rows:
                continue
            self._db.execute(f"DELETE FROM waiting WHERE key IN ({marks})", batch)  # noqa: S608
            self.count -= len(rows)
            by_key: dict[str, list[bytes]] = {}
            for _, key, blob in rows:
                by_key.setdefault(key, []).append(blob)
            for key in batch:
                for blob in by_key.pop(key, ()):
                    yield key, pickle.loads(blob)  # noqa: S301 - written by this process, to its own temporary file

    def drain(self) -> Iterator[Any]:
        """Every item still waiting, in the order they came, each once (read back a page at a time)."""
        after = 0
        while self._db is not None and self.count:
            rows = self._db.execute("SELECT n, item FROM waiting WHERE n > ? ORDER BY n LIMIT ?",
                                    (after, _BATCH)).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            self._db.execute("DELETE FROM waiting WHERE n <= ?", (after,))
            self.count -= len(rows)
            for _, blob in rows:
                yield pickle.loads(blob)  # noqa: S301 - written by this process, to its own temporary file

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
