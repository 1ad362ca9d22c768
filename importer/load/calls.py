"""From a unit of work to the HTTP request that carries it: one place for every path.

    call = build_call(entity, work, "create")
    call.method, call.path, call.body        # "POST", "/v1/customer", b'{"number": ...}'
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from importer.entities import Entity
from importer.keys import encode_key
from importer.mapping import Work

__all__ = ["Call", "build_call", "item_path", "release_path"]


@dataclass(frozen=True, slots=True)
class Call:
    """One request a unit of work turns into."""

    action: str  # "create" | "update" | "action": the results line's action
    method: str
    path: str
    body: bytes
    idempotent: bool  # sending it twice does no harm


def item_path(entity: Entity, key: str) -> str:
    """The path of one record: ``/v1/customer/C1`` (keys that are not URL-safe: ``b64(...)``)."""
    return f"{entity.path}/{encode_key(key)}"


def release_path(entity: Entity, key: str) -> str:
    return f"{item_path(entity, key)}/action/release"


def build_call(entity: Entity, work: Work, mode: str) -> Call:
    """The request for ``work`` in ``mode`` ("create" or "update"; an action entity ignores it).

    The payload goes out as it is: anything the importer adds of its own (an
    ``externalReference``) is put in by the caller first.
    """
    payload = work.payload
    assert payload is not None, "invalid work is never sent"
    if entity.is_action:
        path = f"{item_path(entity, work.key or '')}/action/{entity.action}"
        return Call("action", "POST", path, orjson.dumps(payload), False)
    if mode == "update":
        body = {k: v for k, v in payload.items() if k != entity.key_field}
        lines = body.get(entity.line_field) if entity.line_field else None
        inserts = any(line.get("operation") == "Insert" for line in lines or ())
        return Call("update", "PUT", item_path(entity, work.key or ""), orjson.dumps(body), not inserts)
    return Call("create", "POST", entity.path, orjson.dumps(payload), False)
