"""What a request does about an answer that is not a success: look it up, wait, retry, or stop.

The retry half of :class:`~importer.client.http.ApiClient`, kept apart so each file has one job.
"""

from __future__ import annotations

import logging
import random
import time

import anyio

from importer.client.answers import Response
from importer.client.attempts import Attempt, ClientStats, LookupUnavailable, RetryPolicy, Sending
from importer.client.pacing import Pacer

__all__ = ["Recovery"]

log = logging.getLogger("importer.client")


class Recovery:
    """Mixed into the client: needs its ``stats``, ``retry``, ``pacer`` and the event set on a halt."""

    stats: ClientStats
    retry: RetryPolicy
    pacer: Pacer
    _halted_event: anyio.Event

    def _final(self, call: Sending, response: Response | None, error: str | None) -> Attempt:
        if response is not None and call.signature is None:
            call.signature = (response.status, response.error_text())
        return Attempt(response, call.sent, error, url=call.url_text)

    def _out_of_budget(self, call: Sending, response: Response | None, last: str) -> Attempt:
        spent = time.monotonic() - (call.deadline - self.retry.budget)
        error = (f"gave up after {spent:.1f} s of retries: waiting more would pass the retry budget "
                 f"of {self.retry.budget:g} s; last: {last}")
        if call.unknown is not None:
            error = f"outcome unknown ({call.unknown}); {error}"
        return self._final(call, response, error)

    async def _throttled(self, call: Sending, response: Response) -> Attempt | None:
        """A 429: wait for its Retry-After (the pacer holds everyone back), or back off more each time."""
        self.stats.throttled += 1
        call.tries -= 1  # throttling never makes a record fail: only the budget ends it
        call.throttles += 1
        pacer, now = self.pacer, time.monotonic()
        # Full jitter, doubling per 429 of this request: a Retry-After of 0 (or none) is no licence to hammer.
        backoff = random.uniform(0, min(pacer.window, self.retry.base * 2 ** min(call.throttles - 1, 40)))
        if max(pacer.blocked_until, now + backoff) > call.deadline:
            return self._out_of_budget(call, response, f"HTTP 429: {response.error_text()}")
        self.stats.retries += 1
        log.info("429 on %s %s: waiting for the rate-limit window", call.method, call.path,
                 extra={"method": call.method, "path": call.path, "status": 429, "attempt": call.sent})
        if now + backoff > pacer.blocked_until:
            pacer.backing_off(now + backoff)
            await self._pause(backoff)
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but not past a halt."""
        with anyio.move_on_after(seconds):
            await self._halted_event.wait()

    async def _unproved(self, call: Sending, response: Response, reason: str, *, resend: bool = True) -> Attempt | None:
        """A write whose answer does not prove it: look it up; send again at most once."""
        call.signature = (response.status, reason)
        unknown = f"outcome unknown: {reason}"
        if call.lookup is not None:
            self.stats.lookups += 1
            try:
                found = await call.lookup()
            except LookupUnavailable as exc:
                return Attempt(response, call.sent, f"{unknown}; {exc}; not sent again, to avoid a duplicate",
                               url=call.url_text)
            if found is not None:
                return Attempt(found, call.sent, None, found_by_lookup=True, url=call.url_text)
            if not resend:
                return Attempt(response, call.sent, f"{unknown}; not found by a lookup yet, but not sent again, "
                               "to avoid a duplicate", url=call.url_text)
            if call.resent_unproved:
                return Attempt(response, call.sent, f"{reason}, twice; the record is not there, so it is not "
                               "sent a third time", url=call.url_text)
            call.resent_unproved, call.unknown = True, None
            return None
        if call.idempotent and resend and not call.resent_unproved:
            call.resent_unproved, call.unknown = True, reason  # sending it again does no harm
            return None
        return Attempt(response, call.sent, f"{unknown}; not sent again, to avoid a duplicate", url=call.url_text)

    async def _after_failure(
        self, call: Sending, error: str | None, ambiguous: bool, response: Response | None,
        retry_after: float | None = None,
    ) -> Attempt | None:
        """An ``Attempt`` to stop with, or None to send again after the backoff."""
        if ambiguous:
            if call.lookup is None:
                reason = error if response is None else f"HTTP {response.status}"
                return self._final(call, response, f"outcome unknown ({reason}); not sent again, to avoid a duplicate")
            self.stats.lookups += 1
            try:
                found = await call.lookup()
            except LookupUnavailable as exc:
                return self._final(call, response, f"outcome unknown: {exc}")
            if found is not None:
                return Attempt(found, call.sent, None, found_by_lookup=True, url=call.url_text)
            call.unknown = None  # it is not there: sending again is safe
        if call.tries >= self.retry.max_attempts:
            return self._final(call, response, error)
        delay = self.retry.delay(call.tries, retry_after)
        last = error or f"HTTP {response.status if response is not None else '?'}"
        if time.monotonic() + delay > call.deadline:
            return self._out_of_budget(call, response, last)
        self.stats.retries += 1
        status = response.status if response is not None else None
        log.info("retrying after %s", last, extra={"status": status, "attempt": call.sent, "error": error})
        await self._pause(delay)
        return None
