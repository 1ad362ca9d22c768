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

A unit's way: ``identify`` → :func:`~importer.load.decide.decide` (resume) → ``build_call``
(:mod:`importer.load.calls`) → ``ApiClient.request`` with a proof and a lookup
(:mod:`importer.load.lookups`) → :func:`importer.load.outcomes.outcome_of` →
the results line (:class:`~importer.load.results.Outcome`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import anyio
import orjson
from anyio.streams.memory import MemoryObjectReceiveStream

from importer.client.http import ApiClient, Attempt, Response
from importer.entities import Entity
from importer.errors import ResultsWriteError
from importer.load import outcomes
from importer.load.actions import release
from importer.load.ahead import WriteAhead
from importer.load.calls import build_call
from importer.load.decide import CHANGED, CHANGED_WHY, HOLD, RENAMED_AMONG, decide
from importer.load.doclines import plan_update, read_document
from importer.load.gate import CustomerGate
from importer.load.identity import CONTENT, identify
from importer.load.lookups import Lookups, recheck
from importer.load.references import References
from importer.load.results import FAILURES, Outcome
from importer.load.sink import NEW, PASS, RECHECK, RELEASE_ONLY, Job, ResultSink
from importer.load.state import HeldUnits, ResultsState, SeenIdentities
from importer.mapping import Work
from importer.options import ImportOptions
from importer.schema import unwrap_value
from importer.summary import Summary
from importer.vocabulary import Action, OutcomeName

__all__ = ["Pipeline"]

log = logging.getLogger("importer.load")

# After this many records in a row got no answer at all, the API is taken to be down.
_DEAD_AFTER = 50


class Pipeline:
    def __init__(
        self,
        entity: Entity,
        options: ImportOptions,
        client: ApiClient | None,
        sink: ResultSink,
        summary: Summary,
        *,
        resume: ResultsState | None = None,
        reference_prefix: str = "import",
        reference_key: str | None = None,
        gate: CustomerGate | None = None,
    ) -> None:
        self.entity = entity
        self.options = options
        self.client = client
        self.sink = sink
        self.summary = summary
        self.resume = resume if resume is not None and len(resume) else None
        self.references = References(
            options.set_external_reference, reference_prefix, bytes.fromhex(reference_key) if reference_key else None,
            earlier=resume is not None and resume.reference_key is not None)
        self.existing_keys: set[str] | None = None  # upsert: keys the API holds (None: ask per record)
        self.gate = gate if entity.name != "customer" else None
        self.lookups = Lookups(client, entity) if client is not None else None
        self.seen = SeenIdentities()
        self.held = HeldUnits()  # resume: possible renames, answered at the end of the input
        self._stopping = False
        self._taking_back = False  # a stop for a failure: units with lines written ahead stay unsent
        self._no_answer_in_a_row = 0
        # Decided once, not per record:
        self._asks_first = options.mode == "upsert" and not entity.is_action  # POST or PUT?
        self._releases = options.release and entity.releasable
        self._proofs = outcomes.proofs_for(entity)
        self._default_action: Action = "action" if entity.is_action else ("update" if options.mode == "update" else "create")
        # Started lines of queued units written together (see importer.load.ahead), where the
        # worker would write them without waiting for anything first.
        self._ahead = WriteAhead.for_run(entity, options, sink, client.base_url) if (
            client is not None and self.gate is None and not self._asks_first) else None

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self, why: str | None = None) -> None:
        """Stop taking new work; what is in flight finishes (the caller bounds how long).

        ``why``: the failure that stops the run; without one (a person asked) units whose
        started line is written count as in flight too, and go.
        """
        if why is not None:
            if self.summary.error is None:
                self.summary.error = why
            self._taking_back = True
        self._stopping = True

    # -- producer ----------------------------------------------------------------

    async def run(self, works: AsyncIterator[Work]) -> None:
        concurrency = self.options.concurrency
        send, receive = anyio.create_memory_object_stream[Job](max_buffer_size=concurrency)
        try:
            async with anyio.create_task_group() as tg:
                if not self.options.dry_run:
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
        self.summary.records += count
        if self._stopping:
            self.summary.not_processed += count
            return None  # keep counting what was read, send nothing
        identity, fingerprint = identify(self.entity, work)
        job = Job(work, self.entity.name, identity, fingerprint)
        if identity.startswith(CONTENT):
            self.summary.by_content += count
        try:
            first = self.seen.first(identity, work.records[0])  # on disk: may find it full (TemporarySpaceError)
            if first is not None and work.error is None:
                work.error = f"record {work.records[0]}: {self._same(identity)} as record {first}"
                work.payload = None
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
            self.summary.not_processed += count
            self.stop(str(exc))
        return None

    def _settle(self, job: Job) -> Job | None:
        """A held unit, once the input is read: ``renamed`` when the document created before with
        its content is no longer in the input under its earlier documentKey; else new."""
        count = len(job.work.records)
        if self._stopping:
            self.summary.not_processed += count
            return None
        assert self.resume is not None
        try:
            earlier = self.resume.renamed_from(job.fingerprint, RENAMED_AMONG)
            if earlier is None:
                self.summary.new += count
                job.how = NEW
                return self._route(job)
            line = self._line(job, "renamed", action="create")
            line.key, line.location, line.renamed_from = earlier.key, earlier.location, earlier.identity
            self._final(job, line)
        except ResultsWriteError as exc:
            self.summary.not_processed += count
            self.stop(str(exc))
        return None

    def _route(self, job: Job) -> Job | None:
        """``job`` answered here (invalid, waiting, a dry run), or to be sent (raises ResultsWriteError)."""
        work = job.work
        if work.error is not None:
            self._final(job, self._line(job, "invalid", error=work.error))
        elif self.gate is not None and (reason := self._waiting_without_asking(work)) is not None:
            self._final(job, self._line(job, "skipped", error=reason))
        elif self.options.dry_run:
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
        if self.gate is None or (self.gate.ask_api and not self.options.dry_run):
            return None
        customer = self._customer_of(work)
        return self.gate.waiting.get(customer) if customer is not None and customer not in self.gate.exists else None

    def _customer_of(self, work: Work) -> str | None:
        customer = work.key if self.entity.is_action else unwrap_value((work.payload or {}).get("customerNumber"))
        return str(customer) if customer is not None else None

    # -- workers -----------------------------------------------------------------

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
                        self.summary.not_processed += len(job.work.records)
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
                                         background=self.options.background, read_first=True)
            self.summary.count_release(line.release)
            line.outcome = line.release["outcome"]  # done, queued or failed: the release was all it had to do
        else:
            sent = await self._attempt(job)
            if sent is None:
                return
            attempt, line = sent
            if self._releases and line.outcome in ("created", "updated"):
                line.release = await release(client, self.entity, line.key,
                                             background=self.options.background,
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
        document = None  # upsert: the document as its GET answered, so an update reads it once
        if self._asks_first:  # upsert: POST or PUT by whether the key exists
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
        call = build_call(self.entity, work, mode, lines)
        lookup = self.lookups.for_create(work.key, reference, work.payload) if call.action == "create" else None
        if client.halted is not None:
            self.summary.not_processed += len(work.records)
            self._take_back(job)
            return None
        try:
            if not job.started:
                if job.ahead and self._ahead is not None:
                    self._ahead.write(job)  # with the lines of those queued behind it, in one write
                else:
                    self.sink.started(job, call.action, client.base_url)
        except ResultsWriteError as exc:  # no whole started line: it must not go out
            self.summary.not_processed += len(work.records)
            self.stop(str(exc))
            return None
        attempt: Attempt | None = None
        if job.how == RECHECK and not call.fresh:  # a fresh call was made from the ledger as it is
            self.summary.lookups += int(lookup is not None)
            attempt = await recheck(lookup, call)
        if attempt is None:
            attempt = await client.request(
                call.method, call.path, call.body, lookup=lookup, idempotent=call.idempotent,
                background=self.options.background, proof=self._proofs[call.action],
            )
        if attempt.not_sent:
            self.sink.unsent(job)
            self.summary.not_processed += len(work.records)
            self._watch(attempt)
            return None
        self.summary.sent_units += 1
        return attempt, outcomes.outcome_of(self._line(job, "failed", action=call.action), attempt, call,
                                            self.entity, client.base_url)

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

    # -- result lines --------------------------------------------------------------

    def _line(self, job: Job, outcome: OutcomeName, *, action: Action | None = None,
              error: str | None = None) -> Outcome:
        key, sent_key = (job.ledger_key, job.work.key) if job.ledger_key is not None else (job.work.key, None)
        return Outcome(job.work.records, job.entity, job.identity, job.fingerprint, key,
                       action or self._default_action, outcome, error=error, reference=job.reference,
                       sent_key=sent_key)

    def _final(self, job: Job, line: Outcome) -> None:
        if line.outcome in FAILURES and log.isEnabledFor(logging.WARNING):
            log.warning(
                "records %s (%s): %s: %s", line.records, line.key, line.outcome, line.error,
                extra={"records": line.records, "key": line.key, "entity": line.entity, "action": line.action,
                       "outcome": line.outcome, "error": line.error, "status": line.http_status},
            )
        self.summary.outcomes[line.outcome] += len(job.work.records)
        if line.sent_key is not None:
            self.summary.renumbered += 1
        if line.unknown:
            self.summary.unknown += len(job.work.records)
        self.sink.final(line, job.work)

    def _write_dry_run(self, job: Job) -> None:
        # A dry run asks the API nothing, so an upsert shows the POST it would send if new.
        mode = "create" if self.options.mode == "upsert" else self.options.mode
        if mode == "create":
            self.references.add(job, self.entity)
        call = build_call(self.entity, job.work, mode)
        line = self._line(job, "valid", action=call.action, error=None)
        line.request, line.payload = f"{call.method} {call.path}", orjson.loads(call.body)
        self._final(job, line)
