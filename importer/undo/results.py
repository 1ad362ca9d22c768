"""Undo's own results file: written ahead like an import's, and read back to resume.

Each line is a results line (:mod:`importer.load.results`) naming the import's record by its
identity, fingerprint and record numbers, with undo's own ``action`` (``delete``,
``inactivate``, ``none``) and, on a final line, ``undo``: what became of it::

    {"records": [1, 2], "entity": "invoice", "identity": "key:INV-1", ..., "action": "delete",
     "outcome": "started", "api": "https://…"}
    {"records": [1, 2], ..., "action": "delete", "outcome": "done", "undo": "deleted",
     "http_status": 204, "request": "DELETE /v1/customerinvoice/INV-1", "error": null, "remedy": null, "at": "…"}

``undo`` is ``deleted`` or ``inactivated`` (outcome ``done``); ``absent`` (the ledger no
longer holds it), ``inactive`` (set inactive already), ``released``, ``different`` (the ledger's
record is not the one the run sent) or ``left`` (nothing undo does; ``remedy`` says what
would), all ``skipped``; ``failed``; and on a dry run's file ``delete`` or ``inactivate``
(outcome ``valid``: what ``--yes`` would do).

A ``started`` line is in the file before its DELETE or PUT goes out. Run again, undo takes
up the file: a record whose last word is ``done`` is never sent again, and one whose last
word is ``started`` (the run was killed with its request out) is looked up first: gone from
the ledger, it was deleted; still there, it is checked again like any other. A record left
for good (``released``, ``absent``, ``inactive``, or ``left`` for the same reason as before)
keeps its line and is counted as it says; the rest is looked at again (a failure retried, a
document that differed checked again, a customer left now set inactive), and gets a new
final line only when its outcome is not what the last one said: a record's last final line
is its outcome, and an undo run again on a settled file adds no line.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

import orjson

from importer.errors import ConfigError
from importer.load.identity import identity_key
from importer.load.results import RESULTS_LINE_LIMIT
from importer.load.tempdb import temporary_db

__all__ = ["default_undo_path", "Earlier", "Undone", "read_undone", "UNDO_KINDS"]

UNDO_KINDS = ("deleted", "inactivated", "absent", "inactive", "released", "different", "left", "failed",
              "delete", "inactivate")
_SUFFIX = ".results.ndjson"


def default_undo_path(results: str | os.PathLike[str], *, dry_run: bool) -> str:
    """``invoices.csv.undo.ndjson`` for ``invoices.csv.results.ndjson`` (a dry run's:
    ``invoices.csv.undo.dry-run.ndjson``); ``X.undo.ndjson`` for any other name."""
    text = os.fspath(results)
    stem = text[: -len(_SUFFIX)] if text.endswith(_SUFFIX) else text
    return f"{stem}.undo.dry-run.ndjson" if dry_run else f"{stem}.undo.ndjson"


@dataclass(frozen=True, slots=True)
class Earlier:
    """The last word of an earlier undo on one record."""

    outcome: str  # started, done, skipped, failed
    undo: str | None
    remedy: str | None = None
    error: str | None = None


class Undone:
    """The last word on each identity (by :func:`identity_key`) of an undo file, kept in a temporary
    SQLite database (:func:`~importer.load.tempdb.temporary_db`): a record costs disk, not memory.

    A line cut short at the end (the process was killed while writing it) is not read; any
    other line that is not JSON is an error naming it (the writer has checked the file is ours).
    Without a file there is no word on any record.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._read(path)

    def __enter__(self) -> Undone:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, ident: str) -> Earlier | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT outcome, undo, remedy, error FROM word WHERE ident = ?", (ident,)).fetchone()
        return None if row is None else Earlier(*row)

    def _read(self, path: str | os.PathLike[str]) -> None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
        db = self._db = temporary_db("the records an earlier undo of the file took back")
        db.execute("CREATE TABLE word (ident TEXT PRIMARY KEY, outcome TEXT, undo TEXT, remedy TEXT, error TEXT) "
                   "WITHOUT ROWID")
        with f:
            number = 0
            while raw := f.readline(RESULTS_LINE_LIMIT):
                number += 1
                if not raw.endswith(b"\n"):
                    break  # torn: written halfway when the process died
                if not raw.strip():
                    continue
                try:
                    line = orjson.loads(raw)
                    identity, outcome = line["identity"], line["outcome"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    raise ConfigError(f"{os.fspath(path)}: line {number} is not an undo line; was the file edited? "
                                      "Restore it, or pass --undo-results with a new file") from None
                if outcome == "unsent":
                    db.execute("DELETE FROM word WHERE ident = ?", (identity_key(identity),))
                    continue
                db.execute("INSERT OR REPLACE INTO word VALUES (?, ?, ?, ?, ?)",
                           (identity_key(identity), outcome, *(_text(line.get(name))
                                                               for name in ("undo", "remedy", "error"))))


def read_undone(path: str | os.PathLike[str]) -> Undone:
    """The last word on each identity of the undo file at ``path`` (see :class:`Undone`)."""
    return Undone(path)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
