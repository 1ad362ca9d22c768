"""Opening a file as a stream of records: :class:`SourceOptions` and :func:`open_source`.

The encoding is settled here, before the first record: a file on disk read without one
must be UTF-8 throughout; one read with an explicit encoding is checked against it.
:mod:`importer.sources.inputs` builds an import's input on this.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from importer.sources._open import detect_format, is_regular_file, open_binary
from importer.sources.base import Source
from importer.sources.encoding import check_utf8, codec_name
from importer.sources.mojibake import check_encoding
from importer.sources.options import SourceOptions
from importer.sources.stream import reader_of
from importer.sources.utf16 import Utf16AsUtf8, utf16_codec

__all__ = ["SourceOptions", "open_source"]


@contextmanager
def open_source(path: str | os.PathLike[str], options: SourceOptions | None = None) -> Iterator[Source]:
    """Open ``path`` (``-`` for stdin, ``.gz`` decompressed) as a stream of records.

    With no ``options.encoding``, a file on disk that is not UTF-8 raises ConfigError
    here, before any record; stdin and pipes are checked line by line instead. With one,
    a file that shows it is in another encoding (UTF-8 read as cp1252, a byte-order
    mark) raises ConfigError here too (:mod:`importer.sources.mojibake`).
    A file that begins with a UTF-16 byte-order mark, or is given as ``utf-16``, is read as
    UTF-16 (:mod:`importer.sources.utf16`).
    """
    options = options or SourceOptions()
    fmt = detect_format(path, options.format)
    name = os.fspath(path)
    doubt = True  # a stream's single-byte encoding is doubted line by line
    regular = name != "-" and is_regular_file(name)
    utf16 = utf16_codec(name if regular else None, options.encoding)
    encoding = None if utf16 else options.encoding  # UTF-16 is read as UTF-8 (importer.sources.utf16)
    if regular and not utf16:
        if options.encoding is None:
            check_utf8(name)
        else:
            doubt = check_encoding(name, codec_name(options.encoding), options.encoding)
    binary, counter = open_binary(path)
    try:
        stream = Utf16AsUtf8(binary, utf16, name) if utf16 else binary
        yield reader_of(stream, counter, fmt=fmt, name=name, encoding=encoding,
                        delimiter=options.delimiter, max_field_size=options.max_field_size, doubt=doubt)
    finally:
        if name != "-":  # stdin belongs to the process, not to us
            binary.close()
            raw = getattr(binary, "fileobj", None)
            if raw is not None:
                raw.close()
