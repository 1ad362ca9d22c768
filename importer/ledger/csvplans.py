"""CSV rows of an export a page at a time, by a plan per record shape worked out once.

Flattening each record to dicts (:class:`~importer.mapping.flatten.RecordFlattener`) and then
looking up, converting and placing every value (:class:`~importer.ledger.files.CsvWriter`)
costs a few hundred nanoseconds per field, several times what reading the page costs. The
records of a list have few shapes, though: the same fields in the same order, with values of
the same types, nested objects (``customer``, a line's ``vatCode``) of the same shapes. So
:class:`PlannedCsvWriter` sorts a page's records, and then their lines, by shape, and works
out for each shape, once, all that does not depend on the values (:mod:`.rowplan`): which
value goes to which cell, which fields no column takes, how each value is written, and a
``str.format`` template that lays the cells out between their delimiters. The values are then handled
a column at a time by calls that run in C (taken by position with ``operator.itemgetter``,
converted with ``repr`` or ``"%.2f" %`` where that is what :func:`money_cell` writes,
searched once per column for a start a spreadsheet would run), laid out by the template, and
the page is written in one piece.

Whatever a shape does not settle goes the long way, through the flattener and ``CsvWriter``,
record by record and in its place, so the file is the same byte for byte: a cell the CSV
writer would quote (a delimiter, a ``"`` or a line break in a value), a request-style
``{"value": ...}`` wrapper, lines that are not a list of objects, a DTO path renamed onto a
column the record fills already, a shape beyond the :data:`MAX_SHAPES` kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import chain, repeat
from operator import add, itemgetter
from typing import Any

from importer.ledger.files import CsvStyle, CsvWriter, Sink
from importer.ledger.rowplan import MAX_SHAPES, Compiler, Plan, shapes
from importer.mapping.columns import LINE_PREFIX
from importer.mapping.flatten import READ_AS_YYYYMM, Place, RecordFlattener

__all__ = ["PlannedCsvWriter", "MAX_SHAPES"]

_QUOTED = "\"\r\n"  # what makes the csv module quote a cell, besides the delimiter
_Items = Sequence[Mapping[str, Any]]
_NO_LINES = (None,)  # a record without lines still has a row


class _Tally:
    """What a page's planned records add to the summary: left-out fields, dropped columns."""

    def __init__(self) -> None:
        self.left: dict[str, int] = {}
        self.line_left: dict[str, set[int]] = {}  # a line's field: the records whose lines held data in it
        self.dropped: dict[str, int] = {}

    def count(self, plan: Plan, values: list[list[tuple[Any, ...]]], owners: list[int] | None) -> None:
        """A group of headers (``owners`` None) or of lines (``owners``: each line's record)."""
        n = len(values[0])
        for name in plan.dropped:
            self.dropped[name] = self.dropped.get(name, 0) + n
        if owners is None:
            for name in plan.left:
                self.left[name] = self.left.get(name, 0) + n
            for me, pos, name in plan.maybe:  # text or lists: data unless empty
                held = sum(map(bool, map(itemgetter(pos), values[me])))
                if held:
                    self.left[name] = self.left.get(name, 0) + held
            return
        records = set(owners) if plan.left else ()
        for name in plan.left:  # once per record, however many of its lines hold it
            self.line_left.setdefault(name, set()).update(records)
        for me, pos, name in plan.maybe:
            holding = {owner for owner, row in zip(owners, values[me]) if row[pos]}
            if holding:
                self.line_left.setdefault(name, set()).update(holding)


class PlannedCsvWriter(CsvWriter):
    """A :class:`CsvWriter` that writes a page of list items by the plans of their shapes.

    ``flattener`` flattens what goes the long way; the fields no column takes are counted
    in ``left_out`` (once per record, as the export counts them); ``company``: whether
    ``places`` depends on the currency (else every amount has the default decimals).
    Planning needs the header's columns before the lines' (the export's own order); with a
    header that mixes them, or of a single column, every record goes the long way.
    """

    def __init__(self, sink: Sink, columns: Sequence[str], style: CsvStyle, dropped: dict[str, int],
                 numbers: Collection[str], money: Collection[str], places: Callable[[Mapping[str, Any]], int],
                 flattener: RecordFlattener, left_out: dict[str, int], *, company: bool = True) -> None:
        super().__init__(sink, columns, style, dropped, numbers, money, places)
        self._flattener, self._left_out, self._company = flattener, left_out, company
        self._line_field = flattener.entity.line_field
        split = next((i for i, c in enumerate(self._columns) if c.startswith(LINE_PREFIX)), len(self._columns))
        widths = split, len(self._columns) - split
        delimiter = self._delimiter = style.delimiter
        self._planned = (len(self._columns) > 1 and delimiter not in _QUOTED
                         and all(c.startswith(LINE_PREFIX) for c in self._columns[split:]))
        kinds = {name: kind for name, (_, kind) in self._slots.items()}
        self._eol, self._per_row = style.line_end, len(self._columns) - 1
        self._no_line = delimiter * (widths[1] - 1) if widths[1] else ""
        self._places_at: tuple[Place, Place] = flattener.places
        self._compilers = (
            Compiler({c: i for i, c in enumerate(self._columns[:split])}, kinds, widths[0], delimiter,
                     delimiter if all(widths) else "", READ_AS_YYYYMM),
            Compiler({c: i - split for i, c in enumerate(self._columns) if i >= split}, kinds, widths[1],
                     delimiter, "", ()),
        )
        self._plans: tuple[dict[Any, Plan | None], dict[Any, Plan | None]] = ({}, {})

    def write_items(self, items: _Items) -> tuple[int, int]:
        """Every item (as the list GET answered it) as rows; returns (records, rows) written."""
        if not self._planned or not items:
            return self._long_way(items, range(len(items)))
        flagged: set[int] = set()
        done = self._page(items, flagged)
        while isinstance(done, set):  # records with something no plan settles: the long way
            flagged |= done or set(range(len(items)))
            done = self._page(items, flagged)
        text, tally, (planned, counts) = done
        rows = sum(counts)
        if flagged:
            rows += self._spliced(items, flagged, text, dict(zip(planned, counts)))
        else:
            self._text.write(text)
        for name, n in tally.left.items():
            self._left_out[name] = self._left_out.get(name, 0) + n
        for name, owners in tally.line_left.items():
            self._left_out[name] = self._left_out.get(name, 0) + len(owners)
        for name, n in tally.dropped.items():
            self._dropped[name] = self._dropped.get(name, 0) + n
        return len(items), rows

    def _long_way(self, items: _Items, which: Collection[int]) -> tuple[int, int]:
        rows = 0
        for i in which:
            record = self._flattener.flatten(items[i])
            rows += self.write_record(record.header, record.lines)
            for name in record.left_out:
                self._left_out[name] = self._left_out.get(name, 0) + 1
        return len(which), rows

    def _spliced(self, items: _Items, flagged: set[int], text: str, per_record: dict[int, int]) -> int:
        """The planned rows with the flagged records' rows, written the long way, in their places;
        returns the long way's rows."""
        planned = iter(text.split(self._eol))  # no cell of a planned row holds a line break
        rows = 0
        for i in range(len(items)):
            if i in flagged:
                rows += self._long_way(items, (i,))[1]
            else:
                self._text.write("".join(next(planned) + self._eol for _ in range(per_record[i])))
        return rows

    def _page(self, items: _Items, flagged: set[int]) -> tuple[str, _Tally, tuple[list[int], list[int]]] | set[int]:
        """The rows of every record not ``flagged``, as one text, with their tally and rows per
        record; or the records that must go the long way too (then nothing is kept)."""
        tally = _Tally()
        ok = [i for i in range(len(items)) if i not in flagged]
        headers: list[Any] = [None] * len(items)
        places: list[int] = [0] * len(items)
        self._segments(0, [items[i] for i in ok], ok, headers, places, tally, None)
        if None in map(headers.__getitem__, ok):
            return {i for i in ok if headers[i] is None}
        lists = self._lines([items[i] for i in ok])
        if isinstance(lists, set):
            return {ok[k] for k in lists}
        counts = list(map(len, lists))
        owners = list(chain.from_iterable(map(repeat, ok, counts)))
        lines = list(chain.from_iterable(lists))
        if None in lines:  # records without lines: their rows' line cells are empty
            real: Sequence[int] = [j for j, line in enumerate(lines) if line is not None]
            segments: list[Any] = [self._no_line] * len(lines)
            for j in real:
                segments[j] = None
            lines, mine = [lines[j] for j in real], [owners[j] for j in real]
        else:
            real, mine, segments = range(len(lines)), owners, [None] * len(lines)
        self._segments(1, lines, real, segments, [places[o] for o in mine], tally, mine)
        if None in segments:
            return {owners[j] for j in real if segments[j] is None}
        rows = list(map(add, chain.from_iterable(map(repeat, map(headers.__getitem__, ok), counts)), segments))
        joined, d, per_row = "".join(rows), self._delimiter, self._per_row
        if any(c in joined for c in _QUOTED) or joined.count(d) != per_row * len(rows):
            return {o for o, row in zip(owners, rows) if any(c in row for c in _QUOTED) or row.count(d) != per_row}
        return self._eol.join(rows) + self._eol, tally, (ok, counts)

    def _lines(self, records: _Items) -> list[Sequence[Any]] | set[int]:
        """Each record's lines (``(None,)`` for none: its row has empty line cells); or the
        records whose lines are not a list of objects."""
        if not self._line_field:
            return [_NO_LINES] * len(records)
        found = [record.get(self._line_field) for record in records]
        kinds = set(map(type, found))
        if kinds <= {list, type(None)} and set(map(type, chain.from_iterable(filter(None, found)))) <= {dict}:
            return [lines or _NO_LINES for lines in found]
        return {k for k, lines in enumerate(found)
                if lines is not None and (type(lines) is not list or any(type(x) is not dict for x in lines))}

    def _segments(self, part: int, objs: _Items, where: Sequence[int], out: list[Any], places: list[int],
                  tally: _Tally, owners: list[int] | None) -> None:
        """``out[where[k]]``: the text of ``objs[k]``'s cells (the header's, ``part`` 0, or a
        line's, 1), left None where no plan has it. A header sets ``places[where[k]]``, its
        amounts' decimals; a line's are ``places[k]``."""
        if not objs:
            return
        plans, compiler, place = self._plans[part], self._compilers[part], self._places_at[part]
        for signature, idx, top in shapes(objs, place):
            plan = plans.get(signature, False)
            if plan is False:
                plan = compiler.compile(place, objs[idx[0]])
                if len(plans) < MAX_SHAPES:
                    plans[signature] = plan
            if not isinstance(plan, Plan):
                continue
            group = objs if len(idx) == len(objs) else [objs[k] for k in idx]
            values = plan.values(group, top)
            if part == 0:
                decimals = self._header_places(plan, values)
                for k, d in zip(idx, decimals):
                    places[where[k]] = d
            else:
                decimals = [places[k] for k in idx]
            for k, text in zip(idx, plan.rows(values, decimals, self._comma)):
                out[where[k]] = text
            tally.count(plan, values, None if owners is None else [owners[k] for k in idx])

    def _header_places(self, plan: Plan, values: list[list[tuple[Any, ...]]]) -> list[int]:
        """Each header's amount decimals: its currency's (by ``places``), or the default for all."""
        if not self._company or plan.currency is None:
            return [self._places({})] * len(values[0])
        me, pos = plan.currency
        known: dict[Any, int] = {}
        out = []
        for row in values[me]:
            currency = row[pos]
            found = known.get(currency)
            if found is None:
                found = known[currency] = self._places({"currencyId": currency})
            out.append(found)
        return out
