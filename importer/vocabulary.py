"""The words the importer's files, summaries and states are made of: each set of values once.

Outcomes, actions, load states, modes and the like are plain strings on disk (the
results file, the summary JSON, a verify report) and stay so. Here each set is a
``Literal`` type, for the annotations that carry one, and a tuple of its values, for
the checks made at run time; the two cannot drift apart, since the tuple is read off
the type. Nothing here imports anything of the importer's: every stage may use it.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, TypeGuard, get_args

__all__ = [
    "ReleaseOutcome", "Mode", "MODES", "OutcomeName", "OUTCOMES", "SUCCESS", "EventName", "EVENTS", "Action", "ACTIONS",
    "ActionOutcome", "ACTION_OUTCOMES", "LoadState", "LOAD_STATES", "How", "HOWS",
    "VerifyStatus", "VERIFY_STATUSES", "CompanyState", "COMPANY_STATES", "SaftDocuments", "SAFT_DOCUMENTS",
    "NumberingMode", "NUMBERING_MODES", "is_outcome", "is_event", "DEFAULT_PROGRESS_EVERY", "DEFAULT_METRICS_EVERY",
]

# What a run does with a record that names a key: POST it, PUT it, or PUT or POST by what the API holds.
Mode = Literal["create", "update", "upsert"]
MODES: tuple[Mode, ...] = get_args(Mode)

# A final results line's ``outcome``. The first four are successes.
OutcomeName = Literal["created", "updated", "done", "renamed", "queued", "failed", "invalid", "skipped", "valid"]
OUTCOMES: tuple[OutcomeName, ...] = get_args(OutcomeName)
SUCCESS: frozenset[OutcomeName] = frozenset(OUTCOMES[:4])

# Lines that are events, not outcomes: sent, and (after a systemic stop) taken back unsent.
EventName = Literal["started", "unsent"]
EVENTS: frozenset[EventName] = frozenset(get_args(EventName))

# A results line's ``action``: the call a unit is (or would be) sent as.
Action = Literal["create", "update", "action", "release"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# What an action (a release, a dunning letter) came to: an answer's ``actionResult``, read.
ActionOutcome = Literal["done", "queued", "failed"]
ACTION_OUTCOMES: tuple[ActionOutcome, ...] = get_args(ActionOutcome)

# The state an identity was left in by earlier runs (importer.load.state); "started": in flight.
LoadState = Literal["success", "failed", "invalid", "started", "skipped", "queued"]
LOAD_STATES: tuple[LoadState, ...] = get_args(LoadState)

# What a run does with a unit (importer.load.decide); "new" is a "send" no earlier line names,
# "changed" a create-only run's changed record (skipped), "hold" a document held to the input's end.
How = Literal["new", "send", "recheck", "release", "pass", "changed", "hold"]
HOWS: tuple[How, ...] = get_args(How)

# A verify report line's ``status``.
VerifyStatus = Literal["ok", "missing", "different", "invalid", "error"]
VERIFY_STATUSES: tuple[VerifyStatus, ...] = get_args(VerifyStatus)

# A fleet company's state: waiting, running, then one of the last five.
CompanyState = Literal["waiting", "running", "done", "refused", "failed", "stopped", "not started"]
COMPANY_STATES: tuple[CompanyState, ...] = get_args(CompanyState)

# What a SAF-T file's documents are sent as (--saft-documents).
SaftDocuments = Literal["balances", "invoices"]
SAFT_DOCUMENTS: tuple[SaftDocuments, ...] = get_args(SaftDocuments)

# How a created record is numbered (--numbering): by the company's series (no number sent),
# by the file's number on a manual series, or by the file's number on an automatic series.
NumberingMode = Literal["company", "manual", "override"]
NUMBERING_MODES: tuple[NumberingMode, ...] = get_args(NumberingMode)


def is_outcome(value: object) -> TypeGuard[OutcomeName]:
    """``value`` is one of :data:`OUTCOMES` (as a results line read back must say)."""
    return value in OUTCOMES


def is_event(value: object) -> TypeGuard[EventName]:
    """``value`` is one of :data:`EVENTS`."""
    return value in EVENTS


class ReleaseOutcome(TypedDict):
    """A ``--release``'s own outcome: the ``release`` of a results line."""

    outcome: ActionOutcome
    http_status: int | None
    error: str | None
    already_released: NotRequired[bool]  # the ledger showed it released before this release was sent
    status: NotRequired[str]  # the document's status then

# An unattended run's reports (importer.monitor), here so that --help prints them without the monitor.
DEFAULT_PROGRESS_EVERY = 60.0  # seconds between progress events when JSON logs are on and nothing is said
DEFAULT_METRICS_EVERY = 15.0  # seconds between writes of the metrics file
