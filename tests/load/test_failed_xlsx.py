"""A workbook input's failed-records file: a workbook with the input's columns plus ``error``."""

from __future__ import annotations

import openpyxl
import pytest

from importer.load.failed import FailedRecords, default_failed_path
from importer.sources import SourceOptions, open_input
from tests.support.workbooks import Cell, write_book

pytestmark = pytest.mark.one_profile


def _failed_rows(path) -> list[list[object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _write_failed(source_path, failed_path) -> FailedRecords:
    with open_input(str(source_path), SourceOptions()) as opened:
        records = list(opened.reader)
        failed = FailedRecords(failed_path, source=opened)
    failed.add(records[:1], "name: required")
    if records[1:]:
        failed.add(records[1:], "=HYPERLINK(\"x\") is no reason")
    failed.close()
    return failed


def test_the_failed_workbook_keeps_the_cells_as_read_and_is_replaced_unless_changed(tmp_path):
    source = write_book(tmp_path / "kunder.xlsx", {"Kunder": [
        ["number", "name", "postalCode"], [1, "", Cell(150, "0000")], [2, "=1+1", Cell(9008, "0000")]]})
    path = tmp_path / default_failed_path(str(source), "xlsx")
    assert path.name == "kunder.failed.xlsx"
    failed = _write_failed(source, path)
    assert failed.path == path and failed.kept is None and failed.count == 2
    assert _failed_rows(path) == [["number", "name", "postalCode", "error"], ["1", None, "0150", "name: required"],
                                  ["2", "=1+1", "9008", "=HYPERLINK(\"x\") is no reason"]]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Kunder"] and book["Kunder"]["C2"].data_type == "s"  # text, not a formula
    assert book["Kunder"]["B3"].data_type == "s"
    book.close()
    assert _write_failed(source, path).kept is None  # the importer's own file: replaced
    edited = openpyxl.load_workbook(path)
    edited["Kunder"]["B2"] = "Fixed AS"
    edited.save(path)
    again = _write_failed(source, path)
    assert again.kept == path and again.path.name == "kunder.failed-2.xlsx"
    assert _failed_rows(path)[1][1] == "Fixed AS"  # the user's file left as it is


def test_a_failed_path_that_is_no_workbook_gets_csv(tmp_path):
    source = write_book(tmp_path / "k.xlsx", {"S": [["number", "postalCode"], [1, Cell(150, "0000")]]})
    _write_failed(source, tmp_path / "k.failed.csv")
    assert (tmp_path / "k.failed.csv").read_text(encoding="utf-8") == "number,postalCode,error\n1,0150,name: required\n"
