"""Date-time parsing, the one timestamp format the sandbox writes, and date-times as reads answer them.

Stored timestamps are fixed-width UTC strings (``2024-05-01T12:00:00.123Z``), so the list
filters can compare them as strings instead of parsing every record.

Dates are stored as they were sent (``2020-02-03``); reads answer every field the response
schemas type ``date-time`` as a date-time, the way the API does: ``2020-02-03T00:00:00``
(``as_read``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["parse_datetime", "parse_filter_datetime", "now_iso", "to_iso", "as_read"]

# Body values: a date, or an ISO 8601 date-time with optional fraction (up to 7 digits, as
# .NET writes them) and offset.
_BODY = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:?\d{2})?)?\Z"
)
# Filter values: yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss.FFF, and the ISO "T"
# form. A "+" offset usually arrives as a space from an unencoded query string, so a
# trailing " HH:MM" after the seconds is read as a positive offset.
_FILTER = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+ -]\d{2}:?\d{2})?)?\Z"
)


def _build(m: re.Match[str]) -> datetime:
    """Datetime from a match of either pattern; ValueError when a part is out of range."""
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    value = datetime(
        int(year), int(month), int(day),
        int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=tz,
    )
    return value.astimezone(timezone.utc)


def _parse(pattern: re.Pattern[str], text: str) -> datetime | None:
    m = pattern.match(text)
    if m is None:
        return None
    try:
        return _build(m)
    except ValueError:  # the right shape, but not a real date (2020-02-30)
        return None


def parse_datetime(text: str) -> datetime | None:
    """A body date-time as UTC, or None when it is not one. Naive values count as UTC."""
    return _parse(_BODY, text)


def parse_filter_datetime(text: str) -> datetime | None:
    """A query-filter date-time as UTC, or None when it is in none of the accepted forms."""
    return _parse(_FILTER, text.strip())


def as_read(text: str) -> str:
    """A stored date or date-time as a read answers it: a full date-time, as it was sent otherwise.

    ``2020-02-03`` -> ``2020-02-03T00:00:00`` (midnight, no offset, as the API answers a
    document date); ``2020-02-03T10:15`` gains its seconds and ``+0100`` its colon; a
    fraction and an offset that were sent are kept. Anything that is no date is returned as
    it is (writes check the shape, so only records older than that check hold such values).
    """
    m = _BODY.match(text)
    if m is None:
        return text
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    if offset and offset != "Z" and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    time_of_day = f"{hour or '00'}:{minute or '00'}:{second or '00'}"
    return f"{year}-{month}-{day}T{time_of_day}{'.' + fraction if fraction else ''}{offset or ''}"


def to_iso(value: datetime) -> str:
    """The sandbox's fixed-width UTC form, millisecond precision."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_second: list[Any] = [-1, ""]  # the last whole second formatted, reused within it


def now_iso() -> str:
    """Now in the fixed-width form; formats the date part once per second (hot path)."""
    t = time.time()
    whole = int(t)
    if whole != _second[0]:
        _second[0], _second[1] = whole, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(whole))
    return f"{_second[1]}{int((t - whole) * 1000):03d}Z"
