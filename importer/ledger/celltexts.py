"""A column of values as :class:`~importer.ledger.files.CsvWriter` writes each (used by :mod:`.rowplan`).

A planned export converts its values a column at a time, by calls that run in C. Numbers
are the costly part: ``repr`` of a float (what :func:`money_cell` and :func:`number_cell`
start from) takes a few hundred nanoseconds. ``orjson.dumps`` writes a whole column of them
in one call, each as the shortest text that reads back as the same double, the digits
``repr`` writes too, and without an exponent up to 1e16 as ``repr`` does. Whatever it writes
otherwise (an exponent, ``null`` for nan and infinity) or cannot write (an int past 64 bits)
sends the column the long way, value by value. Where ``repr`` would write an exponent below
1e-4 and orjson plain digits (``1e-05`` against ``0.00001``), the cell is the same: both
functions write such a value's digits without one. ``tests/ledger/test_celltexts.py`` holds
the two ways to each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from importer.ledger.files import _RISKY, money_cell, number_cell
from importer.mapping.flatten import as_mmyyyy
from importer.sources.cells import neutralise

__all__ = ["PLAIN", "PERIOD", "BOOL", "TEXT_NUMBER", "NUMBER", "MONEY", "Alarm", "column_texts", "number_texts",
           "money_texts"]

# How a column's values are written: text as it is (a start a spreadsheet would run quoted),
# a period, a boolean, a number in a text column, a number, an amount.
PLAIN, PERIOD, BOOL, TEXT_NUMBER, NUMBER, MONEY = range(6)
_BOOLS = ("false", "true")
_QUOTED = "\"\r\n"  # what makes the csv module quote a cell, besides the delimiter
_RISKY_START = re.compile("\x00[" + re.escape("".join(sorted(_RISKY))) + "]")  # searched in "\x00" + joined
# Whether this orjson writes floats as repr does where that matters here: an exponent from
# 1e16 up, none below, the same shortest digits (a release that wrote otherwise would send
# every column value by value).
_PROBE = [1e16, 1e22, 9999999999999998.0, 123456789012345.67, 0.1 + 0.2, 5e-324, -0.0, 2.5, 100.0]
_LIKE_REPR = orjson.dumps(_PROBE).decode() == "[" + ",".join(map(repr, _PROBE)) + "]"
_ONE_DECIMAL = [(f".{d},".encode(), f".{d}0,".encode()) for d in "0123456789"]  # padded to two decimals


class Alarm:
    """What in a text cell sends its record the long way: a character the CSV writer would
    quote (``"``, a line break, the ``delimiter``)."""

    def __init__(self, delimiter: str) -> None:
        self.chars = tuple(dict.fromkeys(_QUOTED + delimiter))

    def __call__(self, text: str) -> bool:
        """Whether ``text`` holds one (a search in C for each: quicker than one for any)."""
        return any(c in text for c in self.chars)


def column_texts(column: Sequence[Any], how: int, places: int | Sequence[int], comma: bool,
                 alarm: Alarm) -> tuple[Sequence[str], bool]:
    """A column's values as :class:`CsvWriter` writes them, and whether a text among them may
    need quoting; ``places``: the amount decimals of every row, or of each."""
    if how == BOOL:
        return list(map(_BOOLS.__getitem__, column)), False
    if how == NUMBER:
        texts = number_texts(column)
        return _commas(texts) if comma else texts, False
    if how == MONEY:
        return money_texts(column, places, comma), False
    if how == PERIOD:
        table = {v: as_mmyyyy(v) for v in dict.fromkeys(column)}
        texts = list(map(table.__getitem__, column))
    elif how == TEXT_NUMBER:
        texts = list(map(str, column))
    else:
        texts = column  # type: ignore[assignment]
    joined = "\x00" + "\x00".join(texts)
    if _RISKY_START.search(joined):
        texts = [neutralise(t) if t[:1] in _RISKY else t for t in texts]
        joined = "\x00".join(texts)
    return texts, alarm(joined)


def number_texts(column: Sequence[Any]) -> list[str]:
    """Ints and floats as :func:`number_cell` writes them, with a decimal point."""
    written = _dumped(column)
    if written is None:
        return [number_cell(v, False) for v in column]
    return written[1:-1].decode().split(",")


def money_texts(column: Sequence[Any], places: int | Sequence[int], comma: bool) -> list[str]:
    """Amounts as :func:`money_cell` writes them, with ``places`` decimals at least."""
    written = _dumped(column) if places == 2 else None
    if written is None:
        each = [places] * len(column) if isinstance(places, int) else places
        return [money_cell(v, d, comma) for v, d in zip(column, each)]
    if written.count(b".") != len(column):  # whole numbers (ints) among them
        texts = written[1:-1].decode().split(",")
        written = ("[" + ",".join([t if "." in t else t + ".00" for t in texts]) + "]").encode()
    written = written[1:-1] + b","
    for one, two in _ONE_DECIMAL:
        if one in written:
            written = written.replace(one, two)
    texts = written[:-1].decode().split(",")
    return _commas(texts) if comma else texts


def _dumped(column: Sequence[Any]) -> bytes | None:
    """The column as a JSON list, when every value in it is written as ``repr`` writes its digits."""
    if not _LIKE_REPR:
        return None
    try:
        written = orjson.dumps(column)
    except TypeError:  # an int past 64 bits
        return None
    return None if b"e" in written or b"n" in written else written  # an exponent; null for nan and inf


def _commas(texts: list[str]) -> list[str]:
    return "\x00".join(texts).replace(".", ",").split("\x00")
