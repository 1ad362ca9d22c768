"""The parts of a workbook (``.xlsx``, ``.xlsm``) read before its sheet: sheets, styles, shared strings.

A workbook is a zip of XML parts. :class:`Workbook` opens it and reads, once:

- ``xl/workbook.xml`` and its relationships: the sheets by name and order, and whether
  dates count from 1904;
- ``xl/styles.xml``: each cell style's number format (:mod:`importer.sources.xlsx_cells`);
- ``xl/sharedStrings.xml``: the text cells refer to by number (streamed; the strings are
  kept, as every text cell of the sheet may use any of them).

:meth:`Workbook.sheet` picks the sheet to read (by name, or by its 1-based place) and opens
its XML as a stream, which :mod:`importer.sources.xlsx` reads row by row.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import IO, BinaryIO
from xml.etree import ElementTree as ET

from importer.errors import ConfigError
from importer.sources.xlsx_cells import PLAIN, NumberStyle, style_of

__all__ = ["Workbook", "MAIN", "SheetRef"]

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# What reading a damaged or foreign workbook can raise; zipfile raises NotImplementedError
# for a compression method it has no codec for (a workbook saved by an unusual writer).
_BAD_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ET.ParseError, KeyError,
            NotImplementedError, ValueError)


class SheetRef:
    __slots__ = ("name", "part")

    def __init__(self, name: str, part: str) -> None:
        self.name = name
        self.part = part  # its XML part in the zip


class Workbook:
    """An opened workbook; see the module doc. ConfigError when ``raw`` is no workbook."""

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self.name = name
        try:
            self._zip = zipfile.ZipFile(raw)
            parts = set(self._zip.namelist())
        except _BAD_ZIP:
            raise ConfigError(f"{name} is not an Excel workbook (.xlsx): it is no zip archive. An older "
                              "Excel file (.xls) must be saved as .xlsx or CSV first") from None
        if "xl/workbook.xml" not in parts:
            raise ConfigError(f"{name} is a zip archive, but no Excel workbook (it has no xl/workbook.xml)")
        try:
            self.sheets, self.date1904 = self._read_workbook(parts)
            self.styles = self._read_styles(parts)
            self.strings = self._read_strings(parts)
        except _BAD_ZIP as exc:
            raise ConfigError(f"{name}: the workbook cannot be read ({exc})") from None

    def close(self) -> None:
        self._zip.close()

    def sheet(self, wanted: str | None) -> tuple[SheetRef, IO[bytes]]:
        """The sheet named ``wanted`` (or at that 1-based place; None: the first), and its XML."""
        names = ", ".join(repr(s.name) for s in self.sheets)
        if not self.sheets:
            raise ConfigError(f"{self.name}: the workbook has no worksheet")
        chosen = None
        if wanted is None:
            chosen = self.sheets[0]
        else:
            chosen = next((s for s in self.sheets if s.name == wanted), None)
            chosen = chosen or next((s for s in self.sheets if s.name.casefold() == wanted.casefold()), None)
            if chosen is None and wanted.strip().isdigit():
                place = int(wanted)
                if not 1 <= place <= len(self.sheets):
                    raise ConfigError(f"{self.name}: --sheet {wanted}: the workbook has {len(self.sheets)} "
                                      f"sheet(s): {names}")
                chosen = self.sheets[place - 1]
        if chosen is None:
            raise ConfigError(f"{self.name} has no sheet named {wanted!r}; its sheets are {names}")
        try:
            return chosen, self._zip.open(chosen.part)
        except _BAD_ZIP as exc:
            raise ConfigError(f"{self.name}: sheet {chosen.name!r} cannot be read ({exc})") from None

    def _read_workbook(self, parts: set[str]) -> tuple[list[SheetRef], bool]:
        targets: dict[str, str] = {}
        if "xl/_rels/workbook.xml.rels" in parts:
            rels = ET.fromstring(self._zip.read("xl/_rels/workbook.xml.rels"))
            for rel in rels.iter(f"{_PKG_REL}Relationship"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[rel.get("Id", "")] = path
        book = ET.fromstring(self._zip.read("xl/workbook.xml"))
        props = book.find(f"{MAIN}workbookPr")
        date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")
        sheets = []
        for sheet in book.iter(f"{MAIN}sheet"):
            part = targets.get(sheet.get(f"{_REL}id", ""))
            if part in parts and part.startswith("xl/worksheets/"):  # chart sheets and the like hold no rows
                sheets.append(SheetRef(sheet.get("name", ""), part))
        return sheets, date1904

    def _read_styles(self, parts: set[str]) -> list[NumberStyle]:
        """Each cell style's number style, by the style's index (a cell's ``s``)."""
        if "xl/styles.xml" not in parts:
            return []
        root = ET.fromstring(self._zip.read("xl/styles.xml"))
        codes = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iter(f"{MAIN}numFmt")}
        cell_xfs = root.find(f"{MAIN}cellXfs")
        styles = []
        for xf in cell_xfs if cell_xfs is not None else ():
            format_id = int(xf.get("numFmtId", "0"))
            styles.append(style_of(format_id, codes.get(format_id)) if format_id else PLAIN)
        return styles

    def _read_strings(self, parts: set[str]) -> list[str]:
        """The shared strings, in order: each ``<si>``'s text runs joined (phonetic guides left out)."""
        if "xl/sharedStrings.xml" not in parts:
            return []
        strings: list[str] = []
        si, t, rph = f"{MAIN}si", f"{MAIN}t", f"{MAIN}rPh"
        with self._zip.open("xl/sharedStrings.xml") as stream:
            for _, element in ET.iterparse(stream, events=("end",)):
                if element.tag == si:
                    strings.append(text_of(element, t, rph))
                    element.clear()
        return strings


def text_of(element: ET.Element, t: str = f"{MAIN}t", rph: str = f"{MAIN}rPh") -> str:
    """The text of a string item (``<si>`` or a cell's ``<is>``): its ``<t>``, or its runs' joined."""
    direct = element.find(t)
    if direct is not None and len(element) == 1:
        return direct.text or ""
    pieces = []
    for child in element:
        if child.tag == t:
            pieces.append(child.text or "")
        elif child.tag != rph:  # a run <r>: its <t>
            pieces.extend(run.text or "" for run in child.iter(t))
    return "".join(pieces)
