"""The ledger's period fields and the shape each must have; shared by writes and list filters."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Period", "PERIODS"]


class Period(NamedTuple):
    pattern: re.Pattern[str]
    shape: str  # as error messages name it


PERIODS: dict[str, Period] = {
    "financialPeriod": Period(re.compile(r"\d{4}(0[1-9]|1[0-2])\Z"), "YYYYMM"),
    "postPeriod": Period(re.compile(r"(0[1-9]|1[0-2])\d{4}\Z"), "MMYYYY"),
}
