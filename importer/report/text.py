"""The report for a terminal: its tables (``importer report``), or a few lines after a run.

    print(render_text(build_report(["rehearsal/"])))   # the tables
    print(short_report(["rehearsal/"]))                # totals, calls and the top three reasons

Every value that comes from a results file (steps, keys, reasons) goes through
:func:`~importer.outputs.printable`, so no escape sequence of a file reaches the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from io import StringIO

from importer.outputs import printable
from importer.report.build import OUTCOME_ORDER, Report, build_report, reason_examples

__all__ = ["render_text", "short_report"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def render_text(report: Report, *, width: int | None = None) -> str:
    """The report as tables, for a terminal (or a log: ``width`` keeps rows whole)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = StringIO()
    console = Console(file=out, width=width or 200, no_color=True, highlight=False)
    shown = [o for o in OUTCOME_ORDER if report.total(o)]
    table = Table(title=f"results: {len(report.files)} file(s), {report.records:,} records")
    for column in ("step", "entity", "records", *shown, "calls/record", "retries", "429s",
                   "p50 ms", "p90 ms", "p99 ms", "records/s"):
        table.add_column(column.replace("_", " "), overflow="fold")
    for g in report.groups:
        d = g.to_dict()
        table.add_row(
            Text(printable(g.step)), g.entity, f"{g.records:,}", *(f"{g.outcomes[o]:,}" for o in shown),
            f"{g.calls_per_unit:.2f}" if g.sent else "-", f"{g.retries:,}",
            "not recorded" if g.throttled is None else f"{g.throttled:,}",
            *(_ms(d["latency_ms"][p]) for p in ("p50", "p90", "p99")),
            "-" if d["records_per_s"] is None else f"{d['records_per_s']:,.1f}",
        )
    console.print(table)
    undated = sum(g.undated for g in report.groups)
    if undated:
        console.print(Text(f"{undated:,} outcome line(s) carry no time (written by an older importer): "
                           "counted, but not in the rates"))
    if report.reasons:
        reasons = Table(title="not done, by reason (failed, invalid, skipped, queued, unknown)")
        for column in ("records", "entity", "reason", "examples (records: key)"):
            reasons.add_column(column, overflow="fold")
        for r in report.reasons:
            reasons.add_row(f"{r.records:,}", r.entity, Text(printable(r.reason)), Text(reason_examples(r)))
        console.print(reasons)
    return out.getvalue()


def short_report(paths: Iterable[str | os.PathLike[str]]) -> str:
    """A few lines for the end of a run or plan: totals, calls, and the top three reasons."""
    report = build_report(paths)
    outcomes = ", ".join(f"{n:,} {o.replace('_', ' ')}" for o in OUTCOME_ORDER if (n := report.total(o)))
    throttled = report.throttled
    lines = [
        f"report: {report.records:,} records in {len(report.files)} file(s): {outcomes or 'none'}",
        f"calls: {report.calls:,} for {report.sent:,} units sent ({report.calls / report.sent if report.sent else 0:.2f}"
        f" per unit), {report.retries:,} retries, "
        + ("429s not recorded" if throttled is None else f"{throttled:,} 429s"),
    ]
    for r in report.reasons[:3]:
        lines.append(f"  {r.records:,} × {r.entity}: {printable(r.reason)} (e.g. {reason_examples(r)})")
    return "\n".join(lines)
