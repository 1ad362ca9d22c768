"""Opening an input: a path (``.gz`` by extension) or ``-`` for stdin, as a binary stream."""

from __future__ import annotations

import codecs
import gzip
import os
import sys
from pathlib import Path
from typing import BinaryIO

from importer.errors import ConfigError

__all__ = ["open_binary", "detect_format", "ByteCounter"]


class ByteCounter:
    """How far through the (compressed) file reading has got, for progress and ETA."""

    def __init__(self, raw: BinaryIO | None, total: int | None) -> None:
        self._raw = raw
        self.total = total

    @property
    def done(self) -> int:
        if self._raw is None or self._raw.closed:
            return self.total or 0
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0


def open_binary(path: str | os.PathLike[str]) -> tuple[BinaryIO, ByteCounter]:
    """Open ``path`` for reading bytes, decompressing ``.gz``; ``-`` reads stdin."""
    name = os.fspath(path)
    if name == "-":
        raw = sys.stdin.buffer
        return raw, ByteCounter(None, None)
    try:
        raw = open(name, "rb")  # noqa: SIM115 - owned by the returned stream
    except FileNotFoundError:
        raise ConfigError(f"input file not found: {name}") from None
    except OSError as exc:
        raise ConfigError(f"cannot open input {name}: {exc.strerror}") from None
    total = os.fstat(raw.fileno()).st_size
    counter = ByteCounter(raw, total)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), counter  # type: ignore[return-value]
    return raw, counter


def detect_format(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """``csv`` or ``ndjson``, from ``explicit`` or the file name's extension."""
    if explicit:
        return explicit
    name = os.fspath(path)
    if name == "-":
        raise ConfigError("reading stdin needs --format csv or --format ndjson")
    suffixes = [s.lower() for s in Path(name).suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".csv", ".tsv", ".txt"):
        return "csv"
    if ext in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    raise ConfigError(f"cannot tell the format of {name}; pass --format csv or --format ndjson")


class DecodedLines:
    """Text lines from a binary stream, each decoded on its own.

    A wrong byte then spoils one line, which its record reports as invalid, instead
    of a whole decoded chunk: the records around it still go in. ``errors`` holds
    the message for each line that did not decode, until the reader takes it.
    """

    def __init__(self, binary: BinaryIO, encoding: str) -> None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise ConfigError(f"unknown encoding {encoding!r}") from None
        if "\n".encode(name) != b"\n":
            raise ConfigError(f"encoding {encoding!r} is not supported: lines must end in a single newline byte")
        self.encoding = name
        self._lines = iter(binary)
        self._bom = name == "utf-8"  # a UTF-8 BOM at the start is dropped
        self.line = 0
        self.errors: dict[int, str] = {}

    def __iter__(self) -> DecodedLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.line += 1
        if self._bom:
            self._bom = False
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            self.errors[self.line] = (
                f"line {self.line} has bytes that are not valid {self.encoding} "
                f"(0x{exc.object[exc.start]:02x} at byte {exc.start + 1}); pass --encoding cp1252 "
                "or --encoding latin-1 if the file came from a Windows program"
            )
            return raw.decode(self.encoding, "replace")

    def readline(self) -> str:
        return next(self, "")

    def take_error(self) -> str | None:
        """The decoding error of the lines read since the last call, if any."""
        if not self.errors:
            return None
        message = next(iter(self.errors.values()))
        self.errors.clear()
        return message


def text_stream(binary: BinaryIO, encoding: str) -> DecodedLines:
    return DecodedLines(binary, encoding)
