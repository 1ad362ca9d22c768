"""The live progress line on a terminal: records/s, done, failed, the window, what the run waits for, ETA.

The ETA is the later of two estimates: the pace so far (plus the wait under way),
and what the rate-limit window allows for the records left (:func:`allowance_seconds`):
a run that has spent its window is told to wait for it however fast it went before.
"""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from importer.client.pacing import WindowState
from importer.sources import ByteCounter
from importer.summary import Summary

__all__ = ["LiveProgress", "allowance_seconds", "eta_seconds", "window_text", "about"]


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

    def __init__(self, summary: Summary, counter: ByteCounter | None, client: Any = None) -> None:
        self.summary = summary
        self.counter = counter
        self.client = client
        # A client shared by a plan's steps counts for all of them: this run's are the calls since.
        self._calls_before = client.stats.calls if client is not None else 0
        self._live = Live(
            get_renderable=self._render, console=Console(stderr=True),
            refresh_per_second=4, transient=True,
        )

    def __enter__(self) -> LiveProgress:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def _render(self) -> Text:
        s = self.summary
        o = s.outcomes
        text = Text()
        text.append(f"{s.entity} ", style="bold")
        text.append(f"{s.done:,} records  ")
        text.append(f"{s.succeeded:,} ok  ", style="green")
        if o["failed"] or o["invalid"]:
            text.append(f"{o['failed']:,} failed  {o['invalid']:,} invalid  ", style="red")
        text.append(f"{s.records_per_second:,.0f} rec/s")
        state: WindowState | None = None
        calls_per_record = 1.0
        if self.client is not None:
            calls = self.client.stats.calls - self._calls_before
            text.append(f"  {calls:,} calls")
            if s.sent_units:
                calls_per_record = calls / s.sent_units
            pacer = self.client.pacer
            state = pacer.window_state()
            waiting = pacer.waiting
            if waiting is not None and state.wait >= 1:
                window = window_text(state)
                if window is not None:
                    text.append(f"  window {window}", style="yellow")
                reason, until = waiting
                clock = time.strftime("%H:%M:%S", time.localtime(until))
                text.append(f"  waiting until {clock}: {reason}", style="yellow")
        counter = self.counter
        elapsed = time.monotonic() - s.started_at
        if counter is not None and counter.total and counter.done:
            fraction = min(counter.done / counter.total, 1.0)
            text.append(f"  {fraction:.0%}")
            if 0 < fraction < 1 and elapsed > 1:
                # Records read so far stand for the bytes read so far; those read and not
                # finished are still to do.
                records_left = max(s.records / fraction - s.done, 0.0)
                pace = elapsed * (1 - fraction) / fraction
                eta = eta_seconds(records_left, calls_per_record, pace, state)
                text.append(f"  ETA {_duration(eta)}")
        return text


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
