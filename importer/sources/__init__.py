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

from importer.sources._open import ByteCounter, detect_format, is_regular_file
from importer.sources.base import Source, SourceRecord
from importer.sources.csv import CsvSource
from importer.sources.inputs import Input, open_input
from importer.sources.kinds import InputKind, kind_named
from importer.sources.ndjson import NdjsonSource
from importer.sources.opening import SourceOptions, open_source
from importer.sources.xlsx import XlsxSource  # registers the input kind xlsx (.xlsx, .xlsm)

__all__ = [
    "Source", "SourceRecord", "SourceOptions", "open_source", "detect_format", "ByteCounter",
    "Input", "open_input", "CsvSource", "NdjsonSource", "XlsxSource", "InputKind", "kind_named", "is_regular_file",
]
