"""Input readers: stream records from CSV or NDJSON, one ``SourceRecord`` at a time.

>>> with open_source("customers.csv") as source:
...     for record in source:
...         print(record.number, record.data)

Records are numbered from 1, the header excluded. A record the reader cannot
parse still comes out, with ``error`` set, so it ends as an ``invalid`` outcome
instead of vanishing. A stream that cannot be read on (undecodable bytes, a
truncated gzip) raises ``SourceError`` naming how far it got.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from importer.sources._open import ByteCounter, detect_format, open_binary, text_stream
from importer.sources.base import Source, SourceRecord
from importer.sources.csv import CsvSource
from importer.sources.ndjson import NdjsonSource

__all__ = [
    "Source", "SourceRecord", "SourceOptions", "open_source", "detect_format", "ByteCounter",
    "Input", "open_input",
]


@dataclass(frozen=True, slots=True)
class SourceOptions:
    format: str | None = None  # "csv" | "ndjson"; None: by extension
    delimiter: str | None = None  # None: sniffed among , ; TAB |
    max_field_size: int = 1 << 20  # bytes; see the README ("Input files")
    encoding: str | None = None  # None: UTF-8, checked whole before a file is read (see open_source)


@contextmanager
def open_source(path: str | os.PathLike[str], options: SourceOptions | None = None) -> Iterator[Source]:
    """Open ``path`` (``-`` for stdin, ``.gz`` decompressed) as a stream of records."""
    options = options or SourceOptions()
    fmt = detect_format(path, options.format)
    binary, counter = open_binary(path)
    try:
        text = text_stream(binary, options.encoding or "utf-8")
        if fmt == "csv":
            yield CsvSource(text, counter, delimiter=options.delimiter, name=os.fspath(path))
        else:
            yield NdjsonSource(text, counter, name=os.fspath(path))
    finally:
        if os.fspath(path) != "-":  # stdin belongs to the process, not to us
            binary.close()
            raw = getattr(binary, "fileobj", None)
            if raw is not None:
                raw.close()


from importer.sources.inputs import Input, open_input  # noqa: E402 - it builds on open_source
