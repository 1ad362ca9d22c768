"""Opening an input: a path (``.gz`` by extension) or ``-`` for stdin, as a binary stream."""

from __future__ import annotations

import gzip
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from importer.errors import ConfigError
from importer.sources.kinds import hints, kind_by_suffix

__all__ = ["open_binary", "detect_format", "ByteCounter", "is_regular_file"]


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


def is_regular_file(name: str) -> bool:
    """Whether ``name`` is a file on disk (which can be read twice), not a pipe or a device.

    ConfigError when it is missing or a directory, as opening it would say.
    """
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise ConfigError(f"input file not found: {name}") from None
    except OSError as exc:
        raise ConfigError(f"cannot open input {name}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"input {name} is a directory, not a file")
    return stat.S_ISREG(mode)


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
    except IsADirectoryError:
        raise ConfigError(f"input {name} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot open input {name}: {exc.strerror}") from None
    info = os.fstat(raw.fileno())
    total = info.st_size if stat.S_ISREG(info.st_mode) else None  # a pipe has no size to go by
    counter = ByteCounter(raw, total)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), counter  # type: ignore[return-value]
    return raw, counter


def detect_format(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """``csv``, ``ndjson`` or a registered kind's (``saft``: see :mod:`importer.sources.kinds`), from
    ``explicit`` or the extension."""
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
    kind = kind_by_suffix(ext)
    if kind is not None:  # its reader checks the file further, naming it when it is not one
        return kind.format
    raise ConfigError(f"cannot tell the format of {name}; pass --format csv or --format ndjson{hints()}")
