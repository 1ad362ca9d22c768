"""Started lines written ahead of their turn: the lines of all queued units in one write.

A unit's ``started`` line must be in the results file before its request can go out
(:mod:`importer.load.results`). Written one by one, just before each request, that is
a system call per record. Instead, when a worker is about to send a unit, the lines of
every unit queued for the workers since the last such write go out together, in one
write (all or none), so none of them can be sent before its line is there.

A unit whose line is written counts as in flight: when a person stops the run, it is
sent like those already with a worker. When a failure stops it (the client halted, the
API stopped answering), a line written ahead of a request that never went out is taken
back with an ``unsent`` line; after a kill it makes ``--resume`` look the record up
before sending it. So only units that is right for may go ahead: new ones (no earlier
line names them, which an ``unsent`` line would make the results forget) that a resume
can find by their key (a create with a key) or send again to no harm (the PUT of a
record without lines).

    ahead = WriteAhead.for_run(entity, options, sink, api)   # None when no unit may go ahead
    ahead.queue(job)      # the producer, as it hands the job to the workers
    ahead.write(job)      # a worker, before sending job: its line and those queued with it
"""

from __future__ import annotations

from importer.entities import Entity
from importer.load.sink import NEW, Job, ResultSink
from importer.options import ImportOptions
from importer.vocabulary import Action

__all__ = ["WriteAhead"]


class WriteAhead:
    """The queued units whose started lines go in the next write."""

    def __init__(self, sink: ResultSink, action: Action, api: str, *, keyed: bool) -> None:
        self.sink = sink
        self.action = action  # the started lines' action: create or update, as the requests' own
        self.api = api
        self._keyed = keyed  # only units with a key may go ahead (creates: a resume looks them up by it)
        self._queued: list[Job] = []

    @classmethod
    def for_run(cls, entity: Entity, options: ImportOptions, sink: ResultSink, api: str) -> WriteAhead | None:
        """The write-ahead of a run whose every request's action is known when it is queued."""
        if sink.writer is None or options.state.dry_run or entity.is_action:
            return None
        if options.mode == "create":
            return cls(sink, "create", api, keyed=True)
        if options.mode == "update" and entity.line_field is None:  # a PUT without lines: idempotent
            return cls(sink, "update", api, keyed=False)
        return None  # upsert decides per record, after a lookup; documents' updates may insert lines

    def queue(self, job: Job) -> None:
        """Take ``job`` into the next write if it may go ahead (see the module's rules)."""
        if job.how == NEW and (job.work.key or not self._keyed):
            job.ahead = True
            self._queued.append(job)

    def drop(self, job: Job) -> None:
        """``job`` will not be sent (the run stops): its line, not yet written, never will be."""
        job.ahead = False

    def write(self, job: Job) -> None:
        """Before ``job`` goes out: its started line and those of the units queued with it.

        Raises ``ResultsWriteError`` having written none of them.
        """
        batch, self._queued = self._queued, []
        batch = [queued for queued in batch if queued.ahead and not queued.started]
        if not any(queued is job for queued in batch):
            batch.append(job)
        self.sink.started_together(batch, self.action, self.api)
