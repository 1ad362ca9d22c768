"""Seeded, reproducible trouble: latency, jitter and faults on write requests.

Faults hit authenticated, non-throttled POST/PUT requests under /v1 only:

- ``500``, ``502``, ``503``: that status with a ``{"message"}`` body; nothing is stored;
- ``reset``: the connection is aborted without an answer; nothing is stored;
- ``slow``: the request is read, held ``slow_ms``, then executed and answered normally
  (a client that timed out meanwhile still gets its record stored);
- ``store-then-fail``: the request is executed (and stored, if valid), then answered with
  a 500 or a reset (the case where a blind retry creates a duplicate).

Faults and latency draw from separate RNGs, so turning jitter on does not change which
requests fail. For a given seed, the n-th POST/PUT always gets the same fate.
"""

from __future__ import annotations

import random

__all__ = ["FaultInjector"]


class FaultInjector:
    """Decides, per request, the added delay and (for writes) the fault, if any."""

    __slots__ = ("rate", "kinds", "latency", "jitter", "slow", "active", "delays", "_rng", "_delay_rng")

    def __init__(
        self,
        seed: int,
        rate: float,
        kinds: tuple[str, ...],
        latency_ms: float,
        jitter_ms: float,
        slow_ms: float,
    ) -> None:
        self.rate = rate
        self.kinds = kinds
        self.latency = latency_ms / 1000.0
        self.jitter = jitter_ms / 1000.0
        self.slow = slow_ms / 1000.0
        self.active = rate > 0 and bool(kinds)  # checked first on the hot path
        self.delays = self.latency > 0 or self.jitter > 0
        self._rng = random.Random(seed)
        self._delay_rng = random.Random(f"{seed}:latency")

    def pick(self) -> str | None:
        """The fault for the next write request, or None. One draw per call, always."""
        if self._rng.random() >= self.rate:
            return None
        return self.kinds[self._rng.randrange(len(self.kinds))]

    def store_then_fail_answer(self) -> str:
        """How a store-then-fail request ends: "500" or "reset"."""
        return "500" if self._rng.random() < 0.5 else "reset"

    def delay(self) -> float:
        """Seconds to hold a /v1 request: latency +/- uniform jitter, never negative."""
        value = self.latency
        if self.jitter:
            value += self._delay_rng.uniform(-self.jitter, self.jitter)
        return value if value > 0 else 0.0
