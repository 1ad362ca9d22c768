"""A company snapshot on disk: one JSON file a person can read and diff.

Layout (keys in this order; each kind's records sorted by id, each record's fields in
the order kinds.py lists them)::

    {
      "format": "importer-company/1",
      "company": "Demo AS",
      "takenAt": "2026-12-05T07:00:00Z",        # when it was read; not compared
      "numbering": {"invoice": {"series": "ARINVOICE", "allowManualOnImports": false}, ...},
      "customerDimension": {...},               # GET /v1/dimension/CUSTOMER, or null
      "unavailable": {"salespersons": 403},     # kinds the API would not list (only if any)
      "creditTerms": [...], "vats": [...], ...  # one list per kind (kinds.py)
    }

``numbering`` is the one part a person writes: the API does not say which series each
entity uses, nor whether a series allows manual numbering on imports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from importer.company.kinds import KIND_NAMES, kind
from importer.company.model import NUMBERED, Company, Numbering
from importer.errors import ConfigError

__all__ = ["FORMAT", "load_company", "dump_company", "company_document", "company_from_document"]

FORMAT = "importer-company/1"


def company_document(company: Company, taken_at: str | None = None) -> dict[str, Any]:
    """The JSON-ready document of ``company`` (what ``dump_company`` writes)."""
    doc: dict[str, Any] = {"format": FORMAT, "company": company.name}
    if taken_at:
        doc["takenAt"] = taken_at
    doc["numbering"] = {
        entity: {"series": n.series, "allowManualOnImports": n.allow_manual_on_imports}
        for entity, n in sorted(company.numbering.items(), key=lambda kv: NUMBERED.index(kv[0]))
    }
    doc["customerDimension"] = company.customer_dimension
    if company.unavailable:
        doc["unavailable"] = {name: company.unavailable[name] for name in KIND_NAMES if name in company.unavailable}
    for name in KIND_NAMES:
        fields = kind(name).fields
        doc[name] = [{f: r[f] for f in fields if f in r} for r in company.records[name]]
    return doc


def company_from_document(doc: object, source: str = "company file") -> Company:
    """A ``Company`` from a parsed snapshot document; ConfigError naming what is wrong."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: not a company snapshot (expected a JSON object)")
    if doc.get("format") != FORMAT:
        raise ConfigError(f"{source}: not a company snapshot (format is {doc.get('format')!r}, expected {FORMAT!r})")
    known = {"format", "company", "takenAt", "numbering", "customerDimension", "unavailable", *KIND_NAMES}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}")
    records: dict[str, list[dict[str, Any]]] = {}
    for name in KIND_NAMES:
        rows = doc.get(name, [])
        id_field = kind(name).id_field
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ConfigError(f"{source}: {name} must be a list of objects")
        for i, r in enumerate(rows, 1):
            if not isinstance(r.get(id_field), str | int) or str(r[id_field]).strip() == "":
                raise ConfigError(f"{source}: {name} record {i} has no {id_field}")
        records[name] = rows
    numbering: dict[str, Numbering] = {}
    raw = doc.get("numbering") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: numbering must be an object")
    for entity, value in raw.items():
        if entity not in NUMBERED or not isinstance(value, dict):
            raise ConfigError(f"{source}: numbering.{entity} is not one of {', '.join(NUMBERED)} with an object")
        series, allow = value.get("series"), value.get("allowManualOnImports", False)
        if (series is not None and not isinstance(series, str)) or not isinstance(allow, bool):
            raise ConfigError(f"{source}: numbering.{entity} needs series (text or null) and allowManualOnImports (true/false)")
        numbering[entity] = Numbering(series, allow)
    dimension = doc.get("customerDimension")
    if dimension is not None and not isinstance(dimension, dict):
        raise ConfigError(f"{source}: customerDimension must be an object or null")
    unavailable = doc.get("unavailable") or {}
    if not isinstance(unavailable, dict) or not all(
            name in KIND_NAMES and isinstance(status, int) and not isinstance(status, bool)
            for name, status in unavailable.items()):
        raise ConfigError(f"{source}: unavailable must map kinds ({', '.join(KIND_NAMES)}) to HTTP statuses")
    return Company.of(str(doc.get("company") or ""), records, customer_dimension=dimension, numbering=numbering,
                      unavailable=unavailable)


def load_company(path: str | Path) -> Company:
    """Read a snapshot file; ConfigError (never a traceback) when it cannot be used."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read company file {p}: {exc.strerror or exc}") from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"company file {p} is not JSON: {exc}") from None
    return company_from_document(doc, f"company file {p}")


def dump_company(company: Company, path: str | Path, taken_at: str | None = None) -> None:
    """Write ``company`` as a snapshot file (indented, stable order, newline at the end)."""
    Path(path).write_bytes(orjson.dumps(company_document(company, taken_at), option=orjson.OPT_INDENT_2) + b"\n")
