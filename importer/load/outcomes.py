"""From what a request came back with to the outcome of its results line.

A success is what the API proved (the client checks each answer against the
proof of its kind of call: a create's 201 and key, an action's 200); a write that
may have reached the API without a proof is ``failed`` with ``unknown: true``,
and a later ``--resume`` looks it up before sending it again. ``waited`` states how long
the record waited for a write whose answer was lost to land, before a lookup proved it
there (``recovered``) or absent.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from importer.client import proof
from importer.client.http import Attempt, Response
from importer.entities import Entity
from importer.keys import decode_key, encode_key, same_key
from importer.load.actions import action_result, failure_of
from importer.load.calls import Call
from importer.load.results import Outcome
from importer.schema import unwrap_value

__all__ = ["proofs_for", "outcome_of"]

_UNKNOWN = "outcome unknown"


def proofs_for(entity: Entity) -> dict[str, Callable[[Response], str | None]]:
    """The proof an answer must give to count as a success, by the call's action (made once per run)."""
    return {"create": proof.created(entity.key_field), "update": proof.updated(), "action": proof.action()}


def outcome_of(line: Outcome, attempt: Attempt, call: Call, entity: Entity, base_url: str) -> Outcome:
    """Fill ``line`` (made ``failed``) from the attempt at ``call``."""
    response = attempt.response
    line.attempts = attempt.attempts
    line.throttled = attempt.throttled
    if attempt.waited:
        line.waited = round(attempt.waited, 2)
    if response is not None:
        line.http_status = response.status
    error = failure_of(attempt)
    if error is not None:
        line.error = error
        line.unknown = _UNKNOWN in error
        line.url = getattr(attempt, "url", None) or f"{base_url}{call.path}"
        return line
    assert response is not None
    if attempt.found_by_lookup:  # an ambiguous failure had gone through
        line.outcome, line.recovered = "created", True
        _ledger_key(line, _key_in(response, entity.key_field))
        if line.key:
            line.location = f"{base_url}{entity.path}/{encode_key(line.key)}"
    elif call.action == "create":
        line.outcome, line.location = "created", response.location
        _ledger_key(line, _key_in(response, entity.key_field) or _key_of_location(response.location))
    elif call.action == "update":
        line.outcome = "updated"
    else:
        result = action_result(response)
        line.outcome, line.error = result.outcome, result.error
    return line


def _ledger_key(line: Outcome, found: str | None) -> None:
    """The key the ledger gave the record is the line's key; the file's, where it differs, is kept
    as ``sent_key`` (a company that numbers its own documents replaces the number sent)."""
    if found is None or not found.strip() or found == line.key:
        return
    if line.key is not None and not same_key(found, line.key):
        line.sent_key = line.key
    line.key = found


def _key_of_location(location: str | None) -> str | None:
    """The key a Location names: its last path segment, percent- and ``b64(...)``-decoded."""
    if not location:
        return None
    segment = location.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        return decode_key(unquote(segment, errors="strict")) or None
    except (ValueError, UnicodeDecodeError):
        return None


def _key_in(response: Response, key_field: str | None) -> str | None:
    data = response.json()
    if isinstance(data, dict) and key_field:
        value = unwrap_value(data.get(key_field))
        return str(value) if value is not None else None
    return None
