"""Where an export's rows go: the output file, and its CSV or NDJSON writer.

A file is written as ``PATH.partial`` and renamed to ``PATH`` once the last page is in, so a
failed export never leaves a file that looks complete; ``.gz`` paths are compressed. A
missing output folder is created (with its parents); nothing else in it is touched. CSV
cells that a spreadsheet would run as a formula are written with a leading quote
(:func:`importer.sources.cells.neutralise`); the importer's CSV reader takes it off again.

A :class:`CsvStyle` says how the text is laid out. :data:`EXCEL` is what a spreadsheet set to
a Nordic locale opens right with a double click: UTF-8 with a BOM (else Excel guesses the
ANSI code page and spoils ``æøå``), ``;`` between cells, a decimal comma in number columns
only (keys and text are left as they are), CRLF line ends. The importer reads such a file
back with no flags: the BOM is dropped, ``;`` is sniffed, and a ``;`` file is read with
decimal commas by default.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import orjson

from importer.errors import ConfigError
from importer.sources.cells import neutralise

__all__ = [
    "Sink", "CsvWriter", "CsvStyle", "EXCEL", "NdjsonWriter", "csv_cell", "number_cell", "money_cell", "DEFAULT_PLACES",
]

DEFAULT_PLACES = 2  # an amount's decimals when its currency's are not known
_RISKY = frozenset("=+@\t\r-'")  # the first characters neutralise() may have to quote
_TEXT, _NUMBER, _MONEY = 0, 1, 2  # how a column's int and float values are written


@dataclass(frozen=True, slots=True)
class CsvStyle:
    """How a CSV file is laid out: its delimiter, decimal mark, line end and BOM."""

    delimiter: str = ","
    decimal_comma: bool = False  # numbers in number columns as 1234,5
    line_end: str = "\r\n"  # the csv module's own default, which exports have always used
    bom: bool = False


EXCEL = CsvStyle(delimiter=";", decimal_comma=True, line_end="\r\n", bom=True)


class Sink:
    """The output file (atomically renamed into place), stdout, or a caller's binary stream."""

    def __init__(self, out: str | os.PathLike[str] | IO[bytes]) -> None:
        self.final: str | None = None
        self.partial: str | None = None
        self._owned: IO[bytes] | None = None
        if isinstance(out, str | os.PathLike):
            name = os.fspath(out)
            if name == "-":
                self.binary: IO[bytes] = sys.stdout.buffer
                self.name = "<stdout>"
                return
            self.final, self.partial, self.name = name, name + ".partial", name
            try:
                _make_folder(os.path.dirname(name))
                raw: IO[bytes] = open(self.partial, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(f"cannot write {name}: {exc.strerror}") from None
            self._owned = raw
            self.binary = gzip.GzipFile(fileobj=raw, mode="wb") if name.endswith(".gz") else raw  # type: ignore[assignment]
        else:
            self.binary = out
            self.name = str(getattr(out, "name", "<stream>"))

    def close(self, success: bool) -> None:
        self.binary.flush()
        if self._owned is None:
            return
        if self.binary is not self._owned:
            self.binary.close()  # the gzip trailer
        self._owned.close()
        if success and self.final and self.partial:
            os.replace(self.partial, self.final)


def _make_folder(folder: str) -> None:
    """Create ``folder`` and any missing parents; folders that exist, and what is in them, are left alone."""
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)


class NdjsonWriter:
    """One JSON object per row, keys in ``order`` (names it lacks go last)."""

    def __init__(self, sink: Sink, order: Sequence[str]) -> None:
        self._binary = sink.binary
        self._rank = {name: i for i, name in enumerate(order)}

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        rank, last = self._rank, len(self._rank)
        for row in rows:
            ordered = dict(sorted(row.items(), key=lambda kv: rank.get(kv[0], last)))
            self._binary.write(orjson.dumps(ordered) + b"\n")
            n += 1
        return n

    def detach(self) -> None:
        """Nothing to let go of: rows go straight to the sink."""


class CsvWriter:
    """The header, then one line per row; a name the header lacks is counted in ``dropped``.

    ``numbers``: the columns whose int and float values are numbers to write in the style's
    decimal convention (a text value there is written as it is). ``money``: the number
    columns that hold amounts, written with at least ``places(row)`` decimals (the row's
    currency's; default 2): ``1250`` as ``1250.00``, never fewer digits than the value has.

    Only the values a row has are converted (a row fills a few of an export's columns);
    :meth:`write_record` converts a document's header once for all its lines.
    """

    def __init__(self, sink: Sink, columns: Sequence[str], style: CsvStyle, dropped: dict[str, int],
                 numbers: Collection[str] = (), money: Collection[str] = (),
                 places: Callable[[Mapping[str, Any]], int] | None = None) -> None:
        self._text = io.TextIOWrapper(sink.binary, encoding="utf-8", newline="", write_through=True)
        if style.bom:
            self._text.write("\ufeff")
        self._writer = csv.writer(self._text, delimiter=style.delimiter, lineterminator=style.line_end)
        self._columns = list(columns)
        numbers, money = frozenset(numbers), frozenset(money)
        # column -> (its place, how its numbers are written: _TEXT, _NUMBER or _MONEY)
        self._slots = {name: (i, (_MONEY if name in money else _NUMBER) if name in numbers else _TEXT)
                       for i, name in enumerate(self._columns)}
        self._blank = [""] * len(self._columns)
        self._places = places or (lambda row: DEFAULT_PLACES)
        self._comma = style.decimal_comma
        self._dropped = dropped
        self._writer.writerow(self._columns)

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        for row in rows:
            cells = self._blank.copy()
            self._fill(cells, row, row)
            self._writer.writerow(cells)
            n += 1
        return n

    def write_record(self, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]] | None) -> int:
        """A record's rows: one per line with the header repeated, or the header alone."""
        cells = self._blank.copy()
        self._fill(cells, header, header)
        if not lines:
            self._writer.writerow(cells)
            return 1
        for line in lines:
            row = cells.copy()
            self._fill(row, line, header)
            self._writer.writerow(row)
        return len(lines)

    def _fill(self, cells: list[str], values: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        """``values`` into ``cells`` at their columns; ``row`` has the currency amounts go by."""
        slots = self._slots
        for name, value in values.items():
            slot = slots.get(name)
            if slot is None:
                self._dropped[name] = self._dropped.get(name, 0) + 1
                continue
            if value is None:
                continue
            i, kind = slot
            kind_of_value = type(value)
            if kind_of_value is str:
                # A name such as ``=cmd|...`` must not run when the file is opened in a
                # spreadsheet; the CSV reader restores the value on the way back in.
                cells[i] = neutralise(value) if value[:1] in _RISKY else value
            elif kind_of_value is bool:
                cells[i] = "true" if value else "false"
            elif kind != _TEXT and (kind_of_value is float or kind_of_value is int):
                if kind == _MONEY:
                    cells[i] = money_cell(value, self._places(row), self._comma)
                else:
                    cells[i] = number_cell(value, self._comma)
            else:
                cells[i] = neutralise(csv_cell(value))

    def detach(self) -> None:
        self._text.flush()
        self._text.detach()  # the sink owns the binary stream


def csv_cell(value: Any) -> str:
    """A CSV cell the importer reads back as the same value (booleans as true/false)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)  # floats as repr: 12.5 -> "12.5", read back exactly


def money_cell(value: int | float, places: int, decimal_comma: bool) -> str:
    """An amount with at least ``places`` decimals: ``1250`` -> ``1250.00`` (``1250,00``).

    A value with more decimals keeps them all (``12.3456``): the file must read back as the
    same amount, so nothing is rounded away.
    """
    text = repr(value)
    if "e" in text or "n" in text:  # an exponent (1e+16), or inf/nan: the long way
        number = Decimal(text)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent < places:
            number = number.quantize(Decimal(1).scaleb(-places))
        text = format(number, "f")
    else:
        whole, dot, decimals = text.partition(".")
        if len(decimals) < places:
            text = f"{whole}.{decimals.ljust(places, '0')}" if places > 0 else text
    return text.replace(".", ",") if decimal_comma else text


def number_cell(value: int | float, decimal_comma: bool) -> str:
    """A number as plain digits the importer reads back exactly: ``1234.5`` or ``1234,5``.

    Never an exponent (``1e+16``), which the import refuses as a number; a float's shortest
    text that reads back as the same double gives the digits.
    """
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text.replace(".", ",") if decimal_comma else text
