"""Waiting for a queued background request (``erp-api-background: none``), within bounds.

The API answers 202 with ``{id, stateLocation}``; the state
(``BackgroundRequestStateDto``) has ``status`` 'Started', 'Finished' or 'Failed',
``statusCode`` (0 until done), ``contentLocation`` and ``responseHeaders``. Any
other status counts as still running. A state that cannot be read (no answer, an
error, not JSON) is read again at the next poll: a lost read says nothing about the
job, so it never ends the follow-up early. Polling stops at a time and a count
bound (or a halt of the client); the job's outcome is then unknown, and the caller
must not send it again: it may still run, and a queued request is followed, never
resent. Locations are followed as given, relative or absolute, but only on
the API's own scheme, host and port: the token is never sent anywhere else (the
standard ``/v1/background/{id}`` path is used instead).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import orjson
from multidict import CIMultiDict
from yarl import URL

from importer.client.answers import Response
from importer.keys import encode_key

__all__ = ["BackgroundJob", "Get"]

log = logging.getLogger("importer.client")

Get = Callable[[URL], Awaitable[tuple[Response | None, str | None]]]  # a GET: (answer, error)
Pause = Callable[[float], Awaitable[None]]  # sleep, cut short when the client stops
_DONE = frozenset({"finished", "failed"})
_FIRST_DELAY, _MAX_DELAY = 0.2, 5.0


class BackgroundJob:
    def __init__(
        self, get: Get, base_url: str, *, timeout: float, max_polls: int,
        pause: Pause = anyio.sleep, stopped: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._get = get
        self._pause = pause
        self._stopped = stopped
        self._base = base_url.rstrip("/")
        self._origin = _origin(URL(self._base))
        self.timeout = timeout
        self.max_polls = max_polls

    async def outcome(self, accepted: Response, sent_to: URL) -> Response | str:
        """The job's own answer once it is done; a string saying why its outcome is unknown otherwise."""
        data = accepted.json()
        if not isinstance(data, dict):
            return "the background request was accepted (HTTP 202) without a job to follow"
        job = str(data.get("id") or "").strip()
        standard = URL(f"{self._base}/v1/background/{encode_key(job)}", encoded=True) if job else None
        state_url = self._follow(data.get("stateLocation"), sent_to) or standard
        if state_url is None:
            return "the background request was accepted (HTTP 202) without a job id or stateLocation"
        name = job or str(state_url)
        started = time.monotonic()
        deadline = started + self.timeout
        delay, polls, status = _FIRST_DELAY, 0, "queued"
        unread: str | None = None  # why the last read of its state failed, if it did
        while True:
            left = deadline - time.monotonic()
            if (stopped := self._stopped()) is not None:
                return f"background job {name} not followed further: the client stopped ({stopped})"
            if left <= 0 or polls >= self.max_polls:
                spent = time.monotonic() - started
                if unread is not None:
                    return (f"background job {name}: its state could not be read ({unread}), "
                            f"{polls} reads in {spent:.0f} s")
                return f"background job {name} still {status} after {spent:.0f} s"
            await self._pause(min(delay, left))
            delay = min(delay * 1.5, _MAX_DELAY)
            polls += 1
            response, error = await self._get(state_url)
            state = response.json() if response is not None and error is None and response.status == 200 else None
            if not isinstance(state, dict):
                unread = error or (f"HTTP {response.status}" if response is not None else "no answer")
                log.info("background job %s: its state could not be read (%s); reading it again", name, unread)
                continue
            unread = None
            status = str(state.get("status") or "without a status")[:40]
            if status.casefold() in _DONE:
                return await self._result(state, status, name, state_url, standard)

    async def _result(
        self, state: dict[str, Any], status: str, name: str, state_url: URL, standard: URL | None,
    ) -> Response | str:
        code = state.get("statusCode")
        if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
            if status.casefold() == "failed":
                code = 500
            else:
                return f"background job {name} finished without a status code"
        body = b""
        content_url = self._follow(state.get("contentLocation"), state_url)
        if content_url is None and (state.get("hasResponseContent") or state.get("contentLocation")):
            content_url = (standard or state_url) / "content"
        if content_url is not None:
            response, error = await self._get(content_url)
            if response is not None and error is None and response.status == 200:
                body = response.body
        if not body and state.get("errorMessage"):
            body = orjson.dumps({"message": str(state["errorMessage"])})
        raw = state.get("responseHeaders")
        headers = CIMultiDict({str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {})
        return Response(code, headers, body)

    def _follow(self, location: Any, sent_to: URL) -> URL | None:
        """``location`` as a URL on the API's host, or None (absent, malformed, or elsewhere)."""
        if not isinstance(location, str) or not location.strip():
            return None
        location = location.strip()
        try:
            if location.startswith("/v1/"):  # the API's own paths are under the base URL
                url = URL(self._base + location, encoded=True)
            else:
                url = sent_to.join(URL(location, encoded=True))
            origin = _origin(url)
        except ValueError:
            return None
        if origin != self._origin:
            log.warning("not following %s: it is not on the API's host %s, so the token is not sent there",
                        str(url)[:200], self._origin[1])
            return None
        return url


def _origin(url: URL) -> tuple[str, str, int | None]:
    if not url.is_absolute():
        raise ValueError("a relative URL has no origin")
    return url.scheme.lower(), (url.host or "").lower(), url.port
