"""``export --map``: rows in a mapping file's legacy layout, so ``run --map`` reads them back.

A mapping file (:mod:`importer.mapping.mapfile`) says how a legacy column becomes an API
column; this module runs it backwards on flattened answers:

- Each legacy column of ``[columns]`` is written, in the map's order, from the API column it
  maps to. A legacy column copied to several API columns (``"E-post" = ["mainContact.email",
  "invoiceContact.email"]``) is written from the first; where the others hold a different
  value, that API column is named in ``left_out``. When two legacy columns feed the same API
  column, only the first is written (a re-import would refuse both).
- The record's key is written under its API name when the map gives it no legacy column.
- Value maps are inverted: an API value is written as the first source value listed for it
  (``Norge`` and ``Noreg`` both map to ``NO``; ``NO`` is written as ``Norge``). An API value
  the map has no source value for is written as it is when the map keeps other values
  (``"*" = "*"``) or turns them into that very value, and otherwise too but counted in
  ``unmapped``: a re-import would find it missing from the value map.
- Formats are undone per column as the import applies them: a decimal comma (``7,5``) where
  the column's, else the map's ``decimal_comma`` says so, else where the file is
  ``;``-separated (the import's own default then); dates in the column's, else the map's
  ``date_format``; periods in the column's ``format`` (``202401`` as ``01.2024`` for
  ``MM.YYYY``). Values found in the value map are written as listed, unformatted.
- A ``rewrite`` cannot be run backwards (``^KR-`` → ``""`` forgets what it took away), so
  a legacy column feeding a rewritten API column is not written: its API columns are named
  in ``left_out`` where a record holds data in them.
- ``[computed]`` columns cannot be run backwards either (``join`` and ``lookup`` forget their
  parts): they are not written, and named in ``left_out`` where a record holds data in them.
- ``[constants]``, ``[defaults]`` for columns with no legacy source, and every other API
  column are not written: the map computes them again on the way back in. Where a record
  holds data in one of them, it is named in ``left_out``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapping.columns import field_for_column
from importer.mapping.flatten import FlatRecord, period_parts
from importer.mapping.mapfile import KEEP, ColumnFormat, ColumnMap, PeriodFormat, ValueMap, load_map

__all__ = ["LegacyLayout", "column_map"]

Cell = Callable[[Any], tuple[str, bool]]  # API value -> (cell text, written as the map can read it)


def column_map(given: str | os.PathLike[str] | ColumnMap | None, entity: Entity) -> ColumnMap | None:
    """The ``--map`` of an export or a verify: loaded (and checked) for ``entity``, or None."""
    if given is None or isinstance(given, ColumnMap):
        if given is not None and given.entity.name != entity.name:
            raise ConfigError(f"{given.name} maps {given.entity.name} records, not {entity.name}")
        return given
    return load_map(given, entity)


def _norm(value: Any) -> str:
    """A value as value maps compare them: trimmed and casefolded text, numbers by value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)
    return str(value).strip().casefold()


def _has_data(value: Any) -> bool:
    return value is not None and value != ""


@dataclass
class LegacyLayout:
    """The columns and cells of ``cmap``'s legacy layout, for one export."""

    cmap: ColumnMap
    delimiter: str
    columns: list[tuple[str, str]] = field(init=False)  # (legacy column, API column), written in order
    carried: frozenset[str] = field(init=False)  # API columns a re-import gets back from them
    rewritten: frozenset[str] = field(init=False)  # API columns behind a rewrite: not written back
    unmapped: dict[str, int] = field(default_factory=dict)  # legacy column -> values written unmappable

    def __post_init__(self) -> None:
        cmap, entity = self.cmap, self.cmap.entity
        written: list[tuple[str, str]] = []
        secondary: list[tuple[str, str]] = []  # (primary API column, another target of its legacy column)
        taken: set[str] = set()
        rewritten = {api for api, spec in cmap.formats.items() if spec.rewrites}
        for legacy, targets in cmap.columns.items():
            if not targets or targets[0] in taken or rewritten.intersection(targets):
                continue
            written.append((legacy, targets[0]))
            taken.update(targets)
            secondary.extend((targets[0], other) for other in targets[1:])
        key = entity.key_field
        if key and key not in taken and key not in cmap.ignore and key not in rewritten and key not in cmap.computed:
            written.insert(0, (key, key))  # a re-import takes an API-named column as it is
            taken.add(key)
        self.columns = written
        self.carried = frozenset(taken)
        self.rewritten = frozenset(rewritten - taken)
        self._secondary = secondary
        self._cells: dict[str, Cell] = {api: self._cell_for(api) for _, api in written}

    @property
    def header(self) -> list[str]:
        return [legacy for legacy, _ in self.columns]

    @property
    def api_columns(self) -> list[str]:
        """What the export has to ask the API for: the columns the layout writes from, and
        the rewritten ones, so that ``left_out`` can name those that hold data."""
        return sorted(self.carried | self.rewritten)

    def rows(self, record: FlatRecord) -> Iterator[dict[str, str]]:
        """``record``'s rows keyed by legacy column; empty values are left out of a row."""
        for row in record.rows():
            out: dict[str, str] = {}
            for legacy, api in self.columns:
                value = row.get(api)
                if not _has_data(value):
                    continue
                text, readable = self._cells[api](value)
                if not readable:
                    self.unmapped[legacy] = self.unmapped.get(legacy, 0) + 1
                out[legacy] = text
            yield out

    def left_out(self, record: FlatRecord) -> list[str]:
        """API columns holding data in ``record`` that the layout does not write."""
        names: dict[str, None] = {}
        for row in record.rows():
            for column, value in row.items():
                if column not in self.carried and _has_data(value):
                    names[column] = None
            for primary, other in self._secondary:
                if _has_data(row.get(other)) and _norm(row.get(other)) != _norm(row.get(primary)):
                    names[other] = None
        return list(names)

    # -- cells ----------------------------------------------------------------------------

    def _cell_for(self, api: str) -> Cell:
        formatted = self._formatter(api)
        vmap = self.cmap.values.get(api)
        if vmap is None:
            return lambda value: (formatted(value), True)
        return _inverted(vmap, formatted)

    def _formatter(self, api: str) -> Callable[[Any], str]:
        spec = self.cmap.formats.get(api, ColumnFormat())
        found = field_for_column(self.cmap.entity, api)
        kind = found.type if found is not None else None
        if spec.period is not None:
            return _period_writer(spec.period)
        if kind in ("number", "integer"):
            comma = spec.decimal_comma
            if comma is None:
                comma = self.cmap.decimal_comma
            if comma is None:
                comma = self.delimiter == ";"  # how the import reads a ;-file without a map format
            return lambda value: _number(value, comma)
        if kind == "datetime":
            layout = spec.date_format if spec.date_format is not None else self.cmap.date_format
            if layout:  # None or "": ISO 8601, as the API answers
                return lambda value: _date(value, layout)
        return _text


def _inverted(vmap: ValueMap, formatted: Callable[[Any], str]) -> Cell:
    """A cell writer that undoes ``vmap`` (see the module doc for values it cannot undo)."""
    inverse: dict[str, str] = {}
    for shown in vmap.shown:  # in the map's order: the first source value listed wins
        api = vmap.table.get(shown.casefold())
        if _has_data(api):
            inverse.setdefault(_norm(api), shown)
    fallback = vmap.fallback

    def cell(value: Any) -> tuple[str, bool]:
        listed = inverse.get(_norm(value))
        if listed is not None:
            return listed, True
        text = formatted(value)
        if text.strip().casefold() in vmap.table:  # would be read as another value's source
            return text, False
        if fallback is KEEP:
            return text, True
        is_fallback = isinstance(fallback, str | int | float | bool) and _norm(fallback) == _norm(value)
        return text, is_fallback

    return cell


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _period_writer(layout: PeriodFormat) -> Callable[[Any], str]:
    """A period as the API answers it (``202401`` or ``012024``) → the map's legacy layout."""

    def write(value: Any) -> str:
        parts = period_parts(value)
        return _text(value) if parts is None else layout.write(*parts)

    return write


def _number(value: Any, comma: bool) -> str:
    if isinstance(value, bool):
        return _text(value)
    try:
        text = format(Decimal(str(value)), "f")
    except InvalidOperation:
        return str(value)
    return text.replace(".", ",") if comma else text


def _date(value: Any, layout: str) -> str:
    text = str(value).strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # not a date the API writes: kept, the import will name it
    return when.strftime(layout)
