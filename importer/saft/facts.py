"""The shape of the schema facts ``_schema.py`` holds (written by ``generate.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Kind", "FieldFact", "SchemaFacts"]

# group: an element with children; the others are the simple types the reader converts to.
Kind = Literal["group", "string", "decimal", "integer", "date", "boolean"]


@dataclass(frozen=True, slots=True)
class FieldFact:
    kind: Kind
    repeated: bool = False  # maxOccurs above one, on the element or a compositor around it
    max_length: int | None = None  # xs:maxLength or xs:length of a string
    minimum: str | None = None  # xs:minInclusive of a number, as written in the schema
    maximum: str | None = None  # xs:maxInclusive


@dataclass(frozen=True, slots=True)
class SchemaFacts:
    """One schema version: the element paths the reader reads (below AuditFile), each with its type."""

    schema: str  # "1.10" or "1.30": the name of the schema file
    declared: str  # the version the schema file declares of itself
    fields: dict[str, FieldFact]
