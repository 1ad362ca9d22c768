"""NDJSON reader: one JSON object per line, flat (CSV column names) or API-shaped.

Each record keeps its line's bytes (``SourceRecord.raw``). A line over
``max_field_size`` is skipped a piece at a time and its record comes out invalid with
no raw bytes; so does one nested deeper than :data:`MAX_DEPTH`, which nothing after
the reader (the mapper, the JSON serializer of the request) has to take.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from importer.errors import SourceError
from importer.sources._open import ByteCounter
from importer.sources.base import SourceRecord
from importer.sources.encoding import bad_bytes
from importer.sources.lines import CHUNK, READ_ERRORS, SKIPPED, RawLines, too_long

__all__ = ["NdjsonSource", "MAX_DEPTH"]

MAX_DEPTH = 64  # objects and arrays within each other; API records need fewer than ten


class NdjsonSource:
    format = "ndjson"
    columns = None
    delimiter = None

    def __init__(
        self, lines: RawLines, progress: ByteCounter, *, name: str, encoding: str, max_field_size: int,
    ) -> None:
        self.name = name
        self.progress = progress
        self.encoding = encoding
        self.bom = lines.bom
        self.max_field_size = max_field_size
        self._lines = lines

    @property
    def line_end(self) -> bytes:
        """The input's line end (LF when it has none)."""
        return self._lines.line_end or b"\n"

    def __iter__(self) -> Iterator[SourceRecord]:
        lines, limit = self._lines, self.max_field_size
        number = line = 0
        while True:
            try:
                piece = lines.read(limit + 2)
                line += 1
                if len(piece) > limit and too_long(piece, limit, lines.terminators):
                    number += 1
                    self._skip_line(piece)
                    yield SourceRecord(number, {}, f"line {line} is longer than --max-field-size "
                                                   f"({limit} bytes); {SKIPPED}")
                    continue
            except READ_ERRORS as exc:
                raise SourceError(f"input stopped being readable ({exc})", number) from None
            if not piece:
                return
            if piece.isspace():
                continue
            number += 1
            data, error = self._parse(piece, line)
            yield SourceRecord(number, data, error, piece)

    def _skip_line(self, piece: bytes) -> None:
        while piece and not piece.endswith(self._lines.terminators):
            piece = self._lines.read(CHUNK)

    def _parse(self, piece: bytes, line: int) -> tuple[dict[str, Any], str | None]:
        """The line's object, or ``{}`` and why there is none."""
        try:
            text: bytes | str = piece if self.encoding == "utf-8" else piece.decode(self.encoding)
            data = orjson.loads(text)  # UTF-8 bytes are checked by orjson itself
        except UnicodeDecodeError as exc:
            return {}, bad_bytes(line, self.encoding, exc)
        except orjson.JSONDecodeError as exc:
            try:
                piece.decode(self.encoding)
            except UnicodeDecodeError as bad:
                return {}, bad_bytes(line, self.encoding, bad)
            if str(exc).startswith("depth limit"):
                return {}, f"line holds JSON nested deeper than {MAX_DEPTH} levels"
            return {}, f"line is not valid JSON: {exc}"
        if not isinstance(data, dict):
            return {}, f"line holds a JSON {type(data).__name__}, not an object"
        if piece.count(b"{") + piece.count(b"[") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
            return {}, f"line holds JSON nested deeper than {MAX_DEPTH} levels"
        return data, None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` deep in ``value`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False
