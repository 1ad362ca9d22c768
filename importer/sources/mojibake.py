"""An explicit encoding, proved against the bytes before it is trusted.

``--encoding cp1252`` (or a plan's ``encoding``) on a file that is really UTF-8 reads
``Tromsø`` as ``TromsÃ¸``: every byte is a character in a single-byte code page, so
nothing fails, and without a check thousands of records would go in with mojibake.
Text in a single-byte code page is almost never valid UTF-8 once it holds letters
outside ASCII (UTF-8 needs a lead byte followed by exactly the right number of
continuation bytes), so valid UTF-8 with non-ASCII text is taken as what it is.

Two checks, both cheap:

* :func:`check_encoding`, for a file on disk: its first :data:`PREFIX` bytes (``.gz``
  decompressed). A byte-order mark names the file's encoding outright (a UTF-8 one
  read as cp1252 would be the column ``ï»¿number``); a prefix that is valid UTF-8 and
  not all ASCII stops the run with the first line that differs, in both readings. A
  prefix that is not valid UTF-8 proves the code page, and nothing later is doubted.
* :class:`Utf8Guard`, for what the reader sees after that (a stream, or a file whose
  prefix was all ASCII): the first line that is not ASCII decides. Valid UTF-8 there
  makes that record invalid, saying why; a line that is not UTF-8 proves the code page.

Multi-byte encodings (Shift JIS and the like) are not doubted this way; neither is
UTF-8 itself, which the readers check line by line.
"""

from __future__ import annotations

import codecs
from functools import cache

from importer.errors import ConfigError
from importer.sources.encoding import newline_of, open_inflated, shorten
from importer.sources.lines import READ_ERRORS

__all__ = ["PREFIX", "check_encoding", "bom_problem", "single_byte", "Utf8Guard", "header_problem", "UTF8_CODECS"]

PREFIX = 1 << 20  # bytes of a file read with an explicit encoding that are checked before its first record
UTF8_CODECS = frozenset({"utf-8", "utf-8-sig"})
_FIX = "drop --encoding (or pass --encoding utf-8) and run again"


@cache
def single_byte(codec: str) -> bool:
    """Whether every byte is one character (or one error) in ``codec``: cp1252, latin-1, iso-8859-x..."""
    decoder = codecs.getincrementaldecoder(codec)("replace")
    return all(decoder.decode(bytes([byte])) for byte in range(256))


def bom_problem(head: bytes, codec: str, given: str) -> str | None:
    """Why a stream beginning with ``head`` cannot be read in ``codec`` (``given``: as the user
    spelled it), when it begins with a byte-order mark of another encoding; else None."""
    if head.startswith(codecs.BOM_UTF8) and codec not in UTF8_CODECS:
        return f"the file starts with a UTF-8 byte-order mark: it is UTF-8, not {given}; {_FIX}"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if codec in UTF8_CODECS:  # a file on disk is read as UTF-16; a stream cannot be looked at first
            return ("the stream starts with a UTF-16 byte-order mark: UTF-16 text is read from a file "
                    "(give its path, or pass --encoding utf-16)")
        return (f"the file starts with a UTF-16 byte-order mark: it is UTF-16 text, not {given}; "
                "drop --encoding (or pass --encoding utf-16)")
    return None


def check_encoding(path: str, codec: str, given: str) -> bool:
    """ConfigError when the start of the file at ``path`` shows it is not in ``codec``.

    True when the reader should go on checking (:class:`Utf8Guard`): the prefix was all
    ASCII, so it proved nothing. See the module doc.
    """
    if codec in UTF8_CODECS:
        return False
    with open_inflated(path) as binary:
        head = b""
        try:
            while len(head) < PREFIX and (chunk := binary.read(PREFIX - len(head))):
                head += chunk
        except READ_ERRORS:
            pass  # a broken .gz: what came before it is checked, the reader reports the rest
    problem = bom_problem(head, codec, given)
    if problem:
        raise ConfigError(f"{path}: {problem}. Nothing was sent")
    if not single_byte(codec) or head.isascii():
        return single_byte(codec)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < PREFIX)
    except UnicodeDecodeError:
        return False  # not UTF-8: the code page is what it was said to be
    line, text = _first_non_ascii_line(head)
    raise ConfigError(f"{path} is UTF-8 text, not {given}: line {line} {differs(text, codec, given)}; "
                      f"{_FIX}. Nothing was sent")


def differs(text: bytes, codec: str, given: str) -> str:
    """A line (its bytes ``text``, valid UTF-8) in both readings, around its first letter outside ASCII."""
    at = next(i for i, byte in enumerate(text) if byte >= 0x80)  # the same character index in both
    as_given = shorten(text.decode(codec, "replace"), at)
    as_utf8 = shorten(text.decode("utf-8", "replace"), at)
    return f"says {as_given!r} read as {given}, {as_utf8!r} read as UTF-8"


def _first_non_ascii_line(head: bytes) -> tuple[int, bytes]:
    """The number and the bytes (line end aside) of the first line of ``head`` that is not ASCII."""
    newline = newline_of(head, at_eof=True) or b"\n"
    at = next(i for i, byte in enumerate(head) if byte >= 0x80)
    start = head.rfind(newline, 0, at) + 1
    end = head.find(newline, at)
    text = head[start:len(head) if end < 0 else end].rstrip(b"\r\n")
    return head.count(newline, 0, start) + 1, text


class Utf8Guard:
    """Doubts a single-byte encoding line by line, until a line proves it; see the module doc."""

    def __init__(self, codec: str, given: str) -> None:
        self.codec, self.given = codec, given
        self.active = True

    def check(self, piece: bytes, line: int) -> str | None:
        """Why line ``line`` (``piece``, one not all ASCII) is not in the encoding; None if it may be."""
        try:  # not final: a piece of a longer line may end inside a character
            codecs.getincrementaldecoder("utf-8")().decode(piece)
        except UnicodeDecodeError:
            self.active = False  # a byte UTF-8 cannot read: the code page is proved
            return None
        text = piece.rstrip(b"\r\n")
        return f"line {line} is UTF-8 text, not {self.given}: it {differs(text, self.codec, self.given)}; {_FIX}"


def header_problem(name: str, raw: bytes, guard: Utf8Guard | None) -> None:
    """ConfigError when a CSV header line that is not ASCII is UTF-8 read in a code page."""
    if guard is None or not guard.active or raw.isascii():
        return
    problem = guard.check(raw, 1)
    if problem:
        raise ConfigError(f"{name}: the header row is not {guard.given}: {problem}. Nothing was sent")
