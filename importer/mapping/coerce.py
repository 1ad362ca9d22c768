"""Turning cell text into the JSON value a schema type asks for.

Each coercer takes the raw value (a string from CSV, any JSON value from NDJSON)
and returns the value to send, or raises ``RecordError`` with the reason.

Numbers in text are read one way or refused, never guessed: under the decimal-comma
convention ``,`` marks the decimals and ``.``, a space or ``'`` groups the digits
before it in threes (``1.250.000,00``, ``25.000``); under the decimal-point
convention it is the mirror image (``1,250,000.00``). A value that fits neither
rule of its convention is an error naming the convention and how to switch it.
The digits are kept as text until the end, so the value sent is the one written.

NDJSON gives JSON values. A number is checked as a cell with the same digits would be:
``decimal.Decimal`` is how the reader hands over one a double cannot hold (more than 15
significant digits), and a number field refuses it, never rounds it; a text field takes
it as written, an integer field when it is whole and in range. A value of the wrong JSON
type (``true`` or an array where text goes, an object where a number goes) is refused,
naming what the field takes and what it got.

Dates: :mod:`importer.mapping.dates`.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from importer.errors import RecordError
from importer.mapping.dates import DATE_FORMS, DATE_RANGE, check_date_format, date_format_problem, datetime_coercer
from importer.mapping.jsontypes import json_kind, wrong_type
from importer.schema import Field

__all__ = [
    "Coercer", "CoerceOptions", "coercer_for", "parse_bool", "is_text_coercer", "read_number", "read_decimal",
    "check_date_format", "date_format_problem", "SWITCH_TO_COMMA", "SWITCH_TO_POINT", "PERIOD_LAYOUTS",
    "DATE_FORMS", "DATE_RANGE", "json_kind",
]

Coercer = Callable[[Any], Any]

_TRUE = frozenset({"true", "1", "yes", "ja", "y", "j"})
_FALSE = frozenset({"false", "0", "no", "nei", "n"})
# Periods: financialPeriod is YYYYMM, postPeriod MMYYYY; both six digits. Public: the
# column listing and a map's period formats read the same table the coercer checks with.
PERIOD_LAYOUTS: dict[str, str] = {"financialPeriod": "YYYYMM", "postPeriod": "MMYYYY"}

# -- numbers ------------------------------------------------------------------------------

# Spaces people put between thousands: plain, no-break, narrow no-break, thin.
_SPACES = " \u00a0\u202f\u2009"
# A double keeps 15 significant decimal digits exactly; more would be changed on the way.
_MAX_DIGITS = 15
# The hints that say how to switch conventions; a mapping file words them its own way.
SWITCH_TO_POINT = "pass --no-decimal-comma"
SWITCH_TO_COMMA = "pass --decimal-comma"
# Python's float() reads these; a ledger file never means them.
_FLOAT_LITERAL = re.compile(r"[+-]?(?:[0-9][0-9.,]*e[+-]?[0-9]+|nan|inf(?:inity)?|0x[0-9a-f]+)\Z", re.I)
_NUMBER_ALPHABET = frozenset("0123456789+-()',." + _SPACES)


@dataclass(frozen=True, slots=True)
class _Convention:
    pattern: re.Pattern[str]
    rule: str  # the convention in words, for errors


def _convention(mark: str, groups: str, name: str, other: str, switch: str) -> _Convention:
    g = re.escape(groups)
    # sign before, the integer part plain or in groups of three with one grouping
    # character, the decimals, a minus after.
    pattern = re.compile(
        rf"(?P<lead>[+-])?(?P<int>[0-9]+|[0-9]{{1,3}}(?P<g>[{g}])[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*)?"
        rf"(?:{re.escape(mark)}(?P<frac>[0-9]+))?(?P<trail>-)?"
    )
    rule = (f"is not a number written with a decimal {name} ({mark!r} marks the decimals; {groups[0]!r}, a space "
            f"or \"'\" may part the digits before it in groups of three, one kind per value); "
            f"if {other!r} marks the decimals, {switch}")
    return _Convention(pattern, rule)


_COMMA = _convention(",", "." + _SPACES + "'", "comma", ".", SWITCH_TO_POINT)
_POINT = _convention(".", "," + _SPACES + "'", "point", ",", SWITCH_TO_COMMA)


def _not_a_number(value: Any, text: str, convention: _Convention) -> RecordError:
    if _FLOAT_LITERAL.match(text):
        return RecordError(f"{value!r} is not a number (exponents, hex, nan and inf are not read; write the digits)")
    if not text or not set(text) <= _NUMBER_ALPHABET or not any(c.isdigit() for c in text):
        return RecordError(f"{value!r} is not a number")
    return RecordError(f"{value!r} {convention.rule}")


def _digits(value: Any, decimal_comma: bool) -> tuple[bool, str, str | None]:
    """(negative, integer digits, decimal digits or None) of a number in text, or RecordError."""
    convention = _COMMA if decimal_comma else _POINT
    text = str(value).strip()
    inner, bracketed = text, text[:1] == "(" and text[-1:] == ")"
    if bracketed:  # accounting exports write negatives as (500,00)
        inner = text[1:-1]
    found = convention.pattern.fullmatch(inner)
    if found is None:
        raise _not_a_number(value, text, convention)
    lead, whole, frac, trail, group = found.group("lead", "int", "frac", "trail", "g")
    if (whole is None and frac is None) or (lead and trail) or (bracketed and (lead or trail)):
        raise _not_a_number(value, text, convention)
    if group is not None:
        whole = whole.replace(group, "")
    return bracketed or lead == "-" or trail is not None, whole or "0", frac


def read_number(value: Any, decimal_comma: bool) -> int | float:
    """A number in text as its exact value: int when written without decimals, else float.

    Raises ``RecordError`` for text that fits neither rule of its convention, and for
    more significant digits than a double keeps (the API's numbers are doubles).
    """
    negative, whole, frac = _digits(value, decimal_comma)
    significant = (whole + (frac or "").rstrip("0")).lstrip("0")
    if len(significant) > _MAX_DIGITS:
        raise RecordError(f"{value!r} has more than {_MAX_DIGITS} significant digits, "
                          "more than the API keeps exactly")
    # float() of the decimal text is its nearest double, as Decimal(text) would give.
    number: int | float = int(whole) if frac is None else float(f"{whole}.{frac}")
    return -number if negative else number


def read_decimal(value: Any, decimal_comma: bool) -> Decimal:
    """A number in text as an exact Decimal, read as :func:`read_number` reads it (a map's arithmetic)."""
    negative, whole, frac = _digits(value, decimal_comma)
    number = Decimal(f"{whole}.{frac}" if frac is not None else whole)
    return -number if negative else number


def _too_precise(value: Any) -> RecordError:
    return RecordError(f"{value} has more than {_MAX_DIGITS} significant digits, more than the API keeps "
                       "exactly; it is not rounded")


def _whole_decimal(value: Decimal, low: int | float | None, high: int | float | None) -> int:
    """A JSON number the reader kept exact (a Decimal), as the whole number it is."""
    if value.adjusted() > 19:  # past any 64-bit range: not worth converting
        raise _out_of_range(value, low, high, "whole numbers")
    if value != value.to_integral_value():
        raise RecordError(f"{value} is not a whole number")
    return int(value)


def _out_of_range(value: Any, low: int | float | None, high: int | float | None, what: str) -> RecordError:
    if low is not None and high is not None:
        span = f"from {low} to {high}"
    else:
        span = f"at least {low}" if low is not None else f"at most {high}"
    return RecordError(f"{value!r} is out of range: the field takes {what} {span}")


def _integer(decimal_comma: bool, field: Field) -> Coercer:
    low, high = field.minimum, field.maximum
    if low is None and high is None:  # what a JSON body can carry to the API at all
        low, high = -(2**63), 2**63 - 1

    def coerce(value: Any) -> int:
        if value.__class__ is str and len(value) <= 18 and value.isdigit() and value.isascii():
            number = int(value)  # "50000": no separators or sign
        elif isinstance(value, bool | list | dict):
            raise wrong_type(value, "a whole number")
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise RecordError(f"{value!r} is not a whole number")
            number = int(value)
        elif isinstance(value, Decimal):
            number = _whole_decimal(value, low, high)
        else:
            negative, whole, frac = _digits(value, decimal_comma)
            if frac is not None:
                raise RecordError(f"{value!r} is not a whole number")
            whole = whole.lstrip("0") or "0"
            if len(whole) > 19:  # past any 64-bit range: not worth converting
                raise _out_of_range(value, low, high, "whole numbers")
            number = -int(whole) if negative else int(whole)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _out_of_range(value, low, high, "whole numbers")
        return number

    return coerce


def _number(decimal_comma: bool, field: Field) -> Coercer:
    # The common cells take a short cut: "50000", and "1234.50" in its convention.
    plain = re.compile(r"-?[0-9]+,[0-9]+\Z" if decimal_comma else r"-?[0-9]+\.[0-9]+\Z").match

    def coerce(value: Any) -> float | int:
        if value.__class__ is str:
            if value.isdigit() and value.isascii() and len(value) <= 15:
                return int(value)
            if len(value) <= 16 and plain(value):  # at most 15 digits
                return float(value.replace(",", ".") if decimal_comma else value)
            return read_number(value, decimal_comma)
        if isinstance(value, bool | list | dict):
            raise wrong_type(value, "a number")
        if isinstance(value, float):  # the reader's: at most 15 digits, the value written
            if not math.isfinite(value):
                raise RecordError(f"{value!r} is not a finite number")
            return value
        if isinstance(value, int):
            if not -(10**_MAX_DIGITS) < value < 10**_MAX_DIGITS:
                raise _too_precise(value)
            return value
        if isinstance(value, Decimal):  # the reader keeps only what a double cannot hold
            raise _too_precise(value)
        return read_number(value, decimal_comma)

    low, high = field.minimum, field.maximum
    if low is None and high is None:
        return coerce

    def bounded(value: Any) -> float | int:
        result = coerce(value)
        if (low is not None and result < low) or (high is not None and result > high):
            raise _out_of_range(value, low, high, "numbers")
        return result

    return bounded


# -- the rest ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoerceOptions:
    decimal_comma: bool = False
    date_format: str | None = None  # strptime format, e.g. "%d.%m.%Y"; None: ISO 8601


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list | dict):
        raise wrong_type(value, "true or false")
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(f"{value!r} is not a boolean (use true/false, 1/0, yes/no or ja/nei)")


def _uuid(value: Any) -> str:
    if isinstance(value, bool | list | dict):
        raise wrong_type(value, "a UUID")
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise RecordError(f"{value!r} is not a UUID") from None


def _string(value: Any) -> str:
    if type(value) is str:  # noqa: E721 - the hot path: CSV cells are always str
        return value
    if isinstance(value, bool | list | dict) or value is None:
        raise wrong_type(value, "text")
    return value if isinstance(value, str) else str(value)  # a JSON number: its digits, as read


def is_text_coercer(coerce: Coercer) -> bool:
    """True for the plain-text coercer, which returns a ``str`` unchanged."""
    return coerce is _string


def _bounded_text(limit: int) -> Coercer:
    def coerce(value: Any) -> str:
        text = _string(value)
        if len(text) > limit:
            raise RecordError(f"{len(text)} characters is too long: the field takes at most {limit}")
        return text

    return coerce


def _period(name: str) -> Coercer:
    layout = PERIOD_LAYOUTS[name]
    month = slice(layout.index("MM"), layout.index("MM") + 2)  # where the month sits

    def coerce(value: Any) -> str:
        text = _string(value).strip()
        if (len(text) != 6 or not text.isdigit() or not text.isascii()
                or not 1 <= int(text[month]) <= 12):
            raise RecordError(f"{value!r} is not a period in the format {layout}")
        return text

    return coerce


def _enum(allowed: tuple[str, ...], base: Coercer) -> Coercer:
    by_lower = {a.lower(): a for a in allowed}

    def coerce(value: Any) -> str:
        text = base(value).strip()
        try:
            return by_lower[text.lower()]
        except KeyError:
            raise RecordError(f"{value!r} is not one of {', '.join(allowed)}") from None

    return coerce


def coercer_for(field: Field, options: CoerceOptions) -> Coercer:
    """The coercer for a scalar field, honouring enums, periods, limits and the options."""
    if field.name in PERIOD_LAYOUTS and field.type == "string":
        return _period(field.name)
    base: Coercer
    match field.type:
        case "integer":
            base = _integer(options.decimal_comma, field)
        case "number":
            base = _number(options.decimal_comma, field)
        case "boolean":
            base = parse_bool
        case "datetime":
            base = datetime_coercer(options.date_format)
        case "uuid":
            base = _uuid
        case _:
            base = _bounded_text(field.max_length) if field.max_length is not None else _string
    if field.enum:
        return _enum(field.enum, base)
    return base
