"""Which encoding an input is read in, and the check that a file given without one is UTF-8.

Without ``--encoding`` a file on disk must be UTF-8 (a BOM or not): :func:`check_utf8`
reads it through once, in bounded chunks (``.gz`` decompressed), before any record is
read, so a cp1252 export from a Windows program stops the run before anything is sent
instead of going in with U+FFFD where its letters were. The error names the line, the
byte, and an encoding that does read the whole file, with what the line says in it.
Streams (stdin, pipes, file objects) cannot be read twice: their lines are checked one
at a time, and a bad one makes its record invalid (:func:`bad_bytes`). A file given
*with* an encoding is checked against it by :mod:`importer.sources.mojibake`.
"""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from typing import BinaryIO

from importer.errors import ConfigError
from importer.sources.lines import READ_ERRORS

__all__ = ["codec_name", "bad_bytes", "check_utf8", "CANDIDATES", "open_inflated", "newline_of", "shorten"]

SCAN_CHUNK = 256 * 1024  # bytes read at a time: few calls, and little memory
CANDIDATES = ("cp1252", "latin-1")  # the usual Nordic Windows export first; single-byte encodings only
# What a text file never holds, so an encoding that yields them read it wrong: NUL, C1 controls.
_NOT_TEXT = re.compile("[\x00\x80-\x9f]")
_CONTEXT = 30  # characters of the bad line shown either side of the bad byte
_WINDOW = 4096  # bytes kept from the chunk before, to find where the bad line starts
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SYNTAX = "\n\r\t\",;|'{}[]:"  # bytes the readers look for: one ASCII byte each


def codec_name(encoding: str) -> str:
    """The codec's canonical name; ConfigError unless the readers can split its bytes."""
    try:
        name = codecs.lookup(encoding).name
        ascii_syntax = _SYNTAX.encode(name) == _SYNTAX.encode("ascii")
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}") from None
    except (UnicodeError, TypeError):
        ascii_syntax = False
    if not ascii_syntax:
        raise ConfigError(f"encoding {encoding!r} is not supported: line ends, quotes and delimiters "
                          "must be single ASCII bytes (UTF-8, cp1252, latin-1 and the like)")
    return name


def bad_bytes(line: int, encoding: str, exc: UnicodeDecodeError) -> str:
    """Why line ``line`` could not be decoded, for its record's error."""
    hint = ("pass --encoding cp1252 or --encoding latin-1 if the file came from a Windows program"
            if encoding == "utf-8" else "pass the --encoding the file was saved in")
    return (f"line {line} has bytes that are not valid {encoding} "
            f"(0x{exc.object[exc.start]:02x} at byte {exc.start + 1}); {hint}")


def check_utf8(path: str) -> None:
    """ConfigError when the file at ``path`` is not UTF-8 text; see the module doc."""
    with open_inflated(path) as binary:
        try:
            utf16 = binary.read(2) in _UTF16_BOMS
            binary.seek(0)
        except READ_ERRORS:
            return  # a broken .gz: the reader reports it
        if utf16:
            return  # UTF-16 text: read as such (importer.sources.utf16)
        found = _first_bad_byte(binary)
    if found is None:
        return
    where = f"line {found.line}, byte {found.column} of the line"
    message = f"{path} is not UTF-8: at {where} is the byte 0x{found.byte:02x}, which UTF-8 cannot read"
    fits = _reading_encoding(path)
    if fits is None:
        raise ConfigError(f"{message}, and neither {' nor '.join(CANDIDATES)} reads the whole file as text; "
                          "pass the --encoding it was saved in")
    text = shorten(found.text.decode(fits, "replace"), found.at)  # one byte, one character
    raise ConfigError(f"{message}. The whole file reads as {fits}, where line {found.line} says {text!r}; "
                      f"if that is right, run again with --encoding {fits}. Nothing was sent")


@dataclass(frozen=True, slots=True)
class _BadByte:
    line: int
    column: int  # 1-based byte of the line
    byte: int
    text: bytes  # the line, or as much of it as was at hand (it may begin before)
    at: int  # where the byte is in ``text``


def open_inflated(path: str) -> BinaryIO:
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb", buffering=0)  # noqa: SIM115 - the caller's with closes it
    except OSError as exc:
        raise ConfigError(f"cannot open input {path}: {exc.strerror}") from None


def _first_bad_byte(binary: BinaryIO) -> _BadByte | None:
    """The first byte of ``binary`` that is not UTF-8; None when all of it is.

    Lines are counted at LF, or at CR in a file whose first line end is a CR alone.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes before ``chunk``
    ends = {b"\r": [0, 0], b"\n": [0, 0]}  # per line end byte: how many before ``chunk``, and
    # the offset just past the last one (where the line in progress began)
    tail = b""  # the end of the chunk before
    newline: bytes | None = None
    try:
        while True:
            chunk = binary.read(SCAN_CHUNK)
            if newline is None:
                newline = newline_of(tail[-1:] + chunk, at_eof=not chunk)
            try:
                if not chunk:
                    decoder.decode(b"", final=True)  # a sequence cut off by the end of the file
                    return None
                if not chunk.isascii() or decoder.getstate()[0]:
                    decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = len(tail) + exc.start - (len(exc.object) - len(chunk))  # it may begin in the tail
                newline = newline or b"\n"
                count, line_start = ends[newline]
                return _locate(tail + chunk, at, offset - len(tail), newline,
                               lines_before=count - tail.count(newline), line_start=line_start)
            for byte, seen in ends.items():
                last = chunk.rfind(byte)
                if last >= 0:
                    seen[0] += chunk.count(byte)
                    seen[1] = offset + last + 1
            offset += len(chunk)
            tail = chunk[-_WINDOW:]
    except READ_ERRORS:
        return None  # a broken .gz: the reader reports where it stops, with what came before


def newline_of(sample: bytes, *, at_eof: bool) -> bytes | None:
    """The byte lines are counted at: CR for a file whose first line end is a CR alone."""
    cr, lf = sample.find(b"\r"), sample.find(b"\n")
    if lf >= 0 and (cr < 0 or lf < cr):
        return b"\n"
    if cr < 0 or (cr + 1 == len(sample) and not at_eof):
        return None
    return b"\n" if sample[cr + 1:cr + 2] == b"\n" else b"\r"


def _locate(data: bytes, at: int, data_start: int, newline: bytes, *, lines_before: int,
            line_start: int) -> _BadByte:
    """The bad byte ``data[at]``, ``data`` being the file from offset ``data_start`` on:
    its line (``line_start``: where the line began if before ``data``), and its place there."""
    start = data.rfind(newline, 0, at) + 1
    column = at - start + 1 if start > 0 else data_start + at - line_start + 1
    end = data.find(newline, at)
    text = data[start:len(data) if end < 0 else end].rstrip(b"\r\n")
    return _BadByte(lines_before + data.count(newline, 0, at) + 1, column, data[at], text, at - start)


def shorten(line: str, at: int) -> str:
    """``line`` cut to a few words either side of character ``at``."""
    start, stop = max(0, at - _CONTEXT), at + _CONTEXT
    return ("…" if start else "") + line[start:stop] + ("…" if stop < len(line) else "")


def _reading_encoding(path: str) -> str | None:
    """The first of :data:`CANDIDATES` that decodes the whole file to text."""
    readable = {name: _text_bytes(name) for name in CANDIDATES}
    with open_inflated(path) as binary:
        try:
            while readable and (chunk := binary.read(SCAN_CHUNK)):
                for name, text_bytes in list(readable.items()):
                    if chunk.translate(None, text_bytes):  # something is left: a byte that is no text
                        del readable[name]
        except READ_ERRORS:
            pass  # the part before a broken end is what gets read
    return next((name for name in CANDIDATES if name in readable), None)


def _text_bytes(name: str) -> bytes:
    """Every byte that the single-byte encoding ``name`` reads as a text character."""
    readable = bytearray()
    for byte in range(256):
        try:
            char = bytes([byte]).decode(name)
        except UnicodeDecodeError:
            continue
        if not _NOT_TEXT.search(char):
            readable.append(byte)
    return bytes(readable)
