"""A big ledger quickly: copies of one record the sandbox stored, written to its ``--state`` file.

Importing 20,000 documents to test what reads them back would take minutes; a document the
sandbox stored once, copied under other keys into its state file while it is stopped, is
read back by the restarted sandbox as that many stored documents.

    copy_stored(state, "invoice", "INV-0", [f"INV-{n}" for n in range(1, 20_001)])
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from importer.entities import ENTITIES

__all__ = ["copy_stored"]


def copy_stored(state: Path, entity: str, template: str, keys: Iterable[str],
                change: Callable[[str, dict[str, Any]], None] | None = None) -> int:
    """Store a copy of ``template`` under each of ``keys`` (``change`` may alter a copy); how many."""
    key_field = ENTITIES[entity].key_field
    assert key_field is not None
    db = sqlite3.connect(state)
    try:
        tenant, blob = db.execute("SELECT tenant, data FROM records WHERE entity = ? AND key = ?",
                                  (entity, template)).fetchone()
        record = orjson.loads(blob)
        rows = []
        for key in keys:
            copy = orjson.loads(blob) if change is not None else record
            copy[key_field] = key
            if change is not None:
                change(key, copy)
            rows.append((tenant, entity, key, orjson.dumps(copy)))
        with db:
            db.executemany("INSERT INTO records (tenant, entity, key, data) VALUES (?, ?, ?, ?)", rows)
    finally:
        db.close()
    return len(rows)
