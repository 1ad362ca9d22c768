"""Physical lines of a binary input, in bounded pieces, with the file's own line ends.

The line end is the first one the stream shows: LF, CRLF, or CR alone (old Mac
spreadsheet exports). LF and CRLF files are split at LF, so a stray LF-only line in
a CRLF file still ends its line; CR files are split at CR, and a CR LF pair there
counts as one line end.

``read(size)`` never returns more than ``size`` bytes of a line (one more for a CR LF
pair in a CR file), so a reader can refuse a 1 GB line holding only a small piece of
it at a time. A piece ends with one of ``terminators`` when it completes its line; the
last line of a file may have none.
"""

from __future__ import annotations

import codecs
import zlib
from typing import Protocol

__all__ = ["RawLines", "ByteStream", "LF", "CRLF", "CR", "CHUNK", "SKIPPED", "READ_ERRORS", "line_end_size", "too_long"]

LF, CRLF, CR = b"\n", b"\r\n", b"\r"
CHUNK = 64 * 1024  # bytes read ahead in CR files, and the piece size when skipping a line
# What reading a broken stream raises: a truncated or corrupt .gz, an I/O error.
READ_ERRORS = (EOFError, OSError, zlib.error)
# The end of the error of a record too long to keep.
SKIPPED = "it was skipped unread, so the failed-records file cannot hold it"


class ByteStream(Protocol):
    """What lines are read from: anything with ``read``, as a binary file has (``readline``
    and ``read1`` are used where it has them too)."""

    def read(self, size: int = -1, /) -> bytes: ...


class RawLines:
    """See the module doc. ``head``: the stream's first bytes, for a byte-order mark; ``bom``:
    the UTF-8 BOM it began with, dropped from its lines when ``drop_bom``."""

    def __init__(self, binary: ByteStream, *, drop_bom: bool) -> None:
        self._readline = getattr(binary, "readline", None)  # a bare read() will do too, more slowly
        read1 = getattr(binary, "read1", None)  # what is there already: a pipe is read as it comes
        self._read_some = read1 if callable(read1) else binary.read
        self._buf = b""  # bytes read ahead of the lines handed out
        self._pos = 0
        self._eof = False
        self.line_end: bytes | None = None  # None until the first line end is seen
        self.terminators: tuple[bytes, ...] = (LF, CR)
        self.bom = b""
        while len(self._buf) < len(codecs.BOM_UTF8) and not self._eof:
            self._more()
        self.head = self._buf[:len(codecs.BOM_UTF8)]  # where a byte-order mark would be
        if drop_bom and self._buf.startswith(codecs.BOM_UTF8):
            self.bom = codecs.BOM_UTF8
            self._pos = len(codecs.BOM_UTF8)

    def read(self, size: int) -> bytes:
        """The rest of the current line if it fits in ``size`` bytes, else its next ``size`` bytes."""
        if self._pos >= len(self._buf) and (self.line_end == LF or self.line_end == CRLF) and self._readline:
            # LF and CRLF files, once nothing is read ahead: the stream's own readline, in C,
            # from now on (``read`` on the instance shadows this method).
            self.read = self._readline  # type: ignore[method-assign]
            return self._readline(size)
        return self._split(size)

    def _more(self) -> None:
        more = self._read_some(CHUNK)
        if not more:
            self._eof = True
            return
        self._buf = self._buf[self._pos:] + more
        self._pos = 0

    def _split(self, size: int) -> bytes:
        while True:
            buf, pos = self._buf, self._pos
            stop = pos + size
            cut = self._cut(buf, pos, min(stop, len(buf)))
            if cut >= 0:
                break
            if cut == -1:
                if len(buf) >= stop:  # a piece of a longer line
                    cut = stop
                    break
                if self._eof:  # the last line, without a line end (b"" once all is read)
                    cut = len(buf)
                    break
                if (self.line_end == LF or self.line_end == CRLF) and self._readline:  # finish it in C
                    head = buf[pos:]
                    self._buf, self._pos = b"", 0
                    return head + self._readline(size - len(head))
            self._more()
        self._pos = cut
        return buf[pos:cut]

    def _cut(self, buf: bytes, pos: int, end: int) -> int:
        """Just past the first line end in ``buf[pos:end]``; -1: none there; -2: a CR whose
        next byte is not read yet. Sets ``line_end`` from the first one seen."""
        if self.line_end is None:
            cr, lf = buf.find(CR, pos, end), buf.find(LF, pos, end)
            if lf >= 0 and (cr < 0 or lf < cr):
                self._decide(LF)
                return lf + 1
            i = cr
        elif self.line_end == CR:
            i = buf.find(CR, pos, end)
        else:
            i = buf.find(LF, pos, end)
            return i + 1 if i >= 0 else -1
        if i < 0:
            return -1
        if i + 1 < len(buf):
            lf_follows = buf[i + 1] == 0x0A
        elif self._eof:
            lf_follows = False
        else:
            return -2
        if self.line_end is None:
            self._decide(CRLF if lf_follows else CR)
        return i + 2 if lf_follows else i + 1

    def _decide(self, line_end: bytes) -> None:
        self.line_end = line_end
        self.terminators = (CR, CRLF) if line_end == CR else (LF,)


def line_end_size(piece: bytes, terminators: tuple[bytes, ...]) -> int:
    """Bytes of the line end ``piece`` finishes with: 0 for a piece of a longer line, 1 or 2."""
    if not piece.endswith(terminators):
        return 0
    return 2 if piece.endswith(b"\r\n") else 1


def too_long(piece: bytes, limit: int, terminators: tuple[bytes, ...]) -> bool:
    """``piece`` holds more than ``limit`` bytes before its line end, or is part of such a line."""
    end = line_end_size(piece, terminators)
    return not end or len(piece) - end > limit
