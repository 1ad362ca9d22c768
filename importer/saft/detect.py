"""Recognising a SAF-T Financial file: its bytes (plain or gzip), its root element, its version."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from importer.errors import SourceError
from importer.saft._schema import SCHEMAS
from importer.saft.facts import SchemaFacts

__all__ = ["NAMESPACE", "ROOT", "open_bytes", "is_saft", "schema_for"]

NAMESPACE = "urn:StandardAuditFile-Taxation-Financial:NO"
ROOT = f"{NAMESPACE} AuditFile"  # as expat names it with a space as namespace separator
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 8192

# AuditFileVersion as files write it -> the schema that describes it. 1.0 files are read
# with the 1.10 schema (the same elements); the 1.10 schema file declares itself 1.20.
_VERSION_ALIASES = {"1.0": "1.10", "1.00": "1.10", "1.1": "1.10", "1.10": "1.10",
                    "1.2": "1.10", "1.20": "1.10", "1.3": "1.30", "1.30": "1.30"}


def open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot be opened ({exc.strerror or exc})") from None
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


class _Sniffed(Exception):
    """Stops the sniffing parser at the first element or at a DTD."""


def is_saft(path: Path) -> bool:
    """Whether the file's root element is a SAF-T Financial AuditFile, from its first few KB."""
    try:
        with open_bytes(path) as stream:
            head = stream.read(_SNIFF_BYTES)
    except (OSError, EOFError, SourceError):
        return False
    found: list[str] = []

    def first_element(name: str, _attrs: object) -> None:
        found.append(name)
        raise _Sniffed

    def declaration(*_args: object) -> None:
        # Nothing is expanded while sniffing; a DTD in a file that names the namespace is
        # still taken as SAF-T, so that reading it gives the clear refusal.
        found.append(ROOT if NAMESPACE.encode() in head else "")
        raise _Sniffed

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = first_element
    parser.StartDoctypeDeclHandler = declaration
    try:
        parser.Parse(head, False)
    except (_Sniffed, expat.ExpatError):
        pass
    return bool(found) and found[0] == ROOT


def schema_for(version: str, where: str) -> SchemaFacts:
    """The schema facts for an AuditFileVersion, or a clear error naming the versions read."""
    schema = _VERSION_ALIASES.get(version.strip())
    if schema is None or schema not in SCHEMAS:
        known = ", ".join(sorted(_VERSION_ALIASES))
        raise SourceError(f"{where}: AuditFileVersion {version!r} is not a SAF-T Financial version "
                          f"the importer reads ({known})")
    return SCHEMAS[schema]
