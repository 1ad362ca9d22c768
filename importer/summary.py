"""The numbers a run ends with: outcomes, calls, speed. Also what the progress display reads.

``unknown`` counts records whose write may or may not have reached the API (their
``failed`` line says ``unknown: true``). They are kept out of the failed-records file,
which would create them a second time; :data:`SETTLE_UNKNOWN` says how to settle them:
a ``--resume`` of the same input looks each one up and sends only those not there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from importer.runinfo import run_id, utc
from importer.version import __version__
from importer.vocabulary import OUTCOMES, SUCCESS, Mode, ReleaseOutcome

__all__ = ["Summary", "SETTLE_UNKNOWN", "counted"]

SETTLE_UNKNOWN = ("may or may not have reached the API, and are not in the failed-records file; "
                  "run the same import again with --resume: each is looked up and sent only if it is not there")


def counted(units: int, rows: int, documents: bool, noun: str = "") -> str:
    """``1,500 documents (4,445 rows)``, or ``3,000 records``: how the summary, the report, the
    plan and fleet tables and verify count (``documents``: the units are documents of rows).

    ``noun``: what follows the number (``documents``, ``created``); none when the caller says it.
    """
    text = f"{units:,}{' ' + noun if noun else ''}"
    return f"{text} ({rows:,} rows)" if documents and units != rows else text


@dataclass
class Summary:
    entity: str
    mode: Mode
    input: str
    results_path: str | None
    dry_run: bool = False
    failed_path: str | None = None  # the failed-records file, when anything failed
    records: int = 0  # records read from the input
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))  # per record
    already_done: int = 0  # records a --resume found finished and did not send
    earlier_failed: int = 0  # of those, records whose earlier outcome was failed or invalid
    not_processed: int = 0  # records a stop left for --resume
    # The same counts in units: a customer, a whole document (all its rows), an action. For a
    # document entity these are what a consultant counts (1,500 invoices, not their 4,445 rows).
    units: int = 0  # units read from the input
    unit_outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    units_already_done: int = 0
    units_not_processed: int = 0
    units_unknown: int = 0
    unrecorded: int = 0  # records sent whose outcome could not be written (resume looks them up)
    unknown: int = 0  # of the failed, records that may have reached the API (resume looks them up)
    # What --resume found changed in the input since the results were written:
    new: int = 0  # records whose identity the results file did not have
    changed: int = 0  # records whose identity it had, with other content
    gone: int = 0  # identities of the results file that the input no longer has
    by_content: int = 0  # records with no key: known by their content alone
    renumbered: int = 0  # documents the ledger keeps under another number than the file's
    numbering: str | None = None  # how created records are numbered, and why (importer.load.numbering)
    held: int = 0  # company numbering: records whose number the ledger held already (importer.load.held)
    held_calls: int = 0  # calls spent reading which of the file's numbers the ledger holds
    # The preflight (importer.load.preflight): what the records were checked against, the calls
    # that cost (reading the company, listing the ledger's customers; not in ``calls``), and the
    # records it refused before sending (each a call saved at least).
    preflight: str | None = None
    preflight_calls: int = 0
    preflight_refused: int = 0
    calls: int = 0  # HTTP calls to the API, lookups and token calls included
    token_calls: int = 0
    retries: int = 0
    throttled: int = 0  # 429 answers
    lookups: int = 0
    released: int = 0  # documents released (--release)
    release_failed: int = 0
    release_queued: int = 0  # releases the API had not finished when last asked
    api_down: bool = False  # stopped because nothing answered any more
    halted: bool = False  # stopped on a failure no record could get past (token, base URL, ...)
    interrupted: bool = False
    error: str | None = None  # why the run ended early, if it did
    started_at: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    # What names the run for whoever watches it unattended (importer.runinfo): its id (a plan's
    # steps and a fleet's companies share their command's), wall-clock start and finish, where it
    # sent (the base URL without user info or query, the company: never a secret), the input's
    # fingerprint, and when a record last succeeded.
    run_id: str = field(default_factory=run_id)
    started_wall: float = field(default_factory=time.time)
    finished_wall: float | None = None
    base_url: str | None = None
    company: str | None = None  # the fleet company, the tenant, or the company checked against
    input_fingerprint: dict[str, Any] | None = None
    window_waits: int = 0  # waits of a second or more for the rate-limit window or a 429's Retry-After
    last_success: float | None = None  # epoch seconds

    sent_units: int = 0  # units that went to the API (invalid and dry-run ones do not)

    @property
    def calls_per_record(self) -> float:
        """HTTP calls per customer, document or action sent (a plain create costs 1.0)."""
        return self.calls / self.sent_units if self.sent_units else 0.0

    # -- counting, a unit of ``count`` records at a time ---------------------------------

    def read(self, count: int) -> None:
        """A unit of ``count`` records read from the input."""
        self.records += count
        self.units += 1

    def finish(self, outcome: str, count: int) -> None:
        """A unit of ``count`` records got its final outcome in this run."""
        self.outcomes[outcome] += count
        self.unit_outcomes[outcome] += 1
        if outcome in SUCCESS:
            self.last_success = time.time()

    def pass_done(self, count: int, *, failed: bool = False) -> None:
        """A unit a ``--resume`` found finished (``failed``: its earlier outcome was a failure) and does not send."""
        self.already_done += count
        self.units_already_done += 1
        if failed:
            self.earlier_failed += count

    def leave(self, count: int) -> None:
        """A unit a stop leaves for ``--resume``."""
        self.not_processed += count
        self.units_not_processed += 1

    @property
    def units_done(self) -> int:
        """Units with a final outcome in this run."""
        return sum(self.unit_outcomes.values())

    @property
    def done(self) -> int:
        """Records with a final outcome in this run."""
        return sum(self.outcomes.values())

    @property
    def units_succeeded(self) -> int:
        """Customers, documents or actions created, updated or done in this run."""
        return sum(self.unit_outcomes[o] for o in SUCCESS)

    @property
    def succeeded(self) -> int:
        """Records created, updated or done (an action run) in this run."""
        return sum(self.outcomes[o] for o in SUCCESS)

    @property
    def records_per_second(self) -> float:
        """Final outcomes per second, over the whole run (so far, while it runs)."""
        elapsed = self.elapsed or (time.monotonic() - self.started_at)
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and self.error is None
            and self.unrecorded == 0
            # "queued": an action the API accepted and finishes in the background (a dunning
            # letter has no read to confirm it by); not a failure, and never sent again.
            and all(self.outcomes[o] == 0 for o in ("failed", "invalid", "skipped"))
            and self.earlier_failed == 0
            and self.release_failed == 0
            and self.release_queued == 0
        )

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.halted and self.succeeded == 0 and self.already_done == 0:
            return 2  # nothing went in: the run, not a record, was wrong
        return 0 if self.ok else 1

    def count_release(self, result: ReleaseOutcome) -> None:
        """Count a ``--release``'s own outcome (``{"outcome": "done" | "queued" | "failed", ...}``)."""
        if result["outcome"] == "done":
            self.released += 1
        elif result["outcome"] == "queued":
            self.release_queued += 1
        else:
            self.release_failed += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "version": __version__,
            "started": utc(self.started_wall),
            "finished": utc(self.finished_wall),
            "target": {"base_url": self.base_url, "company": self.company},
            "input_fingerprint": self.input_fingerprint,
            "entity": self.entity,
            "mode": self.mode,
            "input": self.input,
            "results": self.results_path,
            "failed_records": self.failed_path,
            "dry_run": self.dry_run,
            "records": self.records,
            "outcomes": dict(self.outcomes),
            "already_done": self.already_done,
            "earlier_failed": self.earlier_failed,
            "not_processed": self.not_processed,
            "units": self.units,
            "unit_outcomes": dict(self.unit_outcomes),
            "units_already_done": self.units_already_done,
            "units_not_processed": self.units_not_processed,
            "units_unknown": self.units_unknown,
            "unrecorded": self.unrecorded,
            "unknown": self.unknown,
            "new": self.new,
            "changed": self.changed,
            "no_longer_in_input": self.gone,
            "by_content": self.by_content,
            "renumbered": self.renumbered,
            "numbering": self.numbering,
            "held": self.held,
            "held_calls": self.held_calls,
            "preflight": self.preflight,
            "preflight_calls": self.preflight_calls,
            "calls_saved_by_preflight": self.preflight_refused,
            "calls": self.calls,
            "token_calls": self.token_calls,
            "calls_per_record": round(self.calls_per_record, 4),
            "retries": self.retries,
            "throttled": self.throttled,
            "window_waits": self.window_waits,
            "last_success": utc(self.last_success),
            "lookups": self.lookups,
            "released": self.released,
            "release_failed": self.release_failed,
            "release_queued": self.release_queued,
            "elapsed_s": round(self.elapsed, 3),
            "records_per_s": round(self.records_per_second, 1),
            "interrupted": self.interrupted,
            "halted": self.halted,
            "error": self.error,
            "exit_code": self.exit_code,
        }
