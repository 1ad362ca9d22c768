"""A reader over a binary stream: the one place the CSV and NDJSON readers are built."""

from __future__ import annotations

import io
from typing import Any

from importer.errors import ConfigError, SourceError
from importer.sources._open import ByteCounter
from importer.sources.csv import CsvSource
from importer.sources.encoding import codec_name
from importer.sources.lines import READ_ERRORS, ByteStream, RawLines
from importer.sources.mojibake import Utf8Guard, bom_problem, single_byte
from importer.sources.ndjson import NdjsonSource

__all__ = ["reader_of", "TextAsBytes"]


def reader_of(
    binary: ByteStream, progress: ByteCounter, *, fmt: str, name: str,
    encoding: str | None, delimiter: str | None, max_field_size: int, doubt: bool = True,
) -> CsvSource | NdjsonSource:
    """The ``fmt`` reader of ``binary``, decoding ``encoding`` (None: UTF-8).

    A byte-order mark of another encoding is refused here. ``doubt``: a CSV reader checks
    that lines of a single-byte ``encoding`` are not UTF-8 (:mod:`importer.sources.mojibake`);
    False when the start of the file proved the encoding already.
    """
    codec = codec_name(encoding) if encoding else "utf-8"
    if max_field_size < 1:
        raise ConfigError(f"--max-field-size must be at least 1 byte, got {max_field_size}")
    try:
        lines = RawLines(binary, drop_bom=codec == "utf-8")
    except READ_ERRORS as exc:
        raise SourceError(f"cannot read {name}: {exc}") from None
    problem = bom_problem(lines.head, codec, encoding or "utf-8")
    if problem:
        raise ConfigError(f"{name}: {problem}. Nothing was sent")
    if fmt == "csv":
        guard = Utf8Guard(codec, encoding or codec) if doubt and single_byte(codec) else None
        return CsvSource(lines, progress, delimiter=delimiter, name=name, encoding=codec,
                         max_field_size=max_field_size, guard=guard)
    if fmt == "ndjson":
        return NdjsonSource(lines, progress, name=name, encoding=codec, max_field_size=max_field_size)
    raise ConfigError(f"unknown format {fmt!r}; expected csv or ndjson")


class TextAsBytes:
    """A text stream read as UTF-8 bytes, so text the caller already decoded takes the same path.

    Characters a str can hold but UTF-8 cannot (lone surrogates) keep their bytes via
    ``surrogateescape``, or are escaped, so reading never fails on them.
    """

    def __init__(self, text: io.TextIOBase | Any) -> None:
        self._text = text

    def readline(self, size: int = -1) -> bytes:
        return self._encode(self._text.readline(size))

    def read(self, size: int = -1) -> bytes:
        return self._encode(self._text.read(size))

    @staticmethod
    def _encode(text: str) -> bytes:
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace")
