"""Resource keys: in URL paths plain when safe, ``b64(<base64url>)`` when not; compared as the API does."""

from __future__ import annotations

import base64
import re
from typing import Any

__all__ = ["encode_key", "decode_key", "same_key"]

# Keys made only of these characters go into the path as they are.
_SAFE = re.compile(r"[A-Za-z0-9._~-]+\Z")
_B64 = re.compile(r"b64\((?P<data>[A-Za-z0-9_-]*=*)\)\Z")


def encode_key(key: str) -> str:
    """Path segment for ``key``: as is when URL-safe, else ``b64(...)`` without padding."""
    if _SAFE.match(key):
        return key
    data = base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")
    return f"b64({data})"


def decode_key(segment: str) -> str:
    """Inverse of :func:`encode_key`, for a decoded (percent-unquoted) path segment."""
    m = _B64.match(segment)
    if not m:
        return segment
    data = m.group("data").rstrip("=")
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")


def same_key(a: Any, b: Any) -> bool:
    """Keys as the API compares them: trimmed, without regard to case."""
    return a is not None and b is not None and str(a).strip().casefold() == str(b).strip().casefold()
