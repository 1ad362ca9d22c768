"""How the input was written: the layout a failed-records file copies.

:class:`SourceLayout` gathers, from the run's ``Input`` or reader (or from values given),
the input's format, CSV header, delimiter, encoding, BOM and line end, so that
:mod:`importer.load.failed_rows` can write failed records the way the input held them.
Attributes the source lacks fall back to a UTF-8, ``,``, LF file without a BOM.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any

from importer.errors import ConfigError

__all__ = ["SourceLayout", "LINE_ENDS"]

LINE_ENDS = (b"\r\n", b"\n", b"\r")


@dataclass(frozen=True, slots=True)
class SourceLayout:
    """How the input was written, which the failed file copies."""

    format: str  # "csv", "ndjson" (records from an iterable are written as NDJSON) or "xlsx"
    columns: tuple[str, ...] | None  # the CSV header, names as the reader gives them
    delimiter: str = ","
    encoding: str = "utf-8"  # a codec name
    bom: bytes = b""  # written first when the input began with one
    line_end: bytes = b"\n"  # for lines that have none of their own
    header_raw: bytes | None = None  # the CSV header line's bytes as read

    @classmethod
    def of(cls, source: Any = None, **given: Any) -> SourceLayout:
        """The layout of ``source`` (an ``Input`` or a reader); ``given`` values win.

        Attributes the source lacks fall back to a UTF-8, ``,``, LF file without a BOM.
        """
        holders = [h for h in (getattr(source, "reader", None), source) if h is not None]

        def pick(name: str, kind: type | tuple[type, ...], default: Any) -> Any:
            if given.get(name) is not None:
                return given[name]
            for holder in holders:
                value = getattr(holder, name, None)
                if isinstance(value, kind):
                    return value
            return default

        columns = pick("columns", (list, tuple), None)
        fmt = pick("format", str, None)
        fmt = fmt if fmt in ("csv", "xlsx") else "csv" if fmt is None and columns else "ndjson"
        encoding = pick("encoding", str, "utf-8")
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise ConfigError(f"unknown encoding {encoding!r} for the failed-records file") from None
        bom = pick("bom", bytes, b"")
        if encoding == "utf-8-sig":  # the BOM is written once, never before every cell
            encoding, bom = "utf-8", bom or codecs.BOM_UTF8
        line_end = pick("line_end", bytes, b"\n")
        return cls(
            format=fmt,
            columns=tuple(columns) if fmt in ("csv", "xlsx") and columns else None,
            delimiter=pick("delimiter", str, ",") or ",",
            encoding=encoding,
            bom=bom,
            line_end=line_end if line_end in LINE_ENDS else b"\n",
            header_raw=pick("header_raw", bytes, None) if fmt == "csv" else None,
        )
