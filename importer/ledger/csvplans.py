"""CSV rows of an export a page at a time, by a plan per record shape worked out once.

Flattening each record to dicts (:class:`~importer.mapping.flatten.RecordFlattener`) and then
looking up, converting and placing every value (:class:`~importer.ledger.files.CsvWriter`)
costs a few hundred nanoseconds per field, several times what reading the page costs. The
records of a list have few shapes, though: the same fields in the same order, with values of
the same types, nested objects (``customer``, a line's ``vatCode``) of the same shapes. So
:class:`PlannedCsvWriter` sorts a page's records, and then their lines, by shape, and works
out for each shape, once, all that does not depend on the values (:mod:`.rowplan`): which
value goes to which cell, which fields no column takes, how each value is written, and the
text (delimiters of empty cells) between the cells it fills. The values are then handled a
column at a time by calls that run in C: each field's values are taken once, by name, and
both typed (the shape) and converted from that one list (:mod:`.celltexts`: numbers by
``orjson.dumps``, a text column searched once for a start a spreadsheet would run and for
a character to quote), each row is one ``str.join`` of its pieces, and the page is written
in one piece. Only when a text column holds a character to quote (or a number's cell could
hold the delimiter) is the page's text searched for the rows that hold one.

Whatever a shape does not settle goes the long way, through the flattener and ``CsvWriter``,
record by record and in its place, so the file is the same byte for byte: a cell the CSV
writer would quote (a delimiter, a ``"`` or a line break in a value), a request-style
``{"value": ...}`` wrapper, lines that are not a list of objects, a DTO path renamed onto a
column the record fills already, a shape beyond the :data:`MAX_SHAPES` kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import chain, compress, repeat
from operator import add
from typing import Any

from importer.ledger.celltexts import Alarm
from importer.ledger.files import CsvStyle, CsvWriter, Sink
from importer.ledger.rowplan import MAX_SHAPES, Compiler, Plan, in_order, shapes
from importer.mapping.columns import LINE_PREFIX
from importer.mapping.flatten import READ_AS_YYYYMM, Place, RecordFlattener

__all__ = ["PlannedCsvWriter", "MAX_SHAPES"]

_QUOTED = "\"\r\n"  # what makes the csv module quote a cell, besides the delimiter
_NUMBER_CHARS = frozenset("0123456789.-truefalsNaIinity")  # what a number's or a boolean's cell is written with (NaN, Infinity too)
_Items = Sequence[Mapping[str, Any]]
_NO_LINES = (None,)  # a record without lines still has a row


class _Tally:
    """What a page's planned records add to the summary: left-out fields, dropped columns."""

    def __init__(self) -> None:
        self.left: dict[str, int] = {}
        self.line_left: dict[str, set[int]] = {}  # a line's field: the records whose lines held data in it
        self.dropped: dict[str, int] = {}
        self.quoting = False  # whether a text cell may need quoting (a delimiter, a quote, a line break)

    def count(self, plan: Plan, objects: list[list[Sequence[Any]]], n: int, owners: Sequence[int] | None) -> None:
        """A group of ``n`` headers (``owners`` None) or lines (``owners``: each line's record)."""
        for name in plan.dropped:
            self.dropped[name] = self.dropped.get(name, 0) + n
        if owners is None:
            for name in plan.left:
                self.left[name] = self.left.get(name, 0) + n
            for me, pos, name in plan.maybe:  # text or lists: data unless empty
                held = sum(map(bool, objects[me][pos]))
                if held:
                    self.left[name] = self.left.get(name, 0) + held
            return
        records = set(owners) if plan.left else ()
        for name in plan.left:  # once per record, however many of its lines hold it
            self.line_left.setdefault(name, set()).update(records)
        for me, pos, name in plan.maybe:
            holding = set(compress(owners, objects[me][pos]))
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
        self._alarm = Alarm(delimiter)
        written = _NUMBER_CHARS | {","} if self._comma else _NUMBER_CHARS
        self._plain_numbers = not set(delimiter) & written  # no number's or boolean's cell holds it
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
        records = [items[i] for i in ok] if flagged else items
        headers: list[Any] = [None] * len(records)
        places: list[int] = [0] * len(records)
        self._segments(0, records, headers, places, 0, tally, None)
        if None in headers:
            return {ok[k] for k, text in enumerate(headers) if text is None}
        lists = self._lines(records)
        if isinstance(lists, set):
            return {ok[k] for k in lists}
        counts = list(map(len, lists))
        owners = list(chain.from_iterable(map(repeat, range(len(records)), counts)))  # each line's record
        lines = list(chain.from_iterable(lists))
        real: list[int] | None = None
        if None in lines:  # records without lines: their rows' line cells are empty
            real = [j for j, line in enumerate(lines) if line is not None]
            lines, mine = [lines[j] for j in real], [owners[j] for j in real]
        else:
            mine = owners
        kinds = set(places)
        decimals = kinds.pop() if len(kinds) == 1 else [places[o] for o in mine]
        segments: list[Any] = [None] * len(lines)
        self._segments(1, lines, segments, None, decimals, tally, mine)
        if None in segments:
            return {ok[o] for o, text in zip(mine, segments) if text is None}
        if real is not None:
            texts, segments = segments, [self._no_line] * len(owners)
            for j, text in zip(real, texts):
                segments[j] = text
        rows = list(map(add, chain.from_iterable(map(repeat, headers, counts)), segments))
        n, eol, d = len(rows), self._eol, self._delimiter
        text = eol.join(rows) + eol if rows else ""
        if (tally.quoting or not self._plain_numbers) and (
                any(text.count(c) != n * eol.count(c) for c in _QUOTED)
                or text.count(d) != n * (self._per_row + eol.count(d))):
            return {ok[o] for o, row in zip(owners, rows) if any(c in row for c in _QUOTED) or row.count(d) != self._per_row}
        return text, tally, (ok, counts)

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

    def _segments(self, part: int, objs: _Items, out: list[Any], places: list[int] | None,
                  decimals: int | list[int], tally: _Tally, owners: list[int] | None) -> None:
        """``out[k]``: the text of ``objs[k]``'s cells (the header's, ``part`` 0, or a line's,
        1), left None where no plan has it. A header sets ``places[k]``, its amounts' decimals;
        a line's are ``decimals``, for all or each."""
        if not objs:
            return
        plans, compiler, place = self._plans[part], self._compilers[part], self._places_at[part]
        for signature, idx, tables in shapes(objs, place):
            plan = plans.get(signature, False)
            if plan is False:
                plan = compiler.compile(place, in_order(objs[idx[0]], signature))
                if len(plans) < MAX_SHAPES:
                    plans[signature] = plan
            if not isinstance(plan, Plan):
                continue
            n, objects = len(idx), plan.objects(tables)
            everyone = n == len(objs)
            if places is not None:
                mine: Sequence[int] | None = None
                amounts = self._header_places(plan, objects)
                if everyone:
                    places[:] = [amounts] * n if isinstance(amounts, int) else amounts
                else:
                    for k, dec in zip(idx, repeat(amounts) if isinstance(amounts, int) else amounts):
                        places[k] = dec
            else:
                mine = owners if everyone or owners is None else [owners[k] for k in idx]
                amounts = decimals if everyone or isinstance(decimals, int) else [decimals[k] for k in idx]
            texts, quoting = plan.rows(objects, n, amounts, self._comma, self._alarm)
            tally.quoting |= quoting
            if everyone:
                out[:] = texts
            else:
                for k, text in zip(idx, texts):
                    out[k] = text
            tally.count(plan, objects, n, mine)

    def _header_places(self, plan: Plan, objects: list[list[Sequence[Any]]]) -> int | list[int]:
        """The headers' amount decimals: their currencies' (by ``places``), one for all where
        they agree, or the default for all."""
        if not self._company or plan.currency is None:
            return self._places({})
        me, pos = plan.currency
        column = objects[me][pos]
        known = {currency: self._places({"currencyId": currency}) for currency in dict.fromkeys(column)}
        if len(set(known.values())) == 1:
            return next(iter(known.values()))
        return list(map(known.__getitem__, column))
