"""The SQLite file behind ``--state``: every tenant's records, number sequences and the counters.

Layout: ``records (tenant, entity, key, data)`` with one row per stored record (its JSON),
``sequences (tenant, entity, last)`` with the last auto-number handed out, and ``meta``
for the counters. Rows keep their insertion order (upserts keep the rowid), so a
restarted sandbox lists records in the order they were first stored.

A file written before the sandbox kept companies apart has no ``tenant`` column and its
sequences in ``meta``; opening it moves everything to ``legacy_tenant`` (the static
token's company) in one transaction, so an interrupted migration leaves the old file whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

__all__ = ["StateFile"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tenant TEXT NOT NULL,
    entity TEXT NOT NULL,
    key    TEXT NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (tenant, entity, key)
);
CREATE TABLE IF NOT EXISTS sequences (
    tenant TEXT NOT NULL,
    entity TEXT NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (tenant, entity)
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""
_UPSERT_RECORD = (
    "INSERT INTO records (tenant, entity, key, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (tenant, entity, key) DO UPDATE SET data = excluded.data"
)
_UPSERT_SEQUENCE = (
    "INSERT INTO sequences (tenant, entity, last) VALUES (?, ?, ?) "
    "ON CONFLICT (tenant, entity) DO UPDATE SET last = excluded.last"
)
_META = "INSERT OR REPLACE INTO meta (name, data) VALUES (?, ?)"

RecordRow = tuple[str, str, str, bytes]  # tenant, entity, key, JSON
SequenceRow = tuple[str, str, int]  # tenant, entity, last number


class StateFile:
    """An open state file: read once at start, then written in batches by ``write``."""

    def __init__(self, path: Path, legacy_tenant: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            columns = _columns(db, "records")
            if columns and "tenant" not in columns:
                _migrate_untenanted(db, legacy_tenant, path)
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        self._db = db
        self._path = path

    # -- reading (once, at start) ------------------------------------------------------------

    def records(self) -> Iterator[tuple[str, str, str, Any]]:
        """(tenant, entity, key, record) for every stored record, in insertion order."""
        for tenant, entity, key, data in self._db.execute(
            "SELECT tenant, entity, key, data FROM records ORDER BY rowid"
        ):
            try:
                record = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise sqlite3.DatabaseError(
                    f"{self._path}: the stored {entity} {key!r} of tenant {tenant!r} is damaged"
                ) from None
            yield tenant, entity, key, record

    def sequences(self) -> Iterator[SequenceRow]:
        yield from self._db.execute("SELECT tenant, entity, last FROM sequences")

    def stats(self) -> dict[str, Any] | None:
        """The counters last written, or None for a new file."""
        row = self._db.execute("SELECT data FROM meta WHERE name = 'stats'").fetchone()
        if row is None:
            return None
        try:
            saved = orjson.loads(row[0])
        except orjson.JSONDecodeError:
            saved = None
        if not isinstance(saved, dict):
            raise sqlite3.DatabaseError(f"{self._path}: the stored counters are damaged")
        return saved

    # -- writing ---------------------------------------------------------------------------

    def write(self, records: Iterable[RecordRow], sequences: Iterable[SequenceRow], stats: dict[str, Any],
              removed: Iterable[tuple[str, str, str]] = ()) -> None:
        """Changed records and sequences, records removed (tenant, entity, key), and the counters,
        in one transaction."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(_UPSERT_RECORD, records)
            db.executemany("DELETE FROM records WHERE tenant = ? AND entity = ? AND key = ?", removed)
            db.executemany(_UPSERT_SEQUENCE, sequences)
            db.execute(_META, ("stats", orjson.dumps(stats)))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def wipe(self) -> None:
        """Forget everything (``/sandbox/reset``)."""
        db = self._db
        db.execute("BEGIN")
        for table in ("records", "sequences", "meta"):
            db.execute(f"DELETE FROM {table}")
        db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    """The column names of ``table``; empty when there is no such table."""
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _migrate_untenanted(db: sqlite3.Connection, tenant: str, path: Path) -> None:
    """Move an old single-company file's records and sequences to ``tenant``, all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE records RENAME TO untenanted_records")
        # One statement at a time: executescript would commit the transaction first.
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO records (tenant, entity, key, data) "
            "SELECT ?, entity, key, data FROM untenanted_records ORDER BY rowid",
            (tenant,),
        )
        db.execute("DROP TABLE untenanted_records")
        row = db.execute("SELECT data FROM meta WHERE name = 'sequences'").fetchone()
        if row is not None:
            old = _old_sequences(row[0], path)
            db.executemany(_UPSERT_SEQUENCE, [(tenant, entity, last) for entity, last in old])
            db.execute("DELETE FROM meta WHERE name = 'sequences'")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _old_sequences(data: bytes, path: Path) -> list[tuple[str, int]]:
    """(entity, last number) from an old file's ``sequences`` entry; a damaged one is an error."""
    try:
        old = orjson.loads(data)
        return [(str(entity), int(last)) for entity, last in old.items()]
    except (ValueError, TypeError, AttributeError):
        raise sqlite3.DatabaseError(f"{path}: the stored number sequences are damaged") from None
