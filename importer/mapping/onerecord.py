"""One source record → its parts: ``(header, line, key, group)``, ready to be grouped.

A CSV row, an NDJSON record or a record read through a map arrives as a dict of values.
:class:`RecordAssembler` turns it into the header (the payload's top-level fields), the
fields of its document line if it has one, its key and its ``documentKey`` group, and
:mod:`importer.mapping.records` groups those into units of work. Three shapes of record are
taken:

- **flat**: dotted column names (``mainAddress.city``, ``line.amount``), mapped by a plan
  compiled once per set of names (:mod:`importer.mapping.assemble`);
- **API-shaped**: objects and arrays as the API sends them (``{"value": ...}`` wrappers),
  checked field by field, not rebuilt; its lines are held to the same limit of lines as a
  document made of rows;
- **natural**: plain objects and a list of lines (:mod:`importer.mapping.jsonshape`), mapped
  as a flat record's columns would be.

A record that cannot be mapped raises :class:`~importer.errors.RecordError` naming every
unknown key at once, each with the closest known name. A key is trimmed as the API trims it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from importer.entities import Entity
from importer.errors import RecordError, UnknownColumnError
from importer.mapping.assemble import Assembled, ShapedRecord
from importer.mapping.coerce import CoerceOptions, Coercer, coercer_for
from importer.mapping.columns import ERROR_COLUMN, LINE_PREFIX, Build, compile_columns, valid_columns
from importer.mapping.header import unknown_columns
from importer.mapping.jsonshape import check_shaped, is_api_shaped, natural_parts
from importer.mapping.jsontypes import key_text
from importer.schema import Field, fields, unwrap_value
from importer.sources.base import SourceRecord

__all__ = ["RecordAssembler", "default_operation", "unknown_fields"]


def default_operation(line: dict[str, Any]) -> None:
    """Give a document line without an ``operation`` its default: Insert.

    A line that names its ``lineNumber`` is left without one: it is that line, to be
    updated when the document is updated and inserted when it is created, which only the
    request knows (:func:`importer.load.calls.build_call`). So an exported document,
    edited and sent again, changes its lines instead of adding copies of them.
    """
    if "operation" not in line and "lineNumber" not in line:
        line["operation"] = "Insert"


def unknown_fields(entity: Entity, unknown: Sequence[str], known: Sequence[str], what: str,
                   hint: str | None = None) -> str:
    """Why a record cannot be mapped: every one of its ``unknown`` keys, each with the closest
    of ``known``, so one round of fixes does for all of them."""
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        named.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    head = (f"{named[0]} is not one of the {what} of {entity.name}" if len(named) == 1
            else f"{len(named)} keys are not {what} of {entity.name}: " + ", ".join(named))
    tail = f"`importer columns {entity.name}` lists them" + (f"; {hint}" if hint else "")
    return f"{head}; {tail}"


class RecordAssembler:
    """Maps single records of one entity to their parts. ``columns`` is the CSV header,
    checked at once; ``max_lines`` is the most lines one API-shaped document may have."""

    def __init__(self, entity: Entity, options: CoerceOptions, columns: list[str] | None, max_lines: int) -> None:
        self.entity = entity
        self.options = options
        self.top = fields(entity.schema)  # the entity's top-level fields, by name
        self._plans: dict[tuple[str, ...], Build | str] = {}  # str: why those columns fail
        self._checkers: dict[tuple[str, str], Coercer] = {}  # API-shaped records' values, by field
        self._max_lines = max_lines
        self._text_only = columns is not None  # a header means CSV: every value is a string
        if columns is not None:  # raises UnknownColumnError before anything is sent
            self._plans[tuple(columns)] = compile_columns(entity, columns, options, shaped=False)

    def _plan(self, names: tuple[str, ...]) -> Build | str:
        """The compiled plan for a record's columns, or why they cannot be mapped.

        Both are remembered: NDJSON records mostly share one key set, API-shaped ones too.
        """
        plan = self._plans.get(names)
        if plan is None:
            try:
                plan = compile_columns(self.entity, names, self.options, shaped=not self._text_only)
            except UnknownColumnError as exc:  # name every unknown key, not only the first
                unknown = unknown_columns(self.entity, names)
                plan = unknown_fields(self.entity, unknown, valid_columns(self.entity), "columns",
                                      "--map FILE.toml maps other names") if unknown else str(exc)
            if len(self._plans) < 256:  # NDJSON key sets vary; keep the cache bounded
                self._plans[names] = plan
        return plan

    def assembled(self, record: SourceRecord) -> Assembled:
        """``(header, line, key, group)`` of one record, its key trimmed (see :meth:`_trimmed`)."""
        data = record.data
        plan = self._plan(tuple(data))
        if isinstance(plan, str):
            # A record in the API's shape, or a natural one, names objects, not dotted columns.
            if not self._text_only and any(isinstance(v, dict | list) for v in data.values()):
                return self._trimmed(self._map_nested(record))
            raise RecordError(plan)
        try:
            return self._trimmed(plan(data))
        except ShapedRecord:
            return self._trimmed(self._map_nested(record))

    def _map_nested(self, record: SourceRecord) -> Assembled:
        """A record with objects or arrays: API-shaped (it has wrappers) or natural."""
        if is_api_shaped(record.data):
            return self._map_shaped(record)
        return self._map_natural(record)

    def _map_natural(self, record: SourceRecord) -> Assembled:
        """A natural record (see :mod:`importer.mapping.jsonshape`): its columns mapped as a
        CSV row's would be, its lines as ``line.`` columns, all in one document."""
        columns, items = natural_parts(record.data, self.entity.line_field)
        header, line, key, group = self._built(columns, "")
        if items is None:
            return header, line, key, group
        lines = [line] if line else []
        for i, item in enumerate(items):
            _, one, _, _ = self._built(item, f"{self.entity.line_field}[{i}]")
            if one:
                default_operation(one)
                lines.append(one)
        if lines:
            header[self.entity.line_field] = lines  # type: ignore[index]
        return header, None, key, group

    def _built(self, columns: dict[str, Any], where: str) -> Assembled:
        """``columns`` mapped by their plan; errors name ``where`` (a line: ``invoiceLines[0]``)."""
        plan = self._plan(tuple(columns))
        if isinstance(plan, str):
            if not where:
                raise RecordError(plan)
            unknown = [name.removeprefix(LINE_PREFIX) for name in unknown_columns(self.entity, tuple(columns))]
            known = [name.removeprefix(LINE_PREFIX) for name in valid_columns(self.entity)
                     if name.startswith(LINE_PREFIX)]
            raise RecordError(f"{where}: " + (unknown_fields(self.entity, unknown, known, "line fields")
                                              if unknown else plan))
        try:
            return plan(columns)
        except RecordError as exc:
            if not where or exc.column is None:
                raise
            raise RecordError(exc.reason, f"{where}.{exc.column.removeprefix(LINE_PREFIX)}") from None

    def _trimmed(self, assembled: Assembled) -> Assembled:
        """The key as the API takes it: without the spaces a fixed-width export pads it with.

        The API trims keys, so ``'10001   '`` is sent, looked up and recorded as ``'10001'``:
        the payload's key field and the unit's key always agree.
        """
        header, line, key, group = assembled
        key = key_text(key, self.entity.key_field or self.entity.action_key_field)
        if key is None or key == (trimmed := key.strip()):
            return header, line, key, group
        name = self.entity.key_field
        if name and name in header:
            value = header[name]
            header[name] = {**value, "value": trimmed} if isinstance(value, dict) else trimmed
        return header, line, trimmed or None, group

    def _map_shaped(self, record: SourceRecord) -> Assembled:
        """An NDJSON record already in the API's shape: checked, not rebuilt."""
        payload = dict(record.data)
        if ERROR_COLUMN not in self.top:  # a failed-records file read back in
            payload.pop(ERROR_COLUMN, None)
        key = None
        if self.entity.action_key_field:
            key = key_text(unwrap_value(payload.pop(self.entity.action_key_field, None)),
                            self.entity.action_key_field)
        unknown = [name for name in payload if name not in self.top]
        if unknown:
            reason = unknown_fields(self.entity, unknown, list(self.top), "fields")
            raise RecordError(reason, unknown[0] if len(unknown) == 1 else None)
        check_shaped(payload, self.entity.schema, self.entity.line_field, self._checker)
        if self.entity.key_field:
            key = key_text(unwrap_value(payload.get(self.entity.key_field)), self.entity.key_field)
        if self.entity.line_field:
            lines = payload.get(self.entity.line_field) or ()
            if isinstance(lines, list) and len(lines) > self._max_lines:
                which = f"the document {key!r}" if isinstance(key, str) else "the document"
                raise RecordError(f"{which} has {len(lines):,} lines, more than the {self._max_lines:,} one document "
                                  "may have; none of it is sent: split it into documents of fewer lines",
                                  self.entity.line_field)
            for line in lines:
                if isinstance(line, dict):
                    default_operation(line)
        return payload, None, key, None

    def _checker(self, schema: str, spec: Field) -> Coercer:
        coerce = self._checkers.get((schema, spec.name))
        if coerce is None:
            coerce = self._checkers[(schema, spec.name)] = coercer_for(spec, self.options)
        return coerce
