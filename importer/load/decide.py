"""What ``--resume`` does with a unit, by what the earlier results say of its identity.

    how = decide(job, state, options, entity, summary, sink)   # NEW, SEND, RECHECK, ... or CHANGED

``CHANGED``: a record created before whose content has changed, in a run that only
creates: the caller answers it ``skipped`` with :data:`CHANGED_WHY` and sends nothing.
"""

from __future__ import annotations

from importer.entities import Entity
from importer.load.references import PREFIX
from importer.load.sink import NEW, PASS, RECHECK, RELEASE_ONLY, SEND, Job, ResultSink
from importer.load.state import FAILED, IN_FLIGHT, INVALID, QUEUED, SUCCEEDED, ResultsState
from importer.options import ImportOptions
from importer.summary import Summary

__all__ = ["decide", "CHANGED", "CHANGED_WHY"]

CHANGED = "changed"
CHANGED_WHY = "changed since it was created; run with --mode update or --mode upsert to send the change"


def decide(job: Job, state: ResultsState | None, options: ImportOptions, entity: Entity,
           summary: Summary, sink: ResultSink) -> str:
    """How to go on with ``job``; counts it in ``summary`` (new, changed, already done, ...)."""
    count = len(job.work.records)
    if state is None:
        return NEW
    earlier = state.get(job.identity)
    if earlier is None:
        summary.new += count
        return NEW
    state.mark_seen(job.identity)
    if earlier.reference is not None and earlier.reference.startswith(PREFIX):
        job.reference = earlier.reference  # what it was sent with: a lookup finds it by that
    if earlier.state == SUCCEEDED and earlier.key and earlier.key != job.work.key:
        job.ledger_key = earlier.key  # updates and releases go to the key the ledger gave it
    same = earlier.fingerprint == job.fingerprint
    retry = options.retry_failed
    if earlier.state == SUCCEEDED:
        if earlier.release_pending and retry and job.work.error is None:
            return RELEASE_ONLY
        if not same and job.work.error is None:
            summary.changed += count
            # update and upsert send the change as an update
            return SEND if options.mode != "create" else CHANGED
        summary.already_done += count
        if earlier.release_pending:
            summary.earlier_failed += count
            sink.failure(job.work, f"release {earlier.release}: {earlier.error}")
        return PASS
    if earlier.state in (FAILED, INVALID):
        if not same:
            summary.changed += count  # fixed since: sent again
        elif not retry:
            summary.already_done += count
            summary.earlier_failed += count
            sink.failure(job.work, earlier.error)
            return PASS
        return RECHECK if earlier.unknown else SEND
    if earlier.state == IN_FLIGHT:
        return RECHECK
    if earlier.state == QUEUED and entity.is_action and same:
        # The API took the action and finishes it in the background; it has no read to
        # follow it up by, and sending it again would make a second dunning letter.
        summary.already_done += count
        return PASS
    return SEND  # skipped before: decided again
