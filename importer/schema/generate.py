"""Generate ``importer/schema/_tables.py`` from the API's OpenAPI document.

Run from the repository root::

    python -m importer.schema.generate ../shared/visma-openapi/customer-ledger.openapi.json

Only the facts the importer and the sandbox need are written: for every request
schema reachable from a POST/PUT body, each field's kind, scalar type, enum and
whether it travels inside a ``{"value": ...}`` wrapper.
"""

from __future__ import annotations

import json
import pprint
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("_tables.py")
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
        for field, spec in self.schemas[name].get("properties", {}).items():
            wrapped = False
            if "$ref" in spec:
                target = self.schemas[_ref_name(spec["$ref"])]
                if self._is_wrapper(target):
                    wrapped = True
                    spec = target["properties"]["value"]
            kind, type_, enum, ref = self._describe(spec)
            table[field] = (kind, type_, wrapped, enum, ref)
        self.tables[name] = table


def generate(document: dict[str, Any]) -> str:
    gen = _Generator(document["components"]["schemas"])
    for root in ROOTS:
        gen.visit(root)
    body = pprint.pformat(dict(sorted(gen.tables.items())), width=100, sort_dicts=True)
    info = document.get("info", {})
    return (
        '"""Field tables generated from the Visma.net ERP OpenAPI document. Do not edit.\n\n'
        f"Source: {info.get('title', '?')} {info.get('version', '?')}; regenerate with\n"
        "``python -m importer.schema.generate PATH/TO/customer-ledger.openapi.json``.\n\n"
        "Each schema maps field name -> (kind, type, wrapped, enum, ref):\n"
        "kind is scalar | object | array | map; type is the scalar type (string, integer,\n"
        "number, boolean, datetime, uuid); wrapped means the API sends the value as\n"
        '``{"value": ...}``; enum lists the allowed strings; ref names the nested schema.\n'
        '"""\n\n'
        f"TABLES = {body}\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m importer.schema.generate OPENAPI.json", file=sys.stderr)
        return 2
    document = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    OUTPUT.write_text(generate(document), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
