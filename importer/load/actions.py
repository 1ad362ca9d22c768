"""Actions (release, createDunningLetter): done only when the API says done.

An action answers ``{actionId, actionResult, errorInfo}``; ``actionResult`` is one of
Queued, InProcess, Failed, Done. Queued and InProcess are not done: a release is
followed up by reading the document's status a few times (bounded); whatever is
still not released then, and a dunning letter still queued, is recorded
``queued``, never ``done``.

A release is done when the ledger shows the document released, whoever released it:
a document read just before (a record found again on ``--resume`` after a kill, or
read first when only its release is sent again) whose status is a released one is not
released a second time, and a release the API refuses or leaves unanswered is followed
by one read of the document, so "already released" is ``done``, not ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from importer.client.http import ApiClient, Attempt, Response
from importer.entities import Entity
from importer.load.calls import item_path, release_path
from importer.schema import unwrap_value
from importer.vocabulary import ActionOutcome, ReleaseOutcome

__all__ = ["ActionResult", "ReleaseOutcome", "action_result", "failure_of", "release", "status_of", "FOLLOW_UP_DELAYS", "RELEASED"]

FOLLOW_UP_DELAYS = (0.5, 1.0, 2.0, 4.0)  # seconds between reads of a queued release's document
RELEASED = frozenset({"Open", "Closed", "PendingPrint", "PendingEmail"})  # statuses after a release
_STILL = frozenset({"Queued", "InProcess"})


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: ActionOutcome
    error: str | None = None


def action_result(response: Response) -> ActionResult:
    """What a 2xx action answer says happened."""
    data = response.json()
    result = data.get("actionResult") if isinstance(data, dict) else None
    if result == "Failed":
        return ActionResult("failed", str(data.get("errorInfo") or "the action failed"))
    if result in _STILL:
        return ActionResult("queued", f"the API answered actionResult {result}: not done yet")
    if result not in (None, "Done"):
        return ActionResult("queued", f"the API answered actionResult {result!r}, which is not Done")
    return ActionResult("done")


def failure_of(attempt: Attempt) -> str | None:
    """Why a request failed (no answer, or a non-2xx one); None if it succeeded."""
    response = attempt.response
    if attempt.found_by_lookup:
        return None
    if attempt.error is not None or response is None:
        return attempt.error or "no answer"
    if not 200 <= response.status < 300:
        return response.error_text()
    return None


async def release(client: ApiClient, entity: Entity, key: str | None, *, background: bool = False,
                  known: Response | None = None, read_first: bool = False) -> ReleaseOutcome:
    """Release one document; the release's own outcome, for the results line.

    ``known``: the document as just read; ``read_first``: read it before the release
    (when an earlier run may have released it). Either way a released one is not sent.
    """
    if not key:
        return {"outcome": "failed", "http_status": None, "error": "no document number to release"}
    if known is None and read_first:
        known = await _read(client, entity, key)
    if (before := status_of(known)) in RELEASED:
        return _already(before, None)
    attempt = await client.request("POST", release_path(entity, key), b"{}", background=background)
    response = attempt.response
    status = response.status if response is not None else None
    error = failure_of(attempt)
    if error is not None:
        if attempt.not_sent:
            return {"outcome": "failed", "http_status": status, "error": error}
        now = status_of(await _read(client, entity, key))  # refused, or no answer: what does the ledger say?
        if now in RELEASED:
            return _already(now, status)
        seen = f"; the document's status is {now}" if now else ""
        return {"outcome": "failed", "http_status": status, "error": f"{error}{seen}"}
    if response is None:  # found by a lookup, with no answer of its own to read
        return {"outcome": "failed", "http_status": None, "error": "the release was not answered"}
    result = action_result(response)
    if result.outcome == "queued":
        result = await _follow_up(client, entity, key, result)
    return {"outcome": result.outcome, "http_status": status, "error": result.error}


def status_of(document: Response | None) -> str | None:
    """A document answer's ``status``, or None."""
    data = document.json() if document is not None else None
    status = unwrap_value(data.get("status")) if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


def _already(status: str, http_status: int | None) -> ReleaseOutcome:
    """The release of a document the ledger shows released already: done, and said so."""
    return {"outcome": "done", "http_status": http_status, "error": None, "already_released": True,
            "status": status}


async def _read(client: ApiClient, entity: Entity, key: str) -> Response | None:
    """The document (a 200 answer), or None when it cannot be read."""
    attempt = await client.request("GET", item_path(entity, key))
    response = attempt.response
    if response is None or attempt.error is not None or response.status != 200:
        return None
    return response


async def _follow_up(client: ApiClient, entity: Entity, key: str, queued: ActionResult) -> ActionResult:
    """Read the document until its status shows the release, a bounded number of times."""
    status = None
    for delay in FOLLOW_UP_DELAYS:
        await anyio.sleep(delay)
        response = await _read(client, entity, key)
        if response is None:
            continue
        status = status_of(response)
        if status in RELEASED:
            return ActionResult("done")
    seen = f"; the document's status is still {status}" if status else ""
    return ActionResult("queued", f"{queued.error}{seen}; check it in Visma.net, or rerun with --retry-failed")
