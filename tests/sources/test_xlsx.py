"""Excel workbooks read as input: cells as a person sees them, the sheet and header chosen, bad cells named."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from importer.errors import ConfigError
from importer.sources import SourceOptions, open_input
from importer.sources.xlsx_cells import NumberStyle, number_text, style_of
from tests.support.workbooks import Cell, openpyxl_book, write_book

pytestmark = pytest.mark.one_profile


def read(path, **options):
    with open_input(str(path), SourceOptions(**options)) as opened:
        return opened, list(opened.reader)


def test_cells_read_as_shown_leading_zeros_long_numbers_dates_and_formula_values(tmp_path):
    path = write_book(tmp_path / "k.xlsx", {"Kunder": [
        ["number", "postalCode", "orgNo", "account", "amount", "date", "stamp", "time", "total", "paid", "since"],
        [Cell(1, "General"), Cell(150, "0000"), Cell("012345678", "@"), 123456789012345678, 1234.5,
         Cell(dt.date(2026, 3, 1), "dd.mm.yyyy"), Cell(dt.datetime(2026, 3, 1, 8, 30), "yyyy-mm-dd hh:mm"),
         Cell(dt.datetime(1900, 1, 1, 14, 5, 9), "hh:mm:ss"), Cell(formula="=E2*2", value=2469), True,
         Cell(45000, "[$-414]d. mmmm yyyy;@")],
        [2, Cell(7, "00000"), "N/A", 0.1 + 0.2, -0.5, Cell(dt.datetime(2026, 3, 1), "yyyy-mm-dd hh:mm"), None,
         None, Cell(formula='="x"&A3', value="x2"), False, None],
    ]})
    opened, (first, second) = read(path)
    assert opened.format == "xlsx" and opened.columns[:3] == ["number", "postalCode", "orgNo"]
    assert first.error is None and first.data == {
        "number": "1", "postalCode": "0150", "orgNo": "012345678", "account": "123456789012345700",
        "amount": "1234.5", "date": "2026-03-01", "stamp": "2026-03-01T08:30:00", "time": "14:05:09",
        "total": "2469", "paid": "true", "since": "2023-03-15"}
    assert second.error is None and second.data["postalCode"] == "00007" and second.data["account"] == "0.3"
    assert second.data["amount"] == "-0.5" and second.data["stamp"] == ""
    assert second.data["date"] == "2026-03-01"  # a date and time format, midnight: the date
    assert second.data["total"] == "x2" and second.data["paid"] == "false"


def test_number_formats_and_the_1904_date_system():
    assert style_of(14, None).kind == "date" and style_of(22, None).kind == "datetime"
    assert style_of(164, '"kr" #,##0.00').kind == "plain" and style_of(165, "000000").width == 6
    assert style_of(166, "[Red]0.00;[Blue]-0.00").kind == "plain" and style_of(167, "mm:ss").kind == "time"
    assert number_text("1E+17", NumberStyle("plain")) == "100000000000000000"
    assert number_text("1.5E-3", NumberStyle("plain")) == "0.0015"
    assert number_text("0", NumberStyle("date"), date1904=True) == "1904-01-01"
    assert number_text("12.5", NumberStyle("zeros", 4)) == "12.5"  # a fraction is not padded
    with pytest.raises(ValueError):
        number_text("abc", NumberStyle("plain"))


def test_the_sheet_by_name_or_place_and_the_header_past_a_title(tmp_path):
    path = write_book(tmp_path / "b.xlsx", {
        "Info": [["Exported from the old ledger"], ["number", "name"], [9, "Not this"]],
        "Kunder": [["Kundeliste 2026"], [], ["number", "name"], [1, "A"], [], [2, "B"]],
    })
    opened, rows = read(path)
    assert opened.reader.sheet == "Info" and [r.data for r in rows] == [{"number": "9", "name": "Not this"}]
    for wanted in ("Kunder", "kunder", "2"):
        opened, rows = read(path, sheet=wanted)
        assert opened.reader.sheet == "Kunder" and opened.reader.header_at == 3
        assert [(r.number, r.data) for r in rows] == [(1, {"number": "1", "name": "A"}), (2, {"number": "2", "name": "B"})]
    opened, rows = read(path, sheet="Kunder", header_row=1)
    assert opened.columns == ["Kundeliste 2026"] and len(rows) == 3
    with pytest.raises(ConfigError, match="has no sheet named 'Nope'; its sheets are 'Info', 'Kunder'"):
        read(path, sheet="Nope")
    with pytest.raises(ConfigError, match="--sheet 3: the workbook has 2 sheet"):
        read(path, sheet="3")
    with pytest.raises(ConfigError, match="--header-row 2: that row of the sheet is empty"):
        read(path, sheet="Kunder", header_row=2)


def test_bad_cells_make_their_record_invalid_naming_row_cell_and_column(tmp_path):
    path = write_book(tmp_path / "e.xlsx", {"S": [
        ["number", "name"],
        [1, Cell(formula="=1/0", value="#DIV/0!")],
        [2, "ok", "stray"],
        [3, "x" * 40],
    ]})
    _, rows = read(path, max_field_size=20)
    assert rows[0].error == "row 2 of sheet 'S': cell B2 (column 'name'): holds the error #DIV/0! (from =1/0)"
    assert rows[1].error == "row 3 of sheet 'S': cell C3 holds 'stray', but column C has no header name"
    assert rows[2].error == "row 4 of sheet 'S': cell B4 (column 'name') is longer than --max-field-size (20)"


def test_a_formula_saved_without_its_value_is_an_invalid_cell(tmp_path):
    path = openpyxl_book(tmp_path / "o.xlsx", [["number", "creditLimit"], [1, "=2*500"], [2, 700]])
    _, rows = read(path)
    assert rows[0].error is not None and rows[0].data["creditLimit"] == ""
    assert "cell B2 (column 'creditLimit'): the formula =2*500 was saved without its value" in rows[0].error
    assert rows[1].error is None and rows[1].data == {"number": "2", "creditLimit": "700"}


def test_what_is_no_workbook_is_named(tmp_path):
    path = tmp_path / "k.xlsx"
    path.write_bytes(b"number,name\n1,A\n")
    with pytest.raises(ConfigError, match=r"k.xlsx is not an Excel workbook \(.xlsx\): it is no zip archive"):
        read(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    with pytest.raises(ConfigError, match="no Excel workbook"):
        read(path)
    empty = write_book(tmp_path / "empty.xlsx", {"S": []})
    with pytest.raises(ConfigError, match="the sheet is empty"):
        read(empty)
    dupes = write_book(tmp_path / "d.xlsx", {"S": [["number", "number"]]})
    with pytest.raises(ConfigError, match="header names column 'number' twice"):
        read(dupes)
