"""NDJSON reader: one JSON object per line, flat (CSV column names) or API-shaped."""

from __future__ import annotations

import io
from collections.abc import Iterator

import orjson

from importer.errors import SourceError
from importer.sources._open import ByteCounter, DecodedLines
from importer.sources.base import SourceRecord

__all__ = ["NdjsonSource"]


class NdjsonSource:
    format = "ndjson"
    columns = None
    delimiter = None

    def __init__(self, text: io.TextIOBase | DecodedLines, progress: ByteCounter, *, name: str) -> None:
        self.name = name
        self.progress = progress
        self._text = text

    def __iter__(self) -> Iterator[SourceRecord]:
        number = 0
        lines = iter(self._text)
        take_error = getattr(self._text, "take_error", lambda: None)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (EOFError, OSError) as exc:
                raise SourceError(f"input stopped being readable ({exc})", number) from None
            if not line.strip():
                continue
            number += 1
            undecodable = take_error()
            if undecodable is not None:
                yield SourceRecord(number, {}, undecodable)
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield SourceRecord(number, {}, f"line is not valid JSON: {exc}")
                continue
            if not isinstance(data, dict):
                yield SourceRecord(number, {}, f"line holds a JSON {type(data).__name__}, not an object")
                continue
            yield SourceRecord(number, data)
