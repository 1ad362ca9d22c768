"""What keeps a sandbox safe to leave running on a developer's machine.

- ``Host`` must name the address the connection came in on (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT`` or the configured host), else 421: a web page that
  rebinds its own DNS name to 127.0.0.1 cannot reach the sandbox through the browser.
  Bound to a wildcard address (``0.0.0.0``, ``::``), any Host is accepted.
- An ``Origin`` other than the sandbox's own is refused with 403, so a page in a browser
  cannot reset a rehearsal or read its records.
- ``/sandbox/*`` control routes need a bearer token: the static one, one the sandbox
  issued, or the configured control token; else 401.
- A body larger than ``max_body_bytes`` answers 413 (before it is read when its
  ``Content-Length`` says so); a body that takes longer than ``body_timeout`` to arrive
  answers 408 and the connection is closed.

The checks on every request are two header lookups and a set membership test.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from importer.sandbox.answers import ApiError, message_error

__all__ = ["Guard", "WILDCARDS", "CLOSING", "too_large"]

WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
CLOSING = frozenset({408, 413})  # answers after which the connection is closed
_T = TypeVar("_T")


def _shown(host: str) -> str:
    """A host as it appears in a Host header: IPv6 literals in brackets, lower case."""
    host = host.lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Guard:
    """Host, Origin and control-token checks, and a bounded body read."""

    __slots__ = ("_host", "_wildcard", "_allowed", "_control", "_knows", "max_body", "body_timeout")

    def __init__(
        self,
        host: str,
        control_token: str | None,
        knows: Callable[[str | None], bool],
        max_body: int,
        body_timeout: float,
    ) -> None:
        self._host = _shown(host)
        self._wildcard = host in WILDCARDS
        self._allowed: dict[int, frozenset[str]] = {}  # local port -> accepted Host values
        self._control = control_token.encode() if control_token else None
        self._knows = knows  # the static token or an issued one, unexpired
        self.max_body = max_body
        self.body_timeout = body_timeout

    # -- every request ----------------------------------------------------------------

    def refusal(self, request: web.Request) -> ApiError | None:
        """Why this request may not be served at all (Host, Origin, size), or None."""
        headers = request.headers
        host = headers.get("Host")
        if host is not None and not self._wildcard:
            if host.lower() not in self._hosts(request):
                return message_error(421, "The Host header does not name this sandbox's address.")
        origin = headers.get("Origin")
        if origin is not None and (host is None or origin.lower() != f"{request.scheme}://{host.lower()}"):
            return message_error(403, "Requests from another origin (a web page) are not accepted.")
        length = request.content_length
        if length is not None and length > self.max_body:
            return too_large(self.max_body)
        return None

    def _hosts(self, request: web.Request) -> frozenset[str]:
        """The Host values that name the address this connection arrived on."""
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        port = int(sockname[1]) if sockname else 0
        allowed = self._allowed.get(port)
        if allowed is None:
            names = {*_LOOPBACK_NAMES, self._host}
            if sockname:
                names.add(_shown(str(sockname[0])))
            allowed = frozenset(f"{name}:{port}" for name in names)
            if port == 80:  # the default port may be left out
                allowed |= names
            self._allowed[port] = allowed
        return allowed

    # -- /sandbox/* ---------------------------------------------------------------------

    def check_control(self, authorization: str | None) -> None:
        """Raise 401 unless ``authorization`` carries a token that may use the control routes."""
        if self._knows(authorization):
            return
        if self._control is not None and authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self._control):
                return
        raise message_error(
            401, "The /sandbox routes need 'Authorization: Bearer <token>' (the static token, "
                 "an issued token or the control token).",
            {"WWW-Authenticate": 'Bearer realm="visma.net sandbox"'},
        )

    # -- bodies -------------------------------------------------------------------------

    async def read(self, request: web.Request) -> bytes:
        """The whole body, or 413 / 408 as an ApiError."""
        return await self.bounded(request, request.read)

    async def bounded(self, request: web.Request, read: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``read`` (a body read) within ``body_timeout``; 413 if the body is too large."""
        try:
            if request.content.is_eof():  # already received whole: no timer needed
                return await read()
            async with asyncio.timeout(self.body_timeout):
                return await read()
        except TimeoutError:
            raise message_error(
                408, f"The request body did not arrive within {self.body_timeout:g} seconds.",
            ) from None
        except web.HTTPRequestEntityTooLarge:
            raise too_large(self.max_body) from None


def too_large(limit: int) -> ApiError:
    return message_error(413, f"The request body is larger than {limit} bytes.")
