"""NDJSON reader: one JSON object per line, flat (CSV column names) or API-shaped.

Each record keeps its line's bytes (``SourceRecord.raw``). A line over
``max_field_size`` is skipped a piece at a time and its record comes out invalid with
no raw bytes; so does one nested deeper than :data:`MAX_DEPTH`, which nothing after
the reader (the mapper, the JSON serializer of the request) has to take.

Numbers are read exactly, and each key once. orjson reads a line first (fast, and it
refuses what is not JSON). Its floats are the numbers written as long as those have at
most 15 significant digits (a double keeps 15 exactly, and the shortest text of the
double is then the one written). A line that may hold a longer number (a run of 16
digits and points) or an exponent, or that has more ``:`` than its objects have keys (a
key given twice, or a colon inside text, such as a time of day), is read again by
:func:`read_exact`: every number as the decimal written,
and a key given twice in one object refused, naming the key. A number of at most 15
significant digits (what a double, the API's number, keeps exactly) then becomes the
float or int it is; a longer one, and a whole number past 18 digits, stay
``decimal.Decimal`` for the field's coercer to take exactly or refuse
(:mod:`importer.mapping.coerce`). So ``12345678901234.567`` is never sent as
``12345678901234.566``, nor ``100000000000000000001`` as ``1e+20``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson

from importer.errors import SourceError
from importer.sources._open import ByteCounter
from importer.sources.base import SourceRecord
from importer.sources.encoding import bad_bytes
from importer.sources.lines import CHUNK, READ_ERRORS, SKIPPED, RawLines, too_long

__all__ = ["NdjsonSource", "MAX_DEPTH", "read_exact", "exact_number"]

MAX_DEPTH = 64  # objects and arrays within each other; API records need fewer than ten
_EXACT_DIGITS = 15  # significant digits a double keeps exactly
_LONG_INT = 19  # digits from which a whole number stays a Decimal (past int64 and str->int limits)
_FAR = 400  # an exponent further than this is no amount: kept as a Decimal, never expanded
# What may be a number a double does not keep: 16 digits and points in a row, an exponent.
# Text can match too (an account number, a UUID's "4e5"): that line is only read twice.
_LOSSY = re.compile(rb"[0-9][0-9.]{15}|[0-9][eE][-+0-9]")
# A key ends in a quote and a colon: counted so, a time of day in a value ("09:30") is no key.
_KEY_COLON = re.compile(rb'"\s*:')


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
        if _LOSSY.search(piece) is not None or _keys(data) != len(_KEY_COLON.findall(piece)):
            try:
                return read_exact(text), None
            except _DuplicateKey as exc:
                return {}, f"line gives the key {exc.key!r} twice in one object; which one is meant is not known"
            except ValueError as exc:  # nothing orjson takes; kept so no line can stop the run
                return {}, f"line is not valid JSON: {exc}"
        return data, None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def exact_number(text: str) -> float | Decimal:
    """A JSON number with decimals or an exponent: its float when that is the value written
    (at most 15 significant digits), else the exact ``Decimal``."""
    number = Decimal(text)
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or abs(exponent) > _FAR:
        return number
    whole, _, fraction = format(number, "f").lstrip("-").partition(".")
    significant = (whole + fraction.rstrip("0")).lstrip("0")
    return float(number) if len(significant) <= _EXACT_DIGITS else number


def _whole(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) < _LONG_INT else Decimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # orjson refuses NaN first; kept for safety


def read_exact(text: bytes | str) -> dict[str, Any]:
    """A line already known to be a JSON object, read with exact numbers and unique keys.

    Raises ``_DuplicateKey`` for a key given twice in one object.
    """
    data: dict[str, Any] = json.loads(text, object_pairs_hook=_pairs, parse_float=exact_number,
                                      parse_int=_whole, parse_constant=_no_constant)
    return data


def _keys(data: dict[str, Any]) -> int:
    """How many keys the objects of ``data`` have, nested ones included (no recursion)."""
    keys = 0
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if node.__class__ is dict:
            keys += len(node)
            node = node.values()
        for value in node:
            if value.__class__ is dict or value.__class__ is list:
                stack.append(value)
    return keys


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
