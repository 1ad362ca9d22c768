"""What ``--resume`` does with a unit, by what the earlier results say of its identity.

    how = decide(job, state, options, entity, summary, sink)   # NEW, SEND, RECHECK, ... or CHANGED

``CHANGED``: a record created before whose content has changed, in a run that only
creates: the caller answers it ``skipped`` with :data:`CHANGED_WHY` and sends nothing.

``HOLD``: an auto-numbered document new by its identity (its documentKey) whose content
is that of a document created before under another: perhaps the same document, its
documentKey re-spelled (``0001`` saved as ``1``). Whether the earlier documentKey is
gone from the input is known only at its end, so the caller holds it until then
(:meth:`importer.load.state.ResultsState.renamed_from`): gone, it is ``renamed``, not
created again; still there, it is sent as new. Keyed records are never renamed: their
key is the API's, and another key is another record.

An earlier outcome that is *unknown* (a write that may have reached the API) is never
sent again blind: ``--resume`` and ``--retry-failed`` alike look it up first
(``RECHECK``) and send it only when the lookup proves it is not there.
"""

from __future__ import annotations

from typing import Final

from importer.entities import Entity
from importer.keys import same_key
from importer.load.identity import fingerprint_as_written
from importer.load.references import PREFIX
from importer.load.sink import NEW, PASS, RECHECK, RELEASE_ONLY, SEND, Job, ResultSink
from importer.load.state import FAILED, IN_FLIGHT, INVALID, QUEUED, SUCCEEDED, ResultsState
from importer.options import ImportOptions
from importer.summary import Summary
from importer.vocabulary import How

__all__ = ["decide", "CHANGED", "CHANGED_WHY", "HOLD", "RENAMED_AMONG"]

CHANGED: Final = "changed"
HOLD: Final = "hold"
RENAMED_AMONG = "doc:"  # the identities a record can be renamed among: the input's own documentKeys
CHANGED_WHY = "changed since it was created; run with --mode update or --mode upsert to send the change"


def decide(job: Job, state: ResultsState | None, options: ImportOptions, entity: Entity,
           summary: Summary, sink: ResultSink) -> How:
    """How to go on with ``job``; counts it in ``summary`` (new, changed, already done, ...)."""
    count = len(job.work.records)
    if state is None:
        return NEW
    earlier = state.get(job.identity)
    if earlier is None:
        if (job.work.error is None and job.identity.startswith(RENAMED_AMONG)
                and state.has_success(job.fingerprint, RENAMED_AMONG)):
            return HOLD  # counted new or renamed once the input is read
        summary.new += count
        return NEW
    state.mark_seen(job.identity)
    if earlier.reference is not None and earlier.reference.startswith(PREFIX):
        job.reference = earlier.reference  # what it was sent with: a lookup finds it by that
    if earlier.state == SUCCEEDED and earlier.key and not same_key(earlier.key, job.work.key):
        job.ledger_key = earlier.key  # updates and releases go to the key the ledger gave it
    # A line written from values spelled otherwise (1250.0, a midnight time) is the same record.
    same = earlier.fingerprint == job.fingerprint or earlier.fingerprint == fingerprint_as_written(job.work)
    retry = options.state.retry_failed
    if earlier.state == SUCCEEDED:
        if earlier.release_pending and retry and job.work.error is None:
            return RELEASE_ONLY
        if not same and job.work.error is None:
            summary.changed += count
            # update and upsert send the change as an update
            return SEND if options.mode != "create" else CHANGED
        summary.pass_done(count, failed=earlier.release_pending)
        if earlier.release_pending:
            sink.failure(job.work, f"release {earlier.release}: {earlier.error}")
        return PASS
    if earlier.state in (FAILED, INVALID):
        if not same:
            summary.changed += count  # fixed since: sent again
        elif earlier.unknown:
            return RECHECK  # settled: looked up, and sent only if it is not there
        elif not retry:
            summary.pass_done(count, failed=True)
            sink.failure(job.work, earlier.error)
            return PASS
        return RECHECK if earlier.unknown else SEND
    if earlier.state == IN_FLIGHT:
        return RECHECK
    if earlier.state == QUEUED and entity.is_action and same:
        # The API took the action and finishes it in the background; it has no read to
        # follow it up by, and sending it again would make a second dunning letter.
        summary.pass_done(count)
        return PASS
    return SEND  # skipped before: decided again
