"""Where an export's rows go: the output file, and its CSV or NDJSON writer.

A file is written as ``PATH.partial`` and renamed to ``PATH`` once the last page is in, so a
failed export never leaves a file that looks complete; ``.gz`` paths are compressed. CSV
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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import orjson

from importer.errors import ConfigError
from importer.sources.cells import neutralise

__all__ = ["Sink", "CsvWriter", "CsvStyle", "EXCEL", "NdjsonWriter", "csv_cell", "number_cell"]


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
    decimal convention (a text value there is written as it is).
    """

    def __init__(self, sink: Sink, columns: Sequence[str], style: CsvStyle, dropped: dict[str, int],
                 numbers: Collection[str] = ()) -> None:
        self._text = io.TextIOWrapper(sink.binary, encoding="utf-8", newline="", write_through=True)
        if style.bom:
            self._text.write("\ufeff")
        self._writer = csv.writer(self._text, delimiter=style.delimiter, lineterminator=style.line_end)
        self._columns = list(columns)
        self._known = frozenset(columns)
        self._numbers = frozenset(numbers)
        self._comma = style.decimal_comma
        self._dropped = dropped
        self._writer.writerow(self._columns)

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        for row in rows:
            for name in row:
                if name not in self._known:
                    self._dropped[name] = self._dropped.get(name, 0) + 1
            # A name such as ``=cmd|...`` must not run when the file is opened in a
            # spreadsheet; the CSV reader restores the value on the way back in.
            self._writer.writerow([neutralise(self._cell(c, row.get(c))) for c in self._columns])
            n += 1
        return n

    def _cell(self, column: str, value: Any) -> str:
        if column in self._numbers and isinstance(value, int | float) and not isinstance(value, bool):
            return number_cell(value, self._comma)
        return csv_cell(value)

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


def number_cell(value: int | float, decimal_comma: bool) -> str:
    """A number as plain digits the importer reads back exactly: ``1234.5`` or ``1234,5``.

    Never an exponent (``1e+16``), which the import refuses as a number; a float's shortest
    text that reads back as the same double gives the digits.
    """
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text.replace(".", ",") if decimal_comma else text
