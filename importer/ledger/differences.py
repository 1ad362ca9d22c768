"""What a terminal shows of a verify report: its first problems as (record, field, file, ledger) rows.

The report on disk keeps every difference; a terminal gets the first few, one row per
differing field and one per missing, invalid or error record, and the count of the rest.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

__all__ = ["first_differences"]


def first_differences(report_path: str | os.PathLike[str], limit: int) -> tuple[list[tuple[str, ...]], int]:
    """The first ``limit`` problems of a report as (record, field, file, ledger) rows, and how
    many it holds in all: one per differing field, and one per missing, invalid or error line."""
    rows: list[tuple[str, ...]] = []
    total = 0
    with open(report_path, "rb") as report:
        for raw in report:
            line = orjson.loads(raw)
            status = line.get("status")
            if status == "ok":
                continue
            numbers = line.get("records") or []
            span = f"{numbers[0]}" if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}" if numbers else "?"
            record = f"{line.get('key') or '-'} (record{'s' * (len(numbers) > 1)} {span})"
            found = [(record, _field(d), _value(d.get("expected")), _value(d.get("actual")))
                     for d in line.get("differences") or ()]
            if status == "missing":
                found = [(record, "", "(the record)", "missing")]
            elif status in ("invalid", "error"):
                where = (str(line.get("error")), "not looked up") if status == "invalid" else ("", str(line.get("error")))
                found = [(record, "", *where)]
            total += len(found)
            rows.extend(found[: max(0, limit - len(rows))])
    return rows, total


def _field(difference: dict[str, Any]) -> str:
    field_name = str(difference.get("field"))
    return f"line {difference['line']}: {field_name}" if "line" in difference else field_name


def _value(value: Any) -> str:
    if value is None:
        return "(empty)"
    return value if isinstance(value, str) else orjson.dumps(value).decode()
