"""Actions (release, createDunningLetter): done only when the API says done.

An action answers ``{actionId, actionResult, errorInfo}``; ``actionResult`` is one of
Queued, InProcess, Failed, Done. Queued and InProcess are not done: a release is
followed up by reading the document's status a few times (bounded); whatever is
still not released then, and a dunning letter still queued, is recorded
``queued``, never ``done``.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from importer.client.http import ApiClient, Attempt, Response
from importer.entities import Entity
from importer.load.calls import item_path, release_path
from importer.schema import unwrap_value

__all__ = ["ActionResult", "action_result", "failure_of", "release", "FOLLOW_UP_DELAYS"]

FOLLOW_UP_DELAYS = (0.5, 1.0, 2.0, 4.0)  # seconds between reads of a queued release's document
RELEASED = frozenset({"Open", "Closed", "PendingPrint", "PendingEmail"})  # statuses after a release
_STILL = frozenset({"Queued", "InProcess"})


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: str  # "done" | "queued" | "failed"
    error: str | None = None


def action_result(response: Response) -> ActionResult:
    """What a 2xx action answer says happened."""
    data = response.json()
    result = data.get("actionResult") if isinstance(data, dict) else None
    if result == "Failed":
        return ActionResult("failed", str(data.get("errorInfo") or "the action failed"))  # type: ignore[union-attr]
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


async def release(client: ApiClient, entity: Entity, key: str | None, *, background: bool = False) -> dict:
    """Release one document; the release's own outcome, for the results line."""
    if not key:
        return {"outcome": "failed", "http_status": None, "error": "no document number to release"}
    attempt = await client.request("POST", release_path(entity, key), b"{}", background=background)
    response = attempt.response
    status = response.status if response is not None else None
    error = failure_of(attempt)
    if error is not None:
        return {"outcome": "failed", "http_status": status, "error": error}
    result = action_result(response)  # type: ignore[arg-type]
    if result.outcome == "queued":
        result = await _follow_up(client, entity, key, result)
    return {"outcome": result.outcome, "http_status": status, "error": result.error}


async def _follow_up(client: ApiClient, entity: Entity, key: str, queued: ActionResult) -> ActionResult:
    """Read the document until its status shows the release, a bounded number of times."""
    status = None
    for delay in FOLLOW_UP_DELAYS:
        await anyio.sleep(delay)
        attempt = await client.request("GET", item_path(entity, key))
        response = attempt.response
        if response is None or attempt.error is not None or response.status != 200:
            continue
        data = response.json()
        status = unwrap_value(data.get("status")) if isinstance(data, dict) else None
        if status in RELEASED:
            return ActionResult("done")
    seen = f"; the document's status is still {status}" if status else ""
    return ActionResult("queued", f"{queued.error}{seen}; check it in Visma.net, or rerun with --retry-failed")
