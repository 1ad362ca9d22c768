"""The load stage: work → bounded stream → N workers → results file.

The producer (``run``) names each unit of work by its identity (``identify``),
refuses a second unit with the same identity in one input, decides against the
earlier results (``--resume``) what is still to be done, and hands the rest to
``concurrency`` workers over a bounded anyio memory stream, so reading never runs
ahead of sending by more than a few items. Invalid work, work waiting on its
customer, work a resume passes over and, on ``--dry-run``, all work is answered
by the producer itself without a request. An auto-numbered document that may be one
created before under another documentKey waits until the input is read, to be
answered ``renamed`` or sent (:data:`~importer.load.decide.HOLD`). Each worker writes a ``started`` line,
and only once it is wholly written sends the request; then the final line. Where
that is safe, the started lines of all units queued go in one write, by the
worker about to send the first of them (:mod:`importer.load.ahead`).

A unit's way: ``identify`` → :func:`~importer.load.decide.decide` (resume) → the preflight
(:mod:`importer.load.preflight`: invalid, without a call, when the company would refuse it) → ``build_call``
(:mod:`importer.load.calls`) → ``ApiClient.request`` with a proof and a lookup
(:mod:`importer.load.lookups`) → :func:`importer.load.outcomes.outcome_of` →
the results line (:class:`~importer.load.results.Outcome`).

This module is the producer. The workers are :mod:`importer.load.workers`; what both share
(the run's settings, stopping, and writing a unit's final line) is :mod:`importer.load.stage`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import orjson

from importer.errors import ResultsWriteError
from importer.load.calls import build_call
from importer.load.decide import CHANGED, CHANGED_WHY, HOLD, RENAMED_AMONG, decide
from importer.load.identity import CONTENT, duplicate_error, identify
from importer.load.sink import NEW, PASS, Job
from importer.load.workers import Workers
from importer.mapping import Work

__all__ = ["Pipeline"]


class Pipeline(Workers):
    """One run of the load stage: :meth:`run` reads the work and feeds the workers."""

    async def run(self, works: AsyncIterator[Work]) -> None:
        concurrency = self.options.pace.concurrency
        send, receive = anyio.create_memory_object_stream[Job](max_buffer_size=concurrency)
        try:
            async with anyio.create_task_group() as tg:
                if not self.options.state.dry_run:
                    for _ in range(concurrency):
                        tg.start_soon(self._worker, receive.clone())
                receive.close()
                async with send:
                    async for work in works:
                        job = self._take(work)
                        if job is None:
                            continue
                        try:
                            send.send_nowait(job)  # room in the buffer: no need to yield
                        except anyio.WouldBlock:
                            await send.send(job)
                    for held in self.held:  # the whole input is read: renamed, or new after all
                        job = self._settle(held)  # type: ignore[arg-type]
                        if job is not None:
                            await send.send(job)
        finally:
            self.seen.close()
            self.held.close()
            if self.resume is not None:
                self.summary.gone = self.resume.unseen()

    def _take(self, work: Work) -> Job | None:
        """The job to send for ``work``, or None when the producer has answered it itself."""
        count = len(work.records)
        self.summary.read(count)
        if self._stopping:
            self.summary.leave(count)
            return None  # keep counting what was read, send nothing
        identity, fingerprint = identify(self.entity, work)
        job = Job(work, self.entity.name, identity, fingerprint)
        if identity.startswith(CONTENT):
            self.summary.by_content += count
        try:
            first = self.seen.first(identity, work.records[0])  # on disk: may find it full (TemporarySpaceError)
            if first is not None:  # a record of its own, whatever else is wrong with it
                work.error = duplicate_error(work.records[0], self._same(identity), first, work.error)
                work.payload = None
                job.duplicate_of = first
            if self.resume is not None:
                job.how = decide(job, self.resume, self.options, self.entity, self.summary, self.sink)
            else:
                job.how = NEW  # no earlier results: nothing to decide
            if job.how == CHANGED:
                self._final(job, self._line(job, "skipped", error=CHANGED_WHY))
                return None
            if job.how == PASS:
                return None
            if job.how == HOLD:
                self.held.hold(job)
                return None
            return self._route(job)
        except ResultsWriteError as exc:
            self.summary.leave(count)
            self.stop(str(exc))
        return None

    def _settle(self, job: Job) -> Job | None:
        """A held unit, once the input is read: ``renamed`` when the document created before with
        its content is no longer in the input under its earlier documentKey; else new."""
        count = len(job.work.records)
        if self._stopping:
            self.summary.leave(count)
            return None
        assert self.resume is not None
        try:
            earlier = self.resume.renamed_from(job.fingerprint, RENAMED_AMONG)
            if earlier is None:
                self.summary.new += count
                job.how = NEW
                return self._route(job)
            job.reference = earlier.reference  # the document's reference is the one it was created with
            line = self._line(job, "renamed", action="create")
            line.key, line.location, line.renamed_from = earlier.key, earlier.location, earlier.identity
            self._final(job, line)
        except ResultsWriteError as exc:
            self.summary.leave(count)
            self.stop(str(exc))
        return None

    def _route(self, job: Job) -> Job | None:
        """``job`` answered here (invalid, waiting, a dry run), or to be sent (raises ResultsWriteError)."""
        work = job.work
        if work.error is None and self.numbering is not None and self.options.mode != "update":
            work.error = self.numbering.problem(work)  # a number the company's numbering cannot take
        if work.error is None and self.preflight is not None:
            work.error = self.preflight.verdict(work)  # a reference the company would refuse
        if work.error is not None:
            self._final(job, self._line(job, "invalid", error=work.error))
        elif self.gate is not None and (reason := self._waiting_without_asking(work)) is not None:
            self._final(job, self._line(job, "skipped", error=reason))
        elif self.options.state.dry_run:
            self._write_dry_run(job)
        else:
            if not self._asks_first and self.options.mode == "create":
                self.references.add(job, self.entity)  # before its started line, which may be written ahead
            if self._ahead is not None:
                self._ahead.queue(job)
            return job
        return None

    def _same(self, identity: str) -> str:
        if identity.startswith("key:"):
            return f"same {self.entity.key_field or self.entity.action_key_field}"
        if identity.startswith("doc:"):
            return "same documentKey"
        if identity.startswith("letter:"):
            return "same dunning letter (customer, date and levels)"
        return "same content"

    def _waiting_without_asking(self, work: Work) -> str | None:
        """A document whose customer is held back, when the gate may not ask the API."""
        if self.gate is None or (self.gate.ask_api and not self.options.state.dry_run):
            return None
        customer = self._customer_of(work)
        return self.gate.waiting.get(customer) if customer is not None and customer not in self.gate.exists else None

    def _write_dry_run(self, job: Job) -> None:
        # A dry run asks the API nothing, so an upsert shows the POST it would send if new.
        mode = "create" if self.options.mode == "upsert" else self.options.mode
        if mode == "create":
            self.references.add(job, self.entity)
        work = job.work
        if mode == "create" and self.numbering is not None:
            work, _ = self.numbering.applied(work)  # sent as the company's numbering needs
        call = build_call(self.entity, work, mode)
        line = self._line(job, "valid", action=call.action, error=None)
        line.request, line.payload = f"{call.method} {call.path}", orjson.loads(call.body)
        self._final(job, line)
