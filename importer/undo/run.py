"""``importer undo``: take back what a run created, from its results file.

    async with build_client(options, delete=True) as client:
        summary = await undo_results(client, "invoices.csv.results.ndjson", yes=False)

Every record the import created (:mod:`importer.undo.plan`) is looked up in the ledger
first (one GET by its key). An invoice or credit note is deleted only when the ledger
shows it unreleased (Hold or Balanced) and as the run sent it: the externalReference the
run gave it, and its customer, document date, number of lines and lines' amount as its
results line recorded them (``sent``). A document that differs is not deleted and is
reported with how it differs. A customer is set inactive (``PUT status Inactive``) with
``inactivate_customers``; else it is listed. Released documents, debit notes, updated
records and dunning letters are listed with what would undo them; nothing is sent for them.

Without ``yes`` nothing is sent but the GETs: the undo file (a dry run's) holds what
``yes`` would do, a line per record. With it, the undo file is written ahead and resumable
(:mod:`importer.undo.results`): a DELETE is never sent twice.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio
import orjson

from importer.client import ApiClient
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.keys import encode_key
from importer.load.identity import identity_key
from importer.load.results import ResultsWriter, probe_results, utc_now
from importer.undo.plan import Target, Targets, intended, remedy_of
from importer.undo.results import Undone, default_undo_path

__all__ = ["UndoSummary", "undo_results", "UNRELEASED"]

log = logging.getLogger("importer.undo")

UNRELEASED = frozenset({"Hold", "Balanced"})  # the statuses of a document the API deletes
_INACTIVE = orjson.dumps({"status": {"value": "Inactive"}})
_SETTLED = frozenset({"released", "absent", "inactive"})  # left for good by an earlier undo: not looked at again
_LEFT_KEPT = 1000  # lines of what is left kept for the summary (the undo file has every one)


@dataclass
class UndoSummary:
    """What an undo did (or, on a dry run, would do), by ``undo`` kind."""

    dry_run: bool
    paths: list[tuple[str, str]] = field(default_factory=list)  # (results file, undo file)
    counts: Counter[str] = field(default_factory=Counter)
    earlier: int = 0  # deleted or set inactive by an earlier undo of the file: not sent again
    left: list[dict[str, Any]] = field(default_factory=list)  # what is left, first _LEFT_KEPT
    planned: list[dict[str, Any]] = field(default_factory=list)  # a dry run's requests, first _LEFT_KEPT
    calls: int = 0
    halted: str | None = None  # why the client stopped sending (its token refused, the API down), if it did

    @property
    def exit_code(self) -> int:
        """2 when the client stopped sending and nothing was undone (the run, not a record, was wrong),
        1 when a request failed, else 0."""
        if self.halted and not (self.counts["deleted"] or self.counts["inactivated"] or self.earlier):
            return 2
        return 1 if self.counts["failed"] or self.halted else 0

    def add(self, other: UndoSummary) -> None:
        self.paths += other.paths
        self.counts.update(other.counts)
        self.earlier += other.earlier
        self.left += other.left[: max(0, _LEFT_KEPT - len(self.left))]
        self.planned += other.planned[: max(0, _LEFT_KEPT - len(self.planned))]
        self.calls += other.calls
        self.halted = self.halted or other.halted

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "files": [{"results": r, "undo": u} for r, u in self.paths],
                "counts": dict(sorted(self.counts.items())), "done_earlier": self.earlier, "calls": self.calls,
                "left": self.left, "planned": self.planned, "halted": self.halted}


async def undo_results(
    client: ApiClient, results: str, *, yes: bool, inactivate_customers: bool = False,
    undo_path: str | None = None, concurrency: int = 8, tenant: str | None = None,
) -> UndoSummary:
    """Undo what ``results`` says its run created (see the module doc); ``tenant``: the company
    the client acts for, where known: a results file of another company is refused."""
    about = probe_results(results) if os.path.isfile(results) else None
    about = about or {}
    if tenant and about.get("company") and about["company"] != tenant:
        raise ConfigError(f"{results} was written for company {about['company']}, and this undo acts for "
                          f"{tenant}: nothing was sent")
    if about.get("api") and about["api"].rstrip("/") != client.base_url.rstrip("/"):
        log.warning("%s was sent to %s; undoing against %s", results, about["api"], client.base_url)
    path = undo_path or default_undo_path(results, dry_run=not yes)
    if os.path.abspath(path) == os.path.abspath(results):
        raise ConfigError(f"the undo file cannot be the results file it undoes ({path})")
    summary = UndoSummary(dry_run=not yes, paths=[(results, path)])
    with ExitStack() as stack:
        targets = stack.enter_context(Targets(results))
        earlier = stack.enter_context(Undone(path if yes else None))
        writer = stack.enter_context(ResultsWriter(path, fresh=not yes, dry_run=not yes, stamp={"company": tenant}))
        run = _Undo(client, writer, summary, earlier, yes=yes, inactivate=inactivate_customers)
        pending = iter(targets)  # shared by the workers: each takes the next record when it is free

        async def worker() -> None:
            for target in pending:
                if client.halted is not None:
                    return  # the rest is not looked at in vain: run undo again once what stopped it is put right
                await run.one(target)

        async with anyio.create_task_group() as tg:
            for _ in range(max(1, concurrency)):
                tg.start_soon(worker)
    summary.halted = client.halted
    return summary


class _Undo:
    def __init__(self, client: ApiClient, writer: ResultsWriter, summary: UndoSummary,
                 earlier: Undone, *, yes: bool, inactivate: bool) -> None:
        self.client = client
        self.writer = writer
        self.summary = summary
        self.earlier = earlier
        self.yes = yes
        self.inactivate = inactivate

    async def one(self, target: Target) -> None:
        earlier = self.earlier.get(identity_key(target.identity))
        if earlier is not None and earlier.outcome == "done":
            self.summary.earlier += 1  # deleted or set inactive before: never sent again
            return
        what = intended(target, inactivate_customers=self.inactivate)
        if earlier is not None and earlier.outcome == "skipped" and (earlier.undo in _SETTLED or earlier.undo == what):
            self._count(target, earlier.undo or what, remedy=earlier.remedy, error=earlier.error)  # its line stands
            return
        if what in ("left", "released"):
            self._final(target, "skipped", what, "none", remedy=remedy_of(target))
            return
        assert target.key is not None
        path = f"{ENTITIES[target.entity].path}/{encode_key(target.key)}"
        action = "delete" if what == "delete" else "inactivate"
        request = f"DELETE {path}" if what == "delete" else f"PUT {path}"
        in_flight = earlier is not None and earlier.outcome == "started"
        attempt = await self.client.request("GET", path, optional=True)
        self.summary.calls += attempt.attempts
        answer = attempt.response
        if answer is None or (answer.status >= 300 and answer.status != 404):
            why = attempt.error or (answer.error_text() if answer is not None else "no answer")
            self._final(target, "failed", "failed", action, error=f"looking it up: {why}")
            return
        if answer.status == 404:
            if in_flight and what == "delete":  # the DELETE of a run that was stopped had landed
                self._final(target, "done", "deleted", action, request=request, recovered=True)
            else:
                self._final(target, "skipped", "absent", action, error="the ledger no longer holds it")
            return
        record = answer.json()
        if not isinstance(record, dict):
            self._final(target, "failed", "failed", action, error="the ledger's answer is not a record")
            return
        if what == "delete":
            status = record.get("status")
            if status not in UNRELEASED:
                self._final(target, "skipped", "released", action, remedy=remedy_of(target),
                            error=f"its status in the ledger is {status}: only unreleased documents are deleted")
                return
            differs = differences(target, record)
            if differs:
                self._final(target, "skipped", "different", action,
                            error="not the document the run created, so not deleted: " + "; ".join(differs))
                return
        elif record.get("status") == "Inactive":
            self._final(target, "skipped", "inactive", action, error="inactive already")
            return
        if not self.yes:
            self._final(target, "valid", what, action, request=request)
            return
        self.writer.started(target.records, target.entity, target.identity, target.fingerprint, target.key,
                            action, self.client.base_url)
        if what == "delete":
            sent = await self.client.request("DELETE", path)
        else:
            sent = await self.client.request("PUT", path, _INACTIVE)
        self.summary.calls += sent.attempts
        done = sent.response
        if done is not None and (200 <= done.status < 300 or (what == "delete" and done.status == 404)):
            # 404 to a DELETE of a document just seen: a retried DELETE whose first one landed
            self._final(target, "done", "deleted" if what == "delete" else "inactivated", action,
                        request=request, status=done.status, attempts=sent.attempts)
            return
        why = sent.error or (done.error_text() if done is not None else "no answer")
        if what == "delete" and done is not None and 400 <= done.status < 500:
            told = await self._refused(target, path, why)
            if told is None:
                return
            why = told
        self._final(target, "failed", "failed", action, request=request, error=why,
                    status=done.status if done is not None else None, attempts=sent.attempts)

    async def _refused(self, target: Target, path: str, why: str) -> str | None:
        """A DELETE refused (400) of a document that read as unreleased: looked up again. A release
        the API had queued shows only once it is done: released now, it is listed as released (None);
        else what to tell of the failure."""
        again = await self.client.request("GET", path, optional=True)
        self.summary.calls += again.attempts
        answer = again.response
        record = answer.json() if answer is not None and answer.status == 200 else None
        status = record.get("status") if isinstance(record, dict) else None
        if status is not None and status not in UNRELEASED:
            self._final(target, "skipped", "released", "delete", remedy=remedy_of(target),
                        error=f"released while undo ran (its status is now {status}): the ledger refused the "
                              f"DELETE: {why}")
            return None
        return (f"{why} (it still reads as {status or 'unknown'}: a release the API has queued shows only when "
                "it is done; run undo again in a moment)")

    def _final(self, target: Target, outcome: str, undo: str, action: str, *, request: str | None = None,
               error: str | None = None, remedy: str | None = None, status: int | None = None,
               attempts: int = 0, recovered: bool = False) -> None:
        earlier = self.earlier.get(identity_key(target.identity))
        if earlier is not None and (earlier.outcome, earlier.undo, earlier.error) == (outcome, undo, error):
            self._count(target, undo, remedy=remedy, error=error)  # as an earlier undo found it: its line stands
            return
        line = {"records": target.records, "entity": target.entity, "identity": target.identity,
                "fingerprint": target.fingerprint, "key": target.key, "action": action, "outcome": outcome,
                "undo": undo, "http_status": status, "attempts": attempts, "request": request, "error": error,
                "remedy": remedy, "recovered": recovered, "at": utc_now()}
        self.writer.write(line)
        if outcome == "valid" and len(self.summary.planned) < _LEFT_KEPT:
            self.summary.planned.append({"entity": target.entity, "key": target.key, "records": target.records,
                                         "request": request})
        self._count(target, undo, remedy=remedy, error=error, left=outcome not in ("done", "valid"))

    def _count(self, target: Target, undo: str, *, remedy: str | None, error: str | None, left: bool = True) -> None:
        summary = self.summary
        summary.counts[undo] += 1
        if left and len(summary.left) < _LEFT_KEPT:
            summary.left.append({"entity": target.entity, "key": target.key, "records": target.records,
                                 "undo": undo, "remedy": remedy, "error": error, "source": target.source})


def differences(target: Target, record: dict[str, Any]) -> list[str]:
    """How the ledger's document differs from what the run sent; [] when it is the one.

    Compared: the externalReference the run gave it, and what its results line says it was sent
    as (customer, document date, number of lines, lines' amount). A results file that records
    neither (an older version's) proves nothing, which is a difference too.
    """
    if target.reference is None and target.sent is None:
        return ["the results file does not say what it was sent as (written by an older version)"]
    found: list[str] = []
    if target.reference is not None and record.get("externalReference") != target.reference:
        found.append(f"externalReference {record.get('externalReference')!r}, sent {target.reference!r}")
    sent = target.sent or {}
    customer = record.get("customer")
    number = customer.get("number") if isinstance(customer, dict) else record.get("customerNumber")
    if "customer" in sent and str(number or "").strip().casefold() != str(sent["customer"]).casefold():
        found.append(f"customer {number!r}, sent {sent['customer']!r}")
    date = record.get("documentDate")
    if "date" in sent and str(date or "")[:10] != sent["date"]:
        found.append(f"documentDate {str(date or '')[:10]!r}, sent {sent['date']!r}")
    lines = record.get(ENTITIES[target.entity].line_field or "")
    if "lines" in sent and isinstance(lines, list) and len(lines) != sent["lines"]:
        found.append(f"{len(lines)} lines, sent {sent['lines']}")
    held = _decimal(record.get("detailTotalInCurrency", record.get("detailTotal")))
    amount = _decimal(sent.get("amount"))
    if amount is not None and held is not None and abs(held - amount) > Decimal("0.005"):
        found.append(f"lines' amount {held}, sent {amount}")
    return found


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
