"""Mapping files (``--map FILE.toml``): a legacy export's layout → the import's API columns.

A mapping file says, for one entity, which source column becomes which API column
(the dotted names of ``importer columns ENTITY``), which columns to drop, which
values to send on every record, how numbers and dates are written, and how source
values translate to API values. Example::

    # kunder.map.toml: the legacy customer export → Visma.net customers
    entity = "customer"                 # optional; must agree with --entity
    ignore = ["Opprettet", "Selger"]    # source columns dropped on purpose
    unmapped = "error"                  # or "ignore": drop every other unknown column

    [columns]                           # "source column" = "API column"
    "Kundenr" = "number"
    "Navn" = "name"
    "Adresse" = ["mainAddress.addressLine1", "invoiceAddress.addressLine1"]  # one → many
    "Fax" = false                       # same as listing it in ignore

    [constants]                         # sent on every record, whatever the source says
    customerClassId = "1"
    overrideWithClassValues = true

    [defaults]                          # sent where the source cell is empty or missing
    currencyId = "NOK"

    [formats]
    decimal_comma = true                # every number column: 1 234,50 and 1.234,50
    date_format = "%d.%m.%Y"            # every date column (strptime layout)
    "line.quantity" = { decimal_comma = false }   # one column differs
    documentDueDate = { date_format = "%Y%m%d" }  # "iso" = ISO 8601 again

    [values."mainAddress.countryId"]    # source value → API value, per API column
    Norge = "NO"                        # keys match case-insensitively, spaces trimmed
    Sverige = "SE"
    "*" = "*"                           # other values kept as they are (see below)

Rules
-----
Source columns. Each column of the input is, in this order: dropped if listed in
``ignore`` (or mapped to ``false``); renamed if it is a key of ``[columns]`` (a
list of API columns copies it to each); kept as it is if its name already is an
API column; otherwise a configuration error naming it, the closest key of the map
and the closest API column — unless ``unmapped = "ignore"``, which drops it. A CSV
header is checked when the run starts, before anything is sent; NDJSON keys are
checked per record (an unmapped key makes that record ``invalid``). Source
columns match exactly (case and all). Two source columns that land on the same API
column are an error. Keys of ``[columns]`` missing from the input are not an error
(one map can serve several variants of an export); ``BoundMap.missing`` lists them.
The ``error`` column a failed-records file adds is always dropped, mapped or not, so
the fixed rows go back in through the same map.

Constants and defaults. ``[constants]`` are sent on every record; an input column
mapping to the same API column is a configuration error (ignore that column, or
use ``[defaults]``). ``[defaults]`` fill cells that are empty (after value maps)
or columns the input lacks. For documents, a default for a document-level column
(not ``line.*``) fills only the first row of a document: later rows of the same
``referenceNumber`` / ``documentKey`` take the first row's value, as without a map.
Constants and defaults are written as API values (ISO dates or TOML dates, dot
decimals, true/false); formats and value maps do not apply to them. The record's
key (``number``, ``referenceNumber``, ``documentKey``, ``customerNumber`` of
dunning letters) can be neither.

Formats. ``decimal_comma`` (number columns) and ``date_format`` (date columns, a
``strptime`` layout such as ``%d.%m.%Y``; ``"iso"`` for ISO 8601) apply per API
column; the top-level ones in ``[formats]`` to every number / date column. A
column takes its own format, else the map's, else the run's (``--decimal-comma``,
on by default for ``;``-separated files, and ``--date-format``). Values are turned
into API values here, so the ``RecordMapper`` behind the map runs with plain
``CoerceOptions()`` (``BoundMap.options``). A number that does not read under its
column's convention is an error naming it, never a guess (``12,345.67`` with a
decimal comma). A date format is checked when the file is loaded: it needs
strptime directives and must read back every date it writes.

Value maps. ``[values."API column"]`` translates the trimmed source value,
ignoring case. A value not in the map is an error for that record (``invalid``,
naming the column and value), unless the map has a ``"*"`` entry: ``"*" = "*"``
keeps other values as they are, ``"*" = "X"`` turns them into ``X``. A
replacement ``""`` empties the cell (then ``[defaults]`` apply). Empty cells are
never looked up. Replacements are API values (checked when the file is loaded);
the column's format applies only to source values that are not in the map.
Unquoted dotted table names read the same as quoted ones:
``[values.mainAddress.countryId]`` is ``[values."mainAddress.countryId"]``.

Other keys. ``description = "..."`` is free text. TOML puts every key written
below a ``[table]`` line into that table, so top-level keys (``entity``,
``ignore``, ``unmapped``) go above the first one; ``ignore = [...]`` is also
understood inside ``[columns]``.

Errors. Every mistake in the file is reported at once, as ``MapError`` (a
``ConfigError``: exit 2, nothing sent), each line naming the file and the key
(``kunder.map.toml: columns.Land: 'mainAdress.countryId' is not a column of
customer; did you mean 'mainAddress.countryId'?``). A bad value in a record is a
``RecordError`` naming the source column and the API column it maps to
(``Kredittgrense: '12,3x' is not a number (mapped to creditLimit)``); the record
becomes ``invalid`` and the run goes on.

Use::

    cmap = load_map("kunder.map.toml", entity="customer")   # ConfigError on any mistake
    bound = cmap.bind(source.columns, coerce_options)        # CSV header checked here
    mapper = RecordMapper(entity, mode=..., options=bound.options, columns=bound.columns)
    for record in source:
        for work in mapper.feed(bound.map_record(record)):
            ...
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from importer.entities import ENTITIES, Entity
from importer.errors import ConfigError, RecordError
from importer.mapping.coerce import (
    SWITCH_TO_COMMA,
    SWITCH_TO_POINT,
    CoerceOptions,
    coercer_for,
    date_format_problem,
    is_text_coercer,
)
from importer.mapping.columns import DOCUMENT_KEY, ERROR_COLUMN, LINE_PREFIX, field_for_column, valid_columns
from importer.sources.base import SourceRecord

__all__ = ["ColumnMap", "BoundMap", "MapError", "MappedRow", "ValueMap", "ColumnFormat", "load_map", "parse_map"]

KEEP = "*"  # the value-map key for "any other value", and as its value: keep it
_TOP_KEYS = ("entity", "description", "ignore", "unmapped", "columns", "constants", "defaults", "formats", "values")
_FORMAT_KEYS = ("decimal_comma", "date_format")
_UNMAPPED = ("error", "ignore")
_MISS = object()
_PLAN_CACHE = 256  # NDJSON key sets per run, as RecordMapper keeps
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


class MapError(ConfigError):
    """Every mistake found in one mapping file (or in a header checked against it)."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{path}: {self.problems[0]}"
        else:
            message = f"{path}: {len(self.problems)} problems:\n  " + "\n  ".join(self.problems)
        super().__init__(message)


class MappedRow(dict):  # type: ignore[type-arg]
    """One record keyed by API columns; ``source`` is the record as it was read."""

    __slots__ = ("source",)
    source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ColumnFormat:
    decimal_comma: bool | None = None  # None: the map's, else the run's
    date_format: str | None = None  # None: the map's, else the run's; "" means ISO 8601


@dataclass(frozen=True, slots=True)
class ValueMap:
    column: str  # the API column
    table: dict[str, Any]  # casefolded, trimmed source value -> API value
    fallback: Any  # _MISS: strict; KEEP: keep the value; else the API value for the rest
    shown: tuple[str, ...]  # the keys as written, for messages


@dataclass(frozen=True)
class ColumnMap:
    """A loaded, checked mapping file. Immutable; :meth:`bind` it to each input."""

    path: str
    entity: Entity
    columns: dict[str, tuple[str, ...]]  # source column -> API columns
    ignore: frozenset[str]
    unmapped: str  # "error" | "ignore"
    constants: dict[str, Any]  # API column -> API value (coerced)
    defaults: dict[str, Any]
    formats: dict[str, ColumnFormat]  # API column -> its format
    decimal_comma: bool | None  # map-wide
    date_format: str | None  # map-wide; "" means ISO 8601
    values: dict[str, ValueMap]  # API column -> its value map
    description: str | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def bind(self, columns: Sequence[str] | None = None, options: CoerceOptions | None = None) -> BoundMap:
        """The map for one input. ``columns``: the CSV header (checked now, raising
        :class:`MapError` for unmapped or clashing columns); ``None`` for NDJSON and
        dict iterables, whose keys are checked per record. ``options``: the run's
        ``--decimal-comma`` / ``--date-format``, for columns the map gives no format."""
        return BoundMap(self, columns, options or CoerceOptions())

    def header(self, columns: Sequence[str]) -> list[str]:
        """The API columns records of this header map to (raises :class:`MapError`)."""
        bound = self.bind(columns)
        assert bound.columns is not None
        return bound.columns


@dataclass(slots=True)
class _Plan:
    steps: tuple[tuple[str, str, Callable[[Any], Any] | None], ...]  # (source, API column, convert)
    constants: dict[str, Any]
    fills: tuple[tuple[str, Any, bool], ...]  # (API column, default, document-level)
    columns: tuple[str, ...]


class BoundMap:
    """A :class:`ColumnMap` bound to one input and the run's formats: maps records.

    Holds a little state for documents (which document the last row belonged to),
    so use one per run.
    """

    def __init__(self, cmap: ColumnMap, columns: Sequence[str] | None, options: CoerceOptions) -> None:
        self.map = cmap
        self.entity = cmap.entity
        self.fallback = options
        self._converters: dict[str, Callable[[Any], Any] | None] = {}
        self._plans: dict[tuple[str, ...], _Plan | str] = {}
        self._passthrough = frozenset(valid_columns(cmap.entity))  # names kept as they are
        documents = cmap.entity.line_field is not None
        self._track_groups = documents and any(not c.startswith(LINE_PREFIX) for c in cmap.defaults)
        self._last_group: Any = None
        self._group_fields = (
            tuple(f for f in (cmap.entity.key_field, DOCUMENT_KEY) if f) if documents else ()
        )
        self._feeders = {api: self._feeders_of(api) for api in self._group_fields}
        self.columns: list[str] | None = None
        self.missing: tuple[str, ...] = ()
        self._fixed: _Plan | None = None
        if columns is not None:
            plan = self._build(tuple(columns))
            if isinstance(plan, list):
                raise MapError(cmap.path, plan)
            self._fixed = plan
            self.columns = list(plan.columns)
            present = set(columns)
            self.missing = tuple(c for c in cmap.columns if c not in present)

    @property
    def options(self) -> CoerceOptions:
        """The options for the ``RecordMapper`` behind the map: values arrive as API values."""
        return CoerceOptions()

    # -- per record -----------------------------------------------------------------

    def apply(self, data: dict[str, Any]) -> MappedRow:
        """One source record → a dict keyed by API columns. Raises ``RecordError``
        naming the source column (and the API column it maps to)."""
        plan = self._fixed
        if plan is None:  # NDJSON or dicts: keys vary, values may be JSON
            for value in data.values():
                if isinstance(value, dict | list):
                    raise RecordError(
                        f"the record is in the API's nested shape; {self.map.name} maps flat "
                        "records (one key per column), so import this file without --map"
                    )
            plan = self._plan_for(data)
        out = MappedRow()
        out.source = data
        get = data.get
        for src, dst, convert in plan.steps:
            value = get(src)
            if convert is not None and not (
                value is None or (type(value) is str and (not value or value.isspace()))
            ):
                try:
                    value = convert(value)
                except RecordError as exc:
                    raise self._source_error(exc, src, dst) from None
            out[dst] = value
        if plan.constants:
            out.update(plan.constants)
        continuing = False
        if self._track_groups:
            group = self._group(out)
            continuing = group is not None and group == self._last_group
            self._last_group = group
        for dst, default, document_level in plan.fills:
            value = out.get(dst)
            if value is None or (type(value) is str and (not value or value.isspace())):
                out[dst] = "" if continuing and document_level else default
        return out

    def map_record(self, record: SourceRecord) -> SourceRecord:
        """A source record → the record to feed the ``RecordMapper``. Never raises for
        a bad record: it comes back with ``error`` set and the document key it
        carries, so the rows of its document still group together and the whole
        document is reported invalid."""
        if record.error is None:
            try:
                return SourceRecord(record.number, self.apply(record.data), raw=record.raw)
            except RecordError as exc:
                error = str(exc)
        else:
            error = record.error
        return SourceRecord(record.number, self._stub(record.data), error, record.raw)

    def map_records(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        for record in records:
            yield self.map_record(record)

    # -- plans --------------------------------------------------------------------------

    def _plan_for(self, data: dict[str, Any]) -> _Plan:
        names = tuple(data)
        plan = self._plans.get(names)
        if plan is None:
            built = self._build(names)
            plan = built if isinstance(built, _Plan) else "; ".join(built)
            if len(self._plans) < _PLAN_CACHE:
                self._plans[names] = plan
        if isinstance(plan, str):
            raise RecordError(plan)
        return plan

    def _build(self, names: tuple[str, ...]) -> _Plan | list[str]:
        """The plan for one key set, or the problems with it."""
        cmap = self.map
        problems: list[str] = []
        steps: list[tuple[str, str, Callable[[Any], Any] | None]] = []
        produced: dict[str, str] = {}  # API column -> the source column feeding it
        for src in names:
            if src in cmap.ignore or src == ERROR_COLUMN:  # the failed-records file's reason column
                continue
            targets = cmap.columns.get(src)
            if targets is None:
                if src in self._passthrough:
                    targets = (src,)
                elif cmap.unmapped == "ignore":
                    continue
                else:
                    problems.append(self._unmapped(src))
                    continue
            for dst in targets:
                if dst in produced:
                    problems.append(
                        f"source columns {produced[dst]!r} and {src!r} both map to {dst!r}: "
                        f"list one of them in ignore = [...]"
                    )
                    continue
                produced[dst] = src
                steps.append((src, dst, self._converter(dst)))
        for dst in cmap.constants:
            if dst in produced:
                problems.append(
                    f"[constants] sets {dst!r} on every record, but source column {produced[dst]!r} "
                    f"maps to it too: add {produced[dst]!r} to ignore = [...], or move {dst!r} "
                    f"to [defaults] to fill only its empty cells"
                )
        if problems:
            return problems
        columns = [dst for _, dst, _ in steps] + list(cmap.constants)
        fills = []
        for dst, default in cmap.defaults.items():
            if dst not in produced:
                columns.append(dst)
            fills.append((dst, default, not dst.startswith(LINE_PREFIX)))
        return _Plan(tuple(steps), dict(cmap.constants), tuple(fills), tuple(columns))

    def _converter(self, dst: str) -> Callable[[Any], Any] | None:
        try:
            return self._converters[dst]
        except KeyError:
            pass
        cmap = self.map
        coerce: Callable[[Any], Any] | None = None
        if field_for_column(self.entity, dst) is not None:
            coerce = _coercer(self.entity, dst, self._options_for(dst))
            if is_text_coercer(coerce):
                coerce = None  # text is taken as it is
        vmap = cmap.values.get(dst)
        convert = coerce if vmap is None else _value_converter(vmap, coerce, cmap.name)
        self._converters[dst] = convert
        return convert

    def _options_for(self, dst: str) -> CoerceOptions:
        cmap, spec = self.map, self.map.formats.get(dst, ColumnFormat())
        decimal_comma = spec.decimal_comma
        if decimal_comma is None:
            decimal_comma = cmap.decimal_comma
        if decimal_comma is None:
            decimal_comma = self.fallback.decimal_comma
        date_format = spec.date_format
        if date_format is None:
            date_format = cmap.date_format
        if date_format is None:
            date_format = self.fallback.date_format
        return CoerceOptions(decimal_comma=decimal_comma, date_format=date_format or None)

    # -- errors and document keys --------------------------------------------------

    def _unmapped(self, src: str) -> str:
        hints = []
        known = list(self.map.columns) + sorted(self.map.ignore)
        key = _closest(src, known)
        if key is not None:
            hints.append(f"is it the map's {key!r}?")
        api = _closest(src, valid_columns(self.entity))
        if api is not None:
            hints.append(f"closest API column: {api!r}")
        hint = f" ({'; '.join(hints)})" if hints else ""
        return (
            f"source column {src!r} is not mapped{hint}: map it under [columns] "
            f"({_quoted(src)} = \"<API column>\") or list it in ignore = [...]"
        )

    def _source_error(self, exc: RecordError, src: str, dst: str) -> RecordError:
        reason = exc.reason
        reason = reason.replace(SWITCH_TO_COMMA, f"set decimal_comma = true under [formats] in {self.map.name}")
        reason = reason.replace(SWITCH_TO_POINT, f"set decimal_comma = false under [formats] in {self.map.name}")
        reason = reason.replace("pass --date-format for other layouts",
                                f"set date_format under [formats] in {self.map.name}")
        if src != dst and dst not in reason:
            reason = f"{reason} (mapped to {dst})"
        return RecordError(reason, src)

    def _feeders_of(self, api: str) -> tuple[str, ...]:
        """The source columns that can carry ``api``, in the map's order."""
        sources = [s for s, targets in self.map.columns.items() if api in targets]
        if api not in self.map.ignore and api not in self.map.columns:
            sources.append(api)
        return tuple(sources)

    def _group(self, out: dict[str, Any]) -> Any:
        for name in self._group_fields:
            value = out.get(name)
            if isinstance(value, str) and value.strip():
                return value
        return None

    def _stub(self, data: dict[str, Any]) -> MappedRow:
        """What a bad record still tells: the document it belongs to."""
        stub = MappedRow()
        stub.source = data
        for api, sources in self._feeders.items():
            for src in sources:
                if src in data:
                    stub[api] = data[src]
                    break
        if self._track_groups:
            self._last_group = self._group(stub)
        return stub


# -- loading ----------------------------------------------------------------------------


def load_map(path: str | os.PathLike[str], entity: str | Entity | None = None) -> ColumnMap:
    """Read and check a mapping file. ``entity``: the run's ``--entity`` (the file's
    own ``entity``, if any, must agree). Raises :class:`MapError` (a ``ConfigError``)
    naming the file, the key and the reason for every mistake found."""
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"mapping file not found: {name}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {name}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MapError(name, [f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                              "save the mapping file as UTF-8"]) from None
    return parse_map(text, entity=entity, path=name)


def parse_map(text: str, *, entity: str | Entity | None = None, path: str = "<map>") -> ColumnMap:
    """:func:`load_map` for TOML text already in hand."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MapError(path, [f"not valid TOML: {exc}"]) from None
    return _Loader(path, doc).load(entity)


class _Loader:
    def __init__(self, path: str, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self.problems: list[str] = []

    def problem(self, where: str, reason: str) -> None:
        self.problems.append(f"{where}: {reason}" if where else reason)

    def load(self, wanted: str | Entity | None) -> ColumnMap:
        doc = self.doc
        for key in doc:
            if key not in _TOP_KEYS:
                close = difflib.get_close_matches(key, _TOP_KEYS, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f" (expected {', '.join(_TOP_KEYS)})"
                self.problem(_toml_key(key), f"unknown key{hint}")
        ent = self._entity(wanted)
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
        ignore = self._ignore(doc.get("ignore", []), "ignore")
        columns = self._columns(ignore)
        constants = self._constants("constants")
        defaults = self._constants("defaults")
        for dst in constants.keys() & defaults.keys():
            self.problem(f"defaults.{_toml_key(dst)}", "is a constant too; keep one of them")
        decimal_comma, date_format, formats = self._formats()
        values = self._values()
        if self.problems:
            raise MapError(self.path, self.problems)
        return ColumnMap(
            path=self.path, entity=ent, columns=columns, ignore=frozenset(ignore), unmapped=unmapped,
            constants=constants, defaults=defaults, formats=formats, decimal_comma=decimal_comma,
            date_format=date_format, values=values, description=description,
        )

    # -- sections ---------------------------------------------------------------------

    def _entity(self, wanted: str | Entity | None) -> Entity:
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
        for key, value in _flatten(self._table("columns")):
            where = f"columns.{_toml_key(key)}"
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
                                    f"the column, got {_shown(value)}{hint}")
                continue
            good = []
            for target in targets:
                dst = target.strip()
                if not dst:
                    self.problem(where, "an empty API column name; use false to drop the column")
                elif dst not in self.valid_set:
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
                self.problem(f"columns.{_toml_key(src)}", "is also in ignore; keep one of them")
        return columns

    def _constants(self, section: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        ent = self.entity
        keys = {ent.key_field, ent.action_key_field, DOCUMENT_KEY if ent.line_field else None} - {None}
        for dst, value in _flatten(self._table(section)):
            where = f"{section}.{_toml_key(dst)}"
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {ent.name}{self._suggest(dst)}")
                continue
            if dst in keys:
                self.problem(where, f"{dst} names each record and cannot be the same for all of them")
                continue
            api = self._api_value(where, dst, value)
            if api is not _MISS:
                out[dst] = api
        return out

    def _formats(self) -> tuple[bool | None, str | None, dict[str, ColumnFormat]]:
        table = self._table("formats")
        decimal_comma = date_format = None
        specs: dict[str, ColumnFormat] = {}
        for key, value in table.items():
            if key in _FORMAT_KEYS and not isinstance(value, dict):
                if key == "decimal_comma":
                    decimal_comma = self._decimal_comma(f"formats.{key}", value)
                else:
                    date_format = self._date_format(f"formats.{key}", value)
        rest = {k: v for k, v in table.items() if not (k in _FORMAT_KEYS and not isinstance(v, dict))}

        def is_spec(path: str, value: Any) -> bool:
            return isinstance(value, dict) and (path in self.valid_set or set(value) <= set(_FORMAT_KEYS))

        for dst, value in _flatten(rest, leaf=is_spec):
            where = f"formats.{_toml_key(dst)}"
            if not isinstance(value, dict):
                self.problem(where, "expected { decimal_comma = true } or { date_format = \"%d.%m.%Y\" } "
                                    f"for an API column, got {_shown(value)}")
                continue
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {self.entity.name}{self._suggest(dst)}")
                continue
            unknown = [k for k in value if k not in _FORMAT_KEYS]
            if unknown:
                self.problem(where, f"unknown option {unknown[0]!r} (expected decimal_comma or date_format)")
                continue
            kind = _kind(self.entity, dst)
            spec_dc = spec_df = None
            if "decimal_comma" in value:
                if kind not in ("number", "integer"):
                    self.problem(where, f"decimal_comma applies to number columns; {dst} is {_article(kind)}")
                else:
                    spec_dc = self._decimal_comma(where + ".decimal_comma", value["decimal_comma"])
            if "date_format" in value:
                if kind != "datetime":
                    self.problem(where, f"date_format applies to date columns; {dst} is {_article(kind)}")
                else:
                    spec_df = self._date_format(where + ".date_format", value["date_format"])
            specs[dst] = ColumnFormat(spec_dc, spec_df)
        return decimal_comma, date_format, specs

    def _decimal_comma(self, where: str, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.problem(where, f"expected true or false, got {_shown(value)}")
            return None
        return value

    def _date_format(self, where: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"expected a strptime layout such as \"%d.%m.%Y\", got {_shown(value)}")
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

        for dst, table in _flatten(self._table("values"), leaf=is_map):
            where = f"values.{_toml_key(dst)}"
            if not isinstance(table, dict):
                self.problem(where, "expected a table of \"source value\" = \"API value\", e.g. "
                                    "[values.\"mainAddress.countryId\"] then Norge = \"NO\"")
                continue
            if dst not in self.valid_set:
                self.problem(where, f"{dst!r} is not a column of {self.entity.name}{self._suggest(dst)}")
                continue
            lookup: dict[str, Any] = {}
            seen: set[str] = set()
            shown: list[str] = []
            fallback: Any = _MISS
            for key, value in table.items():
                entry = f"{where}.{_toml_key(key)}"
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
                        if api is not _MISS:
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
                if api is not _MISS:
                    lookup[folded] = api
                    shown.append(key.strip())
            out[dst] = ValueMap(dst, lookup, fallback, tuple(shown))
        return out

    # -- helpers ----------------------------------------------------------------------

    def _api_value(self, where: str, dst: str, value: Any, empty_ok: bool = False) -> Any:
        """``value`` as the API value of ``dst``, checked as a record's would be."""
        if isinstance(value, datetime | date | time):
            value = value.isoformat()
        if isinstance(value, dict | list):
            self.problem(where, f"expected a single value, got {_shown(value)}")
            return _MISS
        if isinstance(value, str) and not value.strip():
            if empty_ok:
                return ""
            self.problem(where, "an empty value; leave the line out instead")
            return _MISS
        try:
            return _coercer(self.entity, dst, CoerceOptions())(value)
        except RecordError as exc:
            reason = exc.reason
            if reason.endswith(SWITCH_TO_COMMA):  # formats do not apply here: say how to write it
                reason = f"{value!r} is not a number as the API writes them; write it as 1234.50"
            reason = reason.replace("; pass --date-format for other layouts", "")
            self.problem(where, reason)
            return _MISS

    def _suggest(self, name: str) -> str:
        close = _closest(name, self.valid)
        return f"; did you mean {close!r}?" if close else ""


# -- small helpers ----------------------------------------------------------------------


def _flatten(
    table: dict[str, Any], prefix: str = "", leaf: Callable[[str, Any], bool] | None = None,
) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) pairs: ``a.b = 1`` and ``"a.b" = 1`` read the same."""
    for key, value in table.items():
        path = prefix + key
        if isinstance(value, dict) and not (leaf is not None and leaf(path, value)):
            yield from _flatten(value, path + ".", leaf)
        else:
            yield path, value


def _kind(entity: Entity, column: str) -> str:
    found = field_for_column(entity, column)
    return (found.type or found.kind) if found is not None else "string"


def _article(kind: str) -> str:
    return {"string": "a text column", "boolean": "a true/false column", "integer": "a whole-number column",
            "number": "a number column", "datetime": "a date column", "uuid": "a UUID column"}.get(kind, kind)


def _coercer(entity: Entity, column: str, options: CoerceOptions) -> Callable[[Any], Any]:
    found = field_for_column(entity, column)
    if found is None:  # pragma: no cover - columns are checked before
        raise ConfigError(f"column {column!r} is not a field of {entity.name}")
    return coercer_for(found, options)


def _value_converter(vmap: ValueMap, coerce: Callable[[Any], Any] | None, map_name: str) -> Callable[[Any], Any]:
    table, fallback = vmap.table, vmap.fallback
    shown = ", ".join(vmap.shown[:12]) + (", ..." if len(vmap.shown) > 12 else "")
    where = f"[values.{_toml_key(vmap.column)}] in {map_name}"

    def convert(value: Any) -> Any:
        if type(value) is str:
            key = value.strip().casefold()
        elif isinstance(value, bool):
            key = "true" if value else "false"
        else:
            key = str(value).casefold()
        found = table.get(key, _MISS)
        if found is not _MISS:
            return found
        if fallback is _MISS:
            raise RecordError(f"{value!r} is not in the value map {where} (it has {shown}); "
                              f"add it there, or add \"*\" = \"*\" to keep other values as they are")
        if fallback is KEEP:
            return coerce(value) if coerce is not None else value
        return fallback

    return convert


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    candidates = list(candidates)
    folded = name.casefold()
    for candidate in candidates:
        if candidate.casefold() == folded:
            return candidate
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    # "countryId" → "mainAddress.countryId": the last part alone
    tails = [c for c in candidates if c.rsplit(".", 1)[-1].casefold() == folded]
    return tails[0] if tails else None


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _quoted(key)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
