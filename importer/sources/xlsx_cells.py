"""A workbook cell as the text a person sees in it, where its stored type would lose something.

A cell of a workbook holds a number, text, a boolean, an error, or a formula with its last
computed value; what Excel shows is that value through the cell's number format. The
importer reads every cell as text, as it reads a CSV file, so the mapping stage coerces it
the same way. Most numbers are taken as stored (``1000.5``, ``10001``), written out in full:
never ``1.23E+17``, and at most the 15 significant digits a workbook keeps. Where the format
changes what the value means, it is applied:

- a format of zeros only (``00000``, ``000000000``): the number padded with leading zeros,
  as shown (postal code ``150`` formatted ``0000`` reads ``"0150"``);
- a date or time format (built-in ids 14-22, 45-47, or a custom code with ``y m d h s``
  outside quotes and brackets): the serial number as an ISO date (``2026-03-01``), date and
  time (``2026-03-01T08:30:00``) when the format shows a time and the value has one, or a
  time of day; the 1904 date system is honoured.

Numbers in a text-formatted (``@``) cell are stored as text by Excel already, and read as such.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

__all__ = ["NumberStyle", "style_of", "number_text", "date_text"]

_SIGNIFICANT = 15  # digits a workbook's number (a double) keeps
# Built-in number formats that are dates or times (ECMA-376 18.8.30), and zero-padding ones there are none of.
_DATE_IDS = frozenset({14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53, 54, 57, 58})
_TIME_IDS = frozenset({18, 19, 20, 21, 45, 46, 47, 32, 33, 55, 56})
_DATETIME_IDS = frozenset({22})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # literal text, colours and conditions, escapes, padding
_ZEROS = re.compile(r"0{2,}")
_SHORT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # a plain number of at most 15 characters needs no rounding
_EPOCH_1900 = datetime(1899, 12, 30)  # serial 1 is 1900-01-01, past Excel's phantom 29 February 1900
_EPOCH_1904 = datetime(1904, 1, 1)


class NumberStyle:
    """What a cell's number format does to its number: nothing, zero-padding, or a date or time."""

    __slots__ = ("kind", "width")

    def __init__(self, kind: str, width: int = 0) -> None:
        self.kind = kind  # "plain" | "zeros" | "date" | "datetime" | "time"
        self.width = width  # digits shown, for "zeros"


PLAIN = NumberStyle("plain")


def style_of(format_id: int, code: str | None) -> NumberStyle:
    """The style of built-in format ``format_id``, or of the custom format ``code``."""
    if code is None:
        if format_id in _DATETIME_IDS:
            return NumberStyle("datetime")
        if format_id in _DATE_IDS:
            return NumberStyle("date")
        if format_id in _TIME_IDS:
            return NumberStyle("time")
        return PLAIN
    section = _QUOTED.sub("", code.split(";", 1)[0]).strip()
    if _ZEROS.fullmatch(section):
        return NumberStyle("zeros", len(section))
    lowered = section.lower()
    has_date = any(c in lowered for c in "yd") or ("m" in lowered and "h" not in lowered and "s" not in lowered)
    has_time = "h" in lowered or "s" in lowered
    if has_date and has_time:
        return NumberStyle("datetime")
    if has_date:
        return NumberStyle("date")
    if has_time and not any(c in lowered for c in "0#?"):
        return NumberStyle("time")
    return PLAIN


def number_text(stored: str, style: NumberStyle, date1904: bool = False) -> str:
    """The number stored as ``stored`` (the cell's ``<v>`` text) as the importer reads it.

    ValueError when ``stored`` is no number.
    """
    if style is PLAIN and len(stored) <= _SIGNIFICANT and _SHORT.fullmatch(stored):
        return stored[:-2] if stored.endswith(".0") else stored  # most numbers: as written
    try:
        value = Decimal(stored.strip())
    except InvalidOperation:
        raise ValueError(f"{stored!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{stored!r} is not a number")
    if style.kind in ("date", "datetime", "time"):
        return date_text(value, style.kind, date1904)
    if style.kind == "zeros" and value == value.to_integral_value() and value >= 0:
        return str(int(value)).zfill(style.width)
    return plain_number(value)


def plain_number(value: Decimal) -> str:
    """``value`` in full (no exponent), rounded to the 15 significant digits a workbook keeps."""
    if value.is_zero():
        return "0"
    if value.adjusted() >= _SIGNIFICANT - 1 and value == value.to_integral_value():
        return f"{int(value)}"  # a long whole number: its digits as stored, never 1.23E+17
    rounded = round(value, _SIGNIFICANT - 1 - value.adjusted())
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def date_text(serial: Decimal, kind: str, date1904: bool = False) -> str:
    """The serial day number ``serial`` as an ISO date, date and time, or time of day."""
    if serial < 0 or serial >= 2_958_466:  # past 9999-12-31
        raise ValueError(f"{serial} is not a date Excel can show")
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if not date1904 and serial < 61:
        epoch += timedelta(days=1)  # before 1 March 1900 Excel counts from 1899-12-31
    milliseconds = int((serial * 86_400_000).to_integral_value())
    moment = epoch + timedelta(milliseconds=milliseconds)
    seconds = round(moment.microsecond / 1_000_000)
    moment = moment.replace(microsecond=0) + timedelta(seconds=seconds)
    if kind == "time":
        return moment.strftime("%H:%M:%S")
    if kind == "datetime" and (moment.hour or moment.minute or moment.second):
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return moment.strftime("%Y-%m-%d")
