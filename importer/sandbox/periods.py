"""The ledger's period fields and the shape each must have; shared by writes, reads and filters."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Period", "PERIODS", "post_period_as_read"]


class Period(NamedTuple):
    pattern: re.Pattern[str]
    shape: str  # as error messages name it


PERIODS: dict[str, Period] = {
    "financialPeriod": Period(re.compile(r"\d{4}(0[1-9]|1[0-2])\Z"), "YYYYMM"),
    "postPeriod": Period(re.compile(r"(0[1-9]|1[0-2])\d{4}\Z"), "MMYYYY"),
}


def post_period_as_read(value: str) -> str:
    """A stored ``postPeriod`` (MMYYYY, as requests send it) as the response schemas give it, YYYYMM.

    Writes check the shape, so anything else here predates that check and is left alone.
    """
    if PERIODS["postPeriod"].pattern.match(value):
        return value[2:] + value[:2]
    return value
