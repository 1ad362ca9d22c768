"""Reading the rate-limit headers without believing nonsense.

``X-RateLimit-Limit``/``-Remaining``/``-Reset`` are whole numbers; ``Reset`` is
seconds until the window turns (an older system sent an epoch time, which is
turned into seconds). ``X-RateLimit-Policy`` gives the window, as in
``15000;w=3600``; without it the window is an hour. ``Retry-After`` is seconds
(whole or decimal) or an HTTP date. A value that is negative, not finite, not a
number, or absurd (a Reset past the window, a Remaining above the Limit, a Limit
above :data:`MAX_LIMIT`) is ignored; no wait is longer than the window.
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import timezone

from multidict import istr

__all__ = [
    "DEFAULT_WINDOW", "MAX_LIMIT", "MAX_WINDOW", "BAD", "POLICY", "LIMIT", "REMAINING", "RESET",
    "count", "retry_after_seconds", "policy_window", "epoch_reset",
]

# The header names, as aiohttp's case-insensitive headers look them up fastest (read on
# every answer); a plain dict finds them as the strings they are.
POLICY, LIMIT, REMAINING, RESET = (
    istr(name) for name in ("X-RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))

DEFAULT_WINDOW = 3600.0
MAX_LIMIT = 10_000_000
MAX_WINDOW = 7 * 86400.0  # a policy window longer than a week is not believed
BAD = -1  # what :func:`count` gives for a value that is there but unusable
_EPOCH_FLOOR = 1_000_000_000  # Reset values this large are epoch seconds (2001 on)


def count(value: str | None) -> int | None:
    """A whole, non-negative header number; None when absent, :data:`BAD` when unusable."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        try:
            decimal = float(value)
        except ValueError:
            return BAD
        if not math.isfinite(decimal):
            return BAD
        number = int(decimal)
    return number if number >= 0 else BAD


def epoch_reset(reset: int, window: float, now_epoch: float | None = None) -> float | None:
    """Seconds left when ``reset`` is an epoch time within the coming window, else None."""
    if reset < _EPOCH_FLOOR:
        return None
    left = reset - (time.time() if now_epoch is None else now_epoch)
    return left if 0 <= left <= window else None


def retry_after_seconds(value: str, now_epoch: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (>= 0); None when it is neither seconds nor a date."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now_epoch is None else now_epoch
    return max(when.timestamp() - now, 0.0)


def policy_window(value: str) -> float | None:
    """The window in seconds of ``X-RateLimit-Policy`` (``100;w=3600``, first policy); None if unusable."""
    first = value.split(",", 1)[0]
    for part in first.split(";")[1:]:
        name, _, number = part.partition("=")
        if name.strip().lower() == "w":
            try:
                window = float(number.strip())
            except ValueError:
                return None
            return window if math.isfinite(window) and 0 < window <= MAX_WINDOW else None
    return None
