"""The live progress line on a terminal: records/s, done, failed, the window, what the run waits for, ETA.

It counts units: a customer, a whole document (however many rows it has), an action; a
document entity's line says documents. The percentage is the units *done* (this run's,
and those a ``--resume`` found done) of the units the input holds, estimated from the
bytes read so far: what is read but still queued is not done, so 200 of 3,000 read and
none finished is 0 %.

The ETA counts only the work left (what a resume skips costs no time) and is the later
of two estimates: the units left at the pace of the last :data:`PACE_WINDOW` seconds
(plus the wait under way), and what the rate-limit window allows for them
(:func:`allowance_seconds`): a run that has spent its window is told to wait for it
however fast it went before. :class:`LiveProgress` takes a clock, so a test drives it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from importer.client.pacing import WindowState
from importer.entities import ENTITIES
from importer.sources import ByteCounter
from importer.summary import Summary

__all__ = ["LiveProgress", "fitted", "DROP_ORDER", "allowance_seconds", "eta_seconds", "window_text", "about", "PACE_WINDOW"]

# What a line too wide for the terminal drops first: the reason of a wait, then the window,
# the call count and the rate; the counts, the percentage and the ETA stay.
DROP_ORDER = ("reason", "window", "calls", "rate")
PACE_WINDOW = 30.0  # seconds: the ETA's pace is the units finished in the last this many


def fitted(parts: list[tuple[str, str | None, str]], width: int | None) -> Text:
    """The parts (text, style, drop name) as one line of at most ``width`` columns (None: all of them)."""
    if width is not None:
        for name in DROP_ORDER:
            if sum(len(part) for part, _, _ in parts) <= width:
                break
            parts = [p for p in parts if p[2] != name]
    text = Text(no_wrap=True, overflow="ellipsis")
    for part, style, _ in parts:
        text.append(part, style=style)
    if width is not None and text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text


def allowance_seconds(calls_left: float, state: WindowState) -> float:
    """The least time the window lets ``calls_left`` calls go out in.

    What is left of the current window goes now; every further ``limit`` calls wait
    for one more turn of the window. Calls of the last window are counted as sent at
    once on its opening (the pace so far bounds them, see :func:`eta_seconds`).
    """
    if state.limit is None or calls_left <= 0:
        return state.wait
    remaining, reopens_in = state.remaining, state.reopens_in
    if remaining is None:  # no window open: the next call opens a whole one
        remaining, reopens_in = state.limit, state.window
    if calls_left <= remaining:
        return state.wait
    windows = math.ceil((calls_left - remaining) / state.limit)
    return max(reopens_in, state.wait) + (windows - 1) * state.window


def eta_seconds(records_left: float, calls_per_record: float, pace_seconds: float, state: WindowState | None) -> float:
    """Seconds until the run is done: the pace so far or the window's allowance, whichever is later.

    ``pace_seconds``: the records left at the pace so far (waits before now included).
    """
    if state is None:
        return pace_seconds
    calls = records_left * max(calls_per_record, 1.0)
    return max(pace_seconds + state.wait, allowance_seconds(calls, state))


def window_text(state: WindowState) -> str | None:
    """``600/600 used, reopens in 4 min``; None when the API does not count or no window is open."""
    used = state.used
    if used is None or state.limit is None:
        return None
    return f"{used:,}/{state.limit:,} used, reopens in {about(state.reopens_in)}"


class LiveProgress:
    """Redraws from the summary's counters four times a second, on stderr."""

    def __init__(self, summary: Summary, counter: ByteCounter | None, client: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.summary = summary
        self.counter = counter
        self.client = client
        self.clock = clock
        entity = ENTITIES.get(summary.entity)
        self.unit = "documents" if entity is not None and entity.is_document else "records"
        self._paces: deque[tuple[float, int]] = deque()  # (when, units done) over the pace window
        # A client shared by a plan's steps counts for all of them: this run's are the calls since.
        self._calls_before = client.stats.calls if client is not None else 0
        self._live = Live(
            get_renderable=self.line, console=Console(stderr=True),
            refresh_per_second=4, transient=True,
        )

    def __enter__(self) -> LiveProgress:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def line(self, width: int | None = None) -> Text:
        """The line as it stands now (each call is a moment of the pace window), fitted to ``width``
        columns when given: parts are dropped in :data:`DROP_ORDER`, then the rest is cut short."""
        s = self.summary
        o = s.outcomes
        now = self.clock()
        parts: list[tuple[str, str | None, str]] = [(f"{s.entity} ", "bold", "")]
        parts.append((f"{s.units_done:,} {self.unit}  " if self.unit == "documents" else f"{s.done:,} records  ",
                      None, ""))
        parts.append((f"{s.succeeded:,} ok  ", "green", ""))
        if o["failed"] or o["invalid"]:
            parts.append((f"{o['failed']:,} failed  {o['invalid']:,} invalid  ", "red", ""))
        elapsed = now - s.started_at
        rate = s.done / elapsed if elapsed > 0 else 0.0
        parts.append((f"{rate:,.0f} rec/s", None, "rate"))
        state: WindowState | None = None
        calls_per_unit = 1.0
        if self.client is not None:
            calls = self.client.stats.calls - self._calls_before
            parts.append((f"  {calls:,} calls", None, "calls"))
            if s.sent_units:
                calls_per_unit = calls / s.sent_units
            pacer = self.client.pacer
            state = pacer.window_state()
            waiting = pacer.waiting
            if waiting is not None and state.wait >= 1:
                window = window_text(state)
                if window is not None:
                    parts.append((f"  window {window}", "yellow", "window"))
                reason, until = waiting
                clock = time.strftime("%H:%M:%S", time.localtime(until))
                parts.append((f"  waiting until {clock}", "yellow", ""))
                parts.append((f": {reason}", "yellow", "reason"))
        total = self._units_in_input()
        if total:
            finished = s.units_done + s.units_already_done
            parts.append((f"  {min(finished / total, 1.0):.0%}", None, ""))
            left = max(total - finished, 0.0)
            pace = self._pace(now, s.units_done)
            if left and (pace or state is not None):
                eta = eta_seconds(left, calls_per_unit, left / pace if pace else 0.0, state)
                if pace or eta > 0:
                    parts.append((f"  ETA {_duration(eta)}", None, ""))
        return fitted(parts, width)

    def _render(self) -> Text:
        return self.line(self._live.console.width)

    def _units_in_input(self) -> float | None:
        """How many units the input holds: those read so far, over the share of its bytes read."""
        counter, read = self.counter, self.summary.units
        if counter is None or not counter.total or not counter.done or not read:
            return None
        fraction = min(counter.done / counter.total, 1.0)
        return read / fraction

    def _pace(self, now: float, done: int) -> float:
        """Units finished per second over the last :data:`PACE_WINDOW` seconds (0.0: too soon to say)."""
        paces = self._paces
        paces.append((now, done))
        while len(paces) > 2 and paces[1][0] <= now - PACE_WINDOW:
            paces.popleft()  # the oldest kept is the window's start
        then, before = paces[0]
        span = now - then
        return (done - before) / span if span >= 1 and done > before else 0.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def about(seconds: float) -> str:
    """A wait as a person says it: 45 s, 4 min, 1 h 05 min (rounded up: never sooner than true)."""
    seconds = math.ceil(max(seconds, 0.0))
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
