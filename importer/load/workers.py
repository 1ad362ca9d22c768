"""The workers of the load stage: each sends the units it takes from the stream, one at a time.

A worker takes a unit (:class:`~importer.load.sink.Job`) from the bounded stream, and unless
the run is stopping sends it: it waits, if need be, on the unit's customer
(:class:`~importer.load.gate.CustomerGate`); on an upsert asks whether the key exists; on an
update of a document plans its lines (:mod:`importer.load.doclines`); numbers a create as the company needs
(:mod:`importer.load.numbering`); builds the call (:mod:`importer.load.calls`); writes the unit's ``started`` line, and only once it is wholly
written sends the request (``ApiClient.request`` with a proof and a lookup); releases what it
created or updated when asked to; and writes the final line. A worker stops the run early when
the client saw a systemic failure, or when nothing has answered for many records in a row.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from importer.client.http import Attempt, Response
from importer.errors import ResultsWriteError
from importer.load import outcomes
from importer.load.actions import release
from importer.load.calls import build_call, item_path
from importer.load.doclines import plan_update, read_document
from importer.load.held import Found
from importer.load.lookups import recheck
from importer.load.results import Outcome
from importer.load.sink import RECHECK, RELEASE_ONLY, Job
from importer.load.stage import Stage
from importer.mapping import Work

__all__ = ["Workers"]

# After this many records in a row got no answer at all, the API is taken to be down.
_DEAD_AFTER = 50


class Workers(Stage):
    """The sending side of a run: :meth:`_worker` is started ``concurrency`` times."""

    async def _worker(self, receive: MemoryObjectReceiveStream[Job]) -> None:
        async with receive:
            try:
                while True:
                    try:
                        job = receive.receive_nowait()  # skip the checkpoint when work is waiting
                    except anyio.WouldBlock:
                        job = await receive.receive()
                    if self._stopping and (self._taking_back or not job.started):
                        # not sent: no line (or an unsent one), so --resume sends it
                        self.summary.leave(len(job.work.records))
                        self._take_back(job)
                        continue
                    try:
                        await self._send(job)
                    except ResultsWriteError as exc:
                        self.summary.unrecorded += len(job.work.records)
                        self.stop(str(exc))
            except anyio.EndOfStream:
                return

    async def _send(self, job: Job) -> None:
        started = time.perf_counter()
        client = self.client
        assert client is not None  # a dry run answers every unit before it would be sent
        if self.gate is not None and (customer := self._customer_of(job.work)) is not None:
            reason = await self.gate.reason_to_wait(customer, client)
            if reason is not None:
                self._final(job, self._line(job, "skipped", error=reason))
                return
        if job.how == RELEASE_ONLY:
            line = self._line(job, "done", action="release")
            line.release = await release(client, self.entity, job.ledger_key or job.work.key,
                                         background=self.options.behaviour.background, read_first=True)
            self.summary.count_release(line.release)
            line.outcome = line.release["outcome"]  # done, queued or failed: the release was all it had to do
        else:
            sent = await self._attempt(job)
            if sent is None:
                return
            attempt, line = sent
            if self._releases and line.outcome in ("created", "updated"):
                line.release = await release(client, self.entity, line.key,
                                             background=self.options.behaviour.background,
                                             known=attempt.response if attempt.found_by_lookup else None)
                self.summary.count_release(line.release)
            self._watch(attempt)
        line.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        self._final(job, line)

    async def _attempt(self, job: Job) -> tuple[Attempt, Outcome] | None:
        """Send ``job`` (after its ``started`` line); how it went, and its results line.

        None when it was not sent after all (the client had stopped for a systemic failure).
        """
        client, work = self.client, job.work
        assert client is not None and self.lookups is not None
        if job.ledger_key is not None:  # the ledger keeps it under the key it gave, not the file's
            work = replace(work, key=job.ledger_key)
        mode, lines = self.options.mode, None
        number = self.numbering.legacy_number(work) if self.numbering is not None and job.ledger_key is None else None
        if number is not None and self.held_numbers is not None:  # company numbering: there already?
            found = await self.held_numbers.find(self.lookups, number, self._as_created(job, work, mode))
            if found.error is not None or found.answer is not None:
                return self._held(job, found)
            if found.key is not None:  # an upsert or update: the ledger's record, under its key
                job.ledger_key = found.key
                work = replace(work, key=found.key)
            elif mode == "upsert":  # new: the file's number may be another record's key in the ledger
                mode = "create"
                if work.cannot_create is not None:  # new, but lacks what a create needs
                    self._final(job, self._line(job, "invalid", error=work.cannot_create))
                    return None
        document = None  # upsert: the document as its GET answered, so an update reads it once
        if self._asks_first and mode == "upsert":  # upsert: POST or PUT by whether the key exists
            exists = await self._exists(work)
            if isinstance(exists, Attempt):  # could not tell: nothing is written
                self.summary.sent_units += 1
                return exists, self._line(job, "failed", error=f"could not tell whether {work.key} exists: "
                                          f"{exists.error}")
            document = exists if isinstance(exists, Response) else None
            mode = "update" if exists else "create"
            if mode == "create" and work.cannot_create is not None:  # new, but lacks what a create needs
                self._final(job, self._line(job, "invalid", error=work.cannot_create))
                return None
        if mode == "update" and self.entity.is_document:  # its lines become the file's (doclines)
            plan = await plan_update(self.lookups, self.entity, work, document)
            if plan.error is not None or plan.holds:
                self.summary.sent_units += 1
                line = self._line(job, "updated" if plan.holds else "failed", action="update", error=plan.error)
                line.recovered = plan.holds
                return plan.attempt, line
            lines = plan.lines
        reference = self.references.add(job, self.entity) if mode == "create" else None
        key, legacy = work.key, None
        if mode == "create" and self.numbering is not None:
            if self.numbering.rule(work).mode == "company":
                key = None  # not sent: the ledger's number is another, and found by ``legacy``
            work, legacy = self.numbering.applied(work)
        call = build_call(self.entity, work, mode, lines)
        lookup = self.lookups.for_create(key, reference, work.payload, legacy) if call.action == "create" else None
        if client.halted is not None:
            self.summary.leave(len(work.records))
            self._take_back(job)
            return None
        try:
            if not job.started:
                if job.ahead and self._ahead is not None:
                    self._ahead.write(job)  # with the lines of those queued behind it, in one write
                else:
                    self.sink.started(job, call.action, client.base_url)
        except ResultsWriteError as exc:  # no whole started line: it must not go out
            self.summary.leave(len(work.records))
            self.stop(str(exc))
            return None
        attempt: Attempt | None = None
        if job.how == RECHECK and not call.fresh:  # a fresh call was made from the ledger as it is
            self.summary.lookups += int(lookup is not None)
            attempt = await recheck(lookup, call)
        if attempt is None:
            attempt = await client.request(
                call.method, call.path, call.body, lookup=lookup, idempotent=call.idempotent,
                background=self.options.behaviour.background, proof=self._proofs[call.action],
            )
        if attempt.not_sent:
            self.sink.unsent(job)
            self.summary.leave(len(work.records))
            self._watch(attempt)
            return None
        self.summary.sent_units += 1
        line = outcomes.outcome_of(self._line(job, "failed", action=call.action), attempt, call,
                                   self.entity, client.base_url)
        if line.outcome == "failed" and self.numbering is not None and call.action == "create":
            line.error = self.numbering.explained(work, line.error)
        return attempt, line

    def _as_created(self, job: Job, work: Work, mode: str) -> dict[str, Any] | None:
        """What a create of ``work`` sends, to compare with a record the ledger holds; None when
        the run would update it."""
        if mode != "create" or self.numbering is None:
            return None
        return self.numbering.applied(work)[0].payload

    def _held(self, job: Job, found: Found) -> tuple[Attempt, Outcome] | None:
        """A create whose number the ledger holds (:mod:`importer.load.held`): found with what it
        sends (``created``, recovered, nothing sent), or ``failed`` saying why, never sent."""
        if job.ahead and not job.started and self._ahead is not None:
            self._ahead.drop(job)  # no started line: no request goes out
        if found.key is not None:
            job.ledger_key = found.key
        if found.error is not None:
            self._final(job, self._line(job, "failed", action="create",
                                        error=f"record {job.work.records[0]}: {found.error}"))
            return None
        assert found.answer is not None and self.client is not None
        self.summary.held += len(job.work.records)
        line = self._line(job, "created", action="create")
        line.recovered, line.http_status = True, found.answer.status
        line.location = f"{self.client.base_url}{item_path(self.entity, found.key or '')}"
        return Attempt(found.answer, 0, None, found_by_lookup=True), line

    def _take_back(self, job: Job) -> None:
        """``job`` will not be sent: a started line written ahead for it is taken back."""
        if job.started:
            try:
                self.sink.unsent(job)
            except ResultsWriteError as exc:  # it stays "started": a resume looks it up first
                self.stop(str(exc))
        elif self._ahead is not None:
            self._ahead.drop(job)

    async def _exists(self, work: Work) -> bool | Response | None | Attempt:
        if not work.key:
            return False  # auto-numbered: always a new record
        if self.existing_keys is not None:
            return work.key in self.existing_keys
        assert self.lookups is not None
        if self.entity.is_document:  # the document itself, for its update to use
            return await read_document(self.lookups, work.key)
        return await self.lookups.exists(work.key)

    def _watch(self, attempt: Attempt) -> None:
        """Stop early when nothing answers any more, or the client saw a systemic failure."""
        client = self.client
        if client is not None and client.halted is not None and not self._stopping:
            self.summary.halted = True
            self.stop(client.halted)
            return
        if attempt.response is not None:
            self._no_answer_in_a_row = 0
            return
        self._no_answer_in_a_row += 1
        if self._no_answer_in_a_row >= _DEAD_AFTER and not self._stopping:
            self.summary.api_down = True
            self.stop(f"the API stopped answering ({self._no_answer_in_a_row} records in a row got no "
                      "response); stopped so the rest can be sent later")
