"""The sandbox's records, number sequences and counters; in memory, optionally kept in SQLite.

Memory is the source of truth while the server runs. With a state file, every write is
also queued and flushed to SQLite shortly after (one upsert per changed record, one
transaction per flush, WAL journal), so a rehearsal can be stopped and continued. A clean
stop flushes everything; a hard kill loses at most the last ``flush_delay`` seconds.

Records are replaced, never changed in place, once stored: a queued flush always writes
the latest version, and readers may hold on to a record they fetched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from importer.sandbox.stats import Stats

__all__ = ["Store"]

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    entity TEXT NOT NULL,
    key    TEXT NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (entity, key)
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""
_UPSERT = (
    "INSERT INTO records (entity, key, data) VALUES (?, ?, ?) "
    "ON CONFLICT (entity, key) DO UPDATE SET data = excluded.data"
)
_META = "INSERT OR REPLACE INTO meta (name, data) VALUES (?, ?)"


class Store:
    """Records by entity and key (insertion-ordered), auto-number sequences, stats."""

    def __init__(self, entities: Iterable[str], path: str | None = None, flush_delay: float = 0.05) -> None:
        self.records: dict[str, dict[str, Record]] = {name: {} for name in entities}
        self.sequences: dict[str, int] = {}
        self.stats = Stats()
        self._flush_delay = flush_delay
        self._pending: dict[tuple[str, str], Record] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._open(Path(path))

    # -- reading and writing -------------------------------------------------------------

    def put(self, entity: str, key: str, record: Record) -> None:
        """Store (insert or replace) ``record``; persisted on the next flush."""
        self.records[entity][key] = record
        if self._db is not None:
            self._pending[(entity, key)] = record
            self._schedule_flush()

    def next_number(self, entity: str) -> str:
        """The next free auto-number of ``entity`` ("000001", ...), skipping used keys."""
        table = self.records[entity]
        n = self.sequences.get(entity, 0)
        while True:
            n += 1
            key = f"{n:06d}"
            if key not in table:
                break
        self.sequences[entity] = n
        return key

    def reset(self) -> None:
        """Forget every record, sequence and counter (and wipe the state file)."""
        for table in self.records.values():
            table.clear()
        self.sequences.clear()
        self.stats.clear()
        self._pending.clear()
        if self._db is not None:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta")
            self._db.execute("COMMIT")

    # -- persistence ---------------------------------------------------------------------

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        for entity, key, data in db.execute("SELECT entity, key, data FROM records ORDER BY rowid"):
            table = self.records.get(entity)
            if table is not None:
                table[key] = orjson.loads(data)
        for name, data in db.execute("SELECT name, data FROM meta"):
            if name == "sequences":
                self.sequences = {k: int(v) for k, v in orjson.loads(data).items()}
            elif name == "stats":
                self.stats = Stats.from_json(orjson.loads(data))
        self._db = db

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used outside a server (a script, a test): write at once
            self.flush()
            return
        self._flush_handle = loop.call_later(self._flush_delay, self.flush)

    def flush(self) -> None:
        """Write queued records, sequences and counters in one transaction."""
        self._flush_handle = None
        db = self._db
        if db is None:
            return
        rows = [(entity, key, orjson.dumps(rec)) for (entity, key), rec in self._pending.items()]
        self._pending.clear()
        db.execute("BEGIN")
        try:
            if rows:
                db.executemany(_UPSERT, rows)
            db.execute(_META, ("sequences", orjson.dumps(self.sequences)))
            db.execute(_META, ("stats", orjson.dumps(self.stats.to_json())))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Flush what is queued and close the state file (idempotent)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None
