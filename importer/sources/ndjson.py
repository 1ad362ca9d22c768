"""NDJSON reader: one JSON object per line, flat (CSV column names) or API-shaped."""

from __future__ import annotations

import io
from collections.abc import Iterator

import orjson

from importer.errors import SourceError
from importer.sources._open import ByteCounter
from importer.sources.base import SourceRecord

__all__ = ["NdjsonSource"]


class NdjsonSource:
    format = "ndjson"
    columns = None
    delimiter = None

    def __init__(self, text: io.TextIOBase, progress: ByteCounter, *, name: str) -> None:
        self.name = name
        self.progress = progress
        self._text = text

    def __iter__(self) -> Iterator[SourceRecord]:
        number = 0
        lines = iter(self._text)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"input is not valid {self._text.encoding} (byte 0x{exc.object[exc.start]:02x})",
                    number,
                ) from None
            except (EOFError, OSError) as exc:
                raise SourceError(f"input stopped being readable ({exc})", number) from None
            if not line.strip():
                continue
            number += 1
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield SourceRecord(number, {}, f"line is not valid JSON: {exc}")
                continue
            if not isinstance(data, dict):
                yield SourceRecord(number, {}, f"line holds a JSON {type(data).__name__}, not an object")
                continue
            yield SourceRecord(number, data)
