"""What the producer and the workers of the load stage share: the run, and each unit's last line.

:class:`Stage` holds what one run of the load stage decides once (the entity, the options,
the client, the results sink and the summary; how created records are numbered, and which of the file's
numbers the ledger holds already (company numbering); whether an upsert asks first, whether a
created record is released, the proof each action needs, the company's preflight), the units
seen and held, and
whether the run is stopping (:meth:`Stage.stop`). It writes each unit's final results line
(:meth:`Stage._final`: counted in the summary, logged when it failed) from the line
:meth:`Stage._line` starts. The producer (:mod:`importer.load.pipeline`) and the workers
(:mod:`importer.load.workers`) build on it.
"""

from __future__ import annotations

import logging

from importer.client.http import ApiClient
from importer.entities import Entity
from importer.load import outcomes
from importer.load.ahead import WriteAhead
from importer.load.gate import CustomerGate
from importer.load.held import Held, read_held
from importer.load.lookups import Lookups
from importer.load.numbering import Numbering
from importer.load.preflight import Preflight
from importer.load.references import References
from importer.load.results import FAILURES, Outcome
from importer.load.sent import document_sent
from importer.load.sink import Job, ResultSink
from importer.load.state import HeldUnits, ResultsState, SeenIdentities
from importer.mapping import Work
from importer.options import ImportOptions
from importer.schema import unwrap_value
from importer.summary import Summary
from importer.vocabulary import Action, OutcomeName

__all__ = ["Stage"]

log = logging.getLogger("importer.load")


class Stage:
    """One run of the load stage: what it decided once, whether it is stopping, and its final lines."""

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
        numbering: Numbering | None = None,
        preflight: Preflight | None = None,
    ) -> None:
        self.entity = entity
        self.options = options
        self.client = client
        self.sink = sink
        self.summary = summary
        self.resume = resume if resume is not None and len(resume) else None
        self.references = References(
            options.behaviour.set_external_reference, reference_prefix, bytes.fromhex(reference_key) if reference_key else None,
            earlier=resume is not None and resume.reference_key is not None)
        self.existing_keys: set[str] | None = None  # upsert: keys the API holds (None: ask per record)
        self.gate = gate if entity.name != "customer" else None
        # How created records are numbered (None: an action); the run's options alone when not given.
        self.numbering = numbering if numbering is not None else Numbering.for_run(entity, options)
        if self.numbering is not None:
            summary.numbering = self.numbering.describe()
        self.preflight = preflight  # each record checked against the company before it is sent
        self.lookups = Lookups(client, entity) if client is not None else None
        self.held_numbers: Held | None = None  # company numbering: the file's numbers the ledger holds
        self.seen = SeenIdentities()
        self.held = HeldUnits()  # resume: possible renames, answered at the end of the input
        self._stopping = False
        self._taking_back = False  # a stop for a failure: units with lines written ahead stay unsent
        self._no_answer_in_a_row = 0
        # Decided once, not per record:
        self._asks_first = options.mode == "upsert" and not entity.is_action  # POST or PUT?
        self._releases = options.behaviour.release and entity.releasable
        self._proofs = outcomes.proofs_for(entity)
        self._default_action: Action = "action" if entity.is_action else ("update" if options.mode == "update" else "create")
        # Started lines of queued units written together (see importer.load.ahead), where the
        # worker would write them without waiting for anything first.
        self._ahead = WriteAhead.for_run(entity, options, sink, client.base_url) if (
            client is not None and self.gate is None and not self._asks_first) else None

    async def read_held_numbers(self, input_path: str | None) -> None:
        """Company numbering: read once which of the file's numbers the ledger holds already, so
        a rerun creates nothing twice (:mod:`importer.load.held`). Before the first write."""
        numbering, client = self.numbering, self.client
        if (numbering is None or client is None or self.options.state.dry_run or numbering.field is None
                or numbering.with_number.mode != "company"):
            return
        self.held_numbers = await read_held(client, self.entity, numbering.field, input_path)
        self.summary.held_calls = self.held_numbers.calls

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

    def _customer_of(self, work: Work) -> str | None:
        customer = work.key if self.entity.is_action else unwrap_value((work.payload or {}).get("customerNumber"))
        return str(customer) if customer is not None else None

    # -- result lines --------------------------------------------------------------

    def _line(self, job: Job, outcome: OutcomeName, *, action: Action | None = None,
              error: str | None = None) -> Outcome:
        key, sent_key = (job.ledger_key, job.work.key) if job.ledger_key is not None else (job.work.key, None)
        return Outcome(job.work.records, job.entity, job.identity, job.fingerprint, key,
                       action or self._default_action, outcome, error=error, reference=job.reference,
                       sent_key=sent_key, duplicate_of=job.duplicate_of if outcome == "invalid" else None)

    def _final(self, job: Job, line: Outcome) -> None:
        if line.outcome in FAILURES and log.isEnabledFor(logging.WARNING):
            log.warning(
                "records %s (%s): %s: %s", line.records, line.key, line.outcome, line.error,
                extra={"records": line.records, "key": line.key, "entity": line.entity, "action": line.action,
                       "outcome": line.outcome, "error": line.error, "status": line.http_status},
            )
        if line.outcome == "created" and self.entity.is_document:  # what undo checks the ledger's by
            line.sent = document_sent(self.entity, job.work.payload)
        self.summary.finish(line.outcome, len(job.work.records))
        if line.sent_key is not None:
            self.summary.renumbered += 1
        if line.unknown:
            self.summary.unknown += len(job.work.records)
            self.summary.units_unknown += 1
        self.sink.final(line, job.work)
