"""What the API answered: status, headers and a body read under a size cap.

A body is read in chunks and given up on past the cap, so an endless or huge
answer costs at most the cap in memory. Whether a body is JSON is decided by
parsing it once (cached), not by trusting ``Content-Type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import hdrs

__all__ = ["Response", "AnswerTooLarge", "read_body", "size_text", "describe_failure", "DEFAULT_MAX_BODY"]

DEFAULT_MAX_BODY = 4 * 1024 * 1024
_UNPARSED: Any = object()  # Response._data before the body was parsed
_NOT_JSON: Any = object()  # ... after it failed to parse


class AnswerTooLarge(Exception):
    """A body grew past the cap; always caught inside the client."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the answer exceeded {size_text(cap)}")
        self.cap = cap


def size_text(size: int) -> str:
    """``4 MiB``, ``64 KiB``, or bytes when neither is whole."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


async def read_body(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, or :class:`AnswerTooLarge` as soon as it passes ``cap`` bytes."""
    length = resp.content_length
    if length is not None and hdrs.CONTENT_ENCODING not in resp.headers:
        if length > cap:
            raise AnswerTooLarge(cap)
        return await resp.read()  # framed by Content-Length: exactly that many bytes come
    # Chunked, unframed or compressed (a small gzip can inflate without bound): count as it comes.
    buffer = bytearray()
    async for chunk in resp.content.iter_any():
        buffer += chunk
        if len(buffer) > cap:
            raise AnswerTooLarge(cap)
    return bytes(buffer)


@dataclass(slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    _data: Any = field(default=_UNPARSED, init=False, repr=False, compare=False)

    def _parsed(self) -> Any:
        data = self._data
        if data is _UNPARSED:
            data = _NOT_JSON
            if self.body:
                try:
                    data = orjson.loads(self.body)
                except orjson.JSONDecodeError:
                    pass
            self._data = data
        return data

    def json(self) -> Any:
        """The body's JSON; None when the body is empty or not JSON (see :attr:`is_json`)."""
        data = self._parsed()
        return None if data is _NOT_JSON else data

    @property
    def is_json(self) -> bool:
        """The body is a JSON document (an empty body is not)."""
        return self._parsed() is not _NOT_JSON

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def not_json_reason(self) -> str | None:
        """Why the body cannot be taken as data, or None when it is empty or JSON."""
        if not self.body or self.is_json:
            return None
        return f"the answer is not JSON ({self.content_type or 'no Content-Type'})"

    @property
    def location(self) -> str | None:
        return self.headers.get(hdrs.LOCATION)

    def redirect_reason(self) -> str:
        """What a 3xx says, for an error message."""
        target = (self.location or "").strip()
        return f"redirected to {target[:200]}" if target else f"HTTP {self.status} redirect without a Location"

    def error_text(self) -> str:
        """The API's own error message, from either of its error shapes."""
        data = self.json()
        if isinstance(data, dict):
            for name in ("ExceptionMessage", "message", "Message", "error_description", "error"):
                if data.get(name):
                    return str(data[name])
        text = self.body[:500].decode("utf-8", "replace").strip()
        return text or f"HTTP {self.status}"


def describe_failure(exc: BaseException) -> str:
    """Why no answer came, in words (never the request's headers)."""
    if isinstance(exc, TimeoutError):
        return "timed out waiting for the API"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed by the server before it answered"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut off or malformed"
    if isinstance(exc, aiohttp.ClientOSError):
        return f"connection error: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"a malformed answer ({type(exc).__name__}: {str(exc.message)[:200]})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"
