"""The aiohttp application: one catch-all route and a small dispatch table built from ENTITIES.

aiohttp's router is case-sensitive and the API's paths are not, so every request goes to
``Sandbox.handle``, which lower-cases the path's fixed segments (never the keys) and
dispatches itself. Before anything, the guard (guard.py) checks Host, Origin and the
body's size. Order of work on a /v1 request (or a V2 document create), as the live API stacks it:
latency -> token check (401, no rate headers) -> the token's scope for the method (403,
auth.py) -> rate window (429) -> [live: a write that
failed twice lately, 429] -> fault on writes -> routing -> background queueing or
execution -> [live: 500 for a POST's 400, the error's shape] -> the ``X-RateLimit-*``
headers on the answer.

Each tenant (company) has a ledger of its own, over its own records, made on its first
routed request; the token says which tenant a request acts for (auth.py). Rules are the
same for every tenant and built once.

The hot path (POST /v1/customer with a small body) does no logging, no schema walks and
allocates little: one orjson parse, one compiled validation, one dict lookup for the
tenant's ledger, one dict store.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from importer.entities import ENTITIES
from importer.sandbox.answers import Answer, ApiError, ipp_error, json_answer, message_error
from importer.sandbox.auth import Auth, Caller
from importer.sandbox.background import BackgroundJobs
from importer.sandbox.config import SandboxConfig
from importer.sandbox.faults import FaultInjector
from importer.sandbox.guard import CLOSING, Guard, too_large
from importer.sandbox.inspection import records_of, stats_document
from importer.sandbox.ledger import Ledger, build_rules, not_found
from importer.sandbox.quirks import LiveQuirks
from importer.sandbox.reference import References
from importer.sandbox.routes import Routes, method_not_allowed
from importer.sandbox.store import Store
from importer.sandbox.throttle import FixedWindow

__all__ = ["create_app", "Sandbox", "SANDBOX"]

log = logging.getLogger("importer.sandbox")

_JSON = "application/json; charset=utf-8"
_VERSIONS = ("/v1/", "/v2/")
# The V2 creates the sandbox serves (POST only; their documents are read on the v1 paths).
_FAULT_MESSAGES = {
    "500": "An error has occurred.",
    "502": "Bad Gateway: the upstream server sent an invalid response.",
    "503": "Service Unavailable: the server is temporarily unable to handle the request.",
}


class Sandbox:
    """Every component of one sandbox; ``handle`` is the app's only route."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.seed = config.seed if config.seed is not None else random.randrange(2**32)
        self.store = Store(ENTITIES, config.state_path)
        self.stats = self.store.stats
        self.rules = build_rules(config.max_page_size, config.profile == "live", config.company)
        self.ledgers: dict[str, Ledger] = {}  # tenant -> its ledger
        for tenant in list(self.store.tenants):  # tenants of a state file: finish what they left queued
            self._open_ledger(tenant)
        self.auth = Auth(
            config.clients, config.static_token, config.token_ttl, config.clock, config.client_scopes,
        )
        self.guard = Guard(
            config.host, config.control_token, self.auth.knows, config.max_body_bytes, config.body_timeout,
        )
        # None in the standard profile, so each live quirk costs it one ``is None`` test.
        self.quirks = LiveQuirks(self.seed, config.clock) if config.profile == "live" else None
        self.throttle = FixedWindow(config.rate_limit, config.rate_window, config.clock)
        self.faults = FaultInjector(
            self.seed, config.fault_rate, config.faults,
            config.latency_ms, config.jitter_ms, config.slow_ms,
        )
        self.references = References(config.company, config.max_page_size)  # the company's read endpoints
        self.jobs = BackgroundJobs(
            config.background_delay_ms, self.quirks.background_answer if self.quirks is not None else None,
        )
        self.routes = Routes(self.rules, self.references)  # path -> what runs it

    # -- entry point --------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        try:
            refusal = self.guard.refusal(request)
            if refusal is not None:
                raise refusal
            if path[:4].lower() in _VERSIONS:
                return await self._v1(request, path)
            low = path.lower().rstrip("/")
            if low == "/connect/token":
                return await self._token(request)
            if low.startswith("/sandbox/"):
                return await self._sandbox(request, low)
            raise not_found(path)
        except ApiError as exc:
            return _response(exc.status, exc.body, dict(exc.headers or {}))
        except ConnectionError:  # the client left while its body was being read
            return _response(400, b"", {})  # never sent
        except web.HTTPRequestEntityTooLarge:  # a form body read past the guard's bound
            return _response(413, too_large(self.guard.max_body).body, {})
        except Exception:
            log.exception("sandbox error on %s %s", request.method, path)
            error = ipp_error("An internal error occurred in the sandbox.", status=500)
            return _response(500, error.body, {})

    # -- /v1 ------------------------------------------------------------------------------------

    async def _v1(self, request: web.Request, path: str) -> web.StreamResponse:
        stats = self.stats
        stats.requests += 1
        faults = self.faults
        if faults.delays:
            await asyncio.sleep(faults.delay())
        try:
            caller = self.auth.caller_of(request.headers.get("Authorization"))
        except ApiError as exc:
            return self._reply(exc.status, exc.body, dict(exc.headers or {}))
        forbidden = caller.refusal(request.method)
        if forbidden is not None:  # the token lacks the scope: refused before anything is read or done
            return self._reply(forbidden.status, forbidden.body, {})
        throttle = self.throttle
        allowed, remaining, reset = throttle.hit(caller.key)
        headers = throttle.headers(remaining, reset)
        if not allowed:
            stats.throttled += 1
            headers["Retry-After"] = str(reset)
            error = message_error(429, f"Rate limit is exceeded. Try again in {reset} seconds.")
            return self._reply(429, error.body, headers)
        method = request.method
        quirks = self.quirks
        repeat: bytes | None = None  # live: this write's identity among recent failures
        if quirks is not None and (method == "POST" or method == "PUT"):
            try:
                body = await self.guard.read(request)
            except ApiError as exc:
                return self._reply(exc.status, exc.body, headers)
            repeat = quirks.repeats.key(caller.key, method, request.rel_url.raw_path_qs, body)
            wait = quirks.repeats.retry_after(repeat)
            if wait is not None:
                stats.throttled += 1
                headers["Retry-After"] = str(wait)
                error = message_error(
                    429, f"The same request failed twice within 5 minutes; send it again in {wait} seconds.",
                )
                return self._reply(429, error.body, headers)
        fault: str | None = None
        if faults.active and (method == "POST" or method == "PUT"):
            fault = faults.pick()
            if fault is not None:
                stats.faults[fault] += 1
                if fault == "reset":
                    return _abort(request)
                if fault == "slow":  # the request arrived whole; the answer is late
                    try:
                        await self.guard.read(request)
                    except ApiError as exc:
                        return self._reply(exc.status, exc.body, headers)
                    await asyncio.sleep(faults.slow)
                elif fault != "store-then-fail":
                    error = message_error(int(fault), _FAULT_MESSAGES[fault])
                    return self._reply(error.status, error.body, headers)
        try:
            answer = await self._dispatch(request, path, method, caller)
        except ApiError as exc:
            answer = exc.answer()
        shaped = False
        if fault == "store-then-fail":
            if faults.store_then_fail_answer() == "reset":
                return _abort(request)
            answer = message_error(500, _FAULT_MESSAGES["500"]).answer()
        elif quirks is not None and answer.status >= 400:
            answer = quirks.endpoint_error(answer, method, repeat)
            shaped = True
        if answer.headers:
            headers.update(answer.headers)
        return self._reply(answer.status, answer.body, headers, shaped)

    async def _dispatch(self, request: web.Request, path: str, method: str, caller: Caller) -> Answer:
        """Route a /v1 request and run it now, or queue it for the background API.

        The request runs on its tenant's ledger; a queued one keeps that ledger, so a
        background job lands in its submitter's company.
        """
        parts = path.split("/")  # ["", "v1" or "v2", collection, key?, "action"?, name?]
        if len(parts) > 3 and parts[-1] == "":
            parts.pop()  # a trailing slash
        if parts[2].lower() == "background" and parts[1].lower() == "v1":
            return self._background_state(request, parts, method, caller.key)
        base = self.quirks.location_base if self.quirks is not None else _base(request)
        target = await self.routes.target(request, parts, method, self._ledger(caller.tenant), base, self.guard)
        if isinstance(target, Answer):
            return target
        run, args, body = target
        webhook = request.headers.get("erp-api-background")
        if webhook:
            return self._queue(request, caller.key, webhook, bool(body), run, args)
        return run(*args)

    def _ledger(self, tenant: str) -> Ledger:
        return self.ledgers.get(tenant) or self._open_ledger(tenant)

    def _open_ledger(self, tenant: str) -> Ledger:
        """A ledger for ``tenant`` over its tables (made empty if it has none yet)."""
        ledger = self.ledgers[tenant] = Ledger(
            self.store.tenant(tenant), self.config.max_page_size, self.config.profile, rules=self.rules,
            company=self.config.company,
        )
        return ledger

    def _queue(
        self, request: web.Request, client: str, webhook: str, has_body: bool,
        run: Callable[..., Answer], args: tuple[Any, ...],
    ) -> Answer:
        """Accept a request for the background API: 202 with the job's state location."""
        job = self.jobs.submit(client, str(request.url), webhook, has_body, lambda: run(*args))
        state = f"{_base(request)}/v1/background/{job.id}"
        return json_answer(202, {"id": job.id, "stateLocation": state})

    def _background_state(self, request: web.Request, parts: list[str], method: str, client: str) -> Answer:
        """GET /v1/background/{id} and /v1/background/{id}/content."""
        n = len(parts)
        if n == 4 or (n == 5 and parts[4].lower() == "content"):
            if method != "GET":
                raise method_not_allowed(method)
            job_id = unquote(parts[3])
            if n == 5:
                return self.jobs.content(job_id, client)
            return json_answer(200, self.jobs.find(job_id, client).state(_base(request)))
        raise not_found(request.rel_url.raw_path)

    def _reply(self, status: int, body: bytes, headers: dict[str, str], shaped: bool = False) -> web.Response:
        if status >= 400 and not shaped and self.quirks is not None:
            # Live: errors raised before routing (401, 429, faults) come in any shape too.
            answer = self.quirks.shape_error(Answer(status, body, headers), keep_message=False)
            body, headers = answer.body, answer.headers or {}
        by_status = self.stats.by_status
        by_status[status] = by_status.get(status, 0) + 1
        return _response(status, body, headers)

    # -- /connect/token -----------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            raise method_not_allowed(request.method)
        form = await self.guard.bounded(request, request.post)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        status, data = self.auth.issue(fields, request.headers.get("Authorization"))
        if status == 200:
            self.stats.tokens_issued += 1
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        return _response(status, orjson.dumps(data), headers)

    # -- /sandbox/* ---------------------------------------------------------------------------

    async def _sandbox(self, request: web.Request, low: str) -> web.Response:
        """Inspection and reset: a control token needed, no faults, not counted."""
        self.guard.check_control(request.headers.get("Authorization"))
        method = request.method
        if low == "/sandbox/stats":
            if method != "GET":
                raise method_not_allowed(method)
            return _response(200, orjson.dumps(stats_document(self.store, self.seed)), {})
        if low.startswith("/sandbox/records/"):
            if method != "GET":
                raise method_not_allowed(method)
            name = unquote(low[len("/sandbox/records/"):])
            return _response(200, orjson.dumps(records_of(self.store, name, request.rel_url.query.get("tenant"))), {})
        if low == "/sandbox/reset":
            if method != "POST":
                raise method_not_allowed(method)
            self.reset()
            return _response(204, b"", {})
        raise not_found(request.rel_url.raw_path)

    def reset(self) -> None:
        """Forget every tenant, its records and sequences; counters, jobs, windows (not tokens)."""
        self.store.reset()
        self.ledgers.clear()
        self.jobs.clear()
        self.throttle.reset()
        if self.quirks is not None:
            self.quirks.repeats.clear()

    async def close(self, app: web.Application | None = None) -> None:
        """App cleanup: stop background work, flush and close the state file."""
        await self.jobs.close()
        self.store.close()


def _base(request: web.Request) -> str:
    """The absolute base URL the client used (for Location and stateLocation)."""
    return f"{request.scheme}://{request.host}"


def _response(status: int, body: bytes, headers: dict[str, str]) -> web.Response:
    if body:
        headers.setdefault("Content-Type", _JSON)
        response = web.Response(status=status, body=body, headers=headers)
    else:
        response = web.Response(status=status, headers=headers)
    if status in CLOSING:  # the rest of the body may still be on its way: drop the connection
        response.force_close()
    return response


def _abort(request: web.Request) -> web.Response:
    """Drop the connection without an answer (the client sees a reset/disconnect)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)  # never sent: the transport is gone


SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


def create_app(config: SandboxConfig | None = None) -> web.Application:
    """A ready aiohttp application simulating the API (state file, if any, already loaded)."""
    sandbox = Sandbox(config or SandboxConfig())
    app = web.Application(client_max_size=sandbox.config.max_body_bytes)
    app[SANDBOX] = sandbox
    app.router.add_route("*", "/{tail:.*}", sandbox.handle)
    app.on_cleanup.append(sandbox.close)
    if sandbox.config.durable and sandbox.config.state_path:
        app.on_response_prepare.append(_kept_before_answering)
    return app


async def _kept_before_answering(request: web.Request, response: web.StreamResponse) -> None:
    """What the request changed goes to the state file before its answer does."""
    request.app[SANDBOX].store.flush_pending()
