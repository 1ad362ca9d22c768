"""What an import created, read from its results file: the records ``importer undo`` works on.

Each identity of the file is read to one :class:`Target`: whether a line of it says it was
created (``created``, or ``renamed``: created before under another identity), its key in
the ledger (the ledger's, where the company numbered it), the externalReference it was sent
with, what it was sent as in brief (``sent``, :mod:`importer.load.sent`), and whether it was
released. Two identities of one key (a ``renamed`` record) are one target.

What undo does with a target (:func:`intended`), before it asks the ledger anything:

============================  =================================================  ==========
target                        what undo does                                     ``undo``
============================  =================================================  ==========
invoice, credit note          DELETE it, once the ledger shows it unreleased      delete
                              and as it was sent
released document             nothing: a credit note (a debit note) to make       released
debit note                    nothing: the API deletes none; a credit note to make left
customer                      PUT status Inactive with --inactivate-customers;    inactivate
                              else listed: a customer to set inactive             left
updated, not created          nothing: what it was before is not known            left
dunning letter                nothing: a letter sent is sent                      left
============================  =================================================  ==========
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.identity import identity_key
from importer.load.results import iter_results, probe_results
from importer.load.tempdb import temporary_db

__all__ = ["Target", "Targets", "read_targets", "intended", "DELETABLE", "remedy_of"]

# The documents the API deletes (DELETE /v1/customerinvoice/{n}, /v1/customerCreditNote/{n}).
DELETABLE = frozenset({"invoice", "credit-note"})
_RELEASE_DONE = "done"
_RECENT = 256  # identities held in memory while the file is read (a record's lines are near each other)
_PAGE = 256  # targets read back at a time


@dataclass(slots=True)
class Target:
    """One record an import created or changed, as its results file tells it."""

    entity: str
    identity: str
    fingerprint: str
    records: list[int]
    key: str | None = None
    created: bool = False
    released: bool = False
    reference: str | None = None
    sent: dict[str, Any] | None = None
    source: str = ""  # the results file it was read from


def read_targets(path: str | os.PathLike[str]) -> list[Target]:
    """The records ``path`` (an import's results file) says a run created or changed, in file order
    (all at once: :class:`Targets` reads them one at a time)."""
    with Targets(path) as targets:
        return list(targets)


class Targets:
    """The records a results file says its run created or changed, read one at a time, in file order.

    ``with Targets(path) as targets: for target in targets: ...``. Only successes count: a record
    that failed or was invalid left nothing to undo. A file that is not a results file is refused,
    naming it. What the file says of each identity is gathered in a temporary SQLite database
    (:func:`~importer.load.tempdb.temporary_db`), as resume keeps its indexes: a record costs disk,
    not memory, and only the last few identities read are held (their lines are near each other).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not os.path.isfile(path):
            raise ConfigError(f"no results file at {os.fspath(path)}")
        if os.path.getsize(path) and probe_results(path) is None:
            raise ConfigError(f"{os.fspath(path)} is not a results file (its first lines are not results lines)")
        self.path = os.fspath(path)
        self._db = temporary_db("the records of the results file it undoes")
        self._db.execute("CREATE TABLE target (n INTEGER PRIMARY KEY, ident TEXT UNIQUE, mark TEXT, "
                         "succeeded INTEGER, item BLOB)")
        self._db.execute("CREATE INDEX target_mark ON target (mark, n)")
        self._recent: OrderedDict[str, tuple[int, Target, bool]] = OrderedDict()  # ident: (n, target, succeeded)
        self._read()

    def __enter__(self) -> Targets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _read(self) -> None:
        for line in iter_results(self.path):
            entity = line.entity
            if entity is None or entity not in ENTITIES or line.outcome in ("valid", "unsent"):
                continue
            ident = identity_key(line.identity)
            n, target, succeeded = self._get(ident) or (0, Target(entity, line.identity, line.fingerprint,
                                                                     list(line.records), source=self.path), False)
            if line.reference is not None:
                target.reference = line.reference
            if line.outcome in ("created", "renamed", "updated", "done"):
                succeeded = True
                target.records, target.fingerprint = list(line.records), line.fingerprint
                if line.key is not None:
                    target.key = line.key
            if line.outcome in ("created", "renamed"):
                target.created = True
                if line.sent is not None:
                    target.sent = line.sent
            if line.release == _RELEASE_DONE or (line.action == "release" and line.outcome == "done"):
                target.released = True
            if n == 0:
                n = self._db.execute("INSERT INTO target (ident) VALUES (?)", (ident,)).lastrowid or 0
            self._recent[ident] = (n, target, succeeded)
            self._recent.move_to_end(ident)
            if len(self._recent) > _RECENT:
                self._put(*self._recent.popitem(last=False))
        while self._recent:
            self._put(*self._recent.popitem(last=False))

    def _get(self, ident: str) -> tuple[int, Target, bool] | None:
        held = self._recent.get(ident)
        if held is not None:
            return held
        row = self._db.execute("SELECT n, item, succeeded FROM target WHERE ident = ?", (ident,)).fetchone()
        return None if row is None else (row[0], _loads(row[1]), bool(row[2]))

    def _put(self, ident: str, held: tuple[int, Target, bool]) -> None:
        n, target, succeeded = held
        self._db.execute("UPDATE target SET mark = ?, succeeded = ?, item = ? WHERE n = ?",
                         (_mark(target), int(succeeded), pickle.dumps(target, pickle.HIGHEST_PROTOCOL), n))

    def __iter__(self) -> Iterator[Target]:
        """Each record once, in the order the file first named it; a record created under one
        identity and renamed under another is one target (the first), holding what both say."""
        after = 0
        while True:
            rows = self._db.execute("SELECT n, mark, item FROM target WHERE succeeded AND n > ? ORDER BY n LIMIT ?",
                                    (after, _PAGE)).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            for n, mark, item in rows:
                target = _loads(item)
                if mark is not None and not self._first_of_key(n, mark, target):
                    continue
                yield target

    def _first_of_key(self, n: int, mark: str, target: Target) -> bool:
        """Whether ``target`` (row ``n``) is the first of its key; if so, what the later ones say is added to it."""
        first = self._db.execute("SELECT MIN(n) FROM target WHERE mark = ? AND succeeded", (mark,)).fetchone()[0]
        if first != n:
            return False
        for (item,) in self._db.execute("SELECT item FROM target WHERE mark = ? AND succeeded AND n > ? ORDER BY n",
                                        (mark, n)).fetchall():
            other = _loads(item)
            target.created = target.created or other.created
            target.released = target.released or other.released
            target.sent = target.sent or other.sent
            target.reference = target.reference or other.reference
        return True


def _mark(target: Target) -> str | None:
    return None if target.key is None else f"{target.entity}\x00{target.key.casefold()}"


def _loads(blob: bytes) -> Target:
    target = pickle.loads(blob)  # noqa: S301 - written by this process, to its own temporary file
    assert isinstance(target, Target)
    return target


def intended(target: Target, *, inactivate_customers: bool) -> str:
    """What undo means to do with ``target`` before the ledger is asked: ``delete``,
    ``inactivate``, ``released`` or ``left`` (see the module's table)."""
    if not target.created or target.key is None:
        return "left"
    if target.released:
        return "released"
    if target.entity in DELETABLE:
        return "delete"
    if target.entity == "customer":
        return "inactivate" if inactivate_customers else "left"
    return "left"


def remedy_of(target: Target) -> str:
    """What would undo ``target`` by hand, where undo does not."""
    entity = target.entity
    if not target.created:
        if entity == "dunning-letter":
            return "a dunning letter sent cannot be taken back"
        return "updated, not created: what it held before is not known, so it is left as it is"
    if entity == "invoice" or entity == "debit-note":
        return "a credit note to make for it (the API deletes only unreleased invoices and credit notes)"
    if entity == "credit-note":
        return "a debit note to make for it (a released credit note cannot be deleted)"
    if entity == "customer":
        return "a customer to set inactive: importer undo --inactivate-customers does it"
    return "left as it is"
