"""A map's lookup tables: one column of another file to another, read once when the map loads.

::

    [lookups.customers]
    file = "kundenumre.csv"      # relative to the map; CSV or NDJSON (.gz too)
    key = "Gammelt nr"           # the column looked in
    value = "Nytt nr"            # the column given back
    encoding = "cp1252"          # optional: how the file is written (UTF-8 otherwise)
    format = "csv"               # optional: for a name that does not say (kunder.txt)

Keys match as value maps do: spaces around them and case aside. Rows with an empty key are
skipped; a key written twice with two different values is a mistake of the file, reported
with the map's other mistakes (the same value twice is harmless).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.errors import ConfigError
from importer.sources.opening import SourceOptions

__all__ = ["LookupTable", "read_lookups"]

Problem = Callable[[str, str], None]
_KEYS = ("file", "key", "value", "encoding", "format")
_SHOWN_CLASHES = 3


@dataclass(frozen=True)
class LookupTable:
    name: str
    file: str  # as the map writes it
    key: str
    value: str
    table: dict[str, Any]  # trimmed, casefolded key -> the value as the file has it

    @property
    def described(self) -> str:
        return f"{self.name!r} ({self.file}, column {self.key!r})"

    def find(self, key: str) -> Any:
        """The value for ``key`` (text), or None when the table has no such key."""
        return self.table.get(key.strip().casefold())


def read_lookups(section: Any, map_path: str, problem: Problem) -> dict[str, LookupTable]:
    """The ``[lookups]`` section's tables, each file read now; mistakes go to ``problem``."""
    if not isinstance(section, dict):
        problem("lookups", "expected tables: [lookups.customers] then file = ..., key = ..., value = ...")
        return {}
    base = Path(map_path).parent
    out: dict[str, LookupTable] = {}
    for name, spec in section.items():
        where = f"lookups.{name}"
        if not isinstance(spec, dict):
            problem(where, "expected a table: [lookups.NAME] then file = \"...\", key = \"...\", value = \"...\"")
            continue
        unknown = [k for k in spec if k not in _KEYS]
        if unknown:
            problem(f"{where}.{unknown[0]}", f"unknown key (expected {', '.join(_KEYS)})")
            continue
        bad = [k for k in ("file", "key", "value") if not isinstance(spec.get(k), str) or not spec[k].strip()]
        encoding, fmt = spec.get("encoding"), spec.get("format")
        bad += [k for k, v in (("encoding", encoding), ("format", fmt)) if v is not None and not isinstance(v, str)]
        if bad:
            problem(f"{where}.{bad[0]}", "expected a text" if bad[0] in spec else "missing")
            continue
        file, key, value = str(spec["file"]), str(spec["key"]).strip(), str(spec["value"]).strip()
        table = _read(where, base / file, key, value, SourceOptions(encoding=encoding, format=fmt), problem)
        if table is not None:
            out[name] = LookupTable(name, file, key, value, table)
    return out


def _read(
    where: str, path: Path, key: str, value: str, options: SourceOptions, problem: Problem,
) -> dict[str, Any] | None:
    from importer.sources import open_input  # the readers, only for a map with lookups

    table: dict[str, Any] = {}
    first: dict[str, int] = {}  # key -> the record it was first read from
    clashes: list[str] = []
    try:
        with open_input(os.fspath(path), options) as opened:
            columns = opened.columns
            if columns is not None:
                missing = [c for c in (key, value) if c not in columns]
                if missing:
                    problem(where, f"{path.name} has no column {missing[0]!r} (its columns: {', '.join(columns)})")
                    return None
            reader = opened.own_reader()
            for record in reader:
                if record.error is not None:
                    problem(where, f"{path.name}, record {record.number}: {record.error}")
                    return None
                data = record.data
                if key not in data or value not in data:
                    gone = key if key not in data else value
                    problem(where, f"{path.name}, record {record.number}: no {gone!r}")
                    return None
                raw = data[key]
                if raw is None or isinstance(raw, dict | list):
                    continue
                folded = str(raw).strip().casefold()
                if not folded:
                    continue
                if folded in table:
                    if table[folded] != data[value] and len(clashes) < _SHOWN_CLASHES:
                        clashes.append(f"{str(raw).strip()!r} (records {first[folded]} and {record.number})")
                    continue
                table[folded] = data[value]
                first[folded] = record.number
    except ConfigError as exc:
        reason = str(exc)
        if reason.startswith("cannot tell the format"):
            reason = (f"cannot tell the format of {path.name}: a lookup table is CSV (.csv), NDJSON (.ndjson, "
                      ".jsonl) or a workbook's first sheet (.xlsx, .xlsm), or says format = \"csv\"")
        problem(f"{where}.file", reason)
        return None
    if clashes:
        problem(where, f"{path.name} gives two values for the key {', '.join(clashes)}; keep one row per key")
        return None
    return table
