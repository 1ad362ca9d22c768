"""The failed-records file: the original rows of every failed or invalid record, plus why.

Beside the results, ``<input>.failed.csv`` (or ``.failed.ndjson`` for NDJSON input)
holds the records exactly as they were read, with an ``error`` column, so a user
can fix them in a spreadsheet and import just that file: the importer ignores
the ``error`` column on the way back in. It is created at the first failure
only; a ``--resume`` run appends to it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, TextIO

import orjson

from importer.errors import ConfigError
from importer.mapping.columns import ERROR_COLUMN
from importer.sources.base import SourceRecord

__all__ = ["FailedRecords", "ERROR_COLUMN", "default_failed_path"]


def default_failed_path(input_path: str, fmt: str) -> str:
    stem = input_path[:-3] if input_path.endswith(".gz") else input_path
    for ext in (".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".json"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    return f"{stem}.failed.{'csv' if fmt == 'csv' else 'ndjson'}"


class FailedRecords:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        columns: list[str] | None,
        delimiter: str | None = None,
        encoding: str = "utf-8",
        append: bool = False,
    ) -> None:
        self.path = Path(path)
        self.columns = [c for c in columns if c != ERROR_COLUMN] + [ERROR_COLUMN] if columns else None
        self.delimiter = delimiter or ","
        self.encoding = encoding
        self.append = append
        self.count = 0
        self._file: TextIO | None = None
        self._csv: Any = None

    def _open(self) -> TextIO:
        if self._file is None:
            exists = self.append and self.path.exists() and self.path.stat().st_size > 0
            try:
                self._file = open(  # noqa: SIM115 - closed in close()
                    self.path, "a" if self.append else "w", encoding=self.encoding,
                    newline="", errors="replace",
                )
            except OSError as exc:
                raise ConfigError(f"cannot write failed-records file {self.path}: {exc.strerror}") from None
            if self.columns is not None:
                self._csv = csv.DictWriter(
                    self._file, fieldnames=self.columns, delimiter=self.delimiter, extrasaction="ignore"
                )
                if not exists:
                    self._csv.writeheader()
        return self._file

    def add(self, records: list[SourceRecord], error: str | None) -> None:
        """Write the source rows of one failed unit (a document has several)."""
        f = self._open()
        for record in records or [SourceRecord(0, {})]:
            row = getattr(record.data, "source", record.data)  # a --map'ped row: keep the layout it came in
            if self._csv is not None:
                self._csv.writerow({**row, ERROR_COLUMN: error or ""})
            else:
                f.write(orjson.dumps({**row, ERROR_COLUMN: error}).decode() + "\n")
            self.count += 1
        f.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
