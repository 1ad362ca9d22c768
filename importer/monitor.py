"""Watching a run with nobody at a terminal: progress events on stderr, a metrics file.

    async with Monitor(progress_every=60, metrics_file="/var/lib/node_exporter/importer.prom"):
        await importer.import_records("customers.csv", entity="customer", ...)

While a :class:`Monitor` is open, every run started in its block (a plan's steps, a fleet's
companies, by :func:`watching`) is watched. Every ``progress_every`` seconds each run under way
tells where it stands in one progress event on stderr (with ``--log-format json`` a JSON object,
``"event": "progress"``): records done and left, the rate, the ETA and the rate-limit window; a
terminal or not. Every ``metrics_every`` seconds, and once more at the end, the metrics file is
written whole in the Prometheus text format (a new file moved over the old, so a reader never
sees half of one): records by outcome, calls, 429s, waits for the window, the last success's
time; what node-exporter's textfile collector, or any scheduler, reads. At the end its counters
are the summaries' own.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from importer.logs import json_lines, tell
from importer.runinfo import utc
from importer.summary import Summary
from importer.version import __version__
from importer.vocabulary import DEFAULT_METRICS_EVERY, DEFAULT_PROGRESS_EVERY, OUTCOMES

if TYPE_CHECKING:  # not at run time: the command line's --help reads this module's defaults
    from anyio.abc import TaskGroup

    from importer.client import ApiClient
    from importer.sources import ByteCounter

__all__ = ["Monitor", "watching", "DEFAULT_PROGRESS_EVERY", "DEFAULT_METRICS_EVERY"]

_PACE_WINDOW = 30.0  # seconds: the ETA's pace is that of the records finished in the last this many

_current: ContextVar[Monitor | None] = ContextVar("importer_monitor", default=None)


def watching() -> Monitor | None:
    """The monitor open around the caller (a run registers itself with it), if any."""
    return _current.get()


@dataclass
class _Watched:
    summary: Summary
    client: ApiClient | None
    counter: ByteCounter | None
    before: tuple[int, int, int]  # the client's calls (tokens included), 429s and waits when the run began
    paces: deque[tuple[float, int]] = field(default_factory=deque)
    shown: tuple[int, int, int] = (0, 0, 0)  # the highest counts told so far: a counter never goes down

    @property
    def finished(self) -> bool:
        return self.summary.finished_wall is not None

    def live(self) -> tuple[int, int, int]:
        """Calls, 429s and window waits so far: the summary's once it is over, else its client's since it began."""
        s = self.summary
        if self.finished or self.client is None:
            now = (s.calls, s.throttled, s.window_waits)
        else:
            counted = _client_counters(self.client)
            now = (counted[0] - self.before[0], counted[1] - self.before[1], counted[2] - self.before[2])
        # The summary leaves out what the client spent before sending (a company's reference
        # reads): the counters keep the highest count told, as Prometheus needs of a counter.
        self.shown = (max(now[0], self.shown[0]), max(now[1], self.shown[1]), max(now[2], self.shown[2]))
        return self.shown


def _client_counters(client: ApiClient) -> tuple[int, int, int]:
    return client.stats.calls + client.token_calls, client.stats.throttled, client.pacer.waits


class Monitor:
    """Progress events every ``progress_every`` seconds (None: none), the metrics file at
    ``metrics_file`` (None: none) every ``metrics_every`` seconds and at the end."""

    def __init__(self, *, progress_every: float | None = None, metrics_file: str | os.PathLike[str] | None = None,
                 metrics_every: float = DEFAULT_METRICS_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.progress_every = progress_every
        self.metrics_file = Path(metrics_file) if metrics_file is not None else None
        self.metrics_every = metrics_every
        self.clock = clock
        self.exit_code: int | None = None  # the command's, when it knows it (else the runs' worst)
        self.watched: list[_Watched] = []
        self.started = time.time()
        self._token: Token[Monitor | None] | None = None
        self._tg: TaskGroup | None = None

    # -- what runs tell it --------------------------------------------------------------

    def watch(self, summary: Summary, client: ApiClient | None = None, counter: ByteCounter | None = None) -> None:
        """A run begins: its summary (counting as it goes), its client, how far through its input it is."""
        before = _client_counters(client) if client is not None else (0, 0, 0)
        self.watched.append(_Watched(summary, client, counter, before))

    # -- the numbers ----------------------------------------------------------------------

    def totals(self) -> dict[str, Any]:
        """Every watched run's counters added up (live for runs under way)."""
        outcomes: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        calls = throttled = waits = 0
        for w in self.watched:
            for name, count in w.summary.outcomes.items():
                outcomes[name] += count
            c, t, n = w.live()
            calls, throttled, waits = calls + c, throttled + t, waits + n
        successes = [w.summary.last_success for w in self.watched if w.summary.last_success is not None]
        return {
            "outcomes": outcomes, "calls": calls, "throttled": throttled, "window_waits": waits,
            "records_read": sum(w.summary.records for w in self.watched),
            "already_done": sum(w.summary.already_done for w in self.watched),
            "last_success": max(successes, default=None),
            "running": sum(not w.finished for w in self.watched),
        }

    def metrics_text(self, *, final: bool = False) -> str:
        """The metrics in the Prometheus text format (version 0.0.4)."""
        t = self.totals()
        run_ids = sorted({w.summary.run_id for w in self.watched})
        lines: list[str] = []

        def family(name: str, kind: str, text: str, samples: list[tuple[dict[str, str], float]]) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
                lines.append(f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}")

        family("importer_run_info", "gauge", "The run: its id and the importer's version.",
               [({"run_id": run_id, "version": __version__}, 1) for run_id in run_ids or [""]])
        family("importer_records_total", "counter", "Records that got a final outcome in this run, by outcome.",
               [({"outcome": name}, count) for name, count in t["outcomes"].items()])
        family("importer_records_read_total", "counter", "Records read from the input.", [({}, t["records_read"])])
        family("importer_records_already_done_total", "counter",
               "Records a --resume found finished and did not send.", [({}, t["already_done"])])
        family("importer_calls_total", "counter", "HTTP calls to the API, token calls included.", [({}, t["calls"])])
        family("importer_throttled_total", "counter", "429 answers.", [({}, t["throttled"])])
        family("importer_window_waits_total", "counter",
               "Waits of over a second for the rate-limit window or a 429's Retry-After.", [({}, t["window_waits"])])
        if t["last_success"] is not None:
            family("importer_last_success_timestamp_seconds", "gauge", "When a record last succeeded.",
                   [({}, t["last_success"])])
        family("importer_started_timestamp_seconds", "gauge", "When the run started.", [({}, self.started)])
        family("importer_running", "gauge", "Imports under way now.", [({}, 0 if final else t["running"])])
        family("importer_metrics_written_timestamp_seconds", "gauge", "When this file was written.",
               [({}, time.time())])
        if final:
            family("importer_exit_code", "gauge", "The run's exit code (0 all succeeded, 1 some failed, "
                   "2 nothing could go in, 130 interrupted).", [({}, self._exit_code())])
        return "\n".join(lines) + "\n"

    def _exit_code(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        codes = [w.summary.exit_code for w in self.watched]
        return 130 if 130 in codes else max(codes, default=0)

    def write_metrics(self, *, final: bool = False) -> None:
        """The metrics file, written whole beside itself and moved over the old one."""
        if self.metrics_file is None:
            return
        path = self.metrics_file
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.prom: the collector skips it
        try:
            temporary.write_text(self.metrics_text(final=final), encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:  # a full disk must not stop the import: tell, and try again next time
            tell(f"cannot write the metrics file {path}: {exc.strerror or exc}", logging.WARNING)

    def progress(self) -> list[dict[str, Any]]:
        """Each run under way, where it stands now (one progress event each)."""
        from importer.progress import eta_seconds  # here: the live display's module loads rich

        now = self.clock()
        events = []
        for w in self.watched:
            if w.finished:
                continue
            s = w.summary
            finished = s.done + s.already_done
            total = _records_in_input(w.counter, s.records)
            left = max(round(total) - finished, 0) if total is not None else None
            elapsed = time.monotonic() - s.started_at
            pace = _pace(w.paces, now, s.done)
            calls, throttled, waits = w.live()
            event: dict[str, Any] = {
                "event": "progress", "run_id": s.run_id, "entity": s.entity, "input": s.input,
                "company": s.company, "done": finished, "succeeded": s.succeeded,
                "failed": s.outcomes["failed"], "invalid": s.outcomes["invalid"], "left": left,
                "rate": round(s.done / elapsed, 2) if elapsed > 0 else 0.0, "calls": calls,
                "throttled": throttled, "window_waits": waits, "eta_s": None,
            }
            state = w.client.pacer.window_state() if w.client is not None else None
            if left is not None and (pace or state is not None):
                per_record = calls / s.sent_units if s.sent_units else 1.0
                event["eta_s"] = round(eta_seconds(left, per_record, left / pace if pace else 0.0, state), 1)
            if state is not None and w.client is not None:
                waiting = w.client.pacer.waiting
                event["window"] = {"limit": state.limit, "used": state.used,
                                   "reopens_in_s": round(state.reopens_in, 1), "wait_s": round(state.wait, 1),
                                   "waiting_for": waiting[0] if waiting else None,
                                   "until": utc(waiting[1]) if waiting else None}
            events.append(event)
        return events

    def tell_progress(self) -> None:
        for event in self.progress():
            left = "?" if event["left"] is None else f"{event['left']:,}"
            eta = "" if event["eta_s"] is None else f", ETA {event['eta_s']:.0f} s"
            where = f"{event['entity']} from {event['input']}"
            text = (f"progress: {where}: {event['done']:,} done, {left} left, {event['rate']:,.1f} rec/s, "
                    f"{event['calls']:,} calls, {event['throttled']:,} 429s{eta}")
            fields = {k: v for k, v in event.items() if k != "company" or v is not None} if json_lines() else {}
            tell(text, logging.INFO, **fields)

    # -- the loop ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        every = [e for e in (self.progress_every, self.metrics_every if self.metrics_file else None) if e]
        if not every:
            return
        now = self.clock()
        next_progress = now + self.progress_every if self.progress_every else math.inf
        next_metrics = now + self.metrics_every if self.metrics_file else math.inf
        while True:
            await anyio.sleep(max(min(next_progress, next_metrics) - self.clock(), 0.0))
            now = self.clock()
            if now >= next_progress and self.progress_every:
                self.tell_progress()
                next_progress = max(next_progress + self.progress_every, now)
            if now >= next_metrics:
                self.write_metrics()
                next_metrics = max(next_metrics + self.metrics_every, now)

    async def __aenter__(self) -> Monitor:
        self._token = _current.set(self)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._loop)
        self.write_metrics()  # there from the start: a scraper finds the run at once
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        try:
            # The block's own exception goes on as it is (a ConfigError stays one, not a group of one):
            # the task group is told only that its loop is to end.
            await self._tg.__aexit__(None, None, None)
            return None
        finally:
            if self._token is not None:
                _current.reset(self._token)
            self.write_metrics(final=True)


def _records_in_input(counter: ByteCounter | None, read: int) -> float | None:
    """How many records the input holds: those read so far, over the share of its bytes read."""
    if counter is None or not counter.total or not counter.done or not read:
        return None
    return read / min(counter.done / counter.total, 1.0)


def _pace(paces: deque[tuple[float, int]], now: float, done: int) -> float:
    """Records finished per second over the last :data:`_PACE_WINDOW` seconds (0.0: too soon to say)."""
    paces.append((now, done))
    while len(paces) > 2 and paces[1][0] <= now - _PACE_WINDOW:
        paces.popleft()
    then, before = paces[0]
    span = now - then
    return (done - before) / span if span > 0 and done > before else 0.0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
