"""Request bodies checked as strictly as the API checks them, and unwrapped on the way.

Each request schema of ``importer.schema`` is compiled once into nested closures: one
dictionary lookup and one type test per field at request time, no schema walks. A check
both validates and strips the ``{"value": ...}`` wrappers, so the store only ever sees
plain values. Errors name the field by its dotted path (``mainAddress.postalCode``,
``invoiceLines[2].quantity``, list indexes 0-based).

Deliberate choices, where the API's serializer is looser than this:

- field names must match exactly (the API's deserializer ignores case);
- ``"field": null`` counts as not sent; ``{"value": null}`` clears a field whose wrapper
  may hold null (``Field.nullable``: strings, nested objects, ``DtoValueOfNullableOf*``)
  and is refused for the rest (integers, decimals, booleans, dates, enums);
- enum values are matched without regard to case and stored in the API's spelling;
- integers accept a whole-valued float (``2.0``), strings never accept numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from importer.sandbox.answers import ApiError, ipp_error
from importer.sandbox.dates import parse_datetime
from importer.schema import Field, fields

__all__ = ["Validator", "parse_body"]

# (value, path prefix, field name) -> plain value; raises ApiError naming prefix + name.
_Check = Callable[[Any, str, str], Any]
# (object, path prefix) -> plain dict
_ObjectCheck = Callable[[dict[str, Any], str], dict[str, Any]]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
               list: "an array", dict: "an object", type(None): "null"}


def _shown(value: Any) -> str:
    """Short description of a wrong value, for the error message."""
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return kind
    text = orjson.dumps(value).decode()
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} ({text})"


def _is_wrapper(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and "value" in value


def _bad(prefix: str, name: str, expected: str, value: Any) -> ApiError:
    hint = ""
    if _is_wrapper(value):
        hint = ' This field is not wrapped: send the bare value, not {"value": ...}.'
    return ipp_error(
        f"Invalid value for '{prefix}{name}': expected {expected}, got {_shown(value)}.{hint}"
    )


def _exact(pytype: type, expected: str) -> _Check:
    """A checker taking values of exactly ``pytype`` and nothing else (no conversions)."""

    def check_exact(v: Any, prefix: str, name: str) -> Any:
        if type(v) is pytype:
            return v
        raise _bad(prefix, name, expected, v)

    return check_exact


def _scalar_check(f: Field) -> _Check:
    """A checker for one scalar type (closures per type keep the hot path branch-free)."""
    if f.enum:
        canonical = {e.casefold(): e for e in f.enum}
        expected = "one of " + ", ".join(f.enum)

        def check_enum(v: Any, prefix: str, name: str) -> Any:
            if type(v) is str:
                found = canonical.get(v.casefold())
                if found is not None:
                    return found
            raise _bad(prefix, name, expected, v)

        return check_enum
    kind = f.type
    if kind == "string":
        return _exact(str, "a string")
    if kind == "integer":
        low = f.minimum if f.minimum is not None else -(2**63)
        high = f.maximum if f.maximum is not None else 2**63 - 1
        in_range = f"an integer from {low} to {high}"

        def check_integer(v: Any, prefix: str, name: str) -> Any:
            t = type(v)
            if t is float and v.is_integer():
                v, t = int(v), int
            if t is int:
                if low <= v <= high:  # the API's int32 / int64 (a larger value is a 400 there too)
                    return v
                raise _bad(prefix, name, in_range, v)
            raise _bad(prefix, name, "an integer", v)

        return check_integer
    if kind == "number":
        def check_number(v: Any, prefix: str, name: str) -> Any:
            t = type(v)
            if t is int or t is float:
                return v
            raise _bad(prefix, name, "a number", v)

        return check_number
    if kind == "boolean":
        return _exact(bool, "true or false")
    if kind == "datetime":
        def check_datetime(v: Any, prefix: str, name: str) -> Any:
            if type(v) is str and parse_datetime(v) is not None:
                return v
            raise _bad(prefix, name, "a date (YYYY-MM-DD) or an ISO 8601 date-time", v)

        return check_datetime
    if kind == "uuid":
        def check_uuid(v: Any, prefix: str, name: str) -> Any:
            if type(v) is str and _UUID.match(v):
                return v
            raise _bad(prefix, name, "a UUID (8-4-4-4-12 hex digits)", v)

        return check_uuid
    raise ValueError(f"field {f.name}: unsupported scalar type {kind!r}")


_map_check = _exact(dict, "an object")


class _Compiler:
    """Turns schema tables into checkers, each schema once (nested ones are shared)."""

    def __init__(self) -> None:
        self._objects: dict[str, _ObjectCheck] = {}

    def object(self, schema: str) -> _ObjectCheck:
        found = self._objects.get(schema)
        if found is not None:
            return found
        table: dict[str, tuple[bool, bool, _Check]] = {}  # name -> (wrapped, nullable, check)

        def check_object(data: dict[str, Any], prefix: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            get = table.get
            for name, value in data.items():
                spec = get(name)
                if spec is None:
                    if name == "value" and len(data) == 1:
                        where = f"'{prefix[:-1]}'" if prefix else "the request body"
                        raise ipp_error(
                            f"Invalid value for {where}: this object is not wrapped; "
                            'send its fields directly, not {"value": {...}}.'
                        )
                    raise ipp_error(f"Unknown field '{prefix}{name}' ({schema} has no field {name!r}).")
                if value is None:
                    continue
                wrapped, nullable, check = spec
                if wrapped:
                    if type(value) is not dict or len(value) != 1 or "value" not in value:
                        raise ipp_error(
                            f"Invalid value for '{prefix}{name}': expected {{\"value\": ...}}, "
                            f"got {_shown(value)}."
                        )
                    value = value["value"]
                    if value is None:
                        if not nullable:
                            raise ipp_error(
                                f"'{prefix}{name}' cannot be null: this field takes a value inside "
                                '{"value": ...}; leave the field out to keep what it holds.'
                            )
                        out[name] = None
                        continue
                out[name] = check(value, prefix, name)
            return out

        self._objects[schema] = check_object  # registered before the fields: cycles resolve
        for f in fields(schema).values():
            table[f.name] = (f.wrapped, f.nullable, self._field(f))
        return check_object

    def _field(self, f: Field) -> _Check:
        if f.kind == "scalar":
            return _scalar_check(f)
        if f.kind == "map":
            return _map_check
        if f.kind == "object":
            return self._nested(f.ref or "")
        if f.kind == "array":
            item = self._nested(f.ref) if f.ref else _scalar_check(f)

            def check_array(v: Any, prefix: str, name: str) -> Any:
                if type(v) is not list:
                    raise _bad(prefix, name, "an array", v)
                return [item(x, prefix, f"{name}[{i}]") for i, x in enumerate(v)]

            return check_array
        raise ValueError(f"field {f.name}: unsupported kind {f.kind!r}")

    def _nested(self, schema: str) -> _Check:
        """A checker for an object of ``schema`` (an object field, or one array item)."""
        check_object = self.object(schema)

        def check_nested(v: Any, prefix: str, name: str) -> Any:
            if type(v) is dict:
                return check_object(v, f"{prefix}{name}.")
            raise _bad(prefix, name, "an object", v)

        return check_nested


_COMPILER = _Compiler()


class Validator:
    """A compiled request schema: ``Validator(schema)(data)`` -> the unwrapped dict, or ApiError.

    Cheap to build more than once: the compiler compiles each schema once and shares it.
    """

    __slots__ = ("schema", "_check")

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._check = _COMPILER.object(schema)

    def __call__(self, data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise ipp_error(f"The request body must be a JSON object ({self.schema}), got {_shown(data)}.")
        return self._check(data, "")


def parse_body(body: bytes) -> Any:
    """The request's JSON, or a 400 the way the API answers unreadable bodies."""
    if not body:
        raise ipp_error("The request body is empty; a JSON object was expected.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ipp_error(f"The request body is not valid JSON: {exc}.") from None

