"""What the commands print when they are done: summary tables, the short report, hints.

Tables are rich's, on the summary's stream; in a pipe or a log file each row stays on
one line. The hints (how to resume, how to settle outcomes nobody knows) are log lines
(:func:`importer.logs.tell`) with the command to type, less any ``--token``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from importer.cli.fit import PLAN_DROP_ORDER, fitted_table, middle, print_fitted
from importer.entities import counts_documents
from importer.errors import ImporterError
from importer.logs import json_lines, tell
from importer.outputs import printable
from importer.report.build import build_report
from importer.report.text import short_report
from importer.summary import SETTLE_UNKNOWN, Summary, counted

__all__ = ["console", "print_fields", "report_summaries", "without_secrets", "write_summary_json"]

TOKEN_AGAIN = " (with the token again: --token or VISMA_TOKEN)"


def console(stream: TextIO) -> Console:
    """A rich console on ``stream``; a log file or a pipe gets wide rows, each on one line."""
    out = Console(file=stream)
    if not out.is_terminal:
        out.width = 200
    return out


def report_summaries(summaries: list[Summary], args: argparse.Namespace, argv: list[str],
                     names: list[str] | None = None) -> None:
    """``run`` and ``plan`` are done: ``--summary-json``, the table(s), the short report, the hints."""
    to_stdout = args.summary_json == "-"
    if args.summary_json:
        data: Any = summaries[0].to_dict() if names is None else [
            {"step": name, **s.to_dict()} for name, s in zip(names, summaries)
        ]
        write_summary_json(args.summary_json, data)
    stream = sys.stderr if to_stdout else sys.stdout
    if not (to_stdout and json_lines()):  # stdout and stderr both JSON: the finished log line tells
        if names is None:
            _print_summary(summaries[0], stream)
        else:
            _print_steps(names, summaries, stream)
        _print_short_report(summaries, stream)
    if any(s.unknown for s in summaries) and not any(s.interrupted or s.not_processed for s in summaries):
        again, secret = without_secrets([a for a in argv if a not in ("--resume", "--restart")])
        hint = TOKEN_AGAIN if secret else ""
        tell(f"Outcome unknown for {sum(s.unknown for s in summaries):,} records. Settle them with{hint}:\n"
             f"  importer {shlex.join([*again, '--resume'])}", logging.WARNING)
    if any(s.interrupted or s.api_down or s.halted or s.unrecorded or s.not_processed for s in summaries):
        again, secret = without_secrets([a for a in argv if a not in ("--resume", "--restart")])
        again.append("--resume")
        if any(s.api_down or s.halted for s in summaries) and "--retry-failed" not in again:
            again.append("--retry-failed")  # the records that got no answer failed on the way
        hint = TOKEN_AGAIN if secret else ""
        tell(f"Stopped. Resume with{hint}:\n  importer {shlex.join(again)}", logging.WARNING)
    else:
        _what_is_left(summaries, argv)


def _what_is_left(summaries: list[Summary], argv: list[str]) -> None:
    """A finished run that left records undone: the command that sends what the API refused
    (``--resume`` alone leaves a failed record alone), and where the invalid ones are fixed."""
    if any(s.dry_run for s in summaries):
        return
    failed = sum(s.outcomes["failed"] - s.unknown for s in summaries)
    invalid = sum(s.outcomes["invalid"] + s.outcomes["skipped"] for s in summaries)
    if failed:
        again, secret = without_secrets([a for a in argv if a not in ("--resume", "--restart", "--retry-failed")])
        hint = TOKEN_AGAIN if secret else ""
        tell(f"{failed:,} records failed at the API (see API errors above); --resume alone leaves them "
             f"alone. Once the cause is fixed, send them again with{hint}:\n"
             f"  importer {shlex.join([*again, '--resume', '--retry-failed'])}", logging.WARNING)
    if invalid:
        files = [s.failed_path for s in summaries if s.failed_path]
        where = f"fix them in {', '.join(files)} and import that file" if files else \
            "fix them in the input (or the map) and run again with --resume"
        tell(f"{invalid:,} records were not sent (see input errors above): {where}", logging.WARNING)


def write_summary_json(path: str, data: Any) -> None:
    """``--summary-json PATH``: the summary as indented JSON, to PATH or (``-``) stdout."""
    blob = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(blob)
        sys.stdout.flush()
    else:
        Path(path).write_bytes(blob)


def without_secrets(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` less ``--token VALUE`` / ``--token=VALUE``, and whether there was one."""
    kept: list[str] = []
    found = skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--token":
            found = skip = True
        elif arg.startswith("--token="):
            found = True
        else:
            kept.append(arg)
    return kept, found


def print_fields(title: str, data: dict[str, Any], stream: TextIO) -> None:
    """A summary's fields as two columns, the empty ones left out."""
    table = Table(title=title, show_header=False, box=None)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in data.items():
        if value not in (None, [], {}, "") and value is not False:
            table.add_row(name.replace("_", " "), Text(printable(_field_text(value))))
    console(stream).print(table)


def _field_text(value: Any) -> str:
    """A summary value as a person reads it: lists and counts by name as plain text, not JSON."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if value is True:
        return "yes"
    return str(value)


def _print_short_report(summaries: list[Summary], stream: TextIO) -> None:
    """The report's short form after the summary, on the summary's stream.

    That is stdout, unless ``--summary-json -`` holds it: then stderr in text logs, and
    nothing with ``--log-format json`` (stdout is one JSON document and stderr JSON lines;
    ``importer report`` gives the same from the results files). A report that cannot be
    made costs the run nothing but a line saying why.
    """
    paths = [s.results_path for s in summaries if s.results_path and os.path.isfile(s.results_path)]
    if not paths:
        return
    try:
        text = short_report(paths)
    except (ImporterError, OSError) as exc:
        tell(f"importer: no report: {exc}", logging.WARNING)
        return
    print_fitted(text, console(stream), stream)


# A plan table's outcome columns: what each sums, per unit (a customer, a document, an action).
_STEP_COLUMNS: dict[str, tuple[str, ...]] = {
    "ok": ("created", "updated", "done", "renamed"), "failed": ("failed", "unknown"), "invalid": ("invalid",),
    "skipped": ("skipped",), "queued": ("queued",),
}


def _print_steps(names: list[str], summaries: list[Summary], stream: TextIO) -> None:
    """A row per step: its outcomes over all its runs (the results file's), this run's in brackets
    where they differ; documents for a document step (rows under "read"), records for the others."""
    columns = ("step", "entity", "read", *_STEP_COLUMNS, "not processed", "calls/record", "elapsed", "results")
    rows: list[dict[str, str]] = []
    resumed = False
    for name, s in zip(names, summaries):
        totals = _step_totals(s)
        cells = []
        for column, outcomes in _STEP_COLUMNS.items():
            now = sum(s.unit_outcomes.get(o, 0) for o in outcomes)  # the summary's failed hold the unknown
            total = sum(totals[o] for o in outcomes) if totals is not None else now
            resumed |= total != now
            cells.append(f"{total:,}" if total == now else f"{total:,} ({now:,})")
        values = (
            name, s.entity, counted(s.units, s.records, counts_documents(s.entity)), *cells,
            f"{s.units_not_processed:,}",
            "-" if s.dry_run else f"{s.calls_per_record:.2f}", f"{s.elapsed:.1f} s", s.results_path or "-",
        )
        rows.append(dict(zip(columns, values)))
    out = console(stream)
    out.print(fitted_table(out, "plan", columns, rows, PLAN_DROP_ORDER, path_column="results"))
    if resumed:
        print_fitted("counts are over all runs of each step (its results file); this run's in brackets", out, stream)
    for s in summaries:
        if s.failed_path:
            print_fitted(f"failed records: {s.failed_path} (fix and import this file)", out, stream)
        if s.error:
            print_fitted(f"{s.input}: {s.error}", out, stream)


def _step_totals(summary: Summary) -> Counter[str] | None:
    """A step's outcomes per unit over all its runs, from its results file; None when it has none."""
    path = summary.results_path
    if not path or not os.path.isfile(path):
        return None
    try:
        report = build_report([path])
    except (ImporterError, OSError):
        return None
    totals: Counter[str] = Counter()
    for group in report.groups:
        totals.update(group.unit_outcomes)
    return totals


_GAP = 4  # what a two-column table without a box takes besides its cells: its padding


def _print_summary(summary: Summary, stream: TextIO) -> None:
    """The run's numbers, a row each. On a terminal its paths are shortened in the middle to fit
    on one line, as the plan table's are (a pipe or a log file keeps them whole); the rest of a
    long value goes on the lines below."""
    out = console(stream)
    shown = middle(summary.input, out.width - len(summary.entity) - 3) if out.is_terminal else summary.input
    title = f"{summary.entity} — {shown}"
    table = Table(title=title, show_header=False, box=None)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")
    o = summary.outcomes
    docs = counts_documents(summary.entity)
    rows = [
        ("documents read" if docs else "records read", counted(summary.units, summary.records, docs)),
        *((name, counted(*_outcome(summary, name), docs)) for name in o if _outcome(summary, name)[1]),
    ]
    if summary.released or summary.release_failed or summary.release_queued:
        rows.append(("released", f"{summary.released:,} ({summary.release_failed:,} failed, "
                                 f"{summary.release_queued:,} still queued)"))
    if summary.already_done:
        rows.append(("already done (resume)", counted(summary.units_already_done, summary.already_done, docs)))
    if summary.new or summary.changed or summary.gone:
        rows.append(("against the results file", f"{summary.new:,} new, {summary.changed:,} changed, "
                                                 f"{summary.gone:,} no longer in the input"))
    if summary.numbering and summary.mode != "update":
        rows.append(("numbering", summary.numbering))
    if summary.preflight:
        saved = "" if summary.dry_run else f"; {summary.preflight_refused:,} calls saved"
        rows.append(("preflight", f"against {summary.preflight}: {summary.preflight_refused:,} records refused "
                                  f"before sending{saved}; {summary.preflight_calls:,} calls"))
    if summary.renumbered:
        rows.append(("renumbered", f"{summary.renumbered:,} documents got the company's own number, not the "
                                   "file's: the company numbers its documents itself; the results file "
                                   "keeps both (key, sent_key), and --release, verify, reconcile and "
                                   "--resume use the company's"))
    if summary.held or summary.held_calls:
        rows.append(("already in the ledger", f"{summary.held:,} records whose number the ledger held already "
                                              "(company numbering): not created again; read in "
                                              f"{summary.held_calls:,} calls"))
    if summary.by_content:
        rows.append(("known by content", f"{summary.by_content:,} records have no key: a changed cell "
                                         "makes them another record"))
    if summary.not_processed:
        rows.append(("not processed (stopped)", counted(summary.units_not_processed, summary.not_processed, docs)))
    if summary.unrecorded:
        rows.append(("outcome not written", f"{summary.unrecorded:,} (a resume looks them up first)"))
    if summary.unknown:
        rows.append(("outcome unknown", f"{summary.unknown:,} {SETTLE_UNKNOWN}"))
    if not summary.dry_run:
        rows += [
            ("API calls, all told", f"{summary.calls:,} (lookups and token calls included; "
                                    f"{summary.calls_per_record:.2f} per {'document' if docs else 'record'} sent)"),
            ("retries / 429s", f"{summary.retries:,} / {summary.throttled:,}"),
        ]
    rows.append(("elapsed", f"{summary.elapsed:.1f} s ({summary.records_per_second:,.0f} records/s)"))
    paths = [("results", summary.results_path or "-", "")]
    if summary.failed_path:
        paths.append(("failed records", summary.failed_path, " (fix and import this file)"))
    room = out.width - max(len(name) for name, *_ in [*rows, *paths]) - _GAP if out.is_terminal else None
    rows += [(name, (middle(path, room) if room else path) + after) for name, path, after in paths]
    if summary.error:
        rows.append(("error", summary.error))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


def _outcome(summary: Summary, name: str) -> tuple[int, int]:
    """An outcome's (units, records), as the report counts it: ``failed`` less those whose outcome is unknown."""
    units, records = summary.unit_outcomes[name], summary.outcomes[name]
    if name == "failed":
        units, records = units - summary.units_unknown, records - summary.unknown
    return units, records
