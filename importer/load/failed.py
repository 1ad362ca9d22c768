"""The failed-records file: every record whose outcome is failed (not unknown), invalid or skipped, plus why.

Beside the results, ``<input>.failed.csv`` (or ``.failed.ndjson`` for NDJSON input, ``.failed.xlsx``
for a workbook: :mod:`importer.load.failed_xlsx`) holds
those records as the input held them, with an ``error`` column, so a user can fix them in a
spreadsheet and import just that file: the importer ignores the ``error`` column on the way
back in.

True to the source: the file has the input's encoding, delimiter, line ends and BOM
(:class:`SourceLayout`, :mod:`importer.load.failed_layout`); how each record is written
is :mod:`importer.load.failed_rows`. This module writes the file.

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

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from importer.errors import ConfigError
from importer.load.failed_layout import SourceLayout
from importer.load.failed_names import as_written, free_path, written_note
from importer.load.failed_rows import CsvRows, JsonRows
from importer.load.failed_xlsx import XlsxFailed
from importer.mapping.columns import ERROR_COLUMN
from importer.sources.base import SourceRecord

__all__ = ["FailedRecords", "SourceLayout", "ERROR_COLUMN", "default_failed_path"]


def default_failed_path(input_path: str, fmt: str) -> str:
    stem = input_path[:-3] if input_path.endswith(".gz") else input_path
    for ext in (".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".json", ".xlsx", ".xlsm"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return f"{stem}.failed.{fmt if fmt in ('csv', 'xlsx') else 'ndjson'}"


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
        if self.layout.format == "xlsx" and not self.path.name.lower().endswith((".xlsx", ".xlsm")):
            self.layout = replace(self.layout, format="csv")  # --failed x.csv for a workbook: a CSV file
        self.count = 0  # source rows written
        rows = CsvRows if self.layout.format == "csv" else JsonRows
        self._rows: CsvRows | JsonRows = rows(self.layout)
        self._file: IO[bytes] | None = None
        self._workbook: XlsxFailed | None = None  # a workbook input's failed file (layout format "xlsx")
        self._sheet = getattr(getattr(source, "reader", source), "sheet", None)
        self._writing_to: Path | None = None
        self._closed = False

    @property
    def partial_path(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def add(self, records: list[SourceRecord], error: str | None) -> None:
        """Write the source rows of one failed unit (a document has several)."""
        if self.layout.format == "xlsx":
            book = self._open_workbook()
            for record in records or [SourceRecord(0, {})]:
                book.add(record, error)
                self.count += 1
            return
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
            if self._workbook is not None:
                self._close_workbook()
                return
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
        if self._workbook is not None:
            book, self._workbook = self._workbook, None
            try:
                book.close()
            except OSError:
                pass
            if self._writing_to != self.path:
                self.partial_path.unlink(missing_ok=True)
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

    def _open_workbook(self) -> XlsxFailed:
        if self._workbook is None:
            if self._closed:
                raise ConfigError(f"failed-records file {self.path} is already closed")
            target = self.path if _is_special(self.path) else self.partial_path
            self._workbook = XlsxFailed(str(target), self.layout, self._sheet)
            self._writing_to = target
        return self._workbook

    def _close_workbook(self) -> None:
        """Put the workbook together beside its name, then in place, with the note of what was written."""
        book, self._workbook = self._workbook, None
        assert book is not None
        book.close()
        target = self._writing_to
        assert target is not None
        if target == self.path:
            return
        with open(target, "rb+") as f:
            while chunk := f.read(1 << 20):
                self._hash.update(chunk)
                self._written += len(chunk)
            os.fsync(f.fileno())
        os.replace(target, self.path)
        self._note_written()
        _fsync_directory(self.path.parent)

    def _remove_stale(self) -> None:
        # With a file kept for the user, self.path is the importer's own (-2, ...): a stale one goes.
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
