"""Dates as the API takes them: one grammar, or the user's ``--date-format`` layout.

Dates follow one grammar (:data:`DATE_FORMS`), the forms the API's date-time fields take:
``YYYY-MM-DD``, or that with ``T``, hours and minutes, optional seconds and a fraction
of up to 7 digits, and an optional ``Z`` or ``+HH:MM`` offset. Anything else
(``20240115``, ``2024-W03``, ``2024-01-15Z``, a space before the time) is refused, as is
a year outside :data:`DATE_RANGE`, unless ``--date-format`` gives the layout. A date-time
is sent normalised: seconds written out, the offset as ``Z`` or ``+HH:MM``.

A ``--date-format`` (or a map's ``date_format``) is checked before anything is read
(:func:`date_format_problem`): it must write and read back two moments unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from importer.errors import ConfigError, RecordError
from importer.mapping.jsontypes import wrong_type

__all__ = ["DATE_FORMS", "DATE_RANGE", "check_date_format", "date_format_problem", "datetime_coercer"]


# strptime's date and time directives; anything else after a % is a mistake.
_DATE_DIRECTIVES = frozenset("aAbBcdfGHIjmMpSuUVwWxXyYzZ%")
_DIRECTIVE = re.compile(r"%(.?)", re.S)
# Two moments whose every field differs, written and read back to prove a format.
_PROOFS = (datetime(2024, 12, 31, 23, 59, 58, 123456, timezone.utc), datetime(2003, 2, 1, 4, 5, 6, 7, timezone.utc))
_GUESS = re.compile(r"yyyy|yy|dd|mm|hh|ss", re.I)


def _guess(fmt: str) -> str:
    """``dd.mm.yyyy`` -> ``%d.%m.%Y``: the strptime layout a spelled-out one likely means."""
    hours = False

    def directive(m: re.Match[str]) -> str:
        nonlocal hours
        token = m.group().lower()
        if token == "hh":
            hours = True
        if token == "mm":
            return "%M" if hours else "%m"  # after the hour, mm is the minutes
        return {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "ss": "%S"}[token]

    return _GUESS.sub(directive, fmt)


@functools.lru_cache(maxsize=64)
def date_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot serve as a date format, or None when it reads dates one way."""
    if "%" not in fmt:
        guess = _guess(fmt)
        hint = f"; did you mean {guess!r}?" if "%" in guess and date_format_problem(guess) is None else ""
        return f"{fmt!r} is not a strptime layout (directives start with %){hint}"
    used: set[str] = set()
    for m in _DIRECTIVE.finditer(fmt):
        if m.group(1) == "":
            return f"{fmt!r} is not a usable strptime layout (a lone % at the end)"
        if m.group(1) not in _DATE_DIRECTIVES:
            return f"{fmt!r} is not a usable strptime layout (%{m.group(1)} is not a date or time directive)"
        used.add(m.group(1))
    hours = used & set("HIcX")
    for proof in _PROOFS:
        try:
            text = proof.strftime(fmt)
            back = datetime.strptime(text, fmt).replace(tzinfo=None)
        except (ValueError, re.error) as exc:  # re.error: a directive given twice
            return f"{fmt!r} is not a usable strptime layout ({exc})"
        expected = proof.replace(
            tzinfo=None,
            hour=proof.hour if hours else 0,
            minute=proof.minute if used & set("McX") else 0,
            second=proof.second if used & set("ScX") else 0,
            microsecond=proof.microsecond if "f" in used else 0,
        )
        if back != expected:
            return (f"{fmt!r} does not read back the dates it writes: {expected.isoformat(' ')} "
                    f"written as {text!r} reads as {back.isoformat(' ')}")
    return None


def check_date_format(fmt: str, option: str = "--date-format") -> None:
    """Raise ``ConfigError`` (naming ``option``) unless ``fmt`` reads dates one way."""
    problem = date_format_problem(fmt)
    if problem is not None:
        raise ConfigError(f"{option}: {problem}")


def _two_digit_year(text: str, date_format: str) -> bool:
    """Would ``text`` match ``date_format`` with a two-digit year (%y) in place of %Y?"""
    try:
        datetime.strptime(text, date_format.replace("%Y", "%y"))
    except ValueError:
        return False
    return True


def _short_year(value: Any, date_format: str) -> RecordError:
    return RecordError(f"{value!r} does not have a four-digit year, which {date_format!r} asks for (%Y); "
                       "a format with %y reads two-digit years")


# The API's date forms: a date, or a date-time with optional seconds, fraction and offset.
DATE_FORMS = ("YYYY-MM-DD, or YYYY-MM-DDTHH:MM with optional :SS, a fraction of up to 7 digits "
              "and Z or an offset +HH:MM")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-](\d{2}):?(\d{2}))?)?\Z",
    re.ASCII,
)
# The dates a ledger holds: those of its database's date-time (SQL Server's datetime).
DATE_RANGE = (date(1753, 1, 1), date(9999, 12, 31))
_MAX_OFFSET = 14 * 60  # minutes: the widest time zone offset there is (+14:00)


def _out_of_dates(value: Any) -> RecordError:
    low, high = DATE_RANGE
    return RecordError(f"{value!r} is out of range: the API takes dates from {low} to {high}")


def _iso(value: Any, text: str) -> str:
    """``text`` in the API's grammar (:data:`DATE_FORMS`), normalised, or RecordError."""
    found = _ISO.match(text)
    if found is None:
        raise RecordError(f"{value!r} is not a date the API takes ({DATE_FORMS}); "
                          "pass --date-format for other layouts")
    year, month, day, hour, minute, second, fraction, offset, off_h, off_m = found.groups()
    try:
        day_of = date(int(year), int(month), int(day))
        if hour is not None:
            datetime(2000, 1, 1, int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise RecordError(f"{value!r} is not a valid date ({exc})") from None
    if not DATE_RANGE[0] <= day_of <= DATE_RANGE[1]:
        raise _out_of_dates(value)
    if hour is None:
        return text
    if off_h is not None and (int(off_m) > 59 or int(off_h) * 60 + int(off_m) > _MAX_OFFSET):
        raise RecordError(f"{value!r} has no valid time zone offset (from -14:00 to +14:00)")
    zone = "" if offset is None else "Z" if offset == "Z" else f"{offset[0]}{off_h}:{off_m}"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{'.' + fraction if fraction else ''}{zone}"


def datetime_coercer(date_format: str | None) -> Callable[[Any], str]:
    """The coercer of a date field: the grammar, or ``date_format`` when one is given."""
    if date_format:  # CoerceOptions can be made without ImportOptions: check here too
        check_date_format(date_format, "date format")
    with_time = date_format is not None and any(d in date_format for d in ("%H", "%M", "%S", "%I"))
    four_digit_year = date_format is not None and "%Y" in date_format

    def coerce(value: Any) -> str:
        if isinstance(value, bool | list | dict):
            raise wrong_type(value, "a date")
        text = str(value).strip()
        if not date_format:
            return _iso(value, text)
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError as exc:
            if not str(exc).startswith(("time data", "unconverted data")):  # it fits, but no such day
                raise RecordError(f"{value!r} is not a valid date ({exc})") from None
            if four_digit_year and _two_digit_year(text, date_format):
                raise _short_year(value, date_format) from None
            raise RecordError(f"{value!r} does not match the date format {date_format!r}") from None
        if four_digit_year and parsed.year < 1000:  # "0024": four digits, but not a year meant
            raise _short_year(value, date_format)
        if not DATE_RANGE[0] <= parsed.date() <= DATE_RANGE[1]:
            raise _out_of_dates(value)
        if not with_time and parsed.time() == datetime.min.time():
            return parsed.date().isoformat()
        return parsed.isoformat()

    return coerce
