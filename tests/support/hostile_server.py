"""A misbehaving API on a loopback port: one behaviour per route, every request counted.

    async with hostile({"POST /v1/customer": html_page(), "GET /v1/customer/*": lying_record("number", "X")}) as srv:
        ... point an ApiClient at srv.url ...
        assert srv.count("POST", "/v1/customer") == 1

Routes are ``"METHOD /path"`` patterns (``fnmatch``: ``*`` matches anything, also
``/``), tried in order; ``*`` as the method matches any. A request no route takes
is answered 404 ``{"message": "no route"}``. Behaviours are small factories below;
:func:`sequence` answers with each in turn (the last one repeats) and
:func:`with_headers` adds headers to any of them. Tests of the pipeline use the
same pieces: ``lying_record`` and ``lying_list`` are lookups that answer, but
about another record.
"""

from __future__ import annotations

import asyncio
import fnmatch
import gzip
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from email.utils import formatdate
from typing import Any

import orjson
import pytest
from aiohttp import web

__all__ = [
    "HostileServer", "hostile", "hostile_server", "Behaviour",
    "created", "no_content", "json_answer", "html_page", "redirect", "error", "sequence", "with_headers", "delayed",
    "throttled", "endless_body", "huge_body", "gzip_bomb", "stalled_body", "lying_record", "lying_list",
    "background_accepted", "job_state", "token_answer", "raw_answer", "echo_secret", "http_date",
    "SIGN_IN_PAGE",
]

Behaviour = Callable[[web.Request, "HostileServer"], Awaitable[web.StreamResponse]]

SIGN_IN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><form action='/login' method='post'><input name='user'></form></body></html>"
)


class HostileServer:
    """What the server saw: requests per (method, path), Authorization headers, bytes streamed."""

    def __init__(self, routes: Mapping[str, Behaviour]) -> None:
        self.routes = [(pattern.split(" ", 1)[0], pattern.split(" ", 1)[1], behaviour)
                       for pattern, behaviour in routes.items()]
        self.requests: Counter[tuple[str, str]] = Counter()
        self.authorizations: list[str | None] = []
        self.bodies: list[bytes] = []
        self.streamed = 0  # bytes an endless or huge body got out before the client let go
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        self.url = ""

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen, all or of one method and/or exact path."""
        return sum(n for (m, p), n in self.requests.items()
                   if (method is None or m == method) and (path is None or p == path))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.path
        self.requests[(request.method, path)] += 1
        self.authorizations.append(request.headers.get("Authorization"))
        self.bodies.append(await request.read())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for method, pattern, behaviour in self.routes:
                if method in ("*", request.method) and fnmatch.fnmatchcase(path, pattern):
                    return await behaviour(request, self)
            return web.json_response({"message": "no route"}, status=404)
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def hostile(routes: Mapping[str, Behaviour], *, host: str = "127.0.0.1") -> AsyncIterator[HostileServer]:
    """Serve ``routes`` on ``host`` (loopback), port 0, for the duration of the block."""
    server = HostileServer(routes)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
def hostile_server() -> Callable[..., Any]:
    """``async with hostile_server({...}) as srv`` (the same as :func:`hostile`)."""
    return hostile


# -- behaviours ------------------------------------------------------------------------------


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def created(key: str = "C1", *, location: bool = True, body: Any = None, status: int = 201) -> Behaviour:
    """A create's answer: 201 with ``Location`` naming ``key`` (and a JSON ``body`` if given)."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        headers = {"Location": f"{_base(request)}{request.rel_url.path}/{key}"} if location else {}
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=orjson.dumps(body), headers=headers, content_type="application/json")

    return answer


def no_content() -> Behaviour:
    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        return web.Response(status=204)

    return answer


def json_answer(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Behaviour:
    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        return web.Response(status=status, body=orjson.dumps(data), headers=dict(headers or {}),
                            content_type="application/json")

    return answer


def raw_answer(body: bytes, status: int = 200, content_type: str = "text/plain",
               headers: Mapping[str, str] | None = None) -> Behaviour:
    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type, **(headers or {})})

    return answer


def html_page(status: int = 200) -> Behaviour:
    """A proxy's sign-in page, whatever was asked."""
    return raw_answer(SIGN_IN_PAGE, status, "text/html; charset=utf-8")


def redirect(location: str = "/login", status: int = 302) -> Behaviour:
    """A redirect; a relative ``location`` is made absolute on this server."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        target = location if "://" in location else f"{_base(request)}{location}"
        return web.Response(status=status, headers={"Location": target})

    return answer


def error(status: int, message: str = "no", headers: Mapping[str, str] | None = None) -> Behaviour:
    return json_answer({"message": message}, status, headers)


def sequence(*behaviours: Behaviour) -> Behaviour:
    """Each request gets the next behaviour; the last one answers every request after."""
    state = {"n": 0}

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        n = state["n"]
        state["n"] += 1
        return await behaviours[min(n, len(behaviours) - 1)](request, server)

    return answer


def with_headers(behaviour: Behaviour, headers: Mapping[str, str]) -> Behaviour:
    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        response = await behaviour(request, server)
        response.headers.update(headers)
        return response

    return answer


def delayed(behaviour: Behaviour, seconds: float) -> Behaviour:
    """``behaviour``, answered after ``seconds``."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await behaviour(request, server)

    return answer


def throttled(retry_after: str | None = "0", **extra: str) -> Behaviour:
    """429; ``retry_after`` None sends no Retry-After. ``extra``: more headers (``X_RateLimit_Policy=...``)."""
    headers = {k.replace("_", "-"): v for k, v in extra.items()}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return error(429, "Rate limit is exceeded.", headers)


def http_date(seconds_from_now: float) -> str:
    return formatdate(time.time() + seconds_from_now, usegmt=True)


def endless_body(status: int = 200, chunk: int = 64 * 1024) -> Behaviour:
    """A chunked body that never ends (until the client hangs up)."""
    block = b"x" * chunk

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            while True:
                await response.write(block)
                server.streamed += len(block)
        except (ConnectionError, RuntimeError):
            pass  # the client let go
        return response

    return answer


def huge_body(size: int, *, framed: bool = True, status: int = 200) -> Behaviour:
    """A JSON string of ``size`` bytes in all, with Content-Length (``framed``) or chunked."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        if framed:
            response.content_length = size
        await response.prepare(request)
        block, left = b"x" * 65536, size - 2
        try:
            await response.write(b'"')
            while left > 0:
                part = block[: min(left, len(block))]
                await response.write(part)
                server.streamed += len(part)
                left -= len(part)
            await response.write(b'"')
        except (ConnectionError, RuntimeError):
            pass  # the client let go
        return response

    return answer


def gzip_bomb(inflated: int) -> Behaviour:
    """A small gzip body that inflates to ``inflated`` bytes."""
    body = gzip.compress(b" " * inflated)
    return raw_answer(body, 200, "application/json", {"Content-Encoding": "gzip"})


def stalled_body(seconds: float) -> Behaviour:
    """Headers, a first byte, then silence for ``seconds``."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = 10
        await response.prepare(request)
        await response.write(b"[")
        await asyncio.sleep(seconds)
        return response

    return answer


def lying_record(key_field: str, key: str, **fields: Any) -> Behaviour:
    """A GET by key that answers a record, but another one: its ``key_field`` is ``key``."""
    return json_answer({key_field: key, **fields})


def lying_list(references: list[str], key_field: str = "referenceNumber") -> Behaviour:
    """A list GET whose first page's items carry these externalReference values; later pages are empty.

    ``{sent}`` in a value is replaced by the externalReference of the last body posted to the
    server, so near misses of a reference the importer chose can be made.
    """

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        sent = ""
        for body in reversed(server.bodies):
            data = orjson.loads(body) if body.startswith(b"{") else {}
            reference = data.get("externalReference") if isinstance(data, dict) else None
            if isinstance(reference, dict):
                sent = str(reference.get("value"))
                break
        items = [{key_field: f"D{n}", "externalReference": ref.replace("{sent}", sent)}
                 for n, ref in enumerate(references, 1)]
        page = items if request.rel_url.query.get("pageNumber", "1") == "1" else []
        return web.Response(status=200, body=orjson.dumps(page), content_type="application/json")

    return answer


def background_accepted(job: str = "J1", state_location: str | None = "absolute") -> Behaviour:
    """202 with ``{id, stateLocation}``; ``state_location``: "absolute", "relative", None, or a URL/path."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        data: dict[str, Any] = {"id": job}
        if state_location == "absolute":
            data["stateLocation"] = f"{_base(request)}/v1/background/{job}"
        elif state_location == "relative":
            data["stateLocation"] = f"/v1/background/{job}"
        elif state_location is not None:
            data["stateLocation"] = state_location
        return web.Response(status=202, body=orjson.dumps(data), content_type="application/json")

    return answer


def job_state(status: str, status_code: int | None = 0, **fields: Any) -> Behaviour:
    """A BackgroundRequestStateDto with this ``status``/``statusCode`` (None: left out) and more fields."""
    data: dict[str, Any] = {"status": status, **fields}
    if status_code is not None:
        data["statusCode"] = status_code
    return json_answer(data)


def token_answer(data: Any, status: int = 200) -> Behaviour:
    return json_answer(data, status)


def echo_secret(status: int = 400) -> Behaviour:
    """A token endpoint that puts the client secret it was sent into its error_description."""

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        form = await request.post()
        secret = form.get("client_secret")
        return web.Response(status=status, content_type="application/json", body=orjson.dumps({
            "error": "invalid_client", "error_description": f"client_secret '{secret}' is not valid for this client",
        }))

    return answer
