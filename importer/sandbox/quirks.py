"""The live profile's transport quirks: what integrators report the live API does on the wire.

- **Error bodies** come in every reported shape, picked per error by a seeded RNG: the
  IPPException object, ``{"message": "VismaId: <guid>. Error: ..."}``, ``{"Message": ...}``,
  plain text (``text/plain``) and, where the status alone says why (401, 404, 429, 5xx
  faults, ...), an empty body. The status is kept, and so is the message text wherever the
  reason lies in it (validation and business errors).
- **A failed POST may answer 500**: a share of the 400s a POST earns answer 500 with the
  same validation message, as the document allows (BadRequest or InternalServerError).
- **Location names another host**: a 201's ``Location`` points at ``LOCATION_BASE``; the
  key is still its last path segment.
- **The same failed write is refused a third time within five minutes**: after a POST or
  PUT with the same caller (client and company), path and body has failed twice (400, or
  500 in its place) within ``REPEAT_WINDOW`` seconds, the next one is not run but answered
  429 with ``Retry-After`` (seconds until the older failure leaves the window), as the old
  knowledge base lists it among the rate limits. Injected faults do not count: retrying
  an outage is legitimate, re-sending a refused record is not. Another company sending
  the same body is another caller, never refused for this one's failures.

For one seed, the n-th error gets the same shape and the n-th failed POST the same status.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from importer.sandbox.answers import Answer, ipp_error

__all__ = ["LiveQuirks", "RepeatedFailures", "LOCATION_BASE", "ERROR_SHAPES", "REPEAT_WINDOW"]

LOCATION_BASE = "http://erp-node-3.invalid"  # a node name that can never resolve
POST_500_SHARE = 0.25
REPEAT_WINDOW = 300.0  # seconds
REPEAT_ALLOWED = 2  # failures of one request tolerated per window
_SWEEP_ABOVE = 4096

# Shapes that carry the message text, and the one that does not.
_TELLING = ("ipp", "vismaid", "Message", "text")
ERROR_SHAPES = (*_TELLING, "empty")
_JSON = "application/json; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"


def _message_of(body: bytes) -> tuple[str, dict[str, Any] | None]:
    """The message text of a sandbox error body, and the body itself if it is an IPPException."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace"), None
    if not isinstance(data, dict):
        return "", None
    if data.get("ExceptionType") == "IPPException":
        return str(data.get("ExceptionMessage", "")), data
    return str(data.get("message") or data.get("Message") or ""), None


class LiveQuirks:
    """Seeded decisions of the live profile: error shapes, 500 for 400, the Location host."""

    __slots__ = ("_shapes", "_statuses", "location_base", "repeats")

    def __init__(self, seed: int, clock: Callable[[], float]) -> None:
        # Separate streams, so a change in how often errors occur on one path does not
        # reshuffle decisions on another.
        self._shapes = random.Random(f"{seed}:error-shapes")
        self._statuses = random.Random(f"{seed}:post-500")
        self.location_base = LOCATION_BASE
        self.repeats = RepeatedFailures(clock)

    def post_failure_status(self) -> int:
        """The status a POST that earned a 400 answers: mostly 400, sometimes 500."""
        return 500 if self._statuses.random() < POST_500_SHARE else 400

    def endpoint_error(self, answer: Answer, method: str, repeat: bytes | None) -> Answer:
        """An endpoint's error as the live API answers it: maybe 500 for 400, in some shape.

        ``repeat`` is the write's key in ``repeats`` (None for reads), counted if refused.
        """
        refused = answer.status == 400  # a validation or business error: its text is the reason
        if refused:
            if repeat is not None:
                self.repeats.record(repeat)
            if method == "POST":
                answer = answer._replace(status=self.post_failure_status())
        return self.shape_error(answer, keep_message=refused)

    def background_answer(self, answer: Answer) -> Answer:
        """A background request's outcome: its error content in one of the reported shapes."""
        if answer.status < 400:
            return answer
        return self.shape_error(answer, keep_message=answer.status == 400)

    def shape_error(self, answer: Answer, keep_message: bool) -> Answer:
        """``answer`` (an error) in a shape picked by the RNG; same status, same message.

        ``keep_message``: the reason is in the text (a validation error), so never empty.
        """
        message, ipp = _message_of(answer.body)
        pool = _TELLING if keep_message or not message else ERROR_SHAPES
        shape = pool[self._shapes.randrange(len(pool))]
        headers = dict(answer.headers or {})
        headers.pop("Content-Type", None)
        if shape == "ipp":
            body = orjson.dumps(ipp) if ipp is not None else ipp_error(message, answer.status).body
            headers["Content-Type"] = _JSON
        elif shape == "vismaid":
            prefixed = message if message.startswith("VismaId: ") else f"VismaId: {uuid.uuid4()}. Error: {message}"
            body = orjson.dumps({"message": prefixed})
            headers["Content-Type"] = _JSON
        elif shape == "Message":
            body = orjson.dumps({"Message": message})
            headers["Content-Type"] = _JSON
        elif shape == "text":
            body = message.encode()
            headers["Content-Type"] = _TEXT
        else:
            body = b""
        return Answer(answer.status, body, headers)


class RepeatedFailures:
    """Remembers failed writes by a digest of (caller, method, path, body) for five minutes."""

    __slots__ = ("_clock", "_failures")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._failures: dict[bytes, list[float]] = {}  # digest -> failure times, oldest first

    @staticmethod
    def key(caller: str, method: str, path: str, body: bytes) -> bytes:
        digest = hashlib.blake2b(digest_size=16)
        for part in (caller.encode(), method.encode(), path.encode()):
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
        digest.update(body)
        return digest.digest()

    def retry_after(self, key: bytes) -> int | None:
        """Seconds to wait if this request already failed too often lately, else None."""
        times = self._failures.get(key)
        if not times:
            return None
        now = self._clock()
        times[:] = [t for t in times if now - t < REPEAT_WINDOW]
        if len(times) < REPEAT_ALLOWED:
            return None
        return max(1, math.ceil(times[0] + REPEAT_WINDOW - now))

    def record(self, key: bytes) -> None:
        """Count one failure of this request."""
        now = self._clock()
        if len(self._failures) > _SWEEP_ABOVE:
            self._failures = {
                k: ts for k, ts in self._failures.items() if ts and now - ts[-1] < REPEAT_WINDOW
            }
        self._failures.setdefault(key, []).append(now)

    def clear(self) -> None:
        self._failures.clear()
