"""Which part of the sandbox answers a /v1 or /v2 request: the dispatch tables, built once.

``Routes.target`` takes a request's path apart (the collection, a key, an action) and gives
either an answer it has at once (balances and open items, the company's reference data) or
the ledger's method that runs it, with its arguments and body, for the application to run
now or queue for the background API. Paths are matched without case; keys are kept as sent
(percent- and ``b64(...)``-decoded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from importer.keys import decode_key
from importer.sandbox import receivables
from importer.sandbox.answers import Answer, ApiError, ipp_error, message_error
from importer.sandbox.guard import Guard
from importer.sandbox.ledger import Ledger, Rules, not_found
from importer.sandbox.reference import References

__all__ = ["Routes", "method_not_allowed", "path_key"]

_V2_CREATES = ("customerinvoice", "customercreditnote", "customerdebitnote")
# The documents the API deletes (unreleased only): its DELETE paths, lower-cased.
_DELETABLE = ("customerinvoice", "customercreditnote")

Target = Answer | tuple[Callable[..., Answer], tuple[Any, ...], bytes]


def method_not_allowed(method: str) -> ApiError:
    return message_error(405, f"The requested resource does not support http method '{method}'.")


def path_key(segment: str) -> str:
    """A key from its raw path segment: percent-decoded, then ``b64(...)``-decoded."""
    if "%" in segment:
        segment = unquote(segment)
    if segment.startswith("b64("):
        try:
            return decode_key(segment)
        except (ValueError, UnicodeDecodeError):
            raise ipp_error(f"The key '{segment}' is not valid base64url.") from None
    return segment


class Routes:
    """The dispatch tables of one sandbox, keyed by the lower-cased path segments."""

    def __init__(self, rules: Mapping[str, Rules], references: References) -> None:
        self.references = references
        self._collections: dict[str, Rules] = {}
        self._actions: dict[tuple[str, str], tuple[str, Rules]] = {}
        for entity_rules in rules.values():
            e = entity_rules.entity
            segment = e.path.rsplit("/", 1)[1].lower()
            if e.is_action:  # an action entity's path is its parent collection's
                self._actions[(segment, (e.action or "").lower())] = (e.name, entity_rules)
                continue
            self._collections[segment] = entity_rules
            if e.releasable:
                self._actions[(segment, "release")] = ("release", entity_rules)

    async def target(
        self, request: web.Request, parts: list[str], method: str, ledger: Ledger, base: str, guard: Guard,
    ) -> Target:
        """What answers ``parts`` (the path split on ``/``, no trailing empty part)."""
        path = request.rel_url.raw_path
        n = len(parts)
        segment = parts[2].lower()
        v2 = parts[1].lower() == "v2"
        if method == "GET" and (owed := receivables.route(parts)) is not None:  # balances, open items
            key = path_key(parts[3]) if n == 5 else None
            return receivables.answer(ledger, owed, parts, request.rel_url.query, key)
        if v2 and (n != 3 or segment not in _V2_CREATES):
            raise not_found(path)
        if v2 and method != "POST":
            raise method_not_allowed(method)
        rules = self._collections.get(segment)
        if (rules is None or (n > 3 and segment == "customer")) and References.route([s.lower() for s in parts[2:]]):
            # The company's reference data (``/v1/customer/customerClass`` is one, not a customer's key).
            return self.references.answer(method, path, [path_key(s) for s in parts[2:]], request.rel_url.query)
        if rules is None:
            raise not_found(path)
        body = b""
        if n == 3:
            if method == "POST":
                body = await guard.read(request)
                return ledger.create, (rules, body, base, v2), body
            if method == "GET":
                return ledger.list, (rules, request.rel_url.query), body
            raise method_not_allowed(method)
        if n == 4:
            key = path_key(parts[3])
            if method == "PUT":
                body = await guard.read(request)
                return ledger.update, (rules, key, body), body
            if method == "GET":
                return ledger.get, (rules, key, request.rel_url.query), body
            if method == "DELETE" and segment in _DELETABLE:
                return ledger.delete, (rules, key), body
            raise method_not_allowed(method)
        if n == 6 and parts[4].lower() == "action":
            found = self._actions.get((segment, parts[5].lower()))
            if found is None:
                raise not_found(path)
            if method != "POST":
                raise method_not_allowed(method)
            kind, action_rules = found
            key = path_key(parts[3])
            if kind == "release":
                return ledger.release, (action_rules, key), body
            body = await guard.read(request)
            return ledger.run_action, (action_rules, rules, key, body), body
        raise not_found(path)
