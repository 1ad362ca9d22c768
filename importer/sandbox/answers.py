"""What an API call answers: a plain result, or an error in one of the API's two shapes.

Validation and business errors come as an ``IPPException`` document; authentication,
missing resources and throttling come as ``{"message": ...}``.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import orjson

__all__ = ["Answer", "ApiError", "ipp_error", "message_error", "json_answer"]

_VALIDATION_FAULT_CODE = "12002"  # carried by every IPPException the sandbox raises


class Answer(NamedTuple):
    """Status, JSON body (b"" for none) and extra headers of one executed call."""

    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None


def json_answer(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, orjson.dumps(data), headers)


class ApiError(Exception):
    """An answer other than success; raised anywhere below the handler, turned into a response."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers

    def answer(self) -> Answer:
        return Answer(self.status, self.body, self.headers)


def ipp_error(message: str, status: int = 400) -> ApiError:
    """A validation/business error as the ERP answers it."""
    body = {
        "ExceptionType": "IPPException",
        "ExceptionMessage": message,
        "ExceptionFaultCode": _VALIDATION_FAULT_CODE,
        "ExceptionMessageID": f"{_VALIDATION_FAULT_CODE}_{uuid.uuid4()}",
        "ExceptionDetails": "",
    }
    return ApiError(status, orjson.dumps(body))


def message_error(status: int, message: str, headers: dict[str, str] | None = None) -> ApiError:
    """A gateway-style error (401, 403, 404, 405, 429, 5xx faults)."""
    return ApiError(status, orjson.dumps({"message": message}), headers)
