"""From a unit of work to the HTTP request that carries it: one place for every path.

    call = build_call(entity, work, "create")
    call.method, call.path, call.body        # "POST", "/v1/customer", b'{"number": ...}'
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from importer.entities import Entity
from importer.keys import encode_key
from importer.mapping import Work
from importer.vocabulary import Action, Mode

__all__ = ["Call", "build_call", "with_operations", "item_path", "release_path"]


class Call(NamedTuple):
    """One request a unit of work turns into (a tuple: made once per record, cheaply)."""

    action: Action  # "create" | "update" | "action": the results line's action
    method: str
    path: str
    body: bytes
    idempotent: bool  # sending it twice does no harm
    # Made from the document as the ledger holds it now (importer.load.doclines): it may go
    # out after an earlier attempt of unknown outcome, since what that did is already read.
    fresh: bool = False


_ONCE = frozenset({"Insert", "Delete"})  # line operations that must not be sent twice


def item_path(entity: Entity, key: str) -> str:
    """The path of one record: ``/v1/customer/C1`` (keys that are not URL-safe: ``b64(...)``)."""
    return f"{entity.path}/{encode_key(key)}"


def release_path(entity: Entity, key: str) -> str:
    return f"{item_path(entity, key)}/action/release"


def with_operations(lines: list[Any], mode: Mode) -> list[Any]:
    """Document lines with every operation said: a line the mapper left without one names
    its ``lineNumber``, so it is an Update of that line when the document is updated, and an
    Insert when it is created (a new document has no line to update; the API numbers
    inserted lines itself, so the sent number does no harm and is kept as written)."""
    operation = "Update" if mode == "update" else "Insert"
    return [line if not isinstance(line, dict) or "operation" in line else {"operation": operation, **line}
            for line in lines]


def build_call(entity: Entity, work: Work, mode: Mode, lines: list[Any] | None = None) -> Call:
    """The request for ``work`` in ``mode`` ("create" or "update"; an action entity ignores it).

    The payload goes out as it is, but for the operation of lines that name their
    ``lineNumber`` (see :func:`with_operations`): anything the importer adds of its own
    (an ``externalReference``) is put in by the caller first. ``lines``: an update's
    lines as matched to the ledger's (:func:`importer.load.doclines.plan_update`), sent
    instead of the payload's.
    """
    payload = work.payload
    assert payload is not None, "invalid work is never sent"
    if entity.is_action:
        path = f"{item_path(entity, work.key or '')}/action/{entity.action}"
        return Call("action", "POST", path, orjson.dumps(payload), False)
    body = payload
    fresh = lines is not None and mode == "update"
    if fresh:
        body = {**payload, entity.line_field: lines}  # type: ignore[dict-item]
    else:
        lines = payload.get(entity.line_field) if entity.line_field else None
        if isinstance(lines, list) and any(isinstance(line, dict) and "operation" not in line for line in lines):
            lines = with_operations(lines, mode)
            body = {**payload, entity.line_field: lines}  # type: ignore[dict-item]
    if mode == "update":
        body = {k: v for k, v in body.items() if k != entity.key_field}
        # An Insert sent twice adds the line twice, a Delete sent twice is refused; an Update is safe.
        once = any(isinstance(line, dict) and line.get("operation") in _ONCE for line in lines or ())
        return Call("update", "PUT", item_path(entity, work.key or ""), orjson.dumps(body), not once, fresh)
    return Call("create", "POST", entity.create_path or entity.path, orjson.dumps(body), False)
