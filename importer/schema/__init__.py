"""Field facts about the API's request schemas, generated from its OpenAPI document.

``fields("CustomerUpdateDto")["mainAddress"]`` tells how a field travels: its kind
(scalar, object, array, map), scalar type, enum, whether it is wrapped as
``{"value": ...}``, for objects and arrays the nested schema's name, and the limits
the document puts on its values (``fields("CustomerUpdateDto")["numberOfEmployees"]``
is an int32: ``minimum`` -2147483648, ``maximum`` 2147483647), and whether its wrapper may
hold null (``nullable``: ``{"value": null}`` clears a string, never an int or a date).

``read_fields("CustomerInvoiceDto")`` gives the same facts for the *response* schemas, what
a GET answers: plain values and nested references (``customer: {number, name}``).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from importer.schema._read_tables import READ_TABLES
from importer.schema._tables import TABLES

__all__ = ["Field", "fields", "read_fields", "schema_names", "read_schema_names", "unwrap_value"]


class Field(NamedTuple):
    name: str
    kind: str  # "scalar" | "object" | "array" | "map"
    type: str | None  # "string" | "integer" | "number" | "boolean" | "datetime" | "uuid"
    wrapped: bool
    enum: tuple[str, ...] | None
    ref: str | None
    minimum: int | float | None = None  # for numbers; int32 / int64 ranges included
    maximum: int | float | None = None
    max_length: int | None = None  # for strings
    required: bool = False  # listed in the schema's own ``required``
    nullable: bool = False  # a wrapper that may hold null: ``{"value": null}`` clears it


@cache
def fields(schema: str) -> dict[str, Field]:
    """The fields of ``schema``, by name. Raises KeyError for an unknown schema."""
    return {name: Field(name, *spec) for name, spec in TABLES[schema].items()}


@cache
def read_fields(schema: str) -> dict[str, Field]:
    """The fields of the response schema ``schema`` (what reads answer). KeyError if unknown."""
    return {name: Field(name, *spec) for name, spec in READ_TABLES[schema].items()}


def schema_names() -> list[str]:
    return sorted(TABLES)


def read_schema_names() -> list[str]:
    return sorted(READ_TABLES)


def unwrap_value(value: object) -> object:
    """A field's value as sent: ``x`` out of a ``{"value": x}`` wrapper, else as it is.

    What comes out is any JSON value: callers narrow it (``isinstance``) before they use it as one kind.
    """
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value
