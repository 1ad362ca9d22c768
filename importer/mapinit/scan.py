"""One pass over every row of a file, one column at a time, in memory that does not grow with the file.

``map init`` reads the whole file, not a sample of its first rows, so a value first written
at row 5,000 still gets its value map and a date at row 90,000 that no layout but one reads
still decides the layout. What it keeps of a column is bounded whatever the file's length:

- its distinct values (as first written, compared without case), counted up to
  :data:`DISTINCT_CAP`: a column with more is free text or amounts, not codes, and is no
  longer a value-map candidate (the skeleton says so); its values are then let go;
- how its numbers read: whether every value reads with a decimal comma, with a decimal
  point, and whether both readings agree (three flags, not the values);
- how its dates read: the layouts that still read every value so far (a value once read
  needs no second look, as the list only shrinks; a small set of values already seen
  spares the repeated ones their ``strptime``);
- for a document, the values of its first rows (its own fields, for a ``[defaults]``
  suggestion), counted up to the same cap;
- the first value of each kind that tells against it (a period written otherwise, the
  value no date layout reads), with its row, for the TODO line that names it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from importer.errors import RecordError
from importer.mapping.coerce import read_number

__all__ = ["DISTINCT_CAP", "DATE_LAYOUTS", "ColumnScan", "is_iso"]

DISTINCT_CAP = 200  # more distinct values than this: not a code column worth a value map
# Date layouts tried in this order: the first that reads every value wins.
DATE_LAYOUTS = ("%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y%m%d", "%Y.%m.%d",
                "%Y/%m/%d", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
_SEEN_DATES = 4096  # date values remembered as already read, per column
_PERIOD_LENGTH = 6
_PLAIN_DIGITS = 15  # a run of at most this many digits reads the same under either convention


def is_iso(text: str) -> bool:
    try:
        (date.fromisoformat if len(text) == 10 else datetime.fromisoformat)(text)
    except ValueError:
        return False
    return True


def _reads(text: str, layout: str) -> bool:
    try:
        datetime.strptime(text, layout)
    except ValueError:
        return False
    return True


class ColumnScan:
    """What one column's values say, value by value (:meth:`add`), in bounded memory."""

    __slots__ = ("count", "first", "distinct", "crowded_at", "heads", "head_values", "numbers", "comma", "point",
                 "same", "dates", "iso", "layouts", "seen_dates", "unread", "periods", "bad_period")

    def __init__(self, *, values: bool = True, numbers: bool = False, dates: bool = False,
                 periods: bool = False) -> None:
        self.count = 0  # non-empty cells
        self.first: str | None = None
        self.distinct: dict[str, str] | None = {} if values else None  # folded -> as first written
        self.crowded_at: int | None = None  # the row whose value went past the cap
        self.heads = 0  # non-empty cells of first rows
        self.head_values: Counter[str] | None = Counter() if values else None
        self.numbers, self.comma, self.point, self.same = numbers, True, True, True
        self.dates, self.iso = dates, True
        self.layouts: list[str] = list(DATE_LAYOUTS) if dates else []
        self.seen_dates: set[str] = set()
        self.unread: tuple[int, str] | None = None  # (row, value) no date layout reads with the rest
        self.periods = periods
        self.bad_period: tuple[int, str] | None = None

    def add(self, value: str, row: int, head: bool = True) -> None:
        """One non-empty, stripped cell of row ``row``; ``head``: a record's own (first) row."""
        self.count += 1
        if self.first is None:
            self.first = value
        if self.distinct is not None:
            self.distinct.setdefault(value.casefold(), value)
            if len(self.distinct) > DISTINCT_CAP:
                self.distinct, self.crowded_at = None, row
        if head:
            self.heads += 1
            if self.head_values is not None:
                self.head_values[value] += 1
                if len(self.head_values) > DISTINCT_CAP:
                    self.head_values = None
        if self.numbers and (self.comma or self.point):
            self._number(value)
        if self.dates and (self.iso or self.layouts):
            self._date(value, row)
        if self.periods and self.bad_period is None and (len(value) != _PERIOD_LENGTH or not value.isdigit()):
            self.bad_period = (row, value)

    def _number(self, value: str) -> None:
        if value.isdigit() and len(value) <= _PLAIN_DIGITS:
            return  # a whole number: the same under either convention
        comma = point = None
        if self.comma:
            try:
                comma = read_number(value, True)
            except RecordError:
                self.comma = False
        if self.point:
            try:
                point = read_number(value, False)
            except RecordError:
                self.point = False
        if self.comma and self.point and comma != point:
            self.same = False

    def _date(self, value: str, row: int) -> None:
        if value in self.seen_dates:
            return  # read already, under every layout still standing
        if self.iso and not is_iso(value):
            self.iso = False
        self.layouts = [layout for layout in self.layouts if _reads(value, layout)]
        if not self.iso and not self.layouts:
            self.unread = (row, value)
            self.seen_dates.clear()
        elif len(self.seen_dates) < _SEEN_DATES:
            self.seen_dates.add(value)

    @property
    def crowded(self) -> bool:
        """True when the column has more distinct values than the cap: no value-map candidate."""
        return self.crowded_at is not None

    def values(self) -> list[str]:
        """The distinct values as first written (empty for a crowded column)."""
        return list(self.distinct.values()) if self.distinct is not None else []

    def number_verdict(self) -> str:
        """'comma', 'point', 'either' (reads the same both ways), 'differs' or 'neither'."""
        if self.comma and self.point:
            return "either" if self.same else "differs"
        return "comma" if self.comma else "point" if self.point else "neither"

    def date_layout(self) -> tuple[str | None, list[str]]:
        """The layout every value reads under ("iso" for ISO 8601, None for none), and the others that also do."""
        if self.iso:
            return "iso", []
        return (self.layouts[0], self.layouts[1:]) if self.layouts else (None, [])
