"""What an answer to a write must show to count as a success.

A proof is called with an answer that is not an error by its status (2xx or
3xx) and returns None when the answer proves the write, else the reason it does
not. What each proves follows the OpenAPI document: a create answers 201 and
names the new record (``Location``, or its key in the body); an update (PUT)
answers 204; an action answers 200 with a JSON result. Anything else, such as a
proxy's sign-in page answered 200, proves nothing.

    attempt = await client.request("POST", "/v1/customer", body, proof=proof.created("number"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import hdrs

from importer.client.answers import Response

__all__ = ["Proof", "created", "updated", "action"]

Proof = Callable[[Response], str | None]


def _answer(response: Response, expected: int) -> str | None:
    """A redirect, a body that is not JSON (a proxy's page says more than its status), or the wrong status."""
    if 300 <= response.status < 400:
        return response.redirect_reason()
    reason = response.not_json_reason()
    if reason is None and response.status != expected:
        reason = f"HTTP {response.status} where {expected} was expected"
    return reason


def _names_a_record(location: str | None) -> bool:
    """A Location whose last path segment is there (the record's key)."""
    if not location:
        return False
    last = location[-1]
    if last != "/" and not last.isspace() and "?" not in location and "#" not in location:
        return True  # the usual .../v1/customer/C1: a last segment is there
    if "?" in location or "#" in location:
        location = location.split("?", 1)[0].split("#", 1)[0]
    path = location.rstrip("/")
    return bool(path) and bool(path.rsplit("/", 1)[-1].strip())


def _present(value: Any) -> bool:
    if isinstance(value, dict):  # a {"value": x} wrapper
        value = value.get("value")
    return value is not None and not isinstance(value, dict | list) and str(value).strip() != ""


def created(key_field: str | None) -> Proof:
    """201, a body that is empty or JSON, and a Location (or ``key_field`` in the body) naming the record."""

    def proof(response: Response) -> str | None:
        if response.status == 201 and not response.body and _names_a_record(response.headers.get(hdrs.LOCATION)):
            return None  # the API's own answer, the common case
        reason = _answer(response, 201)
        if reason is not None:
            return reason
        if _names_a_record(response.location):
            return None
        if key_field and response.body:
            data = response.json()
            if isinstance(data, dict) and _present(data.get(key_field)):
                return None
        return "no Location header or key naming the record"

    return proof


def updated() -> Proof:
    """204 (the document's answer to every PUT), with an empty or JSON body."""

    def proof(response: Response) -> str | None:
        return _answer(response, 204)

    return proof


def action() -> Proof:
    """200 with a JSON (or empty) body: ``actionResult`` is the caller's to read."""

    def proof(response: Response) -> str | None:
        return _answer(response, 200)

    return proof
