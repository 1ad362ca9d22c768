"""What every reader yields."""

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
    raw: bytes | None = None  # the record's bytes as read (line end included), when a reader kept them


class Source(Protocol):
    name: str
    format: str
    columns: list[str] | None  # CSV header; None for NDJSON
    delimiter: str | None
    progress: Any  # ByteCounter

    def __iter__(self) -> Iterator[SourceRecord]: ...
