"""How ``verify`` compares an input record with the API's: both flattened to import columns.

Numbers compare as numbers (``12.5 == 12.50``), dates as dates (``2020-01-27`` matches
``2020-01-27T00:00:00``), booleans as booleans, UUIDs as UUIDs, enum values without regard to
case, periods by the month they name (``postPeriod`` ``012024`` as the import writes it
matches ``202401`` as the response schemas write it; see
:func:`importer.mapping.flatten.period_parts`), other strings exactly. Lines compare by
``lineNumber`` when every expected line gives one, else by position. Columns the response
DTOs never return (:data:`~importer.mapping.flatten.WRITE_ONLY`) and list-valued fields are
counted as unchecked when the answer lacks them, not reported as differences.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from importer.entities import Entity
from importer.errors import RecordError
from importer.mapping.coerce import parse_bool
from importer.mapping.columns import LINE_PREFIX, field_for_column
from importer.mapping.flatten import (
    READ_AS_YYYYMM,
    WRITE_ONLY,
    FlatRecord,
    RecordFlattener,
    flatten_object,
    period_parts,
    unwrap,
)
from importer.schema import Field

__all__ = ["Comparer", "expected_record", "same_value", "same_period"]

_ABSENT = object()


def expected_record(entity: Entity, payload: dict[str, Any]) -> FlatRecord:
    """A mapped payload (request shape) as import columns, the way the answer is flattened."""
    data = unwrap(payload)
    line_field = entity.line_field
    header = {k: v for k, v in flatten_object({k: v for k, v in data.items() if k != line_field}) if v is not None}
    lines = None
    if line_field and data.get(line_field):
        lines = [
            {LINE_PREFIX + k: v for k, v in flatten_object(line) if v is not None and k != "operation"}
            for line in data[line_field] if isinstance(line, dict)
        ]
    return FlatRecord(None, header, lines)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _when(value: Any) -> tuple[datetime, bool] | None:
    """(date-time, has a time part) of an ISO date or date-time, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day), False
        return datetime.fromisoformat(text.replace("Z", "+00:00")), True
    except ValueError:
        return None


def same_value(spec: Field | None, expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    kind = spec.type if spec is not None else None
    if kind in ("number", "integer"):
        e, a = _decimal(expected), _decimal(actual)
        return e is not None and e == a
    if kind == "boolean":
        try:
            return parse_bool(expected) == parse_bool(actual)
        except RecordError:
            return False
    if kind == "datetime":
        ew, aw = _when(expected), _when(actual)
        if ew is None or aw is None:
            return expected == actual
        if not ew[1] or not aw[1]:  # a date on either side: compare the days as written
            return ew[0].date() == aw[0].date()
        ed, ad = ew[0], aw[0]
        if (ed.tzinfo is None) != (ad.tzinfo is None):  # naive vs aware: compare the wall-clock times
            ed, ad = ed.replace(tzinfo=None), ad.replace(tzinfo=None)
        return ed == ad
    if kind == "uuid":
        try:
            return uuid.UUID(str(expected)) == uuid.UUID(str(actual))
        except ValueError:
            return False
    if isinstance(actual, bool):
        actual = "true" if actual else "false"
    elif isinstance(actual, int | float):
        actual = str(actual)
    if spec is not None and spec.enum and isinstance(expected, str) and isinstance(actual, str):
        return expected.casefold() == actual.casefold()
    return expected == actual


def same_period(expected: Any, actual: Any) -> bool:
    """Two periods naming the same month, in either layout; values that are no period as text."""
    e, a = period_parts(expected), period_parts(actual)
    if e is None or a is None:
        return expected == actual
    return e == a


class Comparer:
    """Compares an expected record with an answered one, column by column."""

    def __init__(self, entity: Entity, unchecked: dict[str, int]) -> None:
        self.entity = entity
        self.flattener = RecordFlattener(entity)
        self.write_only = WRITE_ONLY.get(entity.name, frozenset())
        self.unchecked = unchecked

    def differences(self, expected: FlatRecord, answer: dict[str, Any]) -> list[dict[str, Any]]:
        actual = self.flattener.flatten(answer)
        diffs = self._fields(expected.header, actual.header, None)
        if expected.lines:
            have = actual.lines or []
            by_number = all(LINE_PREFIX + "lineNumber" in line for line in expected.lines)
            if len(have) != len(expected.lines):
                diffs.append({"field": "lines", "expected": len(expected.lines), "actual": len(have)})
            if by_number:
                index = {line.get(LINE_PREFIX + "lineNumber"): line for line in have}
                pairs = [(e, index.get(e[LINE_PREFIX + "lineNumber"])) for e in expected.lines]
            else:
                pairs = [(e, have[i] if i < len(have) else None) for i, e in enumerate(expected.lines)]
            for position, (want, got) in enumerate(pairs, 1):
                if got is None:
                    diffs.append({"field": "line", "line": position, "expected": want, "actual": None})
                else:
                    diffs.extend(self._fields(want, got, position))
        return diffs

    def _same(self, column: str, want: Any, got: Any) -> bool:
        if column in READ_AS_YYYYMM:
            return same_period(want, got)
        return same_value(field_for_column(self.entity, column), want, got)

    def _fields(self, expected: dict[str, Any], actual: dict[str, Any], line: int | None) -> list[dict[str, Any]]:
        diffs = []
        for column, want in expected.items():
            got = actual.get(column, _ABSENT)
            if isinstance(want, list | dict) or (got is _ABSENT and column in self.write_only):
                self.unchecked[column] = self.unchecked.get(column, 0) + 1
                continue
            if got is _ABSENT or not self._same(column, want, got):
                diff: dict[str, Any] = {"field": column}
                if line is not None:
                    diff["line"] = line
                diff["expected"] = want
                diff["actual"] = None if got is _ABSENT else got
                diffs.append(diff)
        return diffs
