"""The OpenAPI document's response schemas as a JSON-schema checker (draft 2020-12), for the tests
that hold the sandbox's answers against them. ``OPENAPI`` is None when ../shared is not here."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker

__all__ = ["OPENAPI", "FORMATS", "openapi_document", "response_schema", "validator"]

_DOC = Path("shared/visma-openapi/customer-ledger.openapi.json")
OPENAPI = next((p / _DOC for p in Path(__file__).resolve().parents if (p / _DOC).is_file()), None)
FORMATS = FormatChecker(formats=())
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?\Z")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """ISO 8601 as the API writes it: date, time of day, optional fraction and offset."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value[:19])  # a real day and time (no 2020-02-30, no 25:00)
    return True


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


@cache
def openapi_document() -> dict[str, Any]:
    assert OPENAPI is not None
    return orjson.loads(OPENAPI.read_bytes())


def response_schema(method: str, template: str, status: int) -> dict[str, Any]:
    """The schema the document gives the answer of ``method template`` with ``status``."""
    paths = openapi_document()["paths"]
    response = paths[template][method.lower()]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


@cache
def validator(method: str, template: str, status: int) -> Draft202012Validator:
    schema = {**response_schema(method, template, status), "components": openapi_document()["components"]}
    return Draft202012Validator(schema, format_checker=FORMATS)
