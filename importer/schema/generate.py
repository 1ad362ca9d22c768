"""Generate ``importer/schema/_tables.py`` from the API's OpenAPI document.

Run from the repository root::

    python -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json

Only the facts the importer and the sandbox need are written: for every request
schema reachable from a POST/PUT body, each field's kind, scalar type, enum,
whether it travels inside a ``{"value": ...}`` wrapper and whether that wrapper may
hold null, and the limits the document sets on its values (integer ranges from
``format: int32`` / ``int64`` and ``minimum`` / ``maximum``, ``maxLength``, and the
schema's ``required`` list). The same facts are written for every *response*
schema a GET or an action answers (``CustomerDto``, ``CustomerInvoiceDto``, ...)
into ``_read_tables.py``: what a read looks like, beside what a write sends.
"""

from __future__ import annotations

import json
import pprint
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("_tables.py")
READ_OUTPUT = Path(__file__).with_name("_read_tables.py")
READ_ROOTS = (
    "CustomerDto",
    "CustomerInvoiceDto",
    "CustomerCreditNoteDto",
    "CustomerDebitNoteDto",
    "CreateDunningLetterActionResultDto",
    "ReleaseInvoiceActionResultDto",
    "ReleaseCustomerCreditNoteActionResultDto",
    "ReleaseCustomerDebitNoteActionResultDto",
    "BackgroundRequestStateDto",
    "BackgroundApiAcceptedDto",
)
ROOTS = (
    "CustomerUpdateDto",
    "CustomerInvoiceUpdateDto",
    "CustomerCreditNoteUpdateDto",
    "CustomerDebitNoteUpdateDto",
    "CreateDunningLetterActionDto",
)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _scalar_type(spec: dict[str, Any]) -> str:
    t = spec.get("type", "string")
    fmt = spec.get("format")
    if t == "string" and fmt in ("date-time", "date"):
        return "datetime"
    if t == "string" and fmt == "uuid":
        return "uuid"
    if t in ("integer", "number", "boolean", "string"):
        return t
    raise ValueError(f"unsupported scalar type {spec!r}")


# The range a JSON integer of each OpenAPI format can hold.
_INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _limits(spec: dict[str, Any]) -> tuple[int | float | None, int | float | None, int | None]:
    """(minimum, maximum, maxLength) of a scalar: the narrower of its format and its bounds."""
    low: int | float | None = None
    high: int | float | None = None
    if spec.get("type") == "integer":
        low, high = _INTEGER_RANGES.get(spec.get("format", ""), (None, None))
    if "minimum" in spec:
        low = spec["minimum"] if low is None else max(low, spec["minimum"])
    if "maximum" in spec:
        high = spec["maximum"] if high is None else min(high, spec["maximum"])
    return low, high, spec.get("maxLength")


def _nullable_wrapper(name: str, value: dict[str, Any]) -> bool:
    """Whether ``{"value": null}`` is a value the wrapper can hold.

    The wrappers are .NET generics: ``DtoValueOfNullableOf<T>`` holds null, and so does a
    wrapper of a reference type (a plain string, a nested object); a wrapper of a value
    type (int, decimal, bool, DateTime, Guid, an enum) cannot, so the API refuses null there.
    """
    if "NullableOf" in name:
        return True
    if "$ref" in value or value.get("type") == "object":
        return True
    return value.get("type") == "string" and "format" not in value and "enum" not in value


def _entry(kind: str, type_: str | None, wrapped: bool, enum: tuple[str, ...] | None, ref: str | None,
           limits: tuple[Any, Any, Any], required: bool, nullable: bool) -> tuple[Any, ...]:
    """A field's table entry; the trailing limits and flags are left out when unset (the defaults)."""
    entry: tuple[Any, ...] = (kind, type_, wrapped, enum, ref, *limits, required, nullable)
    defaults = (None, None, None, False, False)
    while len(entry) > 5 and entry[-1] == defaults[len(entry) - 6]:
        entry = entry[:-1]
    return entry


class _Generator:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.tables: dict[str, dict[str, tuple]] = {}

    def _is_wrapper(self, spec: dict[str, Any]) -> bool:
        props = spec.get("properties", {})
        return list(props) == ["value"]

    def _describe(self, spec: dict[str, Any]) -> tuple:
        """(kind, type, enum, ref) of an unwrapped value."""
        if "$ref" in spec:
            name = _ref_name(spec["$ref"])
            self.visit(name)
            return ("object", None, None, name)
        if spec.get("type") == "array":
            item = spec["items"]
            if "$ref" in item:
                name = _ref_name(item["$ref"])
                self.visit(name)
                return ("array", None, None, name)
            return ("array", _scalar_type(item), None, None)
        if spec.get("type") == "object" and not spec.get("properties"):
            return ("map", None, None, None)
        enum = tuple(spec["enum"]) if "enum" in spec else None
        return ("scalar", _scalar_type(spec), enum, None)

    def visit(self, name: str) -> None:
        if name in self.tables:
            return
        self.tables[name] = {}  # placeholder breaks reference cycles
        table: dict[str, tuple] = {}
        required = set(self.schemas[name].get("required", ()))
        for field, spec in self.schemas[name].get("properties", {}).items():
            wrapped = nullable = False
            if "$ref" in spec:
                wrapper = _ref_name(spec["$ref"])
                target = self.schemas[wrapper]
                if self._is_wrapper(target):
                    wrapped = True
                    spec = target["properties"]["value"]
                    nullable = _nullable_wrapper(wrapper, spec)
            kind, type_, enum, ref = self._describe(spec)
            limits = _limits(spec) if kind == "scalar" else (None, None, None)
            table[field] = _entry(kind, type_, wrapped, enum, ref, limits, field in required, nullable)
        self.tables[name] = table


_READ_DOC = (
    '"""Response tables generated from the Visma.net ERP OpenAPI document. Do not edit.\n\n'
    "What a GET or an action answers, schema by schema (``CustomerDto``, ``CustomerInvoiceDto``,\n"
    "their nested reference objects, ...), in the same entry shape as ``_tables.TABLES``; a\n"
    "read DTO carries plain values, so ``wrapped`` is always False. Regenerate with\n"
    "``python -m importer.schema.generate PATH/TO/customer-ledger.openapi.json``.\n"
    '"""\n\n'
)
# The tables' type, so a type checker reads each entry as a tuple, not as the join of them all.
_TYPED = "from typing import Any\n\n"
_ENTRIES = "dict[str, dict[str, tuple[Any, ...]]]"


def generate_read(document: dict[str, Any]) -> str:
    """The text of ``_read_tables.py``: every response schema reachable from READ_ROOTS."""
    gen = _Generator(document["components"]["schemas"])
    for root in READ_ROOTS:
        gen.visit(root)
    body = pprint.pformat(dict(sorted(gen.tables.items())), width=120, sort_dicts=True)
    return _READ_DOC + _TYPED + f"READ_TABLES: {_ENTRIES} = {body}\n"


def generate(document: dict[str, Any]) -> str:
    gen = _Generator(document["components"]["schemas"])
    for root in ROOTS:
        gen.visit(root)
    body = pprint.pformat(dict(sorted(gen.tables.items())), width=120, sort_dicts=True)
    info = document.get("info", {})
    return (
        '"""Field tables generated from the Visma.net ERP OpenAPI document. Do not edit.\n\n'
        f"Source: {info.get('title', '?')} {info.get('version', '?')}; regenerate with\n"
        "``python -m importer.schema.generate PATH/TO/customer-ledger.openapi.json``.\n\n"
        "Each schema maps field name -> (kind, type, wrapped, enum, ref[, minimum, maximum,\n"
        "max_length, required, nullable]): kind is scalar | object | array | map; type is the scalar\n"
        "type (string, integer, number, boolean, datetime, uuid); wrapped means the API sends\n"
        'the value as ``{"value": ...}``; enum lists the allowed strings; ref names the nested\n'
        "schema; minimum and maximum bound a number (int32 / int64 ranges included), max_length\n"
        "a string; required marks a field the schema lists as required; nullable marks a wrapper\n"
        'that may hold null (``{"value": null}`` clears the field). Trailing limits that are not\n'
        "set are left out.\n"
        '"""\n\n'
        + _TYPED
        + f"TABLES: {_ENTRIES} = {body}\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m importer.schema.generate OPENAPI.json", file=sys.stderr)
        return 2
    document = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    OUTPUT.write_text(generate(document), encoding="utf-8")
    READ_OUTPUT.write_text(generate_read(document), encoding="utf-8")
    print(f"wrote {OUTPUT} and {READ_OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
