"""Excel workbooks (``.xlsx``, ``.xlsm``) as input: one sheet, streamed row by row in flat memory.

The workbook's parts are read first (:mod:`importer.sources.xlsx_book`: sheets, number
formats, shared strings); then the chosen sheet's XML is parsed as a stream, each row let go
once read, so a sheet of a million rows takes no more memory than one of a thousand (the
shared strings aside). Cells are read as text, as a person sees them where the stored type
would lose something (:mod:`importer.sources.xlsx_cells`: leading zeros, long numbers, dates).

The sheet is ``--sheet NAME`` or ``--sheet N`` (1-based), the first by default. The header
is row ``--header-row N`` when given; otherwise the first row with two or more cells that
all hold text (a title above the table is passed over), or, when none of the first
:data:`_LOOK` rows has that, the first row with anything in it. Rows with nothing in them
hold no record. Each record's errors name its sheet row, cell and column: a formula saved
without its value (the workbook was written by a program that does not calculate), an
error value (``#DIV/0!``), a value in a column without a header name, text longer than
``--max-field-size``.

Registered as the input kind ``xlsx`` (:mod:`importer.sources.kinds`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from typing import IO
from xml.etree import ElementTree as ET

from importer.errors import ConfigError, SourceError
from importer.sources._open import ByteCounter
from importer.sources.base import SourceRecord
from importer.sources.inputs import Input
from importer.sources.kinds import InputKind, register
from importer.sources.opening import SourceOptions
from importer.sources.xlsx_book import _BAD_ZIP, MAIN, Workbook, text_of
from importer.sources.xlsx_cells import PLAIN, NumberStyle, number_text

__all__ = ["XlsxSource", "FORMAT", "XLSX_INPUT", "column_letters"]

FORMAT = "xlsx"
_LOOK = 20  # rows searched for the header
_ROW, _C, _V, _F, _IS, _SHEET_DATA = (f"{MAIN}{t}" for t in ("row", "c", "v", "f", "is", "sheetData"))
_MAX_COLUMN = 16_384  # Excel's last column, XFD

# A cell as read: (0-based column, reference, text, what is wrong with it or None, whether it is text).
Cell = tuple[int, str, str, str | None, bool]


class _Progress(ByteCounter):
    """How far through the workbook's file reading has got (its compressed bytes), for progress and ETA."""

    def __init__(self, total: int) -> None:
        super().__init__(None, total)
        self.raw: IO[bytes] | None = None

    @property
    def done(self) -> int:
        raw = self.raw
        if raw is None or raw.closed:
            return (self.total or 0) if raw is not None else 0
        try:
            return raw.tell()
        except (OSError, ValueError):
            return 0


def column_letters(index: int) -> str:
    """``0`` -> ``A``, ``26`` -> ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMNS: dict[str, int] = {}  # letters -> 0-based column, as met


def _column_of(ref: str) -> int:
    letters = ref.rstrip("0123456789$")
    known = _COLUMNS.get(letters)
    if known is not None:
        return known
    index = 0
    for ch in letters:
        if "A" <= ch <= "Z":
            index = index * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            index = index * 26 + ord(ch) - 96
        else:
            break
    if len(_COLUMNS) < 1024:
        _COLUMNS[letters] = index - 1
    return index - 1


class XlsxSource:
    """The records of one sheet of a workbook; see the module doc. Each pass reads the file again."""

    format = FORMAT
    delimiter: str | None = None
    encoding = "utf-8"
    bom = b""
    line_end = b"\n"

    def __init__(self, path: str, *, sheet: str | None = None, header_row: int | None = None,
                 max_field_size: int = SourceOptions.max_field_size) -> None:
        self.name = path
        if max_field_size < 1:
            raise ConfigError(f"--max-field-size must be at least 1 byte, got {max_field_size}")
        if header_row is not None and header_row < 1:
            raise ConfigError(f"--header-row is a row of the sheet, 1 or more, not {header_row}")
        self.max_field_size = max_field_size
        self._header_row = header_row
        try:
            self.progress = _Progress(os.stat(path).st_size)
            with open(path, "rb") as raw:
                book = Workbook(raw, path)
                try:
                    ref, stream = book.sheet(sheet)
                    with stream:
                        self.header_at, header = self._find_header(self._rows(stream, book))
                finally:
                    book.close()
        except FileNotFoundError:
            raise ConfigError(f"input file not found: {path}") from None
        except OSError as exc:
            raise ConfigError(f"cannot open input {path}: {exc.strerror or exc}") from None
        self._book, self.sheet, self._part = book, ref.name, ref.part
        self._places: dict[int, str] = {}
        for column, cell_ref, text, error, _ in header:
            name = text.strip()
            if error is not None:
                raise ConfigError(f"{path}, sheet {self.sheet!r}: header cell {cell_ref}: {error}")
            if name in self._places.values():
                raise ConfigError(f"{path}, sheet {self.sheet!r}: header names column {name!r} twice")
            if name:
                self._places[column] = name
        if not self._places:
            raise ConfigError(f"{path}, sheet {self.sheet!r} is empty: a sheet read as input needs a header row")
        self.columns = list(self._places.values())

    def _find_header(self, rows: Iterator[tuple[int, list[Cell]]]) -> tuple[int, list[Cell]]:
        wanted = self._header_row
        seen: list[tuple[int, list[Cell]]] = []
        for number, cells in rows:
            if wanted is not None:
                if number == wanted:
                    return number, cells
                if number > wanted:
                    break
                continue
            if len(cells) >= 2 and all(is_text for *_, is_text in cells):
                return number, cells
            seen.append((number, cells))
            if len(seen) >= _LOOK:
                break
        if wanted is not None:
            raise ConfigError(f"{self.name}: --header-row {wanted}: that row of the sheet is empty")
        if not seen:
            raise ConfigError(f"{self.name}: the sheet is empty: a sheet read as input needs a header row")
        return seen[0]

    def _rows(self, stream: IO[bytes], book: Workbook) -> Iterator[tuple[int, list[Cell]]]:
        """Each row with anything in it: its number in the sheet, and its cells that hold something."""
        strings, styles, date1904 = book.strings, book.styles, book.date1904
        sheet_data: ET.Element | None = None
        number = 0
        try:
            for event, element in ET.iterparse(stream, events=("start", "end")):
                if event == "start":
                    if element.tag == _SHEET_DATA:
                        sheet_data = element
                    continue
                if element.tag != _ROW:
                    continue
                given = element.get("r")
                number = int(given) if given and given.isdigit() else number + 1
                cells: list[Cell] = []
                column = -1
                for c in element:
                    ref = c.get("r")
                    column = _column_of(ref) if ref else column + 1
                    cell = _cell(c, column, ref or f"{column_letters(column)}{number}", strings, styles, date1904)
                    if cell is not None:
                        cells.append(cell)
                if sheet_data is not None:
                    sheet_data.clear()  # the rows read are let go: memory stays flat
                if cells:
                    yield number, cells
        except ET.ParseError as exc:
            raise SourceError(f"{self.name}: the sheet's XML is broken after row {number} ({exc})") from None
        except _BAD_ZIP as exc:
            raise SourceError(f"{self.name}: the workbook stopped being readable after row {number} ({exc})") from None

    def __iter__(self) -> Iterator[SourceRecord]:
        raw = open(self.name, "rb")  # noqa: SIM115 - closed when the records end
        self.progress.raw = raw
        try:
            book = self._book
            with zipfile.ZipFile(raw) as archive, archive.open(self._part) as stream:
                number = 0
                for row, cells in self._rows(stream, book):
                    if row <= self.header_at:
                        continue
                    number += 1
                    yield self._record(number, row, cells)
        except _BAD_ZIP as exc:
            raise SourceError(f"{self.name}: the workbook stopped being readable ({exc})") from None
        finally:
            raw.close()

    def _record(self, number: int, row: int, cells: list[Cell]) -> SourceRecord:
        places = self._places
        data = dict.fromkeys(self.columns, "")
        errors: list[str] = []
        for column, ref, text, error, _ in cells:
            name = places.get(column)
            if name is None:
                errors.append(f"cell {ref} holds {text!r}, but column {column_letters(column)} has no header name")
                continue
            if error is not None:
                errors.append(f"cell {ref} (column {name!r}): {error}")
            elif len(text) > self.max_field_size:
                errors.append(f"cell {ref} (column {name!r}) is longer than --max-field-size "
                              f"({self.max_field_size})")
                continue
            data[name] = text
        error = f"row {row} of sheet {self.sheet!r}: " + "; ".join(errors) if errors else None
        return SourceRecord(number, data, error)


def _cell(c: ET.Element, column: int, ref: str, strings: list[str], styles: list[NumberStyle], date1904: bool) -> Cell | None:
    """The cell ``c``, or None when it holds nothing."""
    kind = c.get("t")
    value: str | None = None
    formula: str | None = None
    inline: ET.Element | None = None
    for child in c:
        tag = child.tag
        if tag == _V:
            value = child.text or ""
        elif tag == _F:
            formula = child.text or ""
        elif tag == _IS:
            inline = child
    if kind == "inlineStr":
        text = text_of(inline) if inline is not None else ""
        return (column, ref, text, None, True) if text else None
    if value is None or (not value and formula is not None and kind != "str"):
        if formula is None:
            return None
        return (column, ref, "", f"the formula ={formula} was saved without its value (the program that wrote "
                "the workbook does not calculate): open it in Excel and save it again", False)
    if kind == "s":
        try:
            text = strings[int(value)]
        except (ValueError, IndexError):
            return column, ref, "", f"refers to shared string {value!r}, which the workbook lacks", False
        return column, ref, text, None, True
    if kind == "str":
        return column, ref, value, None, True
    if kind == "b":
        return column, ref, "true" if value.strip() == "1" else "false", None, False
    if kind == "e":
        return column, ref, value, f"holds the error {value}" + (f" (from ={formula})" if formula else ""), False
    if kind == "d":
        return column, ref, value[:10] if value.endswith("T00:00:00") else value, None, False
    s = c.get("s")
    style = PLAIN
    if s:
        try:
            style = styles[int(s)]
        except (ValueError, IndexError):
            pass
    try:
        return column, ref, number_text(value, style, date1904), None, False
    except ValueError as exc:
        return column, ref, value, f"{exc}", False


def _open_input(path: str, options: SourceOptions) -> Input:
    """A workbook's sheet as an import's input."""
    if path == "-":
        raise ConfigError("an Excel workbook cannot be read from stdin: give its path")
    reader = XlsxSource(path, sheet=options.sheet, header_row=options.header_row,
                        max_field_size=options.max_field_size)
    return Input(reader, path, path, FORMAT, reader.columns, None, reader.progress)


XLSX_INPUT = register(InputKind(FORMAT, (".xlsx", ".xlsm"), "an Excel workbook ends in .xlsx or .xlsm", _open_input))
