"""Column names → schema paths, compiled once per header.

A column is the API field path, dotted for nested objects (``mainAddress.postalCode``).
``line.<field>`` columns belong to a document's lines. ``documentKey`` groups the
rows of an auto-numbered document and is never sent. For dunning letters the
``customerNumber`` column names the customer in the URL.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import cache
from typing import Any

from importer.entities import Entity
from importer.errors import RecordError, UnknownColumnError
from importer.mapping.assemble import Assembled, assemble
from importer.mapping.coerce import PERIOD_LAYOUTS, CoerceOptions, coercer_for
from importer.schema import Field, fields
from importer.sources.base import ERROR_COLUMN

__all__ = [
    "Column", "Build", "compile_columns", "valid_columns", "field_for_column",
    "LINE_PREFIX", "DOCUMENT_KEY", "ERROR_COLUMN", "ColumnInfo", "describe_columns", "REQUIRED_TO_CREATE",
    "LEDGER_TOTALS", "ledger_totals",
]

LINE_PREFIX = "line."
DOCUMENT_KEY = "documentKey"
# The deepest dotted path a flat column may name.
_MAX_DEPTH = 4

# Fields the API refuses a create without, whatever the schema says (its create DTOs
# list none as required): the live API and the sandbox answer 400 for these.
REQUIRED_TO_CREATE: dict[str, tuple[str, ...]] = {
    "customer": ("name",),
    "invoice": ("customerNumber",),
    "credit-note": ("customerNumber",),
    "debit-note": ("customerNumber",),
}

# A document's figures the ledger works out and every read answers, which no create or
# update takes: ``export`` writes them for the reader, an import reads past them (it says
# so once) and the ledger works them out again from what is sent.
LEDGER_TOTALS: tuple[str, ...] = ("amount", "balance", "vatTotal", "status")


def ledger_totals(entity: Entity) -> tuple[str, ...]:
    """The :data:`LEDGER_TOTALS` columns of ``entity``: a document's; none for customers."""
    return LEDGER_TOTALS if entity.line_field and not entity.is_action else ()


Segments = tuple[tuple[str, bool], ...]  # (field name, wrapped) from the root to the leaf
Build = Callable[[dict[str, Any]], Assembled]  # a record -> (header, line, key, group)


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # as in the header
    target: str  # "header" | "line" | "key" (path key, not sent) | "group" (documentKey)
    segments: Segments
    coerce: Callable[[Any], Any]


def _resolve(schema: str, path: list[str]) -> tuple[Segments, Field] | None:
    segments: list[tuple[str, bool]] = []
    table = fields(schema)
    for i, part in enumerate(path):
        field = table.get(part)
        if field is None:
            return None
        segments.append((part, field.wrapped))
        last = i == len(path) - 1
        if field.kind == "scalar":
            return (tuple(segments), field) if last else None
        if field.kind != "object" or last or field.ref is None:
            return None  # arrays and maps are not addressable from a flat column
        table = fields(field.ref)
    return None


def _locate(entity: Entity, column: str) -> tuple[str, Segments, Field] | None:
    """(target "header" or "line", schema path, scalar field) of a flat column, or None."""
    schema, path, target = entity.schema, column, "header"
    if entity.line_field and column.startswith(LINE_PREFIX):
        schema = fields(entity.schema)[entity.line_field].ref or ""
        path, target = column[len(LINE_PREFIX):], "line"
    resolved = _resolve(schema, path.split("."))
    return (target, *resolved) if resolved is not None else None


@cache
def field_for_column(entity: Entity, column: str) -> Field | None:
    """The scalar schema field a flat column names (``mainAddress.city``, ``line.quantity``)."""
    located = _locate(entity, column)
    return located[2] if located is not None else None


@cache
def valid_columns(entity: Entity) -> tuple[str, ...]:
    """Every flat column name the entity accepts, for error messages and docs."""

    def walk(schema: str, prefix: str, depth: int) -> Iterable[str]:
        for name, field in fields(schema).items():
            if field.kind == "scalar":
                yield prefix + name
            elif field.kind == "object" and field.ref and depth < _MAX_DEPTH:
                yield from walk(field.ref, f"{prefix}{name}.", depth + 1)

    names = list(walk(entity.schema, "", 1))
    if entity.line_field:
        line_schema = fields(entity.schema)[entity.line_field].ref
        assert line_schema is not None
        names += walk(line_schema, LINE_PREFIX, 1)
        names.append(DOCUMENT_KEY)
    if entity.action_key_field:
        names.append(entity.action_key_field)
    return tuple(names)


def _compile_one(entity: Entity, name: str, options: CoerceOptions) -> Column:
    if entity.action_key_field and name == entity.action_key_field:
        return Column(name, "key", ((name, False),), _text)
    if entity.line_field and name == DOCUMENT_KEY:
        return Column(name, "group", ((name, False),), _text)
    located = _locate(entity, name)
    if located is None:
        close = difflib.get_close_matches(name, valid_columns(entity), n=1, cutoff=0.6)
        raise UnknownColumnError(name, entity.name, close[0] if close else None)
    target, segments, field = located
    return Column(name, target, segments, coercer_for(field, options))


def compile_columns(
    entity: Entity, names: Iterable[str], options: CoerceOptions, *, shaped: bool = True
) -> Build:
    """Compile a header into the function that maps its records (see ``assemble``).

    Raises ``UnknownColumnError`` on the first unknown column; :data:`LEDGER_TOTALS` are read
    past. ``shaped``: a JSON object
    or array in a cell marks the record as API-shaped (``ShapedRecord``); False for text
    sources, where such a cell is an error.
    """
    skipped = {ERROR_COLUMN, *ledger_totals(entity)}
    columns = tuple(_compile_one(entity, name, options) for name in names if name not in skipped)
    return assemble(columns, entity.key_field, shaped=shaped)


def _text(value: Any) -> str:
    if isinstance(value, dict | list | bool) or value is None:
        raise RecordError("expected text")
    return value if isinstance(value, str) else str(value)


# -- describing columns, for ``importer columns`` and ``map init`` ----------------------------


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """What one column takes, as ``importer columns`` shows it."""

    name: str
    type: str  # "string" | "integer" | "number" | "boolean" | "date" | "uuid"
    enum: tuple[str, ...] | None = None  # the values the API accepts
    format: str | None = None  # "YYYYMM" / "MMYYYY" for periods, "date" for dates
    minimum: int | float | None = None
    maximum: int | float | None = None
    max_length: int | None = None
    required: bool = False  # the API refuses a create without it
    key: bool = False  # names the record: update and upsert need it
    line: bool = False  # a document line's column (``line.*``)
    note: str | None = None  # what is special about it, in words

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclass_fields(self)}
        out["enum"] = list(self.enum) if self.enum is not None else None
        return out


def _scalar_info(entity: Entity, name: str, field: Field, required: set[str]) -> ColumnInfo:
    kind = "date" if field.type == "datetime" else (field.type or "string")
    period = PERIOD_LAYOUTS.get(field.name) if field.type == "string" else None
    fmt = period or ("date" if kind == "date" else None)  # dates: ISO 8601 unless a date format says otherwise
    return ColumnInfo(
        name, kind, field.enum, fmt, field.minimum, field.maximum, field.max_length,
        required=field.required or name in required, key=name == entity.key_field,
        line=name.startswith(LINE_PREFIX) and entity.line_field is not None,
    )


def describe_columns(entity: Entity) -> list[ColumnInfo]:
    """Every column of ``entity`` with its type, allowed values, format, limits and need."""
    required = set(REQUIRED_TO_CREATE.get(entity.name, ()))
    out: list[ColumnInfo] = []
    for name in valid_columns(entity):
        if entity.action_key_field and name == entity.action_key_field:
            out.append(ColumnInfo(name, "string", required=True, key=True,
                                  note="the customer the action is for (in the URL, not the body)"))
        elif entity.line_field and name == DOCUMENT_KEY:
            out.append(ColumnInfo(name, "string", note="groups the rows of one auto-numbered document; not sent"))
        else:
            field = field_for_column(entity, name)
            assert field is not None  # valid_columns lists only scalar fields
            out.append(_scalar_info(entity, name, field, required))
    return out


def column_details(info: ColumnInfo) -> str:
    """``info``'s allowed values, format, limits and role, in words (one table cell)."""
    parts: list[str] = []
    if info.key and info.note is None:  # an action's key is explained by its note
        parts.append("the record's key (update and upsert need it)")
    if info.enum:
        parts.append("one of " + ", ".join(info.enum))
    if info.format == "date":
        parts.append("date: ISO 8601 (2024-12-31), or the map's / --date-format layout")
    elif info.format:
        parts.append(f"period {info.format}")
    if info.minimum is not None or info.maximum is not None:
        low = "" if info.minimum is None else f"{info.minimum}"
        high = "" if info.maximum is None else f"{info.maximum}"
        parts.append(f"from {low} to {high}" if low and high else (f"at least {low}" if low else f"at most {high}"))
    if info.max_length is not None:
        parts.append(f"at most {info.max_length} characters")
    if info.note:
        parts.append(info.note)
    return "; ".join(parts)
