"""The report for a terminal: its tables (``importer report``), or a few lines after a run.

    print(render_text(build_report(["rehearsal/"])))   # the tables
    print(short_report(["rehearsal/"]))                # totals, calls and the top reasons

The short report groups failure reasons by their template (what differs per record taken
out) and shows each once, by its first record's own message: ``not a number: '12,5x'
(and 3 more)``. API errors (sent, refused or unanswered) and input errors (not sent: the
file must change) are separate groups, API errors first: one refused call is not hidden
behind many bad cells.

Every value that comes from a results file (steps, keys, reasons) goes through
:func:`~importer.outputs.printable`, so no escape sequence of a file reaches the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from io import StringIO

from importer.outputs import printable
from importer.report.build import OUTCOME_ORDER, Group, Reason, Report, build_report, reason_examples
from importer.summary import counted

__all__ = ["render_text", "short_report", "counted", "reason_line", "REASONS_SHOWN"]

REASONS_SHOWN = 3  # per group (API errors, input errors) in the short report


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
    table = Table(title=f"results: {len(report.files)} file(s), {total_line(report)}")
    for column in ("step", "entity", "documents", "records", *shown, "calls/record", "retries", "429s",
                   "p50 ms", "p90 ms", "p99 ms", "records/s"):
        table.add_column(column.replace("_", " "), overflow="fold")
    for g in report.groups:
        d = g.to_dict()
        table.add_row(
            Text(printable(g.step)), g.entity, f"{g.units:,}" if g.documents else "-", f"{g.records:,}",
            *(_cell(g, o) for o in shown),
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
        for column in ("records", "from", "entity", "reason", "examples (records: key)"):
            reasons.add_column(column, overflow="fold")
        for r in report.reasons:
            reasons.add_row(f"{r.records:,}", r.side, r.entity, Text(printable(r.reason)), Text(reason_examples(r)))
        console.print(reasons)
    return out.getvalue()


def total_line(report: Report) -> str:
    """``1,500 documents (4,445 rows)`` when any group is of documents, else ``3,000 records``."""
    documents = any(g.documents for g in report.groups)
    noun = ("documents" if all(g.documents for g in report.groups) else "records and documents") if documents \
        else "records"
    return counted(report.units, report.records, documents, noun)


def _cell(group: Group, outcome: str) -> str:
    """An outcome's count: a document group's documents first, their rows after."""
    units, rows = group.unit_outcomes[outcome], group.outcomes[outcome]
    if group.documents and units != rows:
        return f"{units:,} ({rows:,} rows)"
    return f"{rows:,}"


def short_report(paths: Iterable[str | os.PathLike[str]]) -> str:
    """A few lines for the end of a run or plan: totals, calls, and the top reasons of each group."""
    report = build_report(paths)
    documents = any(g.documents for g in report.groups)
    outcomes = ", ".join(counted(n, report.total(o), documents, o.replace("_", " "))
                         for o in OUTCOME_ORDER if (n := report.total_units(o)))
    throttled = report.throttled
    lines = [
        f"report: {total_line(report)} in {len(report.files)} file(s): "
        f"{outcomes or 'none'}",
        f"calls sending them: {report.calls:,} for {report.sent:,} units sent "
        f"({report.calls / report.sent if report.sent else 0:.2f} per unit; lookups and token calls not counted), "
        f"{report.retries:,} retries, "
        + ("429s not recorded" if throttled is None else f"{throttled:,} 429s"),
    ]
    for side, heading in (("API", "API errors (sent, and the API refused or did not answer)"),
                          ("input", "input errors (not sent: fix the file)")):
        reasons = [r for r in report.reasons if r.side == side]
        if reasons:
            lines.append(f"{heading}, {sum(r.records for r in reasons):,} records:")
            lines += [f"  {reason_line(r)}" for r in reasons[:REASONS_SHOWN]]
            if len(reasons) > REASONS_SHOWN:
                lines.append(f"  … and {len(reasons) - REASONS_SHOWN:,} other reasons (importer report)")
    return "\n".join(lines)


def reason_line(reason: Reason) -> str:
    """One reason as a person reads it: its first record's own message, the others counted.

    ``customer: not a number: '12,5x' (and 3 more) — e.g. customers 4: 10023; …``
    """
    more = f" (and {reason.records - 1:,} more)" if reason.records > 1 else ""
    return f"{reason.entity}: {printable(reason.example or reason.reason)}{more} — e.g. {reason_examples(reason)}"
