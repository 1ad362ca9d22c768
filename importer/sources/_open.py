"""Opening an input: a path (``.gz`` by extension) or ``-`` for stdin, as a binary stream."""

from __future__ import annotations

import gzip
import io
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


def text_stream(binary: BinaryIO, encoding: str) -> io.TextIOWrapper:
    # utf-8-sig drops a BOM when there is one and reads plain UTF-8 otherwise.
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        return io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}") from None
