"""What a request comes back with, how its retries are bounded, and how its sends stand."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from yarl import URL

from importer.client.answers import Response
from importer.client.proof import Proof
from importer.pace import Pace

__all__ = ["Attempt", "Lookup", "LookupUnavailable", "RetryPolicy", "ClientStats", "NoAnswer", "Sending"]


@dataclass(slots=True)
class Attempt:
    """How a request ended after all retries."""

    response: Response | None  # None when no answer ever came
    attempts: int  # requests sent for it, lookups excluded
    error: str | None = None  # why it failed; None when it succeeded (or was found by lookup)
    found_by_lookup: bool = False  # an ambiguous failure turned out to have succeeded
    url: str = ""  # where it was sent
    not_sent: bool = False  # the client was halted: nothing went out
    throttled: int = 0  # 429s answered to it on the way
    waited: float = 0.0  # seconds spent waiting for a write whose answer was lost to land, before a lookup


Lookup = Callable[[], Awaitable[Response | None]]


class LookupUnavailable(Exception):
    """A lookup could not tell whether the record exists; the write must not be repeated."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = Pace.max_attempts
    base: float = Pace.retry_base  # seconds; the n-th retry waits up to base * 2**(n-1)
    cap: float = 30.0
    budget: float = 900.0  # seconds from a request's first send after which it is not retried

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None and retry_after > 0:
            return retry_after
        return random.uniform(0, min(self.cap, self.base * 2 ** min(attempt - 1, 40)))


@dataclass(slots=True)
class ClientStats:
    calls: int = 0  # every HTTP request to the API, lookups included (tokens: see auth)
    retries: int = 0
    throttled: int = 0  # 429 answers
    lookups: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class NoAnswer:
    error: str
    maybe_sent: bool  # the request may have reached the server (and may still be running there)


@dataclass(slots=True)
class Sending:
    """One ``request``: what it sends and how its sends stand."""

    method: str
    url: URL
    url_text: str
    path: str | None  # as given (None for a location followed): tells a collection
    body: bytes | None
    lookup: Lookup | None
    idempotent: bool
    write: bool
    background: bool
    proof: Proof | None
    optional: bool = False  # a read whose 403 or 404 answers for itself: it does not stop the client
    sent: int = 0
    tries: int = 0  # sends that count against max_attempts
    renewed: bool = False
    throttles: int = 0  # 429s answered to it
    resent_unproved: bool = False
    deadline: float = 0.0  # monotonic end of the retry budget, set at the first send
    too_large: str | None = None  # the last answer's body passed the cap
    unknown: str | None = None  # an earlier send of this write may have gone through
    signature: tuple[int, str] | None = None  # how it ended wrongly, for the first-writes watch
    landed: bool = False  # an earlier send's answer was ambiguous: that send may have gone through
    lost: int = 0  # sends whose answer was lost while the write could still land, proved absent after a wait
    waited: float = 0.0  # seconds spent waiting for such a write to land
