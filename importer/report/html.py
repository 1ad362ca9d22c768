"""``importer report --html FILE``: the report as one page that needs no network and no script.

The charts are inline SVG drawn by importer/report/svg.py: a browser shows them as
written, with JavaScript off too. Every value that comes from a results file (steps,
keys, error texts) is escaped where it is drawn, in the tables and in the charts.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from importer.errors import ConfigError
from importer.outputs import written_whole
from importer.report.build import OUTCOME_ORDER, Group, Report, percentile, step_name
from importer.report.svg import PALETTE, Line, Series, bar_chart, line_chart, ranked_bars
from importer.report.text import total_line

__all__ = ["render_html", "write_html"]

_MAX_POINTS = 240  # bins on a time axis: enough to see a stall, few enough to draw small
# Bin widths a reader can count in (seconds); the smallest that keeps the points few.
_BIN_WIDTHS = (1, 2,  # whole seconds: the report keeps outcomes per second
               5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_TICK_STEPS = (*_BIN_WIDTHS, 7200, 10800, 21600, 43200, 86400)
_LABEL_LIMIT = 90  # a reason on a chart; the table below has it whole
_COLOURS = {"created": "#2ca02c", "updated": "#17becf", "done": "#1f77b4", "renamed": "#aec7e8", "queued": "#bcbd22",
            "valid": "#98df8a", "failed": "#d62728", "unknown": "#ff7f0e", "invalid": "#9467bd",
            "skipped": "#8c564b", "in_flight": "#e377c2", "not_sent": "#7f7f7f"}


def _cut(text: str, limit: int = _LABEL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _group_label(group: Group, report: Report) -> str:
    entities = {g.entity for g in report.groups if g.step == group.step}
    return _cut(group.step if len(entities) == 1 else f"{group.step} ({group.entity})", 60)


def _clock(epoch: float, seconds: bool = True) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S" if seconds else "%H:%M")


def _time_ticks(start: float, span: float) -> list[tuple[float, str]]:
    """Ticks at round times of day (UTC), at most about eight across the span."""
    step = next((s for s in _TICK_STEPS if s >= span / 8), _TICK_STEPS[-1])
    first = math.ceil(start / step) * step
    return [(at - start, _clock(at, step < 60)) for at in range(int(first), int(start + span) + 1, step)]


def _charts(report: Report) -> list[tuple[str, str]]:
    """(name, SVG) of each chart the report has data for."""
    charts: list[tuple[str, str]] = []
    labels = [_group_label(g, report) for g in report.groups]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]

    outcomes = [Series(o.replace("_", " "), [g.outcomes[o] for g in report.groups], _COLOURS[o])
                for o in OUTCOME_ORDER if any(g.outcomes[o] for g in report.groups)]
    charts.append(("outcomes", bar_chart("Outcomes per step", labels, outcomes, y_title="records", stacked=True)))

    stamps = [t for g in report.groups for t, _, _ in g.times]
    if stamps:
        start, span = min(stamps), max(stamps) - min(stamps)
        width = next((w for w in _BIN_WIDTHS if w >= span / _MAX_POINTS), math.ceil(span / _MAX_POINTS))
        minute_width = max(1, math.ceil((max(stamps) // 60 - min(stamps) // 60 + 1) / _MAX_POINTS))
        first_minute, last_minute = min(stamps) // 60 // minute_width, max(stamps) // 60 // minute_width
        lines, calls = [], []
        for group, label, colour in zip(report.groups, labels, colours, strict=True):
            if not group.times:
                continue
            records: dict[int, int] = defaultdict(int)
            minutes: dict[int, int] = defaultdict(int)
            for when, count, sent in group.times:
                records[int((when - start) // width)] += count
                minutes[when // 60 // minute_width] += sent
            bins = range(min(records), max(records) + 1)  # the empty bins too: a stall shows as zero
            lines.append(Line(label, [(b * width, records.get(b, 0) / width) for b in bins], colour))
            calls.append(Series(label, [minutes.get(m, 0) for m in range(first_minute, last_minute + 1)], colour))
        day = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d")
        charts.append(("rate", line_chart(
            f"Records per second ({width} s bins, UTC)", lines, _time_ticks(start, span),
            x_range=(0, max(span, width)), y_title="records/s", x_title=f"time of day, UTC ({day})")))
        per = "minute" if minute_width == 1 else f"{minute_width} minutes"
        slots = [_clock(m * minute_width * 60, False) for m in range(first_minute, last_minute + 1)]
        charts.append(("calls", bar_chart(f"Calls per {per} (UTC)", slots, calls, y_title="calls", stacked=True)))

    latencies: dict[str, Counter[float]] = defaultdict(Counter)
    for group in report.groups:
        latencies[group.entity].update(group.latencies)
    entities = [e for e, values in latencies.items() if values]
    if entities:
        quantiles = [Series(f"p{q}", [percentile(latencies[e], q) or 0.0 for e in entities], colour)
                     for q, colour in ((50, PALETTE[0]), (90, PALETTE[1]), (99, PALETTE[3]))]
        charts.append(("latency", bar_chart("Time per record sent (elapsed_ms)", entities, quantiles, y_title="ms")))

    if report.reasons:
        shown = report.reasons[:20]  # the biggest first, at the top
        rows = [(f"{i}. {_cut(r.reason)}", float(r.records), _cut(f"{r.entity}: {r.reason}", 400))
                for i, r in enumerate(shown, 1)]
        charts.append(("reasons", ranked_bars("Not done, by reason", rows, colour="#d62728", x_title="records")))
    return charts


def _table(head: list[str], rows: list[list[object]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _tables(report: Report) -> str:
    shown = [o for o in OUTCOME_ORDER if report.total(o)]
    groups = []
    for g in report.groups:
        d = g.to_dict()
        groups.append([g.step, g.entity, g.records, *(g.outcomes[o] for o in shown),
                       f"{g.calls_per_unit:.2f}" if g.sent else "-", g.retries,
                       "not recorded" if g.throttled is None else g.throttled,
                       *("-" if d["latency_ms"][p] is None else d["latency_ms"][p] for p in ("p50", "p90", "p99")),
                       "-" if d["records_per_s"] is None else d["records_per_s"]])
    html = _table(["step", "entity", "records", *(o.replace("_", " ") for o in shown), "calls/record",
                   "retries", "429s", "p50 ms", "p90 ms", "p99 ms", "records/s"], groups)
    if report.reasons:
        rows: list[list[object]] = [
            [r.records, r.entity, r.reason,
             "; ".join(f"{step_name(Path(e.file))} {', '.join(map(str, e.records))}: {e.key or '(no key)'}"
                       for e in r.examples)]
            for r in report.reasons
        ]
        html += "<h2>Not done, by reason</h2>" + _table(["records", "entity", "reason", "examples"], rows)
    return html


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.chart { max-width: 900px; margin: 1.5rem 0; }
.chart svg { max-width: 100%; height: auto; }
"""


def render_html(report: Report) -> str:
    """The whole page: summary tables, then the charts as inline SVG; no script."""
    charts = "".join(f'<div class="chart" id="chart-{name}">{svg}</div>' for name, svg in _charts(report))
    files = "".join(f"<li>{escape(f)}</li>" for f in report.files)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>importer report</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>importer report</h1><p>{escape(total_line(report))} in {len(report.files)} results file(s):</p>"
        f"<ul>{files}</ul>{_tables(report)}{charts}</body></html>\n"
    )


def write_html(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the page whole or not at all: a half-written report never replaces a good one."""
    target = Path(path)
    page = render_html(report).encode("utf-8")
    try:
        with written_whole(target, "wb") as f:
            f.write(page)
    except OSError as exc:
        raise ConfigError(f"cannot write the report {target}: {exc.strerror}") from None
