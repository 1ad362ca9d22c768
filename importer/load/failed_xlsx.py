"""The failed-records file of a workbook input: a workbook itself, the input's columns plus ``error``.

Each failed record is one row, its cells as the reader gave them (the text a person saw,
leading zeros and all), the reason in the ``error`` column. Every column is formatted as
text (``@``), so a postal code typed in again as ``0150`` stays ``0150``, and every cell is
written as a string: nothing in it is ever taken for a formula. The sheet is named as the
input's was. A workbook imported again from this file reads its ``error`` column as the
CSV reader reads a failed CSV file's: ignored, and set anew for a record that fails again.

The rows are written as they come, to xlsxwriter's temporary files (``constant_memory``),
and the workbook is put together when the run ends (:meth:`XlsxFailed.close`): memory does
not grow with the number of failed records.
"""

from __future__ import annotations

import json
from typing import Any

from importer.load.failed_layout import SourceLayout
from importer.mapping.columns import ERROR_COLUMN
from importer.sources.base import SourceRecord

__all__ = ["XlsxFailed", "SHEET_NAME"]

SHEET_NAME = "failed"  # when the input's sheet has no name to copy
_MAX_CELL = 32_767  # characters a cell holds


class XlsxFailed:
    """The failed-records workbook being written to ``path``; see the module doc."""

    def __init__(self, path: str, layout: SourceLayout, sheet: str | None) -> None:
        self.columns = list(layout.columns or ())
        self.error_at = self.columns.index(ERROR_COLUMN) if ERROR_COLUMN in self.columns else None
        names = self.columns + ([ERROR_COLUMN] if self.error_at is None else [])
        import xlsxwriter  # only when a workbook's records fail: a CSV run never loads it

        self._book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False,
                                                "strings_to_formulas": False, "strings_to_urls": False})
        self._sheet = self._book.add_worksheet((sheet or SHEET_NAME)[:31])
        text = self._book.add_format({"num_format": "@"})
        bold = self._book.add_format({"bold": True, "num_format": "@"})
        self._sheet.set_column(0, len(names) - 1, 16, text)
        self._sheet.freeze_panes(1, 0)
        for column, name in enumerate(names):
            self._sheet.write_string(0, column, name, bold)
        self._row = 0

    def add(self, record: SourceRecord, error: str | None) -> None:
        data = record.data
        data = getattr(data, "source", data)  # a --map run's record keeps the row as read in ``source``
        row = data if isinstance(data, dict) else {}
        values = [_text(row.get(c)) for c in self.columns] if self.columns else [_text(v) for v in row.values()]
        if self.error_at is not None:
            values[self.error_at] = error or ""
        else:
            values.append(error or "")
        self._row += 1
        for column, value in enumerate(values):
            if value:
                self._sheet.write_string(self._row, column, value[:_MAX_CELL])

    def close(self) -> None:
        """Put the workbook together on disk (OSError when it cannot be written)."""
        from xlsxwriter.exceptions import FileCreateError

        try:
            self._book.close()
        except FileCreateError as exc:
            raise OSError(str(exc)) from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
