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
from dataclasses import dataclass
from typing import Any

from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.identity import identity_key
from importer.load.results import iter_results, probe_results

__all__ = ["Target", "read_targets", "intended", "DELETABLE", "remedy_of"]

# The documents the API deletes (DELETE /v1/customerinvoice/{n}, /v1/customerCreditNote/{n}).
DELETABLE = frozenset({"invoice", "credit-note"})
_RELEASE_DONE = "done"


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
    """The records ``path`` (an import's results file) says a run created or changed, in file order.

    Only successes count: a record that failed or was invalid left nothing to undo. A file
    that is not a results file is refused, naming it.
    """
    if not os.path.isfile(path):
        raise ConfigError(f"no results file at {os.fspath(path)}")
    if os.path.getsize(path) and probe_results(path) is None:
        raise ConfigError(f"{os.fspath(path)} is not a results file (its first lines are not results lines)")
    by_identity: dict[str, Target] = {}
    succeeded: set[str] = set()
    for line in iter_results(path):
        entity = line.entity
        if entity is None or entity not in ENTITIES or line.outcome in ("valid", "unsent"):
            continue
        ident = identity_key(line.identity)
        target = by_identity.get(ident)
        if target is None:
            target = by_identity[ident] = Target(entity, line.identity, line.fingerprint, list(line.records),
                                                  source=os.fspath(path))
        if line.reference is not None:
            target.reference = line.reference
        if line.outcome == "started":
            continue
        if line.outcome in ("created", "renamed", "updated", "done"):
            succeeded.add(ident)
            target.records, target.fingerprint = list(line.records), line.fingerprint
            if line.key is not None:
                target.key = line.key
        if line.outcome in ("created", "renamed"):
            target.created = True
            if line.sent is not None:
                target.sent = line.sent
        if line.release == _RELEASE_DONE or (line.action == "release" and line.outcome == "done"):
            target.released = True
    return _one_per_key([t for ident, t in by_identity.items() if ident in succeeded])


def _one_per_key(targets: list[Target]) -> list[Target]:
    """A record created under one identity and renamed under another is one target (the first)."""
    kept: list[Target] = []
    seen: dict[tuple[str, str], Target] = {}
    for target in targets:
        if target.key is None:
            kept.append(target)
            continue
        mark = (target.entity, target.key.casefold())
        first = seen.get(mark)
        if first is None:
            seen[mark] = target
            kept.append(target)
            continue
        first.created = first.created or target.created
        first.released = first.released or target.released
        first.sent = first.sent or target.sent
        first.reference = first.reference or target.reference
    return kept


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
