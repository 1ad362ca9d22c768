"""Pacing from the server's own rate-limit headers.

The API counts calls in a fixed window per client and tells, on every response,
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (whole seconds until the
window turns). The pacer spends exactly that allowance and no more:

* a response says R calls remain; requests sent *after* it was sent and still in
  flight may not be counted yet, so the budget is R minus those;
* once the budget is spent, everyone waits for the window to turn (the earliest
  of ``arrival + Reset`` over the responses seen, which bounds the true end from
  above however the server rounds), then a single probe request learns the new
  window before the rest follow, so a turn costs no burst of 429s;
* a 429 blocks all sending for ``Retry-After``;
* an endpoint that sends no such headers is not paced at all.

``--rate`` adds an explicit ceiling in requests per second through aiolimiter.

    pacer = Pacer(rate=None)
    ticket = await pacer.acquire()
    ... send the request ...
    pacer.release(ticket, response.headers)
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
        self._budget: int | None = None  # None: unknown until a response tells
        self._budget_seq = -1  # the request whose response set the budget
        self._window_end: float | None = None
        self._blocked_until = 0.0
        self._probing = False
        self._unpaced = False
        self._changed = anyio.Event()
        self.limit: int | None = None
        self.throttled = 0

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _wait(self, until: float | None) -> None:
        """Sleep until ``until`` (monotonic) or until the pacer's state changes."""
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
        while True:
            now = time.monotonic()
            if self._blocked_until > now:
                await self._wait(self._blocked_until)
                continue
            if self._unpaced:
                break
            if self._window_end is not None and now >= self._window_end:
                self._budget, self._window_end = None, None  # the window turned
            if self._budget is None:
                if self._probing:
                    await self._wait(None)
                    continue
                self._probing = True
                break
            if self._budget > 0:
                self._budget -= 1
                break
            await self._wait(self._window_end)
        self._seq += 1
        self._in_flight.add(self._seq)
        return self._seq

    def release(self, ticket: int, headers: Mapping[str, str] | None, status: int | None = None) -> None:
        """Learn from a response's headers (``None``: no response came)."""
        self._in_flight.discard(ticket)
        self._probing = False
        if headers is None:
            self._notify()
            return
        if status == 429:
            self.throttled += 1
            retry_after = _int_header(headers, "Retry-After")
            retry_after = 1 if retry_after is None else max(retry_after, 0)
            self._blocked_until = max(self._blocked_until, time.monotonic() + retry_after)
            self._budget, self._window_end = None, None
            self._notify()
            return
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining is None or reset is None:
            if status is not None and status < 500 and self.limit is None:
                self._unpaced = True  # the endpoint does not count: nothing to pace
            self._notify()
            return
        self.limit = _int_header(headers, "X-RateLimit-Limit") or self.limit
        end = time.monotonic() + reset
        if self._window_end is None or end > self._window_end + 1.0:
            self._window_end = end  # first news of a new window
            self._budget_seq = -1
        else:
            self._window_end = min(self._window_end, end)
        if ticket >= self._budget_seq:  # newest news wins; older responses are stale
            self._budget_seq = ticket
            uncounted = sum(1 for t in self._in_flight if t > ticket)
            self._budget = remaining - uncounted
        self._notify()

    @property
    def blocked_for(self) -> float:
        return max(self._blocked_until - time.monotonic(), 0.0)
