"""Field facts about the API's request schemas, generated from its OpenAPI document.

``fields("CustomerUpdateDto")["mainAddress"]`` tells how a field travels: its kind
(scalar, object, array, map), scalar type, enum, whether it is wrapped as
``{"value": ...}`` and, for objects and arrays, the nested schema's name.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from importer.schema._tables import TABLES

__all__ = ["Field", "fields", "schema_names"]


class Field(NamedTuple):
    name: str
    kind: str  # "scalar" | "object" | "array" | "map"
    type: str | None  # "string" | "integer" | "number" | "boolean" | "datetime" | "uuid"
    wrapped: bool
    enum: tuple[str, ...] | None
    ref: str | None


@cache
def fields(schema: str) -> dict[str, Field]:
    """The fields of ``schema``, by name. Raises KeyError for an unknown schema."""
    return {name: Field(name, *spec) for name, spec in TABLES[schema].items()}


def schema_names() -> list[str]:
    return sorted(TABLES)
