"""One aiohttp session to the API: auth, pacing, retries, safe re-sends, and no answer taken on trust.

Retries: connection errors, timeouts, 500/502/503/504 and 429, with exponential
backoff and full jitter, honouring ``Retry-After``; other 4xx are final at once;
a 401 renews the token once. A 429 never counts as a failed attempt. Every
request's retries share a time budget (:attr:`RetryPolicy.budget`) as well as a count.

A write that may have reached the server before it failed (a timeout or reset
after the body went out, or a 5xx to a POST) is *ambiguous*: before sending it
again the caller's ``lookup`` asks the API whether the record is already there,
so a retry never creates it twice. Absence is proved, not assumed: when the answer
was lost (no answer, a gateway's 502 or 504), the write may still be running, so a
"not found" counts only after a wait for it to land (:mod:`importer.client.recovery`);
no ambiguous write is ever sent twice while it could still land. Without a lookup,
such a write is not sent again and ends as failed with ``outcome unknown`` in its error.

A success is proved: a write's 2xx/3xx answer goes to the caller's ``proof``
(:mod:`importer.client.proof`); one that does not prove it (a sign-in page
answered 200, a redirect, a body past ``max_body``) is ambiguous too, and is sent
again at most once. Redirects are never followed. A read's 2xx that is not JSON
is an error, not data. A refused token, a refused scope, a 404 on a collection
or an answer to the first writes that no record can cause (a sign-in page, a
redirect, a 503 outlasting the retries of five writes) halt the client (:mod:`importer.client.halting`): every later request
returns at once, unsent. A refusal of a record's data never does, however many
records share it; a token endpoint down for a moment is retried by the token source.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Mapping

import aiohttp
import anyio
from yarl import URL

from importer.client import halting, judging
from importer.client.answers import DEFAULT_MAX_BODY, AnswerTooLarge, Response, describe_failure, read_body
from importer.client.attempts import (
    Attempt,
    ClientStats,
    Lookup,
    LookupUnavailable,
    NoAnswer,
    RetryPolicy,
    Sending,
)
from importer.client.auth import TokenSource
from importer.client.background import BackgroundJob
from importer.client.pacing import Pacer
from importer.client.proof import Proof
from importer.client.recovery import Recovery
from importer.errors import AuthError, ConfigError
from importer.pace import Pace
from importer.version import __version__

log = logging.getLogger("importer.client")

__all__ = ["ApiClient", "Response", "Attempt", "RetryPolicy", "ClientStats", "Lookup", "LookupUnavailable"]

USER_AGENT = f"importer/{__version__}"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# A gateway's answer for an API that did not answer it: the write may still be running there.
_GATEWAY_LOST = frozenset({502, 504})
_READS = frozenset({"GET", "HEAD"})
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
_NOT_SENT = (aiohttp.ClientConnectorError,)  # failed before a byte of the request went out
# Set while a request holds the first-answer gate: its own lookups and polls pass it.
_HOLDS_GATE: contextvars.ContextVar[bool] = contextvars.ContextVar("importer_holds_gate", default=False)


class ApiClient(Recovery):
    """``async with ApiClient(base_url, auth) as client: await client.request(...)``.

    ``max_body``: the largest answer read (default 4 MiB); ``read_timeout``: the
    longest silence while waiting for or reading an answer; ``background_timeout``
    and ``background_polls``: how long and how often a background job is polled.
    """

    def __init__(
        self,
        base_url: str,
        auth: TokenSource | None = None,
        *,
        concurrency: int = Pace.concurrency,
        rate: float | None = None,
        timeout: float = Pace.timeout,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        read_timeout: float = 30.0,
        background_timeout: float = 300.0,
        background_polls: int = 200,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parsed = URL(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError(f"the base URL {self.base_url[:200]!r} is not an http(s) URL with a host")
        self.auth = auth
        self.concurrency = concurrency
        self.timeout = timeout
        self.read_timeout = min(read_timeout, timeout)
        self.max_body = max_body
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or Pacer(rate)
        self.stats = ClientStats()
        self.halted: str | None = None  # why the client stopped sending, once it has
        self._gate = halting.FirstAnswerGate()
        self._first_writes = halting.FirstWrites()
        self._jobs = BackgroundJob(self._get, self.base_url, timeout=background_timeout, max_polls=background_polls,
                                   pause=self._pause, stopped=lambda: self.halted)
        self._session: aiohttp.ClientSession | None = None
        self._halted_event = anyio.Event()
        # A token source may tell its token without a call (importer.client.auth's do):
        # most requests then need no coroutine for it.
        self._token_at_hand = getattr(auth, "at_hand", None)
        self._urls: dict[str, tuple[URL, str]] = {}
        self._header_sets: dict[tuple[str | None, bool, bool], dict[str, str]] = {}

    async def __aenter__(self) -> ApiClient:
        connector = aiohttp.TCPConnector(limit=self.concurrency + 8, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout, sock_read=self.read_timeout),
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

    # -- the public call ------------------------------------------------------------------

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
        proof: Proof | None = None,
        optional: bool = False,
    ) -> Attempt:
        """Send with retries; ``path`` starts with ``/v1`` and is already encoded.

        ``background``: queue it with ``erp-api-background: none`` and poll the job
        until it is done; the answer is then the job's own status, headers and body.
        ``proof``: what a write's answer must show to count as a success.
        ``optional``: a 403 or 404 is this request's answer, not a reason to stop sending
        (a company snapshot notes what the token may not read).
        """
        url, url_text = self._url(path, params)
        if self.halted is not None:
            return Attempt(None, 0, self.halted, url=url_text, not_sent=True)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        call = Sending(method, url, url_text, path, body, lookup, idempotent, method not in _READS, background, proof,
                       optional)
        if self._gate.open or _HOLDS_GATE.get():
            attempt = await self._run(call)
        else:
            attempt = await self._through_gate(call)
        if call.write and self._first_writes.watching and not attempt.not_sent:
            self._watch(call, attempt)
        attempt.throttled, attempt.waited = call.throttles, call.waited
        return attempt

    async def _through_gate(self, call: Sending) -> Attempt:
        """Until an answer proves the token and base URL, one request (with its lookups) at a time."""
        if not await self._gate.enter():
            return await self._run(call)  # it opened while this one waited
        marker = _HOLDS_GATE.set(True)
        try:
            if self.halted is not None:
                return Attempt(None, 0, self.halted, url=call.url_text, not_sent=True)
            return await self._run(call)
        finally:
            _HOLDS_GATE.reset(marker)
            self._gate.leave()

    def _watch(self, call: Sending, attempt: Attempt) -> None:
        """A first write's final answer: a success ends the watch; one no record can cause may halt."""
        response = attempt.response
        if attempt.error is None and response is not None and (attempt.found_by_lookup or response.status < 300):
            self._first_writes.success()
        elif self.halted is None and (reason := judging.against_setup(call, response)) is not None:
            assert response is not None
            at_once = response.status < 500 and not self._gate.proved  # a page, before any proof of the setup
            message = self._first_writes.failure(response.status, reason, at_once=at_once)
            if message is not None:
                self._halt(message)

    def _halt(self, message: str) -> None:
        if self.halted is None:
            self.halted = message
            log.error("stopped sending: %s", message, extra={"halted": message})
            # Whoever waits (at the gate, for the window, in a backoff) finds the client halted now.
            self._gate.open_up()
            self.pacer.stop()
            self._halted_event.set()

    # -- one request, all its sends -----------------------------------------------------------

    async def _run(self, call: Sending) -> Attempt:
        while True:
            if self.halted is not None:
                return Attempt(None, call.sent, self.halted, url=call.url_text, not_sent=call.sent == 0)
            token = None
            if self.auth is not None and (self._token_at_hand is None or (token := self._token_at_hand()) is None):
                try:
                    token = await self.auth.token(self.session)
                except AuthError as exc:  # no token, no call can succeed: stop, don't fail each record
                    self._halt(str(exc))
                    continue
            outcome = await self._send(call, token)
            if isinstance(outcome, Attempt):
                return outcome
            if isinstance(outcome, NoAnswer):
                ambiguous = call.write and outcome.maybe_sent and not call.idempotent
                if call.write and outcome.maybe_sent:
                    call.unknown = outcome.error
                stop = await self._after_failure(call, outcome.error, ambiguous, None, lost=ambiguous)
                if stop is not None:
                    return stop
                continue
            response = outcome
            if call.background and response.status == 202 and call.too_large is None:
                job = await self._jobs.outcome(response, call.url)
                if isinstance(job, str):
                    return await self._unproved(call, response, job, resend=False)
                response = job
            status = response.status
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s -> %s", call.method, call.url_text, status,
                          extra={"method": call.method, "path": call.path, "status": status, "attempt": call.sent})
            if status < 400:
                reason = judging.verdict(call, response, token)
                if reason is None:
                    return Attempt(response, call.sent, None, False, call.url_text)
                if not call.write:
                    return Attempt(response, call.sent, reason, url=call.url_text)
                if status == 202:  # queued: it may still run, so it is never sent again
                    reason = reason if call.background else "HTTP 202: queued by the API, not done"
                stop = await self._unproved(call, response, reason, resend=status != 202)
            elif status == 429:
                stop = await self._throttled(call, response)
            elif status == 401 and token is not None and not call.renewed and self.auth.invalidate(token):  # type: ignore[union-attr]
                call.renewed = True
                call.tries -= 1
                self.stats.retries += 1
                continue
            elif (message := judging.systemic(call, response, token)) is not None:
                self._halt(message)
                return self._final(call, response, self.halted)
            elif status in RETRY_STATUSES:
                if call.write:
                    call.unknown = f"HTTP {status}"
                ambiguous = call.write and not call.idempotent
                stop = await self._after_failure(call, None, ambiguous, response,
                                                 self.pacer.retry_after(response.headers),
                                                 lost=ambiguous and status in _GATEWAY_LOST)
            elif self._refused_as_duplicate(call, response):  # an earlier send of it went through?
                return await self._duplicate(call, response)
            else:  # an ordinary refusal: final at once
                return self._final(call, response, call.too_large and f"HTTP {status}; {call.too_large}")
            if stop is not None:
                return stop

    async def _send(self, call: Sending, token: str | None) -> Response | NoAnswer | Attempt:
        """One HTTP exchange, paced: its answer, why none came, or an Attempt to stop with."""
        pacer = self.pacer
        if call.sent == 0:
            ticket = pacer.take_now()
            if ticket is None:
                ticket = await pacer.acquire()
        else:  # a retry: waiting for the window counts against the budget
            ticket = None
            with anyio.move_on_after(max(call.deadline - time.monotonic(), 0.0)):
                ticket = await pacer.acquire()
            if ticket is None:
                return self._out_of_budget(call, None, "still waiting to send")
        if self.halted is not None:
            pacer.release(ticket, None)
            return Attempt(None, call.sent, self.halted, url=call.url_text, not_sent=call.sent == 0)
        call.sent += 1
        call.signature = None  # how this send ends is what counts towards a halt, not an earlier one's
        call.tries += 1
        self.stats.calls += 1
        if call.sent == 1:
            call.deadline = time.monotonic() + self.retry.budget
        call.too_large = None
        headers = self._headers(token, call.body is not None, call.background)
        try:
            async with self.session.request(
                call.method, call.url, data=call.body, headers=headers, allow_redirects=False,
            ) as resp:
                if resp.content_length == 0:
                    payload = b""  # nothing to read (a create's 201, an update's 204)
                else:
                    try:
                        payload = await read_body(resp, self.max_body)
                    except AnswerTooLarge as exc:
                        payload, call.too_large = b"", str(exc)
                status = resp.status
                if status >= 300 and payload and token is not None:  # an echoed token goes no further
                    payload = judging.scrub_bytes(payload, token)
                response = Response(status, resp.headers, payload)
        except ValueError as exc:  # aiohttp.InvalidURL, or a header aiohttp refuses to send
            pacer.release(ticket, None)
            call.sent -= 1
            self.stats.calls -= 1
            detail = f"{type(exc).__name__}: {str(exc)[:200]}" if isinstance(exc, aiohttp.InvalidURL) else (
                "the request could not be built: is the token or the base URL malformed?")
            self._halt(halting.invalid_base_url(self.base_url, detail))
            return Attempt(None, call.sent, self.halted, url=call.url_text, not_sent=call.sent == 0)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            pacer.release(ticket, None)
            if not self._gate.open:
                self._gate.learn(False)
            return NoAnswer(describe_failure(exc), not isinstance(exc, _NOT_SENT))
        pacer.release(ticket, response.headers, status)
        if not self._gate.proved:
            self._gate.learn(judging.trusted(call, response, token))
        return response

    # -- plumbing ----------------------------------------------------------------------------

    async def _get(self, url: URL) -> tuple[Response | None, str | None]:
        """A GET of a URL the API gave (a background job's state or content), with retries."""
        call = Sending("GET", url, str(url), None, None, None, True, False, False, None)
        attempt = await self._run(call)
        return attempt.response, attempt.error

    def _url(self, path: str, params: Mapping[str, str] | None) -> tuple[URL, str]:
        """The URL of ``path`` and its text, parsed once (most requests go to the same few paths)."""
        cached = self._urls.get(path)
        if cached is None:
            url = URL(self.base_url + path, encoded=True)
            cached = (url, str(url))
            if len(self._urls) < 1024:
                self._urls[path] = cached
        if params:
            url = cached[0].update_query(params)
            return url, str(url)
        return cached

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
