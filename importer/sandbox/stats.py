"""Counters a rehearsal is judged by: requests, throttling, faults, refused duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importer.sandbox.config import FAULT_KINDS

__all__ = ["Stats"]


@dataclass(slots=True)
class Stats:
    """Plain counters, bumped inline on the hot path (no locks: one event loop)."""

    requests: int = 0  # every /v1 request received
    throttled: int = 0  # answered 429
    duplicates_refused: int = 0  # POSTs refused because the key already existed
    tokens_issued: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    by_status: dict[int, int] = field(default_factory=dict)  # status actually sent -> count

    def clear(self) -> None:
        """Back to zero, in place (the app holds on to this object)."""
        self.requests = self.throttled = self.duplicates_refused = self.tokens_issued = 0
        self.faults = dict.fromkeys(FAULT_KINDS, 0)
        self.by_status = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "duplicates_refused": self.duplicates_refused,
            "tokens_issued": self.tokens_issued,
            "faults": dict(self.faults),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        """Counters saved by ``to_json`` (a continued rehearsal keeps counting)."""
        stats = cls(
            requests=int(data.get("requests", 0)),
            throttled=int(data.get("throttled", 0)),
            duplicates_refused=int(data.get("duplicates_refused", 0)),
            tokens_issued=int(data.get("tokens_issued", 0)),
        )
        stats.faults.update({k: int(v) for k, v in data.get("faults", {}).items() if k in stats.faults})
        stats.by_status = {int(k): int(v) for k, v in data.get("by_status", {}).items()}
        return stats
