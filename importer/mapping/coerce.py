"""Turning cell text into the JSON value a schema type asks for.

Each coercer takes the raw value (a string from CSV, any JSON value from NDJSON)
and returns the value to send, or raises ``RecordError`` with the reason.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from importer.errors import RecordError
from importer.schema import Field

__all__ = ["CoerceOptions", "coercer_for", "parse_bool", "is_text_coercer"]

Coercer = Callable[[Any], Any]

_TRUE = frozenset({"true", "1", "yes", "ja", "y", "j"})
_FALSE = frozenset({"false", "0", "no", "nei", "n"})
_INT = re.compile(r"[+-]?\d+\Z")
# Spaces people put in numbers as thousands separators (plain, no-break, thin).
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009")
# Periods: financialPeriod is YYYYMM, postPeriod MMYYYY; both six digits.
_PERIOD_FORMATS = {"financialPeriod": "YYYYMM", "postPeriod": "MMYYYY"}


@dataclass(frozen=True, slots=True)
class CoerceOptions:
    decimal_comma: bool = False
    date_format: str | None = None  # strptime format, e.g. "%d.%m.%Y"; None: ISO 8601


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(f"{value!r} is not a boolean (use true/false, 1/0, yes/no or ja/nei)")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise RecordError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().translate(_GROUPING)
    if not _INT.match(text):
        raise RecordError(f"{value!r} is not a whole number")
    return int(text)


def _number(decimal_comma: bool) -> Coercer:
    def coerce(value: Any) -> float | int:
        if value.__class__ is str and value.isdigit() and value.isascii():
            return int(value)  # the common cell, "50000": no separators, sign or decimals
        if isinstance(value, bool):
            raise RecordError(f"{value!r} is not a number")
        if isinstance(value, int | float):
            result = value
        else:
            text = str(value).strip().translate(_GROUPING)
            if decimal_comma:
                if "." in text and "," in text:
                    text = text.replace(".", "")  # 1.234,50: dots group thousands
                text = text.replace(",", ".")
            elif "," in text:
                raise RecordError(
                    f"{value!r} is not a number (a decimal comma needs --decimal-comma)"
                )
            try:
                result = float(text)
            except ValueError:
                raise RecordError(f"{value!r} is not a number") from None
            if result.is_integer() and "." not in text and "e" not in text.lower():
                result = int(result)
        if isinstance(result, float) and not math.isfinite(result):
            raise RecordError(f"{value!r} is not a finite number")
        return result

    return coerce


def _datetime(date_format: str | None) -> Coercer:
    def coerce(value: Any) -> str:
        text = str(value).strip()
        if date_format:
            try:
                parsed = datetime.strptime(text, date_format)
            except ValueError:
                raise RecordError(f"{value!r} does not match the date format {date_format!r}") from None
            if parsed.time() == datetime.min.time() and not any(
                d in date_format for d in ("%H", "%M", "%S", "%I")
            ):
                return parsed.date().isoformat()
            return parsed.isoformat()
        try:
            if len(text) == 10:
                return date.fromisoformat(text).isoformat()
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(
                f"{value!r} is not an ISO date (YYYY-MM-DD); pass --date-format for other layouts"
            ) from None
        return text

    return coerce


def _uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise RecordError(f"{value!r} is not a UUID") from None


def _string(value: Any) -> str:
    if type(value) is str:  # noqa: E721 - the hot path: CSV cells are always str
        return value
    if isinstance(value, dict | list):
        raise RecordError("expected text, got a JSON " + type(value).__name__)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def is_text_coercer(coerce: Coercer) -> bool:
    """True for the plain-text coercer, which returns a ``str`` unchanged."""
    return coerce is _string


def _period(name: str) -> Coercer:
    layout = _PERIOD_FORMATS[name]
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
    """The coercer for a scalar field, honouring enums, periods and the options."""
    if field.name in _PERIOD_FORMATS and field.type == "string":
        return _period(field.name)
    base: Coercer
    match field.type:
        case "integer":
            base = _integer
        case "number":
            base = _number(options.decimal_comma)
        case "boolean":
            base = parse_bool
        case "datetime":
            base = _datetime(options.date_format)
        case "uuid":
            base = _uuid
        case _:
            base = _string
    if field.enum:
        return _enum(field.enum, base)
    return base
