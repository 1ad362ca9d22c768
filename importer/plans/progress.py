"""The fleet's live display on a terminal: a row per company, and the whole fleet's line.

Each row: the company, what it does now (its step, or done / failed / waiting),
what is done (documents first and their rows after, as the plan table counts:
``150 (375 rows)``), succeeded and failed (failed, invalid and skipped) in customers,
documents or actions, records (rows) per second, calls, 429s and its window (used of
the limit, when it reopens). Companies at work and those that failed come first; when
the terminal is too short for every row, the rest are counted on one line.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from importer.client.pacing import WindowState
from importer.progress import about
from importer.summary import counted

if TYPE_CHECKING:
    from importer.plans.company_run import CompanyRun

__all__ = ["FleetProgress", "company_row"]

_ORDER = {"failed": 0, "refused": 0, "running": 1, "waiting": 2, "stopped": 3, "not started": 4, "done": 5}
_STYLE = {"failed": "red", "running": "cyan", "done": "green", "stopped": "yellow"}


def company_row(run: CompanyRun) -> list[str]:
    """The row's cells, as text: the same for the live table and a test."""
    summaries = run.summaries
    done = sum(s.done for s in summaries)
    ok = run.units("units_succeeded")
    bad = sum(run.units(outcome) for outcome in ("failed", "invalid", "skipped"))
    elapsed = run.elapsed or (time.monotonic() - run.started_at if run.started_at is not None else 0.0)
    rate = f"{done / elapsed:,.1f}" if elapsed > 0 and done else ""
    client = run.client
    calls = client.stats.calls if client is not None else sum(s.calls for s in summaries)
    throttled = client.stats.throttled if client is not None else sum(s.throttled for s in summaries)
    window = ""
    if client is not None and run.state == "running":
        window = _window(client.pacer.window_state())
    what: str = run.state
    if run.state == "running" and run.step is not None:
        steps = run.company.plan.steps
        what = f"{steps.index(run.step) + 1}/{len(steps)} {run.step.name}"
    elif run.error:
        what = f"failed: {run.error}"
    return [run.name, what, counted(run.units("units_done"), done, run.documents), f"{ok:,}",
            f"{bad:,}" if bad else "", rate, f"{calls:,}", f"{throttled:,}" if throttled else "", window]


def _window(state: WindowState) -> str:
    """``96/100, reopens in 3 s``: the window's count, short enough for a row."""
    if state.used is None or state.limit is None:
        return ""
    return f"{state.used:,}/{state.limit:,}, reopens in {about(state.reopens_in)}"


class FleetProgress:
    """Redraws the table twice a second on stderr; gone when the fleet is over (the summary follows)."""

    def __init__(self, runs: list[CompanyRun]) -> None:
        self.runs = runs
        self.started = time.monotonic()
        self._console = Console(stderr=True)
        self._live = Live(get_renderable=self._render, console=self._console,
                          refresh_per_second=2, transient=True)

    def __enter__(self) -> FleetProgress:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def _render(self) -> Group:
        runs = sorted(self.runs, key=lambda r: _ORDER.get(r.state, 9))
        room = max(self._console.height - 6, 3)
        shown, hidden = runs[:room], runs[room:]
        table = Table(box=None, pad_edge=False, header_style="bold")
        for title, justify in (("company", "left"), ("now", "left"), ("done", "right"), ("ok", "right"),
                               ("failed", "right"), ("rec/s", "right"), ("calls", "right"), ("429", "right"),
                               ("window", "left")):
            table.add_column(title, justify=justify, no_wrap=True, min_width=len(title),  # type: ignore[arg-type]
                             overflow="ellipsis")
        for run in shown:
            table.add_row(*company_row(run), style=_STYLE.get(run.state))
        states: dict[str, int] = {}
        for run in self.runs:
            states[run.state] = states.get(run.state, 0) + 1
        done = sum(s.done for run in self.runs for s in run.summaries)
        elapsed = time.monotonic() - self.started
        line = Text(f"{len(self.runs)} companies: " + ", ".join(f"{n} {state}" for state, n in states.items())
                    + f"; {done:,} records, {done / elapsed if elapsed > 0 else 0:,.0f} rec/s")
        if hidden:
            line.append(f"  ({len(hidden)} more not shown)", style="dim")
        return Group(table, line)
