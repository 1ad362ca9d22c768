"""CSV reader: header row, sniffed delimiter, streamed record by record with each one's bytes.

The csv module parses; it is fed one physical line at a time by :class:`_Feed`, which
keeps the bytes of the record in progress (``SourceRecord.raw``: every line of it, line
ends included), decodes each line on its own (a bad byte spoils one record, not the
run), and bounds the record: past ``max_field_size`` bytes it stops keeping them, skips
to the line end that closes the record (:class:`FieldScanner` follows the quotes), and
the record comes out invalid with no raw bytes. Cells the importer's own CSV outputs
made inert (a ``'`` before ``=``, see :mod:`importer.sources.cells`) are restored.

A row that repeats the header (``cat jan.csv feb.csv``, a UTF-8 BOM before the second
header or not) comes out invalid, named with its record and line, and is never mapped.
A single-byte encoding is doubted line by line while nothing has proved it
(:class:`importer.sources.mojibake.Utf8Guard`): a line that is UTF-8 makes its record invalid.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator

from importer.errors import ConfigError, SourceError
from importer.sources._open import ByteCounter
from importer.sources.base import ERROR_COLUMN, SourceRecord
from importer.sources.cells import restore
from importer.sources.encoding import bad_bytes
from importer.sources.lines import CHUNK, READ_ERRORS, SKIPPED, RawLines, line_end_size, too_long
from importer.sources.mojibake import Utf8Guard, header_problem
from importer.sources.quotes import FieldScanner

__all__ = ["CsvSource", "DELIMITERS", "MAX_COLUMNS", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 10_000  # far past any real export; a wider header is a wrong file or a hostile one
_SNIFF_CHARS = 64 * 1024


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that splits the header line into the most fields.

    A header's first 64 K characters tell as well as all of it, and cost far less to split.
    """
    sample = header_line[:_SNIFF_CHARS]
    counts = {d: len(next(csv.reader([sample], delimiter=d))) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def _allow_fields_of(size: int) -> None:
    """The csv module's own field limit is global to the process: only ever raised here, so
    no other reader loses; the record bound of :class:`_Feed` is what enforces ours."""
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)


class _Oversized(Exception):
    """Raised through the csv module by :class:`_Feed` for a record it skipped."""

    def __init__(self, first_line: int, last_line: int, longest: tuple[int, int]) -> None:
        super().__init__("record over the size limit")
        self.first_line, self.last_line, self.longest = first_line, last_line, longest


class _Feed:
    """Decoded lines for the csv module; see the module doc.

    The reader takes each record's lines from ``taken`` and clears it, with ``size``. A
    line that did not decode or holds a ``'`` sets ``marked``, so the reader looks for
    ``error`` and cells to restore only then.
    """

    def __init__(self, lines: RawLines, *, encoding: str, limit: int, delimiter: str,
                 guard: Utf8Guard | None) -> None:
        self._lines = lines
        self._encoding = encoding
        self._guard = guard
        self._limit = limit
        self._delimiter = delimiter
        self.line = 1  # lines read, the header's included
        self.taken: list[bytes] = []  # the lines of the record in progress
        self.size = 0  # their bytes
        self.marked = False
        self.error: str | None = None  # why a line of the record did not decode

    def next_record(self) -> None:
        self.taken.clear()
        self.size = 0
        self.marked = False
        self.error = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        room = self._limit - self.size  # bytes the record may still take, its last line end aside
        piece = self._lines.read(room + 2)
        if len(piece) > room and too_long(piece, room, self._lines.terminators):
            raise self._skip(piece)
        if not piece:
            raise StopIteration
        self.size += len(piece)
        self.taken.append(piece)
        self.line += 1
        if b"'" in piece:
            self.marked = True
        guard = self._guard
        if guard is not None and guard.active and not piece.isascii():
            mojibake = guard.check(piece, self.line)
            if mojibake is not None:
                self.marked = True
                self.error = self.error or mojibake
        try:
            return piece.decode(self._encoding)
        except UnicodeDecodeError as exc:
            self.marked = True
            if self.error is None:
                self.error = bad_bytes(self.line, self._encoding, exc)
            return piece.decode(self._encoding, "replace")

    def _skip(self, piece: bytes) -> _Oversized:
        """Read on, a piece at a time and keeping none, to the line end that closes the record."""
        scanner = FieldScanner(self._delimiter)
        first_line = self.line - len(self.taken) + 1
        for line in self.taken:
            end = line_end_size(line, self._lines.terminators)
            scanner.feed(line[:len(line) - end])
            scanner.line_end(end)
        open_line = False
        while piece:
            end = line_end_size(piece, self._lines.terminators)
            scanner.feed(piece[:len(piece) - end] if end else piece)
            open_line = not end
            if end:
                self.line += 1
                if scanner.line_end(end):
                    break
            piece = self._lines.read(CHUNK)
        if open_line:  # the input ended in the record's last line
            self.line += 1
        self.next_record()
        return _Oversized(first_line, self.line, scanner.longest)


class CsvSource:
    format = "csv"

    def __init__(
        self, lines: RawLines, progress: ByteCounter, *,
        delimiter: str | None, name: str, encoding: str, max_field_size: int,
        guard: Utf8Guard | None = None,
    ) -> None:
        self.name = name
        self.progress = progress
        self.encoding = encoding
        self.bom = lines.bom
        self.max_field_size = max_field_size
        self._lines = lines
        self._guard = guard
        if delimiter is not None and len(delimiter) != 1:
            raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
        try:
            self.header_raw = lines.read(max_field_size + 2)  # the header line as read, BOM aside
        except READ_ERRORS as exc:
            raise SourceError(f"cannot read {name}: {exc}") from None
        header_line = self._decode_header()
        _allow_fields_of(max_field_size + 2)  # the header line whole, as the sniffer may see it
        self.delimiter = delimiter or sniff_delimiter(header_line)
        try:
            header = next(csv.reader([header_line], delimiter=self.delimiter, strict=True))
        except csv.Error as exc:
            raise ConfigError(f"{name}: the header row cannot be parsed as CSV: {exc}") from None
        if len(header) > MAX_COLUMNS:
            raise ConfigError(f"{name}: the header has {len(header):,} columns; "
                              f"at most {MAX_COLUMNS:,} are read")
        self.columns = [h.strip() for h in header]
        for i, column in enumerate(self.columns, 1):
            if not column:
                raise ConfigError(f"{name}: header column {i} has no name")
        dupes = sorted(c for c, n in Counter(self.columns).items() if n > 1)
        if dupes:
            raise ConfigError(f"{name}: header names column(s) twice: {', '.join(dupes)}")

    @property
    def line_end(self) -> bytes:
        """The input's line end (LF when it has none)."""
        return self._lines.line_end or b"\n"

    def _decode_header(self) -> str:
        raw, name = self.header_raw, self.name
        if len(raw) > self.max_field_size and too_long(raw, self.max_field_size, self._lines.terminators):
            raise ConfigError(f"{name}: the header line is longer than --max-field-size "
                              f"({self.max_field_size} bytes)")
        header_problem(name, raw, self._guard)
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{name}: the header's {bad_bytes(1, self.encoding, exc)}") from None
        if not text.strip():
            raise ConfigError(f"{name} is empty: a CSV input needs a header row")
        return text

    def __iter__(self) -> Iterator[SourceRecord]:
        columns = self.columns
        width = len(columns)
        feed = _Feed(self._lines, encoding=self.encoding, limit=self.max_field_size, delimiter=self.delimiter,
                     guard=self._guard)
        taken = feed.taken
        _allow_fields_of(self.max_field_size + 2)
        next_row = csv.reader(feed, delimiter=self.delimiter, strict=True).__next__
        number = 0
        while True:
            try:
                row = next_row()
            except StopIteration:
                return
            except _Oversized as skipped:
                number += 1
                yield SourceRecord(number, {}, self._oversized(skipped))
                continue
            except csv.Error as exc:
                number += 1
                error: str | None = feed.error or f"row cannot be parsed as CSV: {exc}"
                raw = b"".join(taken)
                feed.next_record()
                yield SourceRecord(number, {}, error, raw)
                continue
            except READ_ERRORS as exc:  # a truncated or corrupt .gz
                raise SourceError(f"input stopped being readable ({exc})", number) from None
            if not row:  # a blank line holds no record
                feed.next_record()
                continue
            number += 1
            raw = taken[0] if len(taken) == 1 else b"".join(taken)
            line = feed.line - len(taken) + 1
            error = None
            if (len(row) == width or raw[:1] == b"\xef") and self._repeats_header(row, raw):
                feed.next_record()
                yield SourceRecord(number, {}, self._header_again(number, line, raw), raw)
                continue
            if feed.marked:
                error = feed.error
                row = [restore(c) if c[:1] == "'" else c for c in row]
                feed.next_record()
            else:
                taken.clear()
                feed.size = 0
            if len(row) != width and error is None:
                error = f"row has {len(row)} fields, the header has {width}"
            yield SourceRecord(number, dict(zip(columns, row)), error, raw)

    def _repeats_header(self, row: list[str], raw: bytes) -> bool:
        """Whether ``row`` is the header row again (a BOM before it or not): two exports joined."""
        columns = self.columns
        if raw.startswith(codecs.BOM_UTF8):  # read again without it, so a quoted first name unquotes
            text = raw[len(codecs.BOM_UTF8):].decode(self.encoding, "replace")
            try:
                row = next(csv.reader([text], delimiter=self.delimiter), [])
            except csv.Error:
                return False
            if len(row) != len(columns):
                return False
        # An error column is the failed-records file's own: its cell holds the reason, not the name.
        return row[0].strip() == columns[0] and all(
            c.strip() == n for c, n in zip(row[1:], columns[1:]) if n != ERROR_COLUMN)

    def _header_again(self, number: int, line: int, raw: bytes) -> str:
        bom = " (after a UTF-8 byte-order mark)" if raw.startswith(codecs.BOM_UTF8) else ""
        return (f"record {number} (line {line}) repeats the header row{bom}: were two exports joined? "
                "It is not a record; delete that line, or import each export on its own")

    def _oversized(self, skipped: _Oversized) -> str:
        limit = f"--max-field-size ({self.max_field_size} bytes)"
        size, index = skipped.longest
        if size > self.max_field_size:
            field = (f"column {self.columns[index]!r}" if index < len(self.columns)
                     else f"field {index + 1} (the header has {len(self.columns)})")
            what = f"{field} is longer than {limit}"
        elif skipped.first_line == skipped.last_line:
            what = f"line {skipped.first_line} is longer than {limit}"
        else:
            what = f"lines {skipped.first_line}-{skipped.last_line} are longer than {limit} together"
        return f"{what}; {SKIPPED}"

