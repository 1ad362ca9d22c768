"""The live progress line on a terminal: records/s, done, failed, what the run waits for, ETA."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from importer.sources import ByteCounter
from importer.summary import Summary

__all__ = ["LiveProgress"]


class LiveProgress:
    """Redraws from the summary's counters four times a second, on stderr."""

    def __init__(self, summary: Summary, counter: ByteCounter | None, client: Any = None) -> None:
        self.summary = summary
        self.counter = counter
        self.client = client
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
        wait_left = 0.0
        if self.client is not None:
            text.append(f"  {self.client.stats.calls:,} calls")
            waiting = self.client.pacer.waiting
            if waiting is not None:
                reason, until = waiting
                wait_left = max(until - time.time(), 0.0)
                if wait_left >= 1:
                    clock = time.strftime("%H:%M:%S", time.localtime(until))
                    text.append(f"  waiting until {clock}: {reason}", style="yellow")
        counter = self.counter
        elapsed = time.monotonic() - s.started_at
        if counter is not None and counter.total and counter.done:
            fraction = min(counter.done / counter.total, 1.0)
            text.append(f"  {fraction:.0%}")
            if 0 < fraction < 1 and elapsed > 1:
                # What is left at the pace so far, plus the wait now under way (the pace
                # so far already counts the waits before it).
                eta = wait_left + elapsed * (1 - fraction) / fraction
                text.append(f"  ETA {_duration(eta)}")
        return text


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
