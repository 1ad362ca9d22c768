"""Reading a mapping file's TOML into a checked :class:`~importer.mapping.mapspec.ColumnMap`."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from importer.entities import ENTITIES, Entity
from importer.errors import ConfigError, RecordError
from importer.mapping.binding import coercer, header_problems, period_layout
from importer.mapping.coerce import SWITCH_TO_COMMA, CoerceOptions, date_format_problem
from importer.mapping.columns import DOCUMENT_KEY, valid_columns
from importer.mapping.computed import read_computed
from importer.mapping.lookups import read_lookups
from importer.mapping.mapspec import (
    KEEP,
    MISS,
    UNKNOWN_COLUMNS_HINT,
    ColumnFormat,
    ColumnMap,
    MapError,
    ValueMap,
    article,
    closest,
    flatten_keys,
    kind_of,
    shown,
    toml_key,
)
from importer.mapping.transforms import parse_period_format, parse_rewrites
from importer.sources.encoding import codec_name
from importer.vocabulary import NUMBERING_MODES

__all__ = ["Loader", "TOP_KEYS"]

TOP_KEYS = ("entity", "description", "encoding", "numbering", "numbering_field", "ignore", "unmapped", "columns",
            "constants", "defaults", "formats", "values", "computed", "lookups")
_MAP_WIDE_FORMATS = ("decimal_comma", "date_format")
_COLUMN_FORMATS = (*_MAP_WIDE_FORMATS, "format", "rewrite", "unmatched")
_UNMAPPED = ("error", "ignore")
_UNMATCHED = ("error", "keep")


class Loader:
    """Reads one parsed TOML document into a :class:`ColumnMap`, collecting every mistake."""

    def __init__(self, path: str, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self.problems: list[str] = []
        self.unknown_columns = False  # a binding names a column the entity does not have

    def problem(self, where: str, reason: str) -> None:
        self.problems.append(f"{where}: {reason}" if where else reason)

    def load(self, wanted: str | Entity | None, header: Sequence[str] | None = None) -> ColumnMap:
        """The checked map; ``header``: a CSV header whose problems are told with the map's."""
        doc = self.doc
        for key in doc:
            if key not in TOP_KEYS:
                close = difflib.get_close_matches(key, TOP_KEYS, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f" (expected {', '.join(TOP_KEYS)})"
                self.problem(toml_key(key), f"unknown key{hint}")
        ent = self.entity_of(wanted)
        self.entity = ent
        self.valid = valid_columns(ent)
        self.valid_set = frozenset(self.valid)
        description = doc.get("description")
        if description is not None and not isinstance(description, str):
            self.problem("description", "expected text")
            description = None
        unmapped = doc.get("unmapped", "error")
        if unmapped not in _UNMAPPED:
            self.problem("unmapped", f"expected \"error\" or \"ignore\", got {unmapped!r}")
            unmapped = "error"
        numbering = doc.get("numbering")
        if numbering is not None and numbering not in NUMBERING_MODES:
            self.problem("numbering", f"expected {', '.join(map(repr, NUMBERING_MODES))}, got {shown(numbering)}")
            numbering = None
        numbering_field = doc.get("numbering_field")
        if numbering_field is not None and (not isinstance(numbering_field, str) or not numbering_field.strip()):
            self.problem("numbering_field", f"expected the name of a field, got {shown(numbering_field)}")
            numbering_field = None
        encoding = self.encoding(doc.get("encoding"))
        ignore = self._ignore(doc.get("ignore", []), "ignore")
        columns = self._columns(ignore)
        constants = self._constants("constants")
        defaults = self._constants("defaults")
        for dst in constants.keys() & defaults.keys():
            self.problem(f"defaults.{toml_key(dst)}", "is a constant too; keep one of them")
        decimal_comma, date_format, formats = self._formats()
        values = self._values()
        lookups = read_lookups(doc.get("lookups", {}), self.path, self.problem)
        computed = read_computed(self._table("computed"), lookups, self.valid_set, constants, self.problem,
                                 self._suggest)
        cmap = ColumnMap(
            path=self.path, entity=ent, columns=columns, ignore=frozenset(ignore), unmapped=unmapped,
            constants=constants, defaults=defaults, formats=formats, decimal_comma=decimal_comma,
            date_format=date_format, values=values, description=description,
            numbering=numbering, numbering_field=numbering_field, encoding=encoding,
            computed=computed, lookups=lookups,
        )
        unknown = self.unknown_columns
        if header is not None:  # the header's mistakes too, so one round of fixes does for all
            found = header_problems(cmap, header)
            self.problems.extend(found)
            unknown = unknown or any(p.startswith("source column ") for p in found)
        if self.problems:
            raise MapError(self.path, self.problems,
                           UNKNOWN_COLUMNS_HINT.format(entity=ent.name) if unknown else None)
        return cmap

    # -- sections ---------------------------------------------------------------------

    def entity_of(self, wanted: str | Entity | None) -> Entity:
        """The entity the map is for: its own `entity`, which must agree with `wanted` (the run's)."""
        declared = self.doc.get("entity")
        if declared is not None and (not isinstance(declared, str) or declared not in ENTITIES):
            close = difflib.get_close_matches(str(declared), ENTITIES, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(ENTITIES)}"
            raise MapError(self.path, [*self.problems, f"entity: unknown entity {declared!r}{hint}"])
        if isinstance(wanted, Entity):
            wanted_name: str | None = wanted.name
        else:
            wanted_name = wanted
            if wanted_name is not None and wanted_name not in ENTITIES:
                raise ConfigError(f"unknown entity {wanted_name!r}; expected one of {', '.join(ENTITIES)}")
        if declared is not None and wanted_name is not None and declared != wanted_name:
            raise MapError(self.path, [
                *self.problems,
                f"entity: the map is for {declared!r}, but the run imports {wanted_name!r} "
                f"(--entity {wanted_name}); use a map for {wanted_name}, or --entity {declared}",
            ])
        name = wanted_name or declared
        if name is None:
            misplaced = [k for k, v in self.doc.items() if isinstance(v, dict) and "entity" in v]
            hint = (f" (entity is under [{misplaced[0]}]: top-level keys must come before the first [table])"
                    if misplaced else "")
            raise MapError(self.path, [*self.problems, "entity: not set; add entity = \"customer\" "
                                       f"(or invoice, ...) at the top, or pass --entity{hint}"])
        return wanted if isinstance(wanted, Entity) else ENTITIES[name]

    def encoding(self, value: Any) -> str | None:
        """The input's encoding, as ``--encoding`` names it (``cp1252``); None: the run's."""
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem("encoding", f"expected the name of an encoding such as \"cp1252\", got {shown(value)}")
            return None
        try:
            return codec_name(value.strip())
        except ConfigError as exc:
            self.problem("encoding", str(exc))
            return None

    def _table(self, key: str) -> dict[str, Any]:
        table = self.doc.get(key, {})
        if not isinstance(table, dict):
            self.problem(key, f"expected a table: [{key}] followed by lines of name = value")
            return {}
        return table

    def _ignore(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, "expected a list of source column names, e.g. ignore = [\"Opprettet\", \"Selger\"]")
            return []
        names = [v.strip() for v in value]
        if "" in names:
            self.problem(where, "an empty column name")
        return [n for n in names if n]

    def _columns(self, ignore: list[str]) -> dict[str, tuple[str, ...]]:
        columns: dict[str, tuple[str, ...]] = {}
        for key, value in flatten_keys(self._table("columns")):
            where = f"columns.{toml_key(key)}"
            src = key.strip()
            if key == "ignore" and isinstance(value, list):  # ignore = [...] written below [columns]
                ignore.extend(self._ignore(value, where))
                continue
            if not src:
                self.problem(where, "an empty source column name")
                continue
            if value is False:
                ignore.append(src)
                continue
            targets = [value] if isinstance(value, str) else value
            if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
                hint = ""
                if key in ("entity", "unmapped", "description"):
                    hint = f" ({key} is a top-level key: move it above the first [table])"
                self.problem(where, "expected an API column name, a list of them, or false to drop "
                                    f"the column, got {shown(value)}{hint}")
                continue
            good = []
            for target in targets:
                dst = target.strip()
                if not dst:
                    self.problem(where, "an empty API column name; use false to drop the column")
                elif dst not in self.valid_set:
                    self.unknown_columns = True
                    hint = self._suggest(dst)
                    if src in self.valid_set and not hint:
                        hint = "; [columns] reads \"source column\" = \"API column\": are they swapped?"
                    self.problem(where, f"{dst!r} is not a column of {self.entity.name}{hint}")
                elif dst in good:
                    self.problem(where, f"{dst!r} is listed twice")
                else:
                    good.append(dst)
            if src in columns:
                self.problem(where, "mapped twice (keys differ only in spaces)")
            columns[src] = tuple(good)
        for src in ignore:
            if src in columns:
                self.problem(f"columns.{toml_key(src)}", "is also in ignore; keep one of them")
        return columns

    def _constants(self, section: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        ent = self.entity
        keys = {ent.key_field, ent.action_key_field, DOCUMENT_KEY if ent.line_field else None} - {None}
        for dst, value in flatten_keys(self._table(section)):
            where = f"{section}.{toml_key(dst)}"
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {ent.name}{self._suggest(dst)}")
                continue
            if dst in keys:
                self.problem(where, f"{dst} names each record and cannot be the same for all of them")
                continue
            api = self._api_value(where, dst, value)
            if api is not MISS:
                out[dst] = api
        return out

    def _formats(self) -> tuple[bool | None, str | None, dict[str, ColumnFormat]]:
        table = self._table("formats")
        decimal_comma = date_format = None
        specs: dict[str, ColumnFormat] = {}
        for key, value in table.items():
            if key in _MAP_WIDE_FORMATS and not isinstance(value, dict):
                if key == "decimal_comma":
                    decimal_comma = self._decimal_comma(f"formats.{key}", value)
                else:
                    date_format = self._date_format(f"formats.{key}", value)
            elif key in ("format", "rewrite", "unmatched") and not isinstance(value, dict):
                self.problem(f"formats.{key}", f"{key} is given per column: postPeriod = {{ {key} = ... }}")
        rest = {k: v for k, v in table.items() if not (k in _COLUMN_FORMATS and not isinstance(v, dict))}

        def is_spec(path: str, value: Any) -> bool:
            return isinstance(value, dict) and (path in self.valid_set or set(value) <= set(_COLUMN_FORMATS))

        for dst, value in flatten_keys(rest, leaf=is_spec):
            where = f"formats.{toml_key(dst)}"
            if not isinstance(value, dict):
                self.problem(where, "expected { decimal_comma = true }, { date_format = \"%d.%m.%Y\" }, "
                                    "{ format = \"MM.YYYY\" } or { rewrite = { pattern = ..., to = ... } } "
                                    f"for an API column, got {shown(value)}")
                continue
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {self.entity.name}{self._suggest(dst)}")
                continue
            unknown = [k for k in value if k not in _COLUMN_FORMATS]
            if unknown:
                self.problem(where, f"unknown option {unknown[0]!r} (expected {', '.join(_COLUMN_FORMATS)})")
                continue
            spec = self._column_format(where, dst, value)
            if spec is not None:
                specs[dst] = spec
        return decimal_comma, date_format, specs

    def _column_format(self, where: str, dst: str, value: dict[str, Any]) -> ColumnFormat | None:
        """One column's ``{ ... }`` under [formats]; None when it has a mistake (reported)."""
        before = len(self.problems)
        kind = kind_of(self.entity, dst)
        spec_dc = spec_df = period = None
        if "decimal_comma" in value:
            if kind not in ("number", "integer"):
                self.problem(where, f"decimal_comma applies to number columns; {dst} is {article(kind)}")
            else:
                spec_dc = self._decimal_comma(where + ".decimal_comma", value["decimal_comma"])
        if "date_format" in value:
            if kind != "datetime":
                self.problem(where, f"date_format applies to date columns; {dst} is {article(kind)}")
            else:
                spec_df = self._date_format(where + ".date_format", value["date_format"])
        if "format" in value:
            layout = period_layout(self.entity, dst)
            if layout is None:
                use = "date_format" if kind == "datetime" else "rewrite"
                self.problem(where, f"format (a period layout) applies to period columns such as postPeriod; "
                                    f"for {dst} use {use}")
            else:
                period = parse_period_format(where + ".format", value["format"], self.problem)
        rewrites = parse_rewrites(where + ".rewrite", value["rewrite"], self.problem) if "rewrite" in value else ()
        unmatched = value.get("unmatched", "error")
        if unmatched not in _UNMATCHED:
            self.problem(where + ".unmatched", f"expected \"error\" or \"keep\", got {shown(unmatched)}")
        elif "unmatched" in value and "rewrite" not in value:
            self.problem(where + ".unmatched", "says what to do with values no rewrite matches; add a rewrite")
        if len(self.problems) > before:
            return None
        return ColumnFormat(spec_dc, spec_df, period, rewrites, unmatched == "keep")

    def _decimal_comma(self, where: str, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.problem(where, f"expected true or false, got {shown(value)}")
            return None
        return value

    def _date_format(self, where: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"expected a strptime layout such as \"%d.%m.%Y\", got {shown(value)}")
            return None
        if value.strip().lower() == "iso":
            return ""
        reason = date_format_problem(value)
        if reason:
            self.problem(where, reason)
            return None
        return value

    def _values(self) -> dict[str, ValueMap]:
        out: dict[str, ValueMap] = {}

        def is_map(path: str, value: Any) -> bool:
            return isinstance(value, dict) and (
                path in self.valid_set or not value or any(not isinstance(v, dict) for v in value.values())
            )

        for dst, table in flatten_keys(self._table("values"), leaf=is_map):
            where = f"values.{toml_key(dst)}"
            if not isinstance(table, dict):
                self.problem(where, "expected a table of \"source value\" = \"API value\", e.g. "
                                    "[values.\"mainAddress.countryId\"] then Norge = \"NO\"")
                continue
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {self.entity.name}{self._suggest(dst)}")
                continue
            lookup: dict[str, Any] = {}
            seen: set[str] = set()
            listed: list[str] = []
            fallback: Any = MISS
            for key, value in table.items():
                entry = f"{where}.{toml_key(key)}"
                folded = key.strip().casefold()
                if isinstance(value, dict):
                    self.problem(entry, "expected an API value; a key with dots must be quoted "
                                        "(\"A.S.\" = ...)")
                    continue
                if key.strip() == KEEP:
                    if value == KEEP:
                        fallback = KEEP
                    else:
                        api = self._api_value(entry, dst, value, empty_ok=True)
                        if api is not MISS:
                            fallback = api
                    continue
                if not folded:
                    self.problem(entry, "an empty source value never matches; use [defaults] for empty cells")
                    continue
                if folded in seen:
                    self.problem(entry, "listed twice (keys match regardless of case and spaces)")
                    continue
                seen.add(folded)
                api = self._api_value(entry, dst, value, empty_ok=True)
                if api is not MISS:
                    lookup[folded] = api
                    listed.append(key.strip())
            out[dst] = ValueMap(dst, lookup, fallback, tuple(listed))
        return out

    # -- helpers ----------------------------------------------------------------------

    def _api_value(self, where: str, dst: str, value: Any, empty_ok: bool = False) -> Any:
        """``value`` as the API value of ``dst``, checked as a record's would be."""
        if isinstance(value, datetime | date | time):
            value = value.isoformat()
        if isinstance(value, dict | list):
            self.problem(where, f"expected a single value, got {shown(value)}")
            return MISS
        if isinstance(value, str) and not value.strip():
            if empty_ok:
                return ""
            self.problem(where, "an empty value; leave the line out instead")
            return MISS
        try:
            return coercer(self.entity, dst, CoerceOptions())(value)
        except RecordError as exc:
            reason = exc.reason
            if reason.endswith(SWITCH_TO_COMMA):  # formats do not apply here: say how to write it
                reason = f"{value!r} is not a number as the API writes them; write it as 1234.50"
            reason = reason.replace("; pass --date-format for other layouts", "")
            self.problem(where, reason)
            return MISS

    def _suggest(self, name: str) -> str:
        close = closest(name, self.valid)
        return f"; did you mean {close!r}?" if close else ""


