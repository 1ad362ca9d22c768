"""The documents ``reconcile --per-customer`` holds side by side, kept on disk.

Both sides can hold as many documents as the ledger: the file's as they are read, the
ledger's as its pages come. Each waits in a temporary SQLite database
(:func:`~importer.load.tempdb.temporary_db`), of which only a small page cache stays in
memory, until both sides are in; then each side is read back in the order its documents
first came, with what the other side has under the same type and key. A document that
comes twice keeps its first place and its last figures (as a dict keyed by type and key
would). Amounts are kept as the text of their ``Decimal``, so nothing is rounded.

    store = DocStore()
    store.add("file", doc)
    store.add("ledger", doc)
    for doc, other in store.side("file"):   # other: the ledger's Doc of that type and key, or None
        ...
    store.close()
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal

import orjson

from importer.ledger.receivables_ledger import Doc
from importer.load.tempdb import temporary_db

__all__ = ["DocStore"]

_SIDES = ("file", "ledger")
_FIELDS = "customer, currency, net, vat, gross, status, records"
_BATCH = 512  # documents written at a time


class DocStore:
    """The file's and the ledger's documents, on disk, read back side by side."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection = temporary_db("the documents per customer, the file's and the ledger's")
        for side in _SIDES:
            self._db.execute(f"CREATE TABLE {side} (entity TEXT, key TEXT, {_FIELDS}, UNIQUE (entity, key))")
        self._pending: dict[str, list[tuple[str, ...]]] = {side: [] for side in _SIDES}

    def add(self, side: str, doc: Doc) -> None:
        pending = self._pending[side]
        pending.append((doc.entity, doc.key, doc.customer, doc.currency, str(doc.net), str(doc.vat), str(doc.gross),
                        doc.status, orjson.dumps(doc.records).decode()))
        if len(pending) >= _BATCH:
            self._flush(side)

    def _flush(self, side: str) -> None:
        pending = self._pending[side]
        if pending:
            self._db.executemany(
                f"INSERT INTO {side} (entity, key, {_FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (entity, key) DO UPDATE SET customer = excluded.customer, "
                "currency = excluded.currency, net = excluded.net, vat = excluded.vat, gross = excluded.gross, "
                "status = excluded.status, records = excluded.records", pending)
            pending.clear()

    def side(self, side: str) -> Iterator[tuple[Doc, Doc | None]]:
        """``side``'s documents in the order they first came, each with the other side's of its type and key."""
        for name in _SIDES:
            self._flush(name)
        other = "ledger" if side == "file" else "file"
        cursor = self._db.execute(
            f"SELECT a.entity, a.key, a.customer, a.currency, a.net, a.vat, a.gross, a.status, a.records, "
            f"b.customer, b.currency, b.net, b.vat, b.gross, b.status, b.records "
            f"FROM {side} a LEFT JOIN {other} b ON a.entity = b.entity AND a.key = b.key ORDER BY a.rowid")
        for row in cursor:
            entity, key = row[0], row[1]
            found = None if row[9] is None else _doc(entity, key, row[9:])
            yield _doc(entity, key, row[2:9]), found

    def close(self) -> None:
        self._db.close()


def _doc(entity: str, key: str, row: tuple[str, ...]) -> Doc:
    customer, currency, net, vat, gross, status, records = row
    return Doc(entity, key, customer, currency, Decimal(net), Decimal(vat), Decimal(gross), status,
               orjson.loads(records))
