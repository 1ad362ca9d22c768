"""``importer report --csv``: the report's two tables for a spreadsheet.

A row per step and entity goes to the file named, a row per failure reason beside it
(``report.csv`` and ``report.reasons.csv``); ``--excel`` writes both in the spreadsheet
preset. Counts and timings are number cells, so the preset writes them with its decimal comma.
"""

from __future__ import annotations

import os
from typing import Any

from importer.ledger.files import EXCEL, CsvStyle, CsvWriter, Sink
from importer.report.build import OUTCOME_ORDER, Group, Report, reason_examples

__all__ = ["write_csv", "reasons_csv_path"]


def reasons_csv_path(path: str | os.PathLike[str]) -> str:
    """Where :func:`write_csv` puts the reasons table: ``report.csv`` -> ``report.reasons.csv``."""
    name = os.fspath(path)
    return (name[:-4] if name.lower().endswith(".csv") else name) + ".reasons.csv"


def write_csv(report: Report, path: str | os.PathLike[str], *, excel: bool = False) -> list[str]:
    """The two tables as CSV: a row per step and entity at ``path``, a row per reason beside it.

    ``excel``: the spreadsheet preset (BOM, ``;``, decimal comma, CRLF). Returns the paths.
    """
    reasons = [{"entity": r.entity, "reason": r.reason, "records": r.records,
                **{o: r.outcomes[o] for o in OUTCOME_ORDER}, "examples": reason_examples(r)} for r in report.reasons]
    tables = ((os.fspath(path), _STEP_COLUMNS, [_step_row(g) for g in report.groups]),
              (reasons_csv_path(path), ("entity", "reason", "records", *OUTCOME_ORDER, "examples"), reasons))
    for name, columns, rows in tables:
        sink, done = Sink(name), False
        try:
            writer = CsvWriter(sink, columns, EXCEL if excel else CsvStyle(), {},
                               numbers=[c for c in columns if c not in _TEXT_COLUMNS])
            writer.write(rows)
            writer.detach()
            done = True
        finally:
            sink.close(done)  # in place only when whole
    return [name for name, _, _ in tables]


_STEP_COLUMNS = ("step", "entity", "file", "records", *OUTCOME_ORDER, "units", "sent", "calls", "calls_per_record",
                 "retries", "throttled", "recovered", "p50_ms", "p90_ms", "p99_ms", "records_per_s",
                 "first_at", "last_at")
_TEXT_COLUMNS = frozenset({"step", "entity", "file", "reason", "examples", "first_at", "last_at"})


def _step_row(group: Group) -> dict[str, Any]:
    data = group.to_dict()
    row = {name: value for name, value in data.items() if not isinstance(value, dict)}
    row.update({outcome: group.outcomes[outcome] for outcome in OUTCOME_ORDER})
    row.update({f"{p}_ms": value for p, value in data["latency_ms"].items()})
    return row
