"""The bytes of a failed-records file: its header and each failed record, true to the source.

The file has the input's encoding, delimiter, line ends and BOM (:class:`SourceLayout`). A
CSV row is its raw bytes as read with the error cell appended before its line end; the
header is the input's header line with ``<delimiter>error`` appended. A row is written anew
from its cells instead (``"`` quoting only where a cell needs it, the same delimiter and line
end) when a cell must be made inert (:func:`importer.sources.cells.neutralise`), when the
header already has an ``error`` column (a failed file imported again: the new error goes in
that column), or when the reader kept no raw bytes. Bytes not valid in the encoding are
carried through unchanged either way. A character the encoding cannot hold (an API error
text with ``→`` in a cp1252 file) is written as a ``\\u2192``-style escape, and when that happens
to a data cell the row's error says which column. An NDJSON record is its line with an
``"error"`` key added before the closing brace (or set, if the line has one); a line that is
not a JSON object is written back as it came, and its error is in the results file only.
Records from a Python iterable, with no file behind them, are written as JSON lines.

Writing the file (where, when, and what is left in place) is :mod:`importer.load.failed`.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from importer.load.failed_layout import LINE_ENDS, SourceLayout
from importer.mapping.columns import ERROR_COLUMN
from importer.sources.base import SourceRecord
from importer.sources.cells import neutralise, restore

__all__ = ["CsvRows", "JsonRows"]


def _split_line_end(raw: bytes) -> tuple[bytes, bytes | None]:
    """``raw`` without its line end, and that line end (None for a last line without one)."""
    for end in LINE_ENDS:
        if raw.endswith(end):
            return raw[: -len(end)], end
    return raw, None


def _source_row(record: SourceRecord) -> dict[str, Any]:
    """The row as read: a ``--map`` run's record keeps it in ``data.source``."""
    data = getattr(record.data, "source", record.data)
    return data if isinstance(data, dict) else {}


def _inert(cell: str) -> bool:
    """True when ``cell``, as written in a CSV file, starts no spreadsheet formula."""
    return neutralise(restore(cell)) == cell


def _exact(text: str, encoding: str) -> bytes | None:
    """``text`` encoded (bytes the reader could not decode, kept as surrogates, as they
    were), or None when the encoding cannot hold one of its characters."""
    try:
        return text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        return None


def _escaped(text: str, encoding: str) -> bytes:
    """``text`` encoded, characters the encoding lacks as ``\\u2192``-style escapes."""
    exact = _exact(text, encoding)
    return exact if exact is not None else text.encode(encoding, "backslashreplace")


class CsvRows:
    """The CSV bytes of the header and of each failed row."""

    def __init__(self, layout: SourceLayout) -> None:
        self.layout = layout
        self.columns = list(layout.columns or ())
        self.encoding = layout.encoding
        self.delimiter = layout.delimiter
        self.delimiter_bytes = _escaped(layout.delimiter, self.encoding)
        self.error_at = self.columns.index(ERROR_COLUMN) if ERROR_COLUMN in self.columns else None

    def header(self) -> bytes:
        layout = self.layout
        if layout.header_raw is not None:
            raw = layout.header_raw
            if layout.bom and raw.startswith(layout.bom):
                raw = raw[len(layout.bom):]
            body, end = _split_line_end(raw)
            if self.error_at is None:
                body += self.delimiter_bytes + _escaped(ERROR_COLUMN, self.encoding)
            return body + (end or layout.line_end)
        names = self.columns + ([ERROR_COLUMN] if self.error_at is None else [])
        cells = (_escaped(self._quote(name, len(names)), self.encoding) for name in names)
        return self.delimiter_bytes.join(cells) + layout.line_end

    def row(self, record: SourceRecord, error: str | None) -> bytes:
        error_text = error or ""
        if record.raw is None:
            values = [_text(v) for v in self._data_cells(record)]
            return self._write(values, error_text, self.layout.line_end)
        body, end = _split_line_end(record.raw)
        end = end or self.layout.line_end
        cells = self._raw_cells(body)
        # As it came, the error cell after it: rows that are all inert, and rows that are
        # not CSV this reader can split (nothing better can be made of those).
        if cells is None or (self.error_at is None and all(_inert(c) for c in cells)):
            return body + self.delimiter_bytes + self._cell_bytes(neutralise(error_text), 2) + end
        return self._write([restore(c) for c in cells], error_text, end)

    def _data_cells(self, record: SourceRecord) -> list[Any]:
        data = _source_row(record)
        if self.columns:
            return [data.get(c) for c in self.columns]
        return list(data.values())

    def _raw_cells(self, body: bytes) -> list[str] | None:
        """The cells of a raw row, undecodable bytes kept as surrogates; None if it is no CSV."""
        text = body.decode(self.layout.encoding, "surrogateescape")
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True))
        except csv.Error:
            return None
        return rows[0] if len(rows) == 1 else None

    def _write(self, values: list[str], error: str, end: bytes) -> bytes:
        """A row from its values (as the reader gave them): quoted, made inert, encoded."""
        if self.error_at is not None:
            values = values + [""] * (self.error_at + 1 - len(values))
        width = len(values) + (1 if self.error_at is None else 0)
        out: list[bytes] = []
        escaped: list[str] = []
        for i, value in enumerate(values):
            if i == self.error_at:
                out.append(b"")  # filled in below, once the error text is complete
                continue
            cell = self._quote(neutralise(value), width)
            encoded = _exact(cell, self.encoding)
            if encoded is None:
                escaped.append(self.columns[i] if i < len(self.columns) else f"field {i + 1}")
                encoded = _escaped(cell, self.encoding)
            out.append(encoded)
        if escaped:
            error = (f"{error} " if error else "") + (
                f"({', '.join(escaped)}: characters {self.layout.encoding} cannot hold are written "
                "as \\u escapes; put the real characters back before importing)"
            )
        error_cell = self._cell_bytes(neutralise(error), width)
        if self.error_at is None:
            out.append(error_cell)
        else:
            out[self.error_at] = error_cell
        return self.delimiter_bytes.join(out) + end

    def _cell_bytes(self, cell: str, width: int) -> bytes:
        return _escaped(self._quote(cell, width), self.encoding)

    def _quote(self, cell: str, width: int) -> str:
        """Minimal quoting: only a cell holding the delimiter, a quote or a line break."""
        if (
            '"' in cell or "\n" in cell or "\r" in cell or self.delimiter in cell
            or (width == 1 and not cell)  # a lone empty cell would read as a blank line
        ):
            return '"' + cell.replace('"', '""') + '"'
        return cell


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _json(value, ascii_only=False)


def _json(value: Any, *, ascii_only: bool) -> str:
    # default=str: records from a caller's iterable may hold dates or decimals.
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"), default=str)


class JsonRows:
    """The NDJSON line of each failed record (there is no header)."""

    def __init__(self, layout: SourceLayout) -> None:
        self.layout = layout
        self.encoding = layout.encoding
        self._first = True

    def header(self) -> bytes:
        return b""

    def row(self, record: SourceRecord, error: str | None) -> bytes:
        raw, first = record.raw, self._first
        self._first = False
        if raw is None:
            return self._encode_json({**_source_row(record), ERROR_COLUMN: error}) + self.layout.line_end
        if first and self.layout.bom and raw.startswith(self.layout.bom):
            raw = raw[len(self.layout.bom):]  # already written at the top of the file
        body, end = _split_line_end(raw)
        end = end or self.layout.line_end
        try:
            # The standard library's parser, not orjson: it takes undecodable bytes (as
            # surrogates), so a line with some is still carried with its error.
            parsed = json.loads(body.decode(self.layout.encoding, "surrogateescape"))
        except ValueError:
            return body + end  # not JSON: as it came; the results file has its error
        if not isinstance(parsed, dict):
            return body + end
        if ERROR_COLUMN in parsed:
            parsed[ERROR_COLUMN] = error
            return self._encode_json(parsed) + end
        # Keep the line's own bytes; the key goes in before its closing brace.
        close = body.rstrip().rfind(b"}")
        key = _escaped(("," if parsed else "") + f'"{ERROR_COLUMN}":', self.encoding)
        return body[:close] + key + self._encode_json(error) + body[close:] + end

    def _encode_json(self, value: Any) -> bytes:
        """``value`` as JSON in the input's encoding; characters the encoding lacks as
        ``\\u2192``-style escapes, which read back as the same value."""
        exact = _exact(_json(value, ascii_only=False), self.encoding)
        return exact if exact is not None else _json(value, ascii_only=True).encode(self.layout.encoding)
