"""The two shapes of an NDJSON record that is not flat, and the JSON types of its values.

An NDJSON record whose values include objects or arrays is one of two things:

- **API-shaped**: the request body itself, its fields in ``{"value": ...}`` wrappers
  (:func:`is_api_shaped`: a wrapper anywhere). It is checked field by field, never
  rebuilt (:func:`shaped_scalar`), and a value the API would refuse for its JSON type
  is refused here: text where a number goes, a number where text goes, an array or an
  object where one value goes, a bare value where the field takes a wrapper.
- **Natural**: what other systems export. Plain values, objects for nested fields
  (``{"mainAddress": {"city": "Oslo"}}``), and the document's lines as a plain array of
  objects under the entity's line field (``invoiceLines``, ``lines``).
  :func:`natural_parts` turns it into the flat columns a CSV row would have
  (``mainAddress.city``), and each line into ``line.`` columns, so it is mapped and
  coerced exactly as a CSV file with those columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from importer.errors import RecordError
from importer.mapping.coerce import Coercer, json_kind
from importer.mapping.columns import LINE_PREFIX
from importer.schema import Field, fields

__all__ = ["is_api_shaped", "natural_parts", "shaped_scalar", "check_loose", "check_shaped", "cannot_clear"]

# What each scalar type of the API takes in JSON (bool is checked first: it is an int).
_TAKES = {"integer": (int | float | Decimal, "a whole number"), "number": (int | float | Decimal, "a number"),
          "boolean": (bool, "true or false")}
_INT64 = (-(2**63), 2**64 - 1)  # what a JSON body can carry at all (orjson writes 64-bit integers)


def is_api_shaped(value: Any) -> bool:
    """Whether a ``{"value": ...}`` wrapper is anywhere in ``value`` (no recursion)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "value" in node:
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        else:
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


def _flat(obj: dict[str, Any], prefix: str, where: str) -> Iterator[tuple[str, Any]]:
    """``(dotted column, value)`` of a natural object; an array where one value goes is refused."""
    for name, value in obj.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{name}.", f"{where}{name}.")
        elif isinstance(value, list):
            raise RecordError(f"the field takes one value, not {json_kind(value)}", where + name)
        else:
            yield prefix + name, value


def natural_parts(data: dict[str, Any], line_field: str | None) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """A natural record as flat header columns and, when it has them, its lines' ``line.`` columns.

    Raises ``RecordError`` naming the field for an array where one value goes, and for a
    line field that is not an array of objects.
    """
    header = {name: value for name, value in data.items() if name != line_field}
    columns = dict(_flat(header, "", ""))
    if line_field is None or line_field not in data:
        return columns, None
    items = data[line_field]
    if not isinstance(items, list):
        raise RecordError(f"the document's lines are an array of objects, not {json_kind(items)}", line_field)
    lines = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RecordError(f"a line is an object, not {json_kind(item)}", f"{line_field}[{i}]")
        lines.append(dict(_flat(item, LINE_PREFIX, f"{line_field}[{i}].")))
    return columns, lines


def shaped_scalar(spec: Field, value: Any, coerce: Coercer) -> Any:
    """An API-shaped record's scalar value (wrapper removed), checked; the value to send.

    The value is sent as written, except a whole number the reader kept exact (a
    ``Decimal``), which goes as the integer it is. Raises ``RecordError`` (no column).
    """
    if isinstance(value, dict | list):
        what = "a whole number" if spec.type == "integer" else _TAKES.get(spec.type or "", (str, "text"))[1]
        raise RecordError(f"the field takes {what}, not {json_kind(value)}")
    kind, what = _TAKES.get(spec.type or "", (str, "text"))
    if spec.type in ("datetime", "uuid"):
        what = "a date" if spec.type == "datetime" else "a UUID"
    if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
        raise RecordError(f"the field takes {what}, not {json_kind(value)}")
    result = coerce(value)
    return result if isinstance(value, Decimal) else value


def check_loose(value: Any, column: str) -> None:
    """A value under a name the schema does not know (left to the API): refuse only what
    no JSON body can carry, a number the reader kept exact (a Decimal) or past 64 bits."""
    stack: list[tuple[Any, str]] = [(value, column)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}") for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, Decimal) or (isinstance(node, int) and not _INT64[0] <= node <= _INT64[1]):
            raise RecordError(f"{node} has more digits than a JSON number sent to the API keeps exactly", where)


# What a field that cannot be cleared holds instead, for the error that refuses a null.
_NOT_NULL = {"integer": "an integer", "number": "a number", "boolean": "a boolean", "datetime": "a date",
             "uuid": "a UUID", "string": "this text"}


def cannot_clear(field: Field) -> str:
    """Why ``{"value": null}`` is refused for ``field`` (one whose wrapper holds no null)."""
    what = "a value from its list" if field.enum else _NOT_NULL.get(field.type or "", "this field")
    return f"cannot be cleared: the API takes no null for {what}; give a value or leave the field out"


def check_shaped(obj: dict[str, Any], schema: str, line_field: str | None,
                 checker: Callable[[str, Field], Coercer], prefix: str = "") -> None:
    """Refuse what the API would: a null in a wrapper that holds none (an integer, a
    date, an enum...), and scalar values their field does not take (an int32 out of
    range, a value of the wrong JSON type, a bare value where the field takes a
    wrapper). Values are checked, never changed, except a whole number the reader
    kept exact, sent as the integer it is. Names below the top level that the schema
    does not know are left to the API, which answers for them, once they hold nothing
    a JSON body cannot carry."""
    table = fields(schema)
    for name, value in obj.items():
        spec = table.get(name)
        column = prefix + name
        if spec is None:
            check_loose(value, column)
            continue
        holder, slot = obj, name
        if spec.wrapped and isinstance(value, dict) and "value" in value:
            holder, slot, value = value, "value", value["value"]
            if value is None:
                if not spec.nullable:
                    raise RecordError(cannot_clear(spec), column)
                continue
        elif spec.wrapped and value is not None:
            raise RecordError('the field takes {"value": ...} in a record in the API\'s shape, not '
                              + json_kind(value), column)
        if value is None:
            continue
        if spec.kind == "scalar":
            try:
                sent = shaped_scalar(spec, value, checker(schema, spec))
            except RecordError as exc:
                raise RecordError(exc.reason, column) from None
            if sent is not value:
                holder[slot] = sent
        elif spec.kind == "object" and spec.ref:
            if not isinstance(value, dict):
                raise RecordError(f"the field takes an object, not {json_kind(value)}", column)
            check_shaped(value, spec.ref, line_field, checker, column + ".")
        elif spec.kind == "array" and spec.ref:
            inner = LINE_PREFIX if not prefix and name == line_field else column + "[]."
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise RecordError(f"the field takes an array of objects, not {json_kind(value)}"
                                  + ("" if not isinstance(value, list) else " with other items"), column)
            for item in value:
                check_shaped(item, spec.ref, line_field, checker, inner)
        else:
            check_loose(value, column)
