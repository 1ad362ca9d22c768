"""The failed-records file: every record whose outcome is failed (not unknown), invalid or skipped, plus why.

Beside the results, ``<input>.failed.csv`` (or ``.failed.ndjson`` for NDJSON input) holds
those records as the input held them, with an ``error`` column, so a user can fix them in a
spreadsheet and import just that file: the importer ignores the ``error`` column on the way
back in.

True to the source: the file has the input's encoding, delimiter, line ends and BOM. A CSV
row is its raw bytes as read with the error cell appended before its line end; the header
is the input's header line with ``<delimiter>error`` appended. A row is written anew from
its cells instead (``"`` quoting only where a cell needs it, the same delimiter and line
end) when a cell must be made inert (:func:`importer.sources.cells.neutralise`), when the
header already has an ``error`` column (a failed file imported again: the new error goes in
that column), or when the reader kept no raw bytes. Bytes not valid in the encoding are
carried through unchanged either way. A character the encoding cannot hold (an API error
text with ``→`` in a cp1252 file) is written as a ``\\u2192``-style escape, and when that happens
to a data cell the row's error says which column. An NDJSON record is its line with an
``"error"`` key added before the closing brace (or set, if the line has one); a line that is
not a JSON object is written back as it came, and its error is in the results file only.
Records from a Python iterable, with no file behind them, are written as JSON lines.

Not here: a record whose outcome is *unknown* (``failed`` with ``unknown: true``: the write
may have reached the API). Imported again from this file it would be created a second time
if it had; instead a ``--resume`` of the original input looks it up and sends it only when
the API plainly does not hold it, and the run's summary says so.

Derived, not appended: each run writes the file afresh as ``<path>.partial``, which
:meth:`FailedRecords.close` forces to disk and renames over ``<path>``. A ``--resume`` run
reports the records it passes over because they failed before, so the file always holds
each record whose latest outcome is a failure exactly once. It is created at the first
record; a run that adds none removes a failed file left at that path by an earlier run.

A file the user has changed is never replaced nor removed. Beside each file it writes,
the importer keeps its size and SHA-256 (``.<name>.written``); a file at the path that
does not match them (edited in place to fix its rows, or not written by the importer)
is left as it is, and this run writes ``<stem>.failed-2.csv`` (the next free name)
instead: :attr:`FailedRecords.kept` names the file left, :attr:`FailedRecords.path` the
one to use.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from importer.errors import ConfigError
from importer.load.failed_names import as_written, free_path, written_note
from importer.mapping.columns import ERROR_COLUMN
from importer.sources.base import SourceRecord
from importer.sources.cells import neutralise, restore

__all__ = ["FailedRecords", "SourceLayout", "ERROR_COLUMN", "default_failed_path"]

_LINE_ENDS = (b"\r\n", b"\n", b"\r")


def default_failed_path(input_path: str, fmt: str) -> str:
    stem = input_path[:-3] if input_path.endswith(".gz") else input_path
    for ext in (".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".json"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    return f"{stem}.failed.{'csv' if fmt == 'csv' else 'ndjson'}"


@dataclass(frozen=True, slots=True)
class SourceLayout:
    """How the input was written, which the failed file copies."""

    format: str  # "csv" or "ndjson" (records from an iterable are written as NDJSON)
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
        fmt = "csv" if fmt == "csv" or (fmt is None and columns) else "ndjson"
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
            columns=tuple(columns) if fmt == "csv" and columns else None,
            delimiter=pick("delimiter", str, ",") or ",",
            encoding=encoding,
            bom=bom,
            line_end=line_end if line_end in _LINE_ENDS else b"\n",
            header_raw=pick("header_raw", bytes, None) if fmt == "csv" else None,
        )


class FailedRecords:
    """Writes the failed-records file for one run; see the module doc.

    ``source``: the run's ``Input`` or reader, whose layout the file copies. The keywords
    override what ``source`` says (or stand in for it): ``columns``, ``delimiter``,
    ``encoding``, ``bom``, ``line_end``, ``header_raw``, ``format``. ``append`` is accepted
    for older callers and ignored: the file is always written afresh.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        source: Any = None,
        columns: Sequence[str] | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        bom: bytes | None = None,
        line_end: bytes | None = None,
        header_raw: bytes | None = None,
        format: str | None = None,
        append: bool = False,
    ) -> None:
        del append  # each run derives the whole file
        self.path, self.kept = free_path(Path(path))  # kept: a file there the user changed, left as it is
        self._hash = hashlib.sha256()
        self._written = 0
        self.layout = SourceLayout.of(
            source, columns=columns, delimiter=delimiter, encoding=encoding, bom=bom,
            line_end=line_end, header_raw=header_raw, format=format,
        )
        self.count = 0  # source rows written
        rows = _CsvRows if self.layout.format == "csv" else _JsonRows
        self._rows: _CsvRows | _JsonRows = rows(self.layout)
        self._file: IO[bytes] | None = None
        self._writing_to: Path | None = None
        self._closed = False

    @property
    def partial_path(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def add(self, records: list[SourceRecord], error: str | None) -> None:
        """Write the source rows of one failed unit (a document has several)."""
        f = self._open()
        try:
            for record in records or [SourceRecord(0, {})]:
                self._put(f, self._rows.row(record, error))
                self.count += 1
            f.flush()
        except OSError as exc:
            raise ConfigError(f"cannot write failed-records file {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        """Put the file in place, or remove a stale one when this run added nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._file is None:
                self._remove_stale()
                return
            f, self._file = self._file, None
            try:
                f.flush()
                if self._writing_to != self.path:
                    os.fsync(f.fileno())  # the data is on disk before the name points at it
            finally:
                f.close()
            if self._writing_to != self.path:
                os.replace(self.partial_path, self.path)
                self._note_written()
                _fsync_directory(self.path.parent)
        except OSError as exc:
            raise ConfigError(f"cannot write failed-records file {self.path}: {exc.strerror}") from None

    def discard(self) -> None:
        """Leave the file of an earlier run as it was: this run did not see every record."""
        if self._closed:
            return
        self._closed = True
        if self._file is not None:
            f, self._file = self._file, None
            f.close()
            if self._writing_to != self.path:
                self.partial_path.unlink(missing_ok=True)

    def _open(self) -> IO[bytes]:
        if self._file is None:
            if self._closed:
                raise ConfigError(f"failed-records file {self.path} is already closed")
            # A device or pipe (``/dev/stdout``) is written straight, never replaced.
            target = self.path if _is_special(self.path) else self.partial_path
            try:
                self._file = open(target, "wb")  # noqa: SIM115 - closed in close()
                self._put(self._file, self.layout.bom + self._rows.header())
            except OSError as exc:
                raise ConfigError(f"cannot write failed-records file {self.path}: {exc.strerror}") from None
            self._writing_to = target
        return self._file

    def _remove_stale(self) -> None:
        if self.kept is not None:
            return  # the file left for the user is theirs; none was written in its place
        for stale in (self.partial_path, self.path):
            if _is_special(stale) or (stale == self.path and not as_written(stale)):
                continue
            try:
                stale.unlink()
            except FileNotFoundError:
                pass
        written_note(self.path).unlink(missing_ok=True)

    def _put(self, f: IO[bytes], data: bytes) -> None:
        f.write(data)
        self._hash.update(data)
        self._written += len(data)

    def _note_written(self) -> None:
        """What was written, to tell later whether the file was changed since."""
        note = {"size": self._written, "sha256": self._hash.hexdigest()}
        try:
            written_note(self.path).write_bytes(json.dumps(note).encode("ascii"))
        except OSError:
            pass  # without it the file counts as changed: the next run writes beside it



def _is_special(path: Path) -> bool:
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:  # missing, or a dangling link: a regular file will be made
        return False


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself happened
    finally:
        os.close(fd)


def _split_line_end(raw: bytes) -> tuple[bytes, bytes | None]:
    """``raw`` without its line end, and that line end (None for a last line without one)."""
    for end in _LINE_ENDS:
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


class _CsvRows:
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


class _JsonRows:
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
