"""CSV cells a spreadsheet would run as formulas, made inert on the way out and back.

A cell that begins with ``=``, ``+``, ``@``, TAB or CR, or with ``-`` and is not a plain
number, is what Excel and LibreOffice take as a formula (CSV injection). Every CSV file
the importer writes passes its cells through :func:`neutralise`, which puts a single
quote in front, as OWASP's guidance says; the CSV reader passes every cell through
:func:`restore`, so a failed-records file or an export reads back as it was written.
A cell that already begins with a quote before such a character gets one more quote,
so the two functions are exact inverses on everything the importer writes.

    >>> neutralise("=HYPERLINK(\\"x\\")")
    '\\'=HYPERLINK("x")'
    >>> restore(neutralise("-12,50")), neutralise("-12,50")
    ('-12,50', '-12,50')
"""

from __future__ import annotations

import re

__all__ = ["neutralise", "restore"]

# A formula start: = + @ TAB CR, or '-' unless the cell is a plain number ("-12,50",
# "-1 250.00 kr" is not one: "-1+cmd|..." must not slip through as a negative).
_NUMBER = r"-[\d.,\s\u00a0\u202f']*\d[\d.,\s\u00a0\u202f']*\Z"
_FORMULA = re.compile(rf"[=+@\t\r]|-(?!{_NUMBER[1:]})")
_QUOTED = re.compile(rf"'+(?:[=+@\t\r]|-(?!{_NUMBER[1:]}))")


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never runs it."""
    if cell and (_FORMULA.match(cell) or _QUOTED.match(cell)):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The value :func:`neutralise` was given (other cells are returned as they are)."""
    if cell.startswith("'") and _QUOTED.match(cell):
        return cell[1:]
    return cell
