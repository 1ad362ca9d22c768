"""Pacing from the server's own rate-limit headers.

The API counts calls in a fixed window per client and tells, on every response,
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (whole seconds until the
window turns). The pacer spends exactly that allowance and no more:

* Remaining only falls within a window, so the lowest value seen is the freshest;
  every request still in flight may not be counted in it yet, so the budget is
  that lowest Remaining minus the requests in flight (exact once they land);
* once the budget is spent, everyone waits for the window to turn (the earliest
  of ``arrival + Reset`` over the responses seen, which bounds the true end from
  above however the server rounds); then, with nothing in flight, a single probe
  request opens the new window and its answer lets the rest follow, so a turn
  costs no burst of 429s and no stale answer from the old window counts;
* a 429 blocks all sending for ``Retry-After``;
* an endpoint that sends no such headers is not paced at all.

``--rate`` adds an explicit ceiling in requests per second through aiolimiter.

    pacer = Pacer(rate=None)
    ticket = await pacer.acquire()
    ... send the request ...
    pacer.release(ticket, response.headers, response.status)
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import anyio
from aiolimiter import AsyncLimiter

__all__ = ["Pacer"]


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return int(float(value))
    except ValueError:
        return None


class Pacer:
    def __init__(self, rate: float | None = None) -> None:
        self._limiter = AsyncLimiter(rate, 1.0) if rate else None
        if rate and rate < 1:  # aiolimiter needs a whole token per period
            self._limiter = AsyncLimiter(1, 1.0 / rate)
        self._seq = 0
        self._in_flight: set[int] = set()
        self._budget: int | None = None  # None: unknown until the window's probe answers
        self._remaining = 0  # lowest X-RateLimit-Remaining seen in this window
        self._window_end: float | None = None
        self._opener = 0  # ticket of the probe that opened the current window
        self._probing = False
        self._blocked_until = 0.0
        self._unpaced = False
        self._changed: anyio.Event | None = None  # made only while someone waits
        self.limit: int | None = None

    def _notify(self) -> None:
        if self._changed is not None:  # nobody waiting: nothing to wake (the common case)
            self._changed.set()
            self._changed = None

    async def _wait(self, until: float | None) -> None:
        """Sleep until ``until`` (monotonic) or until the pacer's state changes."""
        if self._changed is None:
            self._changed = anyio.Event()
        changed = self._changed
        if until is None:
            await changed.wait()
            return
        with anyio.move_on_after(max(until - time.monotonic(), 0.0)):
            await changed.wait()

    async def acquire(self) -> int:
        """Wait for a slot in the window; returns the ticket to pass to ``release``."""
        if self._limiter is not None:
            await self._limiter.acquire()
        while (ticket := self._take()) is None:
            await self._wait(self._wake_at())
        return ticket

    def _take(self) -> int | None:
        """A ticket if the window allows a request now; None if it must wait."""
        now = time.monotonic()
        if self._blocked_until > now:
            return None
        opener = False
        if not self._unpaced:
            if self._window_end is not None and now >= self._window_end:
                self._forget_window()  # it turned
            if self._budget is None:
                if self._probing or self._in_flight:
                    return None  # the probe, or the old window's last answers, are out
                self._probing = opener = True
            elif self._budget > 0:
                self._budget -= 1
            else:
                return None
        self._seq += 1
        self._in_flight.add(self._seq)
        if opener:
            self._opener = self._seq
        return self._seq

    def _forget_window(self) -> None:
        """Wait for a new probe; answers to requests already sent may be the old window's."""
        self._budget, self._window_end = None, None
        self._opener = self._seq + 1  # the next ticket, the probe: anything before it is stale

    def _wake_at(self) -> float | None:
        """When a waiting request should look again (None: when the state changes)."""
        if self._blocked_until > time.monotonic():
            return self._blocked_until
        return None if self._budget is None else self._window_end

    def release(self, ticket: int, headers: Mapping[str, str] | None, status: int | None = None) -> None:
        """Learn from a response's headers (``None``: no response came)."""
        self._in_flight.discard(ticket)
        if ticket == self._opener:
            self._probing = False
        try:
            self._learn(ticket, headers, status)
        finally:
            self._notify()

    def _learn(self, ticket: int, headers: Mapping[str, str] | None, status: int | None) -> None:
        if headers is None:
            return
        if status == 429:
            retry_after = _int_header(headers, "Retry-After")
            retry_after = 1 if retry_after is None else max(retry_after, 0)
            self._blocked_until = max(self._blocked_until, time.monotonic() + retry_after)
            self._forget_window()
            return
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining is None or reset is None:
            if status is not None and status < 500 and self.limit is None:
                self._unpaced = True  # the endpoint does not count: nothing to pace
            return
        if ticket < self._opener:
            return  # sent before this window was opened: its numbers may be the old window's
        self.limit = _int_header(headers, "X-RateLimit-Limit") or self.limit
        end = time.monotonic() + reset
        if ticket == self._opener or self._window_end is None:
            self._remaining, self._window_end = remaining, end
        else:
            self._remaining = min(self._remaining, remaining)
            self._window_end = min(self._window_end, end)
        self._budget = self._remaining - len(self._in_flight)

    @property
    def waiting_for(self) -> float:
        """Seconds until sending may go on, when the allowance is spent (else 0)."""
        now = time.monotonic()
        wait = self._blocked_until - now
        if self._budget is not None and self._budget <= 0 and self._window_end is not None:
            wait = max(wait, self._window_end - now)
        return max(wait, 0.0)
