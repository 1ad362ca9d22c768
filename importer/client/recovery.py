"""What a request does about an answer that is not a success: look it up, wait, retry, or stop.

The retry half of :class:`~importer.client.http.ApiClient`, kept apart so each file has one job.

**Absence is proved, not assumed.** The promise: no ambiguous write is ever sent
twice while it could still land. A write whose answer was *lost* (a timeout or a
reset after the body went out, a 502 or 504 from a gateway that gave up on the API)
may still be running on the server, so a lookup made at once that does not find it
proves nothing. The request then waits (:meth:`Recovery._settle`: the client's own
``timeout``, the longest the server was given to answer, and within the retry
budget), looks again, and only a second "not found" lets it be sent again. The wait
is this request's alone (other requests go on) and ends at once on a halt. A write
lost again after that is not sent a third time: it ends ``outcome unknown``, for a
``--resume`` to look up. An answer the API itself gave (a 500, a 503, a 2xx without
its proof) ends the request on the server: a lookup at once proves then.

A create refused as a duplicate ("already exists") after an earlier send of it may
have gone through is looked up too (:meth:`Recovery._duplicate`): the record found is
this create when it holds what was sent, and the record is ``created``, not failed.
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Literal, overload

import anyio

from importer.client.answers import Response
from importer.client.attempts import Attempt, ClientStats, LookupUnavailable, RetryPolicy, Sending
from importer.client.pacing import Pacer

__all__ = ["Recovery"]

log = logging.getLogger("importer.client")

# How the API words its refusal of a record that is there already (sandbox and live alike).
_DUPLICATE = re.compile(r"already exists?|duplicate|is not unique", re.IGNORECASE)
_LOST_AGAIN = 2  # sends of one write whose answers were lost after which it is not sent again


class Recovery:
    """Mixed into the client: needs its ``stats``, ``retry``, ``pacer`` and the event set on a halt."""

    stats: ClientStats
    retry: RetryPolicy
    pacer: Pacer
    timeout: float
    halted: str | None
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

    @overload
    async def _unproved(self, call: Sending, response: Response, reason: str, *,
                        resend: Literal[False]) -> Attempt: ...

    @overload
    async def _unproved(self, call: Sending, response: Response, reason: str, *,
                        resend: bool = True) -> Attempt | None: ...

    async def _unproved(self, call: Sending, response: Response, reason: str, *, resend: bool = True) -> Attempt | None:
        """A write whose answer does not prove it: look it up; send again at most once (never, without ``resend``)."""
        call.signature = (response.status, reason)
        call.landed = True
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
        retry_after: float | None = None, *, lost: bool = False,
    ) -> Attempt | None:
        """An ``Attempt`` to stop with, or None to send again after the backoff.

        ``lost``: the answer was lost while the write may still be running on the server
        (no answer, a 502 or 504): absence is then proved only after a wait.
        """
        if ambiguous:
            reason = (error or "no answer") if response is None else f"HTTP {response.status}"
            if call.lookup is None:
                return self._final(call, response, f"outcome unknown ({reason}); not sent again, to avoid a duplicate")
            call.landed = True
            stop = await self._prove_absent(call, response, reason, lost)
            if stop is not None:
                return stop
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

    async def _look(self, call: Sending, response: Response | None) -> Attempt | None:
        """Look the write up: an Attempt when that settles it (found, or could not tell), None when not found."""
        assert call.lookup is not None
        self.stats.lookups += 1
        try:
            found = await call.lookup()
        except LookupUnavailable as exc:
            return self._final(call, response, f"outcome unknown: {exc}")
        if found is not None:
            return Attempt(found, call.sent, None, found_by_lookup=True, url=call.url_text)
        return None

    async def _prove_absent(self, call: Sending, response: Response | None, reason: str, lost: bool) -> Attempt | None:
        """None once the write is proved not there (safe to send again); otherwise an Attempt to stop with."""
        stop = await self._look(call, response)
        if stop is not None or not lost:
            return stop
        why = await self._settle(call)
        if why is not None:
            return self._final(call, response, f"outcome unknown ({reason}); not found by a lookup at once, and "
                                               f"not sent again: {why}")
        stop = await self._look(call, response)
        if stop is not None:
            return stop
        call.lost += 1
        if call.lost >= _LOST_AGAIN:
            return self._final(call, response, (
                f"outcome unknown ({reason}); the answers to {call.lost} sends were lost and it was not found after "
                f"waiting {call.waited:.1f} s in all; not sent again after {call.sent} sends, to avoid a duplicate"))
        log.info("%s %s: not found %.1f s after its answer was lost (%s): sending it again",
                 call.method, call.url_text, self.timeout, reason,
                 extra={"method": call.method, "path": call.path, "attempt": call.sent, "error": reason})
        return None

    async def _settle(self, call: Sending) -> str | None:
        """Give a write whose answer was lost the time to land: None when waited, or why the wait was cut short.

        The wait is the client's ``timeout`` (the server had that long to answer; a write
        still running then has as long again to commit), within the request's retry budget.
        Only this request waits; a halt ends the wait at once.
        """
        seconds = self.timeout
        if time.monotonic() + seconds > call.deadline:
            return f"waiting {seconds:g} s more for it to land would pass the retry budget of {self.retry.budget:g} s"
        log.info("%s %s: its answer was lost; waiting %.1f s for it to land before looking again",
                 call.method, call.url_text, seconds,
                 extra={"method": call.method, "path": call.path, "attempt": call.sent})
        started = time.monotonic()
        await self._pause(seconds)
        call.waited += time.monotonic() - started
        if self.halted is not None:
            return f"the client stopped ({self.halted}) while it waited for it to land"
        return None

    async def _duplicate(self, call: Sending, response: Response) -> Attempt:
        """A create refused as a duplicate after an earlier send of it may have gone through.

        The lookup tells: a record holding what was sent is that earlier send gone through
        (found, so ``created``); without one, the refusal stands.
        """
        assert call.lookup is not None
        self.stats.lookups += 1
        refusal = f"HTTP {response.status}: {response.error_text()[:200]}"
        try:
            found = await call.lookup()
        except LookupUnavailable as exc:
            return self._final(call, response, f"outcome unknown: {refusal}, after an earlier send of it may have "
                                               f"gone through; {exc}")
        if found is not None:
            log.info("%s %s: refused as a duplicate of an earlier send of it, which went through",
                     call.method, call.url_text, extra={"method": call.method, "path": call.path})
            return Attempt(found, call.sent, None, found_by_lookup=True, url=call.url_text)
        return self._final(call, response, None)

    def _refused_as_duplicate(self, call: Sending, response: Response) -> bool:
        """A create's refusal that says the record is there already, after a send that may have landed."""
        return (call.landed and call.lookup is not None and response.status in (400, 409, 422)
                and _DUPLICATE.search(response.error_text()) is not None)
