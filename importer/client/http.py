"""One aiohttp session to the API: auth, pacing, retries and safe re-sends.

Retries: connection errors, timeouts, 500/502/503/504 and 429, with exponential
backoff and full jitter, honouring ``Retry-After``; other 4xx are final at once;
a 401 renews the token once. A 429 never counts as a failed attempt.

A write that may have reached the server before it failed (a timeout or reset
after the body went out, or a 5xx to a POST) is *ambiguous*: before sending it
again the caller's ``lookup`` asks the API whether the record is already there,
so a retry never creates it twice. Without a lookup, such a write is not sent
again and ends as failed with ``outcome unknown`` in its error.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import anyio
import orjson
from multidict import CIMultiDict
from yarl import URL

from importer import __version__
from importer.client.auth import TokenSource
from importer.client.pacing import Pacer
from importer.errors import AuthError
from importer.keys import encode_key

log = logging.getLogger("importer.client")

__all__ = ["ApiClient", "Response", "Attempt", "RetryPolicy", "ClientStats", "Lookup", "LookupUnavailable"]

USER_AGENT = f"importer/{__version__}"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
_NOT_SENT = (aiohttp.ClientConnectorError,)  # failed before a byte of the request went out


@dataclass(slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def error_text(self) -> str:
        """The API's own error message, from either of its error shapes."""
        data = self.json()
        if isinstance(data, dict):
            for name in ("ExceptionMessage", "message", "Message", "error_description", "error"):
                if data.get(name):
                    return str(data[name])
        text = self.body[:500].decode("utf-8", "replace").strip()
        return text or f"HTTP {self.status}"


@dataclass(slots=True)
class Attempt:
    """How a request ended after all retries."""

    response: Response | None  # None when no answer ever came
    attempts: int  # requests sent for it, lookups excluded
    error: str | None = None  # transport failure when ``response`` is None
    found_by_lookup: bool = False  # an ambiguous failure turned out to have succeeded


Lookup = Callable[[], Awaitable[Response | None]]


class LookupUnavailable(Exception):
    """A lookup could not tell whether the record exists; the write must not be repeated."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base: float = 0.5  # seconds; the n-th retry waits up to base * 2**(n-1)
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return retry_after
        return random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


@dataclass(slots=True)
class ClientStats:
    calls: int = 0  # every HTTP request to the API, lookups included (tokens: see auth)
    retries: int = 0
    throttled: int = 0  # 429 answers
    lookups: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class ApiClient:
    """``async with ApiClient(base_url, auth) as client: await client.request(...)``."""

    def __init__(
        self,
        base_url: str,
        auth: TokenSource | None = None,
        *,
        concurrency: int = 32,
        rate: float | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or Pacer(rate)
        self.stats = ClientStats()
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}
        self._header_sets: dict[tuple[str | None, bool, bool], dict[str, str]] = {}

    async def __aenter__(self) -> ApiClient:
        connector = aiohttp.TCPConnector(limit=self.concurrency + 8, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("ApiClient is not open; use 'async with ApiClient(...)'")
        return self._session

    async def authenticate(self) -> None:
        """Get a token now, so bad credentials fail before anything is sent."""
        if self.auth is not None:
            await self.auth.token(self.session)

    @property
    def token_calls(self) -> int:
        return self.auth.calls if self.auth is not None else 0

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        params: Mapping[str, str] | None = None,
        lookup: Lookup | None = None,
        idempotent: bool | None = None,
        background: bool = False,
    ) -> Attempt:
        """Send with retries; ``path`` starts with ``/v1`` and is already encoded.

        ``background``: queue it with ``erp-api-background: none`` and poll the job
        until it is done; the answer is then the job's own status, headers and body.
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = self._url(path) if not params else self._url(path).update_query(params)
        sent = tries = 0
        renewed = False
        while True:
            token = None
            if self.auth is not None:
                try:
                    token = await self.auth.token(self.session)
                except AuthError as exc:  # renewal failed mid-run: this record fails, the run goes on
                    return Attempt(None, sent, str(exc))
            send_headers = self._headers(token, body is not None, background)
            ticket = await self.pacer.acquire()
            sent += 1
            tries += 1
            self.stats.calls += 1
            try:
                async with self.session.request(method, url, data=body, headers=send_headers) as resp:
                    payload = await resp.read()
                    response = Response(resp.status, resp.headers, payload)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.pacer.release(ticket, None)
                error = _describe(exc)
                ambiguous = not idempotent and not isinstance(exc, _NOT_SENT)
                outcome = await self._after_failure(tries, sent, error, ambiguous, lookup, None)
                if outcome is not None:
                    return outcome
                continue
            self.pacer.release(ticket, response.headers, response.status)
            if background and response.status == 202:
                response = await self._await_background(response)
            status = response.status
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s -> %s", method, path, status,
                          extra={"method": method, "path": path, "status": status, "attempt": sent})
            if status == 429:
                log.info("429 on %s %s: waiting for the rate-limit window", method, path,
                         extra={"method": method, "path": path, "status": 429, "attempt": sent})
                self.stats.throttled += 1
                self.stats.retries += 1
                tries -= 1  # throttling never makes a record fail
                continue  # the pacer holds every request back for Retry-After
            if status == 401 and token is not None and not renewed and self.auth.invalidate(token):  # type: ignore[union-attr]
                renewed = True
                tries -= 1
                self.stats.retries += 1
                continue
            if status in RETRY_STATUSES:
                retry_after = _retry_after(response.headers)
                outcome = await self._after_failure(
                    tries, sent, None, not idempotent, lookup, response, retry_after
                )
                if outcome is not None:
                    return outcome
                continue
            return Attempt(response, sent)

    def _url(self, path: str) -> URL:
        """The URL of ``path``, parsed once (most requests go to the same few paths)."""
        url = self._urls.get(path)
        if url is None:
            url = URL(self.base_url + path, encoded=True)
            if len(self._urls) < 1024:
                self._urls[path] = url
        return url

    def _headers(self, token: str | None, has_body: bool, background: bool) -> dict[str, str]:
        """A request's own headers; each set is built once (aiohttp copies it per request)."""
        key = (token, has_body, background)
        headers = self._header_sets.get(key)
        if headers is None:
            headers = {"Content-Type": "application/json"} if has_body else {}
            if background:
                headers["erp-api-background"] = "none"
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            if len(self._header_sets) >= 16:  # tokens are renewed: drop the old sets
                self._header_sets.clear()
            self._header_sets[key] = headers
        return headers

    async def _await_background(self, accepted: Response) -> Response:
        """Poll a queued background job until it finishes; its result as a Response."""
        data = accepted.json() or {}
        job = data.get("id") if isinstance(data, dict) else None
        if not job:
            return accepted
        state_path = f"/v1/background/{encode_key(str(job))}"
        delay = 0.2
        while True:
            await anyio.sleep(delay)
            delay = min(delay * 1.5, 5.0)
            attempt = await self.request("GET", state_path)
            state = attempt.response.json() if attempt.response is not None else None
            if not isinstance(state, dict):
                # No readable state: report the job as a server error, retried like one.
                return Response(503, {}, orjson.dumps({"message": f"background job {job}: state unavailable"}))
            if state.get("status") not in ("Finished", "Failed"):
                continue
            status = int(state.get("statusCode") or (500 if state.get("status") == "Failed" else 200))
            body = b""
            if state.get("hasResponseContent"):
                content = await self.request("GET", f"{state_path}/content")
                if content.response is not None and content.response.status == 200:
                    body = content.response.body
            if not body and state.get("errorMessage"):
                body = orjson.dumps({"message": state["errorMessage"]})
            return Response(status, CIMultiDict(state.get("responseHeaders") or {}), body)

    async def _after_failure(
        self,
        tries: int,
        sent: int,
        error: str | None,
        ambiguous: bool,
        lookup: Lookup | None,
        response: Response | None,
        retry_after: float | None = None,
    ) -> Attempt | None:
        """An ``Attempt`` to stop with, or None to send again after the backoff."""
        if ambiguous:
            if lookup is None:
                reason = error if response is None else f"HTTP {response.status}"
                return Attempt(
                    response, sent,
                    f"outcome unknown ({reason}); not sent again, to avoid a duplicate",
                )
            self.stats.lookups += 1
            try:
                found = await lookup()
            except LookupUnavailable as exc:
                return Attempt(response, sent, f"outcome unknown: {exc}")
            if found is not None:
                return Attempt(found, sent, None, found_by_lookup=True)
        if tries >= self.retry.max_attempts:
            return Attempt(response, sent, error)
        self.stats.retries += 1
        status = response.status if response is not None else None
        log.info("retrying after %s", error or f"HTTP {status}",
                 extra={"status": status, "attempt": sent, "error": error})
        await anyio.sleep(self.retry.delay(tries, retry_after))
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out waiting for the API"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed by the server before it answered"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientOSError):
        return f"connection error: {exc.strerror or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"
