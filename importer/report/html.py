"""``importer report --html FILE``: the report as one page that needs no network.

The charts are plotly's, its JavaScript embedded once in the page. Every value that
comes from a results file (steps, keys, error texts) is escaped twice over where it
is drawn: as HTML in the tables, and as plotly's own markup in chart labels, which
plotly would otherwise read as tags.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.outputs import written_whole
from importer.report.build import OUTCOME_ORDER, Group, Report, percentile, step_name

__all__ = ["render_html", "write_html"]

_MAX_POINTS = 240  # bins on a time axis: enough to see a stall, few enough to draw fast
# Bin widths a reader can count in (seconds); the smallest that keeps the points few.
_BIN_WIDTHS = (1, 2,  # whole seconds: the report keeps outcomes per second
                5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_LABEL_LIMIT = 90  # a reason on a chart axis; the table below has it whole
_COLOURS = {"created": "#2ca02c", "updated": "#17becf", "done": "#1f77b4", "renamed": "#aec7e8", "queued": "#bcbd22",
            "valid": "#98df8a", "failed": "#d62728", "unknown": "#ff7f0e", "invalid": "#9467bd",
            "skipped": "#8c564b", "in_flight": "#e377c2", "not_sent": "#7f7f7f"}


def _label(text: str, limit: int = _LABEL_LIMIT) -> str:
    """A value as plotly chart text: its tags shown as text, not obeyed."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(cut, quote=True)


def _group_label(group: Group, report: Report) -> str:
    entities = {g.entity for g in report.groups if g.step == group.step}
    return _label(group.step if len(entities) == 1 else f"{group.step} ({group.entity})", 60)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _figures(report: Report) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    figures: list[tuple[str, Any]] = []
    labels = [_group_label(g, report) for g in report.groups]

    steps = go.Figure()
    for outcome in OUTCOME_ORDER:
        counts = [g.outcomes[outcome] for g in report.groups]
        if any(counts):
            steps.add_trace(go.Bar(name=outcome.replace("_", " "), x=labels, y=counts,
                                   marker_color=_COLOURS[outcome]))
    steps.update_layout(barmode="stack", title="Outcomes per step", yaxis_title="records")
    figures.append(("outcomes", steps))

    stamps = [t for g in report.groups for t, _, _ in g.times]
    if stamps:
        start, span = min(stamps), max(stamps) - min(stamps)
        width = next((w for w in _BIN_WIDTHS if w >= span / _MAX_POINTS), math.ceil(span / _MAX_POINTS))
        rate = go.Figure()
        calls = go.Figure()
        for group, label in zip(report.groups, labels, strict=True):
            if not group.times:
                continue
            records: dict[int, int] = defaultdict(int)
            minutes: dict[int, int] = defaultdict(int)
            for when, count, sent in group.times:
                records[int((when - start) // width)] += count
                minutes[int(when // 60)] += sent
            first, last = min(records), max(records)
            bins = range(first, last + 1)  # the empty bins too: a stall shows as zero
            rate.add_trace(go.Scatter(name=label, mode="lines+markers",
                                      x=[_when(start + b * width) for b in bins],
                                      y=[records.get(b, 0) / width for b in bins]))
            calls.add_trace(go.Bar(name=label, x=[_when(m * 60) for m in sorted(minutes)],
                                   y=[minutes[m] for m in sorted(minutes)]))
        rate.update_layout(title=f"Records per second ({width} s bins, UTC)", yaxis_title="records/s")
        calls.update_layout(title="Calls per minute (UTC)", yaxis_title="calls", barmode="stack")
        figures += [("rate", rate), ("calls", calls)]

    latencies: dict[str, Counter[float]] = defaultdict(Counter)
    for group in report.groups:
        latencies[group.entity].update(group.latencies)
    if any(latencies.values()):
        latency = go.Figure()
        entities = [e for e, values in latencies.items() if values]
        for q in (50, 90, 99):
            latency.add_trace(go.Bar(name=f"p{q}", x=entities,
                                     y=[percentile(latencies[e], q) for e in entities]))
        latency.update_layout(title="Time per record sent (elapsed_ms)", yaxis_title="ms", barmode="group")
        figures.append(("latency", latency))

    if report.reasons:
        shown = report.reasons[:20][::-1]  # the biggest at the top
        reasons = go.Figure(go.Bar(
            orientation="h", x=[r.records for r in shown],
            y=[f"{i}. {_label(r.reason)}" for i, r in zip(range(len(shown), 0, -1), shown, strict=True)],
            hovertext=[_label(f"{r.entity}: {r.reason}", 400) for r in shown], marker_color="#d62728",
        ))
        reasons.update_layout(title="Not done, by reason", xaxis_title="records",
                              height=max(320, 90 + 28 * len(shown)), yaxis={"automargin": True})
        figures.append(("reasons", reasons))
    return figures


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
.chart { max-width: 1100px; }
"""


def render_html(report: Report) -> str:
    """The whole page: summary tables, then the charts, plotly's JavaScript inside."""
    import plotly.io as pio

    charts = []
    for i, (name, figure) in enumerate(_figures(report)):
        figure.update_layout(template="plotly_white", margin={"t": 60})
        charts.append(f'<div class="chart" id="chart-{name}">' + pio.to_html(
            figure, full_html=False, include_plotlyjs=i == 0, config={"displaylogo": False},
        ) + "</div>")
    files = "".join(f"<li>{escape(f)}</li>" for f in report.files)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>importer report</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>importer report</h1><p>{report.records:,} records in {len(report.files)} results file(s):</p>"
        f"<ul>{files}</ul>{_tables(report)}{''.join(charts)}</body></html>\n"
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
