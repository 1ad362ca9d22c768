"""Fixed-window rate limiting per caller, with the headers the API sends on every answer.

A caller is a client acting for one company (tenant), as the live API keys its windows;
the key is built once per token (auth.py), so both profiles use it at no cost and an
importer loading several companies gets a window per company. A caller's first request
opens its window; the window resets every ``window`` seconds after that (fixed, not
sliding): a caller that burns its quota early waits for the reset, as with the live API.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["FixedWindow"]


class FixedWindow:
    """Counts requests per caller and window; ``hit()`` says whether one may run."""

    __slots__ = ("limit", "window", "_clock", "_windows", "limit_header", "policy_header")

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # caller -> [window start, count]
        self.limit_header = str(limit)
        seconds = int(window) if float(window).is_integer() else window
        self.policy_header = f"{limit};w={seconds}"

    def hit(self, client: str) -> tuple[bool, int, int]:
        """Count one request: (allowed, remaining, whole seconds until the reset, >= 1)."""
        now = self._clock()
        w = self._windows.get(client)
        if w is None:
            w = self._windows[client] = [now, 0]
        elif now - w[0] >= self.window:
            w[0] += ((now - w[0]) // self.window) * self.window
            w[1] = 0
        reset = math.ceil(self.window - (now - w[0]))
        if reset < 1:
            reset = 1
        if w[1] >= self.limit:
            return False, 0, reset
        w[1] += 1
        return True, self.limit - int(w[1]), reset

    def headers(self, remaining: int, reset: int) -> dict[str, str]:
        """The four ``X-RateLimit-*`` headers for one answer."""
        return {
            "X-RateLimit-Limit": self.limit_header,
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Policy": self.policy_header,
        }

    def reset(self) -> None:
        """Forget every window (used by /sandbox/reset)."""
        self._windows.clear()
