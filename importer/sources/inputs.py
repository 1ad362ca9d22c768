"""One way in for every input: a path, a file object, or an iterable of records.

    with open_input("customers.csv", SourceOptions()) as opened:
        for record in opened.records:       # SourceRecord, numbered from 1
            ...

Paths (``-`` for stdin, ``.gz`` decompressed) and file objects are read by the CSV
or NDJSON reader, a file of another kind by the reader that kind registered
(:mod:`importer.sources.kinds`: a SAF-T file, ``.xml``, by :mod:`importer.saft.source`);
an iterable (or async iterable) of dicts is numbered as it comes.
``Input`` says what the importer needs to know of its source besides the records:
its name, CSV header and delimiter, format, and how far reading has got.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio.lowlevel

from importer.sources._open import ByteCounter, detect_format
from importer.sources.base import Source, SourceRecord
from importer.sources.csv import CsvSource
from importer.sources.kinds import kind_named
from importer.sources.ndjson import NdjsonSource
from importer.sources.opening import SourceOptions, open_source
from importer.sources.stream import TextAsBytes, reader_of

__all__ = ["Input", "Reader", "open_input"]

# What an Input reads: one of the importer's readers (CSV, NDJSON, SAF-T), or the caller's
# records as they come (dicts; anything else becomes an invalid record).
Reader = Source | Iterable[object] | AsyncIterable[object]


@dataclass(slots=True)
class Input:
    reader: Reader
    name: str  # the path, the stream's name, or "<records>"
    path: str | None  # the file on disk, when the input is one (not stdin, not a stream)
    format: str  # "csv" | "ndjson" | "records", or a registered kind's ("saft")
    columns: list[str] | None  # the CSV header
    delimiter: str | None
    counter: ByteCounter | None  # bytes read so far, for progress

    def records(self) -> AsyncIterator[SourceRecord]:
        return _records(self.reader)

    def own_reader(self) -> Source:
        """The importer's reader of a file or stream; a TypeError for the caller's records."""
        if not isinstance(self.reader, Source):
            raise TypeError(f"{self.name} is records the caller gave, not an input the importer reads")
        return self.reader


@contextmanager
def open_input(source: Any, options: SourceOptions) -> Iterator[Input]:
    """Open ``source`` as an :class:`Input`; the file is closed when the block ends."""
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        kind = kind_named(detect_format(name, options.format)) if name != "-" else None
        if kind is not None:  # a kind of its own: its reader opens it
            yield kind.open(name, options)
            return
        with open_source(source, options) as opened:
            yield Input(opened, name, None if name == "-" else name, opened.format,
                        opened.columns, opened.delimiter, opened.progress)
        return
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        fmt = options.format or ("ndjson" if name.endswith((".ndjson", ".jsonl")) else "csv")
        text = isinstance(source, io.TextIOBase)  # already decoded: read back as UTF-8
        counter = ByteCounter(None, None)
        reader = reader_of(TextAsBytes(source) if text else source, counter, fmt=fmt, name=name,
                           encoding=None if text else options.encoding, delimiter=options.delimiter,
                           max_field_size=options.max_field_size)
        yield Input(reader, name, None, fmt, reader.columns, reader.delimiter, counter)
        return
    yield Input(source, "<records>", None, "records", None, None, None)


async def _records(source: Reader) -> AsyncIterator[SourceRecord]:
    """SourceRecords from a reader, or numbered from an (async) iterable of dicts."""
    if isinstance(source, AsyncIterable):
        number = 0
        async for data in source:
            number += 1
            yield _as_record(number, data)
        return
    if isinstance(source, CsvSource | NdjsonSource):
        records: Iterable[SourceRecord] = source
    else:
        records = (_as_record(number, data) for number, data in enumerate(source, 1))
    for count, record in enumerate(records, 1):
        yield record
        if count % 64 == 0:  # reading is synchronous: let the workers run now and then
            await anyio.lowlevel.checkpoint()


def _as_record(number: int, data: object) -> SourceRecord:
    if isinstance(data, SourceRecord):
        return data
    if not isinstance(data, dict):
        return SourceRecord(number, {}, f"record is a {type(data).__name__}, not a mapping")
    return SourceRecord(number, data)
