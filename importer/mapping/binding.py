"""A mapping file bound to one input: source records in, records keyed by API columns out.

Each API column's converter is built once per run from the map: the column's rewrites,
then its value map, then its format (a period layout, a decimal convention, a date layout)
and the schema's checks. The per-record path only looks up and calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from importer.entities import Entity
from importer.errors import ConfigError, RecordError
from importer.mapping.coerce import (
    PERIOD_LAYOUTS,
    SWITCH_TO_COMMA,
    SWITCH_TO_POINT,
    CoerceOptions,
    coercer_for,
    is_text_coercer,
)
from importer.mapping.columns import DOCUMENT_KEY, ERROR_COLUMN, LINE_PREFIX, field_for_column, valid_columns
from importer.mapping.computed import plan_computed
from importer.mapping.mapspec import (
    KEEP,
    MISS,
    UNKNOWN_COLUMNS_HINT,
    ColumnFormat,
    ColumnMap,
    MapError,
    MappedRow,
    ValueMap,
    closest,
    quoted,
    toml_key,
)
from importer.mapping.transforms import PeriodFormat, rewriter
from importer.sources.base import SourceRecord

__all__ = ["BoundMap", "header_problems", "coercer", "period_layout"]

_PLAN_CACHE = 256  # NDJSON key sets per run, as RecordMapper keeps
_UNMAPPED_START = "source column "  # how an unknown column's problem begins


@dataclass(slots=True)
class _Plan:
    steps: tuple[tuple[str, str, Callable[[Any], Any] | None], ...]  # (source, API column, convert)
    constants: dict[str, Any]
    fills: tuple[tuple[str, Any, bool], ...]  # (API column, default, document-level)
    columns: tuple[str, ...]
    computed: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = ()  # (API column, its expression)


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
        # What a bad record keeps: its key (so results name it, and a plan's later steps know
        # which customer failed) and, for documents, the document it belongs to.
        kept = (cmap.entity.key_field, cmap.entity.action_key_field, *self._group_fields)
        self._feeders = {api: self._feeders_of(api) for api in dict.fromkeys(f for f in kept if f)}
        self.columns: list[str] | None = None
        self.missing: tuple[str, ...] = ()
        self._fixed: _Plan | None = None
        self._header = columns is not None  # a CSV header: problems with it show where in the map
        if columns is not None:
            plan = self._build(tuple(columns))
            if isinstance(plan, list):
                raise MapError(cmap.path, plan, self._hint(plan))
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
        for dst, compute in plan.computed:
            out[dst] = compute(data)  # a RecordError names its column and the expression
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
                elif cmap.unmapped == "ignore" or src in cmap.reads:  # read by a [computed] expression
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
        computed, found = plan_computed(cmap, names, produced, self._header, self._options_for, self._converter)
        problems += found
        if problems:
            return problems
        columns = [dst for _, dst, _ in steps] + [dst for dst, _ in computed] + list(cmap.constants)
        fills = []
        for dst, default in cmap.defaults.items():
            if dst not in produced and dst not in cmap.computed:
                columns.append(dst)
            fills.append((dst, default, not dst.startswith(LINE_PREFIX)))
        return _Plan(tuple(steps), dict(cmap.constants), tuple(fills), tuple(columns), tuple(computed))

    def _converter(self, dst: str) -> Callable[[Any], Any] | None:
        try:
            return self._converters[dst]
        except KeyError:
            pass
        cmap = self.map
        spec = cmap.formats.get(dst, ColumnFormat())
        coerce: Callable[[Any], Any] | None = None
        if field_for_column(self.entity, dst) is not None:
            coerce = coercer(self.entity, dst, self._options_for(dst), spec.period)
            if is_text_coercer(coerce):
                coerce = None  # text is taken as it is
        vmap = cmap.values.get(dst)
        convert = coerce if vmap is None else _value_converter(vmap, coerce, cmap.name)
        if spec.rewrites:  # patterns first: value maps and formats see the rewritten text
            convert = _chain(rewriter(spec.rewrites, spec.keep_unmatched,
                                      f"[formats] {toml_key(dst)} in {cmap.name}"), convert)
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

    def _hint(self, problems: list[str]) -> str | None:
        """How to find the right names, when some of ``problems`` are unknown columns."""
        if any(p.startswith(_UNMAPPED_START) for p in problems):
            return UNKNOWN_COLUMNS_HINT.format(entity=self.entity.name)
        return None

    def _unmapped(self, src: str) -> str:
        hints = []
        known = list(self.map.columns) + sorted(self.map.ignore)
        key = closest(src, known)
        if key is not None:
            hints.append(f"is it the map's {key!r}?")
        api = closest(src, valid_columns(self.entity))
        if api is not None:
            hints.append(f"closest API column: {api!r}")
        hint = f" ({'; '.join(hints)})" if hints else ""
        return (
            f"{_UNMAPPED_START}{src!r} is not mapped{hint}: map it under [columns] "
            f"({quoted(src)} = \"<API column>\") or list it in ignore = [...]"
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
        """What a bad record still tells: its key, and the document it belongs to."""
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


def header_problems(cmap: ColumnMap, columns: Sequence[str]) -> list[str]:
    """What is wrong with binding ``cmap`` to this CSV header ([] when nothing is)."""
    try:
        cmap.bind(columns)
    except MapError as exc:
        return exc.problems
    return []


def period_layout(entity: Entity, column: str) -> str | None:
    """``MMYYYY`` or ``YYYYMM`` for a period column, else None."""
    found = field_for_column(entity, column)
    if found is None or found.type != "string":
        return None
    return PERIOD_LAYOUTS.get(found.name)


def coercer(
    entity: Entity, column: str, options: CoerceOptions, period: PeriodFormat | None = None,
) -> Callable[[Any], Any]:
    """The converter of one API column: its period layout if it has one, else the schema's."""
    found = field_for_column(entity, column)
    if found is None:  # pragma: no cover - columns are checked before
        raise ConfigError(f"column {column!r} is not a field of {entity.name}")
    api_layout = period_layout(entity, column)
    if period is not None and api_layout is not None:
        return lambda value: period.read(value, api_layout)
    return coercer_for(found, options)


def _chain(first: Callable[[Any], Any], then: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if then is None:
        return first
    return lambda value: then(first(value))


def _value_converter(vmap: ValueMap, coerce: Callable[[Any], Any] | None, map_name: str) -> Callable[[Any], Any]:
    table, fallback = vmap.table, vmap.fallback
    listed = ", ".join(vmap.shown[:12]) + (", ..." if len(vmap.shown) > 12 else "")
    where = f"[values.{toml_key(vmap.column)}] in {map_name}"

    def convert(value: Any) -> Any:
        if type(value) is str:
            key = value.strip().casefold()
        elif isinstance(value, bool):
            key = "true" if value else "false"
        else:
            key = str(value).casefold()
        found = table.get(key, MISS)
        if found is not MISS:
            return found
        if fallback is MISS:
            raise RecordError(f"{value!r} is not in the value map {where} (it has {listed}); "
                              f"add it there, or add \"*\" = \"*\" to keep other values as they are")
        if fallback is KEEP:
            return coerce(value) if coerce is not None else value
        return fallback

    return convert
