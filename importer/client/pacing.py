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
* a 429 blocks all sending for ``Retry-After`` (a request throttled without a
  usable one backs off on its own, and tells the pacer, see :meth:`Pacer.backing_off`);
* an endpoint that sends no such headers is not paced at all.

Header values that make no sense are ignored (see :mod:`importer.client.limits`),
with one warning per header per pacer; no wait is longer than the window
(``X-RateLimit-Policy``'s ``w=``, else an hour). :attr:`Pacer.waiting` tells what
the run waits for and until when; :meth:`Pacer.window_state` how much of the window
is spent and when it turns. ``--rate`` adds an explicit ceiling in requests
per second through aiolimiter.

    pacer = Pacer(rate=None)
    ticket = await pacer.acquire()
    ... send the request ...
    pacer.release(ticket, response.headers, response.status)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import anyio
from aiolimiter import AsyncLimiter

from importer.client import limits
from importer.client.limits import BAD, LIMIT, MAX_LIMIT, POLICY, REMAINING, RESET, count

__all__ = ["Pacer", "WindowState"]

log = logging.getLogger("importer.client")


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"


@dataclass(frozen=True, slots=True)
class WindowState:
    """What the pacer knows of the rate-limit window now, for the progress line and its ETA."""

    limit: int | None  # calls per window (X-RateLimit-Limit); None: the API does not count
    remaining: int | None  # calls left in the current window; None: no window open (a probe opens one)
    reopens_in: float  # seconds until the current window turns (0 when none is open)
    window: float  # the window's length in seconds (X-RateLimit-Policy's w=, else an hour)
    wait: float  # seconds sending waits now, for the window or a 429 (0 when it does not)

    @property
    def used(self) -> int | None:
        """Calls spent in the current window, when the limit and the window are known."""
        if self.limit is None or self.remaining is None:
            return None
        return max(self.limit - self.remaining, 0)


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
        self._block_reason = ""
        self._backoff_until = 0.0  # the latest end of a throttled request's own backoff
        self._stopped = False
        self._unpaced = False
        self._changed: anyio.Event | None = None  # made only while someone waits
        self._announced = 0.0  # the wake-up time last logged
        self._counted = 0.0  # the wake-up time last counted in ``waits``
        self.waits = 0  # waits of over a second (the window spent, a 429's Retry-After), one per wake-up time
        self._policy: str | None = None  # the last X-RateLimit-Policy text read
        self._limit_text: str | None = None  # the last X-RateLimit-Limit text read, and its value:
        self._limit: int | None = None
        self._warned: set[str] = set()
        self.window = limits.DEFAULT_WINDOW  # seconds: the longest any wait may be
        self.limit: int | None = None

    # -- waiting -------------------------------------------------------------------------

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
        self._announce(until)
        with anyio.move_on_after(max(until - time.monotonic(), 0.0)):
            await changed.wait()

    def _announce(self, until: float) -> None:
        """Count and log a wait worth telling about, once per wake-up time."""
        if until - time.monotonic() > 1.0 and until != self._counted:
            self._counted = until
            self.waits += 1
        if until - time.monotonic() > 1.0 and until != self._announced and log.isEnabledFor(logging.INFO):
            self._announced = until
            waiting = self.waiting
            if waiting is not None:
                reason, epoch = waiting
                wait = max(epoch - time.time(), 0.0)
                log.info("waiting until %s (%s): %s", time.strftime("%H:%M:%S", time.localtime(epoch)),
                         _seconds(wait), reason,
                         extra={"reason": reason, "wait_s": round(wait, 1), "limit": self.limit,
                                "until": datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")})

    def take_now(self) -> int | None:
        """A ticket at once if the window has room and no ``rate`` ceiling applies (as
        ``acquire`` would give it, without waiting); None: ``await acquire()``."""
        return self._take() if self._limiter is None else None

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
        if not self._unpaced and not self._stopped:
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

    # -- learning --------------------------------------------------------------------------

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
        policy = headers.get(POLICY)
        if policy is not None and policy != self._policy:
            self._read_policy(policy)  # first: it bounds this answer's own waits
        if status == 429:
            self._throttled(ticket, headers)
            return
        remaining = count(headers.get(REMAINING))
        reset = count(headers.get(RESET))
        if remaining is None or reset is None:
            self._uncounted(status)
            return
        limit_text = headers.get(LIMIT)
        if limit_text != self._limit_text:  # parsed once: it is the same on every answer
            self._limit_text, self._limit = limit_text, self._read_limit(headers)
        limit = self._limit
        ceiling = limit or self.limit
        if 0 <= remaining and (ceiling is None or remaining <= ceiling) and 0 <= reset <= self.window:
            seconds: float | None = reset  # the common case: believable as it is
        else:
            seconds = self._believable(headers, ceiling, remaining, reset)
        if seconds is None:
            self._uncounted(status)
            return
        if ticket < self._opener:
            return  # sent before this window was opened: its numbers may be the old window's
        self._unpaced = False
        if limit is not None:
            self.limit = limit
        end = time.monotonic() + seconds
        if ticket == self._opener or self._window_end is None:
            self._remaining, self._window_end = remaining, end
        else:
            self._remaining = min(self._remaining, remaining)
            self._window_end = min(self._window_end, end)
        self._budget = self._remaining - len(self._in_flight)

    def _uncounted(self, status: int | None) -> None:
        """An answer without believable window numbers."""
        if status is not None and status < 500 and self.limit is None:
            self._unpaced = True  # the endpoint does not count (or not believably): nothing to pace

    def _believable(self, headers: Mapping[str, str], limit: int | None, remaining: int, reset: int) -> float | None:
        """Seconds until the window turns, if Remaining and Reset can be believed (one warning each if not)."""
        if remaining == BAD or (limit is not None and remaining > limit):
            self._ignore(headers, "X-RateLimit-Remaining", "negative, not a number, or above the limit")
            return None
        if reset == BAD:
            seconds = None
        elif reset <= self.window:
            return reset
        else:
            seconds = limits.epoch_reset(reset, self.window)  # an older system sent an epoch time
        if seconds is None:
            self._ignore(headers, "X-RateLimit-Reset", f"not a number of seconds within the {self.window:.0f} s window")
        return seconds

    def _read_limit(self, headers: Mapping[str, str]) -> int | None:
        limit = count(headers.get(LIMIT))
        if limit is not None and not 0 < limit <= MAX_LIMIT:
            self._ignore(headers, "X-RateLimit-Limit", f"not a count from 1 to {MAX_LIMIT:,}")
            return None
        return limit

    def _read_policy(self, policy: str) -> None:
        self._policy = policy
        window = limits.policy_window(policy)
        if window is None:
            self._ignore({"X-RateLimit-Policy": policy}, "X-RateLimit-Policy", "no usable w=<seconds>")
        else:
            self.window = window

    def _ignore(self, headers: Mapping[str, str], name: str, why: str) -> None:
        """One warning per header: a server that sends nonsense sends it on every answer."""
        if name not in self._warned:
            self._warned.add(name)
            log.warning("ignoring %s: %r (%s); later bad values of it are ignored without a word",
                        name, str(headers.get(name))[:80], why, extra={"header": name})

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """``Retry-After`` in seconds, at most the window; None when absent or unusable."""
        value = headers.get("Retry-After")
        if value is None:
            return None
        seconds = limits.retry_after_seconds(value)
        if seconds is None:
            self._ignore(headers, "Retry-After", "neither seconds nor an HTTP date")
            return None
        if seconds > self.window:
            self._ignore(headers, "Retry-After", f"longer than the {self.window:.0f} s window, which bounds it")
            return self.window
        return seconds

    def _throttled(self, ticket: int, headers: Mapping[str, str]) -> None:
        """A 429: block all sending for its Retry-After; the window's numbers are stale now."""
        wait = self.retry_after(headers)
        if wait is not None and wait > 0:
            until = time.monotonic() + wait
            if until > self._blocked_until:
                self._blocked_until, self._block_reason = until, f"429: Retry-After {_seconds(wait)}"
        self._forget_window()

    def backing_off(self, until: float) -> None:
        """A throttled request waits until ``until`` (monotonic) of its own accord: for ``waiting``."""
        self._backoff_until = max(self._backoff_until, until)

    def stop(self) -> None:
        """Let every waiter go at once (the client halted: they return unsent)."""
        self._stopped = True
        self._blocked_until = 0.0
        self._notify()

    # -- telling -------------------------------------------------------------------------

    @property
    def blocked_until(self) -> float:
        """Monotonic time before which nothing is sent (after a 429); in the past when none."""
        return self._blocked_until

    @property
    def waiting(self) -> tuple[str, float] | None:
        """What sending waits for and until when (epoch seconds), or None when it does not wait."""
        now = time.monotonic()
        if self._blocked_until > now:
            return self._block_reason, time.time() + (self._blocked_until - now)
        if self._budget is not None and self._budget <= 0 and self._window_end is not None and self._window_end > now:
            limit = self.limit
            spent = f" ({limit - max(self._remaining, 0)}/{limit} calls)" if limit else ""
            return f"rate-limit window spent{spent}", time.time() + (self._window_end - now)
        if self._backoff_until > now:
            return "429 without a usable Retry-After: backing off", time.time() + (self._backoff_until - now)
        return None

    def window_state(self) -> WindowState:
        """The window as the pacer knows it now (read a few times a second by the progress line)."""
        now = time.monotonic()
        open_window = self._window_end is not None and self._window_end > now and not self._unpaced
        end = self._window_end if open_window and self._window_end is not None else now
        return WindowState(
            limit=None if self._unpaced else self.limit,
            remaining=max(self._remaining, 0) if open_window else None,
            reopens_in=end - now,
            window=self.window,
            wait=self.waiting_for,
        )

    @property
    def waiting_for(self) -> float:
        """Seconds until sending may go on, when it waits (else 0)."""
        waiting = self.waiting
        return max(waiting[1] - time.time(), 0.0) if waiting is not None else 0.0
