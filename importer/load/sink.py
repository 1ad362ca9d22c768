"""Where a unit's lines go: the results file, the failed-records file, the caller's callback.

    sink = ResultSink(writer, on_outcome, failed)
    sink.started(job, "create", api)              # before the request: the write-ahead line
    sink.started_together(jobs, "create", api)    # or the write-ahead lines of several, in one write
    sink.final(outcome, job.work)                 # after: the outcome, and the failed file when it failed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from importer.errors import ImporterError, ResultsWriteError
from importer.load.failed import FailedRecords
from importer.load.results import FAILURES, Outcome, ResultsWriter, started_line
from importer.mapping import Work
from importer.vocabulary import Action, How

__all__ = ["Job", "ResultSink", "OutcomeCallback", "NEW", "SEND", "RECHECK", "RELEASE_ONLY", "PASS"]

OutcomeCallback = Callable[[dict[str, Any]], None]
# What a resume does with a unit (see importer.load.decide); NEW is a SEND of a unit
# no earlier line names.
NEW: Final = "new"
SEND: Final = "send"
RECHECK: Final = "recheck"
RELEASE_ONLY: Final = "release"
PASS: Final = "pass"


@dataclass(slots=True)
class Job:
    work: Work
    entity: str
    identity: str
    fingerprint: str
    how: How = SEND
    ahead: bool = False  # its started line may be written before its turn, with others queued
    started: bool = False  # its started line is written
    reference: str | None = None  # the document's externalReference, recorded in its started line
    ledger_key: str | None = None  # the key the ledger gave it in an earlier run, where not the file's
    duplicate_of: int | None = None  # the record of this input that had its identity first


class ResultSink:
    """Where result lines go: the results file, the failed-records file, the callback."""

    def __init__(self, writer: ResultsWriter | None, on_outcome: OutcomeCallback | None,
                 failed: FailedRecords | None = None) -> None:
        self.writer = writer
        self.on_outcome = on_outcome
        self.failed = failed

    def started(self, job: Job, action: Action, api: str) -> None:
        if self.writer is not None:
            work = job.work
            self.writer.started(work.records, job.entity, job.identity, job.fingerprint, work.key, action, api,
                                job.reference)
        job.started = True

    def started_together(self, jobs: list[Job], action: Action, api: str) -> None:
        """The started lines of ``jobs`` in one write: all of them, or (on ``ResultsWriteError``) none."""
        if self.writer is not None:
            self.writer.write_many([
                started_line(job.work.records, job.entity, job.identity, job.fingerprint, job.work.key, action, api,
                             job.reference)
                for job in jobs
            ])
        for job in jobs:
            job.started = True

    def unsent(self, job: Job) -> None:
        """Take back a ``started`` line: the request never went out."""
        if self.writer is not None:
            self.writer.write({"records": job.work.records, "entity": job.entity, "identity": job.identity,
                               "fingerprint": job.fingerprint, "key": job.work.key, "action": "create",
                               "outcome": "unsent"}, final=False)

    def final(self, line: Outcome, work: Work) -> None:
        if self.writer is not None:
            self.writer.write(line)
        if line.outcome in FAILURES and not line.unknown:  # an unknown is settled by --resume, not resent
            self.failure(work, line.error)
        if self.on_outcome is not None:
            self.on_outcome(line.as_dict())

    def failure(self, work: Work, error: str | None) -> None:
        """A unit whose latest outcome is a failure: into the failed-records file."""
        if self.failed is not None:
            try:
                self.failed.add(work.rows, error)
            except (OSError, ImporterError) as exc:  # a full disk, mid-run: stop cleanly, like the results file
                raise ResultsWriteError(str(exc)) from None
