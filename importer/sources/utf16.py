"""UTF-16 text files (Excel's "Unicode text": UTF-16LE, TAB-separated, with a BOM) read as UTF-8.

The readers split lines and fields at single ASCII bytes, which UTF-16 does not have. A file
that begins with a UTF-16 byte-order mark (``FF FE`` or ``FE FF``), or is given with
``--encoding utf-16`` (``-le``, ``-be``; ``utf-16`` without a mark is read as little-endian, as
Windows writes it), is decoded as it is read and handed on as UTF-8
(:class:`Utf16AsUtf8`), with a UTF-8 BOM before it: the readers see a UTF-8 file, and the
failed-records file is written as UTF-8 with a BOM, which Excel opens right. Bytes that are not
UTF-16 (a lone half of a surrogate pair, an odd last byte) stop the read, naming where.
"""

from __future__ import annotations

import codecs

from importer.errors import ConfigError, SourceError
from importer.sources.encoding import open_inflated
from importer.sources.lines import READ_ERRORS, ByteStream

__all__ = ["Utf16AsUtf8", "utf16_codec", "UTF16_CODECS"]

UTF16_CODECS = ("utf-16", "utf-16-le", "utf-16-be")
_CHUNK = 64 * 1024


def utf16_codec(path: str | None, encoding: str | None) -> str | None:
    """The UTF-16 codec the file at ``path`` is read with: its ``encoding`` when that is one, ``utf-16``
    when none was given and the file begins with a UTF-16 BOM; None otherwise (``path`` None: stdin)."""
    given = None
    if encoding is not None:
        try:
            given = codecs.lookup(encoding).name
        except LookupError:
            return None  # the reader names it
        if given not in UTF16_CODECS:
            return None
    if path is None:
        return given
    with open_inflated(path) as binary:
        try:
            head = binary.read(3)
        except READ_ERRORS:
            return given
    if given is not None and head.startswith(codecs.BOM_UTF8):
        raise ConfigError(f"{path}: the file starts with a UTF-8 byte-order mark: it is UTF-8, not {encoding}; "
                          "drop --encoding")
    marked = head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if given == "utf-16" and not marked:
        return "utf-16-le"  # no mark to say which: what Windows writes
    return given or ("utf-16" if marked else None)


class Utf16AsUtf8:
    """The UTF-16 stream ``binary`` read as UTF-8 bytes, a UTF-8 BOM first; see the module doc."""

    def __init__(self, binary: ByteStream, codec: str, name: str) -> None:
        self._binary = binary
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._name = name
        self._out = codecs.BOM_UTF8
        self._read = 0  # bytes of the file decoded so far
        self._first = True
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._out) < size):
            chunk = self._binary.read(_CHUNK)
            try:
                text = self._decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = self._read + exc.start
                raise SourceError(f"{self._name} is not valid UTF-16 at byte {at + 1} ({exc.reason})") from None
            except UnicodeError as exc:  # a stream that should say its byte order and does not
                raise SourceError(f"{self._name} is not valid UTF-16: {exc}") from None
            self._read += len(chunk)
            self._eof = not chunk
            if self._first and text:
                text, self._first = text.removeprefix("\ufeff"), False  # utf-16-le/-be keep the BOM as text
            self._out += text.encode("utf-8", "surrogatepass")
        if size < 0:
            size = len(self._out)
        out, self._out = self._out[:size], self._out[size:]
        return out
