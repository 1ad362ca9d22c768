"""What every reader yields, and what it says of its input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["SourceRecord", "Source", "ERROR_COLUMN"]

# The failed-records file's reason column: read back in, it is ignored (and is no column of a header).
ERROR_COLUMN = "error"


@dataclass(slots=True)
class SourceRecord:
    number: int  # 1-based, header excluded
    data: dict[str, Any]  # column -> value ("" for an empty CSV cell)
    error: str | None = None  # set when the reader could not parse this record
    # The record's bytes as read: every physical line of it, line ends included, a BOM
    # excepted. None when the reader kept none (a record over max_field_size).
    raw: bytes | None = None


@runtime_checkable
class Source(Protocol):
    """A reader of the importer's own: CSV, NDJSON, SAF-T (``isinstance`` tells one from the caller's records)."""

    # Read-only here, so a reader may say more of each: CsvSource's ``columns`` is always a list.
    @property
    def name(self) -> str: ...

    @property
    def format(self) -> str: ...

    @property
    def columns(self) -> list[str] | None: ...  # CSV header; None for NDJSON

    @property
    def delimiter(self) -> str | None: ...

    @property
    def progress(self) -> Any: ...  # ByteCounter

    @property
    def encoding(self) -> str: ...  # the codec's name ("utf-8" when none was given)

    @property
    def bom(self) -> bytes: ...  # the UTF-8 BOM the input began with, or b""

    # CsvSource also has ``header_raw: bytes``: the header line as read, line end included, BOM not.

    @property
    def line_end(self) -> bytes: ...  # the input's first line end: b"\n", b"\r\n" or b"\r"

    def __iter__(self) -> Iterator[SourceRecord]: ...
