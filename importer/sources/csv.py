"""CSV reader: header row, sniffed delimiter, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from importer.errors import ConfigError, SourceError
from importer.sources._open import ByteCounter, DecodedLines
from importer.sources.base import SourceRecord

__all__ = ["CsvSource", "DELIMITERS", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
# Large enough for any real cell (a 10 MB note); the default 128 KiB is not.
csv.field_size_limit(64 * 1024 * 1024)


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that splits the header line into the most fields."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


class CsvSource:
    format = "csv"

    def __init__(
        self, text: io.TextIOBase | DecodedLines, progress: ByteCounter, *, delimiter: str | None, name: str
    ) -> None:
        self.name = name
        self.progress = progress
        self._text = text
        try:
            header_line = text.readline()
        except (EOFError, OSError) as exc:
            raise SourceError(f"cannot read {name}: {exc}") from None
        if not header_line.strip():
            raise ConfigError(f"{name} is empty: a CSV input needs a header row")
        if delimiter is not None and len(delimiter) != 1:
            raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
        self.delimiter = delimiter or sniff_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=self.delimiter))
        self.columns = [h.strip() for h in header]
        for i, column in enumerate(self.columns, 1):
            if not column:
                raise ConfigError(f"{name}: header column {i} has no name")
        dupes = {c for c in self.columns if self.columns.count(c) > 1}
        if dupes:
            raise ConfigError(f"{name}: header names column(s) twice: {', '.join(sorted(dupes))}")

    def __iter__(self) -> Iterator[SourceRecord]:
        columns = self.columns
        width = len(columns)
        reader = csv.reader(self._text, delimiter=self.delimiter, strict=True)
        take_error = getattr(self._text, "take_error", lambda: None)
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield SourceRecord(number, {}, f"row cannot be parsed as CSV: {exc}")
                continue
            except (EOFError, OSError) as exc:  # a truncated or corrupt .gz
                raise SourceError(f"input stopped being readable ({exc})", number) from None
            number += 1
            if not row:  # a blank line holds no record
                number -= 1
                continue
            undecodable = take_error()
            if undecodable is not None:
                yield SourceRecord(number, dict(zip(columns, row)), undecodable)
                continue
            if len(row) != width:
                data = dict(zip(columns, row))
                yield SourceRecord(
                    number, data,
                    f"row has {len(row)} fields, the header has {width}",
                )
                continue
            yield SourceRecord(number, dict(zip(columns, row)))
