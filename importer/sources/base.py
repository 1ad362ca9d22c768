"""What every reader yields, and what it says of its input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["SourceRecord", "Source"]


@dataclass(slots=True)
class SourceRecord:
    number: int  # 1-based, header excluded
    data: dict[str, Any]  # column -> value ("" for an empty CSV cell)
    error: str | None = None  # set when the reader could not parse this record
    # The record's bytes as read: every physical line of it, line ends included, a BOM
    # excepted. None when the reader kept none (a record over max_field_size).
    raw: bytes | None = None


class Source(Protocol):
    name: str
    format: str
    columns: list[str] | None  # CSV header; None for NDJSON
    delimiter: str | None
    progress: Any  # ByteCounter
    encoding: str  # the codec's name ("utf-8" when none was given)
    bom: bytes  # the UTF-8 BOM the input began with, or b""
    # CsvSource also has ``header_raw: bytes``: the header line as read, line end included, BOM not.

    @property
    def line_end(self) -> bytes: ...  # the input's first line end: b"\n", b"\r\n" or b"\r"

    def __iter__(self) -> Iterator[SourceRecord]: ...
