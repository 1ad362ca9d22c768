"""Input readers: stream records from CSV or NDJSON, one ``SourceRecord`` at a time.

>>> with open_source("customers.csv") as source:
...     for record in source:
...         print(record.number, record.data)

Records are numbered from 1, the header excluded, and carry their bytes as read
(``raw``). A record the reader cannot parse still comes out, with ``error`` set, so
it ends as an ``invalid`` outcome instead of vanishing: a row cut mid-quote, bytes
not valid in the encoding, a line or field over ``max_field_size``, NDJSON nested too
deep. A stream that cannot be read on (a truncated gzip) raises ``SourceError`` naming
how far it got. A file on disk read without an encoding must be UTF-8 throughout,
which is checked before its first record (:func:`importer.sources.encoding.check_utf8`);
one read with an explicit encoding is checked against it (:mod:`importer.sources.mojibake`).
A CSV row that repeats the header (two exports joined) is an invalid record.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from importer.sources._open import ByteCounter, detect_format, is_regular_file, open_binary
from importer.sources.base import Source, SourceRecord
from importer.sources.csv import CsvSource
from importer.sources.encoding import check_utf8, codec_name
from importer.sources.mojibake import check_encoding
from importer.sources.ndjson import NdjsonSource
from importer.sources.stream import reader_of

__all__ = [
    "Source", "SourceRecord", "SourceOptions", "open_source", "detect_format", "ByteCounter",
    "Input", "open_input", "CsvSource", "NdjsonSource",
]


@dataclass(frozen=True, slots=True)
class SourceOptions:
    format: str | None = None  # "csv" | "ndjson"; None: by extension
    delimiter: str | None = None  # None: sniffed among , ; TAB |
    max_field_size: int = 1 << 20  # bytes of a line, a field or a CSV record; see the README ("Input files")
    encoding: str | None = None  # None: UTF-8, checked whole before a file is read (see open_source)


@contextmanager
def open_source(path: str | os.PathLike[str], options: SourceOptions | None = None) -> Iterator[Source]:
    """Open ``path`` (``-`` for stdin, ``.gz`` decompressed) as a stream of records.

    With no ``options.encoding``, a file on disk that is not UTF-8 raises ConfigError
    here, before any record; stdin and pipes are checked line by line instead. With one,
    a file that shows it is in another encoding (UTF-8 read as cp1252, a byte-order
    mark) raises ConfigError here too (:mod:`importer.sources.mojibake`).
    """
    options = options or SourceOptions()
    fmt = detect_format(path, options.format)
    name = os.fspath(path)
    doubt = True  # a stream's single-byte encoding is doubted line by line
    if name != "-" and is_regular_file(name):
        if options.encoding is None:
            check_utf8(name)
        else:
            doubt = check_encoding(name, codec_name(options.encoding), options.encoding)
    binary, counter = open_binary(path)
    try:
        yield reader_of(binary, counter, fmt=fmt, name=name, encoding=options.encoding,
                        delimiter=options.delimiter, max_field_size=options.max_field_size, doubt=doubt)
    finally:
        if name != "-":  # stdin belongs to the process, not to us
            binary.close()
            raw = getattr(binary, "fileobj", None)
            if raw is not None:
                raw.close()


from importer.sources.inputs import Input, open_input  # noqa: E402 - it builds on open_source
