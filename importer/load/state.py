"""Load state by identity, kept on disk: what earlier runs recorded, and what this input holds.

Both can hold as many entries as the input has records, so both live in a temporary
SQLite database (a file the OS removes when it is closed, of which SQLite keeps only
a small page cache in memory): a million records cost disk, not memory.

    state = read_results("customers.csv.results.ndjson")
    earlier = state.get("key:C1")        # Earlier(state="success", fingerprint=..., ...) or None
    state.mark_seen("key:C1")            # to count what the input no longer holds
    state.unseen()                       # identities recorded that the input did not have

    seen = SeenIdentities()
    seen.first("key:C1", 7)              # None: first time; else the record that had it first
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from importer.load.results import SUCCESS, iter_results

__all__ = ["Earlier", "ResultsState", "SeenIdentities", "read_results", "temporary_db"]

# The states an identity can be left in.
SUCCEEDED, FAILED, INVALID, IN_FLIGHT, SKIPPED, QUEUED = (
    "success", "failed", "invalid", "started", "skipped", "queued")
_STATE_OF = {"started": IN_FLIGHT, "failed": FAILED, "invalid": INVALID, "skipped": SKIPPED,
             "queued": QUEUED, "valid": SKIPPED}
_STATE_OF.update({o: SUCCEEDED for o in SUCCESS})


def temporary_db() -> sqlite3.Connection:
    """A SQLite database in a temporary file, for indexes too big for memory (gone when closed)."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)  # "": a temporary file
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -2048")  # KiB: the memory it may keep (the rest is in the file)
    db.execute("BEGIN")  # one transaction for the life of the run: nothing here must survive it
    return db


@dataclass(frozen=True, slots=True)
class Earlier:
    """The latest word of an earlier run on one identity."""

    state: str  # SUCCEEDED | FAILED | INVALID | IN_FLIGHT | SKIPPED | QUEUED
    fingerprint: str
    key: str | None
    error: str | None
    unknown: bool  # a failure that may have reached the API: look it up before sending
    release: str | None  # the outcome of its --release, if it had one
    reference: str | None = None  # a document's externalReference, as its started line recorded it

    @property
    def release_pending(self) -> bool:
        return self.state == SUCCEEDED and self.release not in (None, "done")


class ResultsState:
    """Identities of a results file with their latest state."""

    def __init__(self) -> None:
        self._db = temporary_db()
        self._db.execute(
            "CREATE TABLE earlier (identity TEXT PRIMARY KEY, state TEXT, fingerprint TEXT, key TEXT, "
            "error TEXT, unknown INTEGER, release TEXT, seen INTEGER DEFAULT 0, reference TEXT) WITHOUT ROWID"
        )
        self.apis: set[str] = set()  # the base URLs its records were sent to

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ResultsState:
        state = cls()
        upsert = (
            "INSERT INTO earlier VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT(identity) DO UPDATE SET "
            "state = excluded.state, fingerprint = excluded.fingerprint, "
            # the key the ledger gave a record stays its key (a later run's lines name the file's)
            "key = CASE WHEN earlier.state = 'success' AND excluded.state != 'success' "
            "THEN coalesce(earlier.key, excluded.key) ELSE excluded.key END, "
            "error = excluded.error, unknown = excluded.unknown, release = excluded.release, "
            "reference = coalesce(excluded.reference, earlier.reference) "
            # A success stays one: a later row refused before sending (a duplicate, a row
            # broken or changed since) says nothing about what the API holds.
            "WHERE NOT (earlier.state = 'success' AND excluded.state IN ('invalid', 'skipped'))"
        )
        release_done = "UPDATE earlier SET release = ?, error = ? WHERE identity = ?"
        db = state._db
        for line in iter_results(path):
            if line.api is not None:
                state.apis.add(line.api.rstrip("/"))
            if line.outcome == "unsent":  # taken back: never reached the API
                db.execute("DELETE FROM earlier WHERE identity = ?", (line.identity,))
                continue
            if line.action == "release":  # a release sent alone, for a document created before
                db.execute(release_done, (line.outcome, line.error, line.identity))
                continue
            db.execute(upsert, (
                line.identity, _STATE_OF[line.outcome], line.fingerprint, line.key, line.error,
                int(line.unknown), line.release, line.reference,
            ))
        return state

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM earlier").fetchone()[0]

    def count(self, state: str) -> int:
        """Identities left in ``state`` (``"success"``, ``"failed"``, ``"started"``, ...)."""
        return self._db.execute("SELECT count(*) FROM earlier WHERE state = ?", (state,)).fetchone()[0]

    def get(self, identity: str) -> Earlier | None:
        row = self._db.execute(
            "SELECT state, fingerprint, key, error, unknown, release, reference FROM earlier WHERE identity = ?",
            (identity,),
        ).fetchone()
        if row is None:
            return None
        return Earlier(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])

    def mark_seen(self, identity: str) -> None:
        self._db.execute("UPDATE earlier SET seen = 1 WHERE identity = ?", (identity,))

    def unseen(self) -> int:
        """Identities the results file has and this run's input did not."""
        return self._db.execute("SELECT count(*) FROM earlier WHERE seen = 0").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class SeenIdentities:
    """The identities one input has held so far, and the first record of each."""

    def __init__(self) -> None:
        self._db = temporary_db()
        self._db.execute("CREATE TABLE seen (identity TEXT PRIMARY KEY, record INTEGER) WITHOUT ROWID")

    def first(self, identity: str, record: int) -> int | None:
        """None when ``identity`` is new (it is remembered); else the record that had it first."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (identity, record))
        if cursor.rowcount == 1:
            return None
        return self._db.execute("SELECT record FROM seen WHERE identity = ?", (identity,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


def read_results(path: str | os.PathLike[str]) -> ResultsState:
    """What an earlier run recorded in ``path``, by identity: for ``--resume``."""
    return ResultsState.load(path)
