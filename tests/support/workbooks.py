"""Excel workbooks for the tests, written with xlsxwriter (as Excel saves them: shared strings,
number formats, formulas with their values) or openpyxl (formulas saved without their values).

A cell is given as a plain value (text, number, date, bool) or as a :class:`Cell` with a number
format, or a formula and the value it was saved with (``None``: saved without one; that needs
``openpyxl_book``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

__all__ = ["Cell", "write_book", "openpyxl_book", "customer_rows", "CUSTOMER_HEADER"]


@dataclass(frozen=True)
class Cell:
    value: Any = None
    format: str | None = None  # a number format: "0000", "yyyy-mm-dd", "@"
    formula: str | None = None  # "=B2*2"


def write_book(path: Path, sheets: dict[str, Iterable[Sequence[Any]]], *, date1904: bool = False) -> Path:
    """A workbook with these sheets (name -> rows), in order, as Excel writes it (shared strings)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "date_1904": date1904})
    formats: dict[str, Any] = {}

    def fmt(code: str | None) -> Any:
        if code is None:
            return None
        if code not in formats:
            formats[code] = book.add_format({"num_format": code})
        return formats[code]

    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, item in enumerate(row):
                cell = item if isinstance(item, Cell) else Cell(item)
                value, style = cell.value, fmt(cell.format)
                if cell.formula is not None:
                    sheet.write_formula(r, c, cell.formula, style, "" if value is None else value)
                elif value is None:
                    continue
                elif isinstance(value, str):
                    sheet.write_string(r, c, value, style)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value, style)
                elif isinstance(value, dt.date | dt.datetime):
                    sheet.write_datetime(r, c, value, style or fmt("yyyy-mm-dd"))
                else:
                    sheet.write_number(r, c, value, style)
    book.close()
    return path


def openpyxl_book(path: Path, rows: Iterable[Sequence[Any]]) -> Path:
    """A one-sheet workbook as openpyxl writes it: its formulas (``"=..."``) saved without values."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


CUSTOMER_HEADER = ["number", "name", "mainAddress.postalCode", "mainAddress.city", "corporateId", "note",
                   "creditLimit", "creditDaysPastDue"]


def customer_rows(count: int, *, first: int = 10_001) -> list[list[Any]]:
    """``count`` customers: postal codes stored as numbers formatted ``0000`` (0150 is 150), organisation
    numbers as text, a date in the note, a credit limit computed by a formula with its value saved."""
    rows: list[list[Any]] = []
    for i in range(count):
        number, row = first + i, len(rows) + 2  # the sheet row, the header being row 1
        rows.append([
            number, f"Kunde {number} AS", Cell(150 + i % 9000, "0000"), "Oslo", Cell(f"{900000000 + i}", "@"),
            Cell(dt.date(2024, 1, 1) + dt.timedelta(days=i % 700), "dd.mm.yyyy"),
            Cell(1000 + i % 50, "#,##0.00"), Cell(formula=f"=IF(G{row}>1020,30,14)", value=30 if 1000 + i % 50 > 1020 else 14),
        ])
    return rows
