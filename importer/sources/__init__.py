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

from typing import TYPE_CHECKING

from importer.lazy import lazy_exports

if TYPE_CHECKING:
    from importer.sources._open import ByteCounter, detect_format, is_regular_file
    from importer.sources.base import Source, SourceRecord
    from importer.sources.csv import CsvSource
    from importer.sources.inputs import Input, open_input
    from importer.sources.kinds import InputKind, kind_named
    from importer.sources.ndjson import NdjsonSource
    from importer.sources.opening import open_source
    from importer.sources.options import SourceOptions
    from importer.sources.xlsx import XlsxSource

__all__ = [
    "Source", "SourceRecord", "SourceOptions", "open_source", "detect_format", "ByteCounter",
    "Input", "open_input", "CsvSource", "NdjsonSource", "XlsxSource", "InputKind", "kind_named", "is_regular_file",
]

# Imported when first used: the options (and ``importer --help``) read SourceOptions' defaults
# without the readers, the encodings and the event loop's helpers.
_exported, __dir__ = lazy_exports(globals(), {
    "ByteCounter": "importer.sources._open", "detect_format": "importer.sources._open",
    "is_regular_file": "importer.sources._open", "Source": "importer.sources.base",
    "SourceRecord": "importer.sources.base", "CsvSource": "importer.sources.csv", "Input": "importer.sources.inputs",
    "open_input": "importer.sources.inputs", "InputKind": "importer.sources.kinds",
    "kind_named": "importer.sources.kinds", "NdjsonSource": "importer.sources.ndjson",
    "open_source": "importer.sources.opening", "SourceOptions": "importer.sources.options",
    "XlsxSource": "importer.sources.xlsx",
})

# The names a reading goes through: the first use of one registers this package's own input
# kind besides CSV and NDJSON (a workbook: importer.sources.xlsx), as importer.saft.source
# registers SAF-T's.
_READING = frozenset({"open_input", "Input", "detect_format", "kind_named", "InputKind", "open_source", "XlsxSource"})


def __getattr__(name: str) -> object:
    value = _exported(name)
    if name in _READING:
        import importer.sources.xlsx  # noqa: F401  (registers the input kind xlsx: .xlsx, .xlsm)
    return value
