"""What a JSON value is, in words, for the errors that refuse a value of the wrong type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from importer.errors import RecordError

__all__ = ["json_kind", "wrong_type", "key_text"]


def json_kind(value: Any) -> str:
    """What a JSON value is, for an error: ``a JSON array``, ``a JSON boolean (true)``..."""
    if isinstance(value, bool):
        return f"a JSON boolean ({'true' if value else 'false'})"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, int | float | Decimal):
        return f"a JSON number ({value})"
    return f"a {type(value).__name__}"


def wrong_type(value: Any, takes: str) -> RecordError:
    return RecordError(f"the field takes {takes}, not {json_kind(value)}")


def key_text(value: object, column: str | None) -> str | None:
    """A record's key as a unit carries it: text, or None when the record has none.

    Any other JSON value (a number, true, a list, an object) is no key: the record is
    invalid, and the error names the key's field.
    """
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"the key takes text, not {json_kind(value)}", column)
