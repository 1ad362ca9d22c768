"""What one record shape becomes in an export's CSV, worked out once (used by :mod:`.csvplans`).

:func:`shapes` sorts records by shape: field names in order, value types, and the same of
every nested object (``customer``, ``vatCode``). :class:`Compiler` turns one record of a shape
into a :class:`Plan`, following the rules of :class:`~importer.mapping.flatten.Place` field by
field: what the flattener would make a column, a renamed DTO path, a field no column takes
(``left``: always data; ``maybe``: data unless empty), or skip. A plan then writes any number
of records of that shape a column at a time (:func:`~.celltexts.column_texts`), the way
:class:`~importer.ledger.files.CsvWriter` writes each value, from the columns :func:`shapes`
took to sort them. A shape it cannot settle
(a ``{"value": ...}`` wrapper, a DTO path renamed onto a column the record fills already)
compiles to None.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

from importer.ledger.celltexts import BOOL, MONEY, NUMBER, PERIOD, PLAIN, TEXT_NUMBER, Alarm, column_texts
from importer.ledger.files import _MONEY, _TEXT
from importer.mapping.flatten import COLUMN, RENAMED, SKIP, Place

__all__ = ["MAX_SHAPES", "Compiler", "Plan", "Columns", "shapes", "in_order"]

MAX_SHAPES = 256  # plans kept for headers and for lines each; a new shape past that goes the long way
_LEAVES = frozenset({str, int, float, bool, list})
_NUMBERS = frozenset({int, float})  # written and counted alike: one shape
_DICT = frozenset({dict})
_SKIPPED: frozenset[type] = frozenset()  # the types of a field the place skips: not looked at
# The values of a group of objects of one shape, a column per field: the records' own under
# ``()``, a nested object's under the positions that lead to it (``(1,)``: the field at 1).
Columns = dict[tuple[int, ...], list[Sequence[Any]]]


def shapes(objs: Sequence[Mapping[str, Any]], place: Place) -> list[tuple[Any, Sequence[int], Columns]]:
    """``objs`` by full shape, in the order shapes first appear: (shape, indexes, their columns).

    Where every object has the first one's fields, their values are taken a field at a time
    by name (the order of the fields changes no cell, and a field the place skips is neither
    taken nor typed); otherwise an object at a time, its shape including its fields' order."""
    names = tuple(objs[0])
    groups = _alike(objs, names, place) if list(map(len, objs)).count(len(names)) == len(objs) else None
    if groups is None:
        values: list[tuple[Any, ...]] = list(map(tuple, map(dict.values, objs)))  # type: ignore[arg-type]
        found: dict[Any, list[int]] = {}
        for i, (k, v) in enumerate(zip(map(tuple, objs), values)):
            found.setdefault((k, tuple(frozenset((t,)) for t in map(type, v))), []).append(i)
        groups = [(shape, idx, list(zip(*[values[i] for i in idx]))) for shape, idx in found.items()]
    out: list[tuple[Any, Sequence[int], Columns]] = []
    for shape, group, columns in groups:
        parts: list[tuple[Any, Sequence[int] | None, Columns]] = [(shape, None, {(): columns})]
        for pos, vtype in enumerate(shape[1]):
            kind, _, _, below = place.step(shape[0][pos]) if vtype == _DICT else (SKIP, "", "", None)
            if kind == SKIP or below is None:
                continue
            refined: list[tuple[Any, Sequence[int] | None, Columns]] = []
            for signature, members, tables in parts:
                nested = tables[()][pos]
                for inner, at, below_tables in shapes(nested, below):
                    if len(at) == len(nested):
                        kept, mine = members, dict(tables)
                    else:  # some of this part: its columns cut to them
                        kept = at if members is None else [members[j] for j in at]
                        mine = {path: [_cut(c, at) for c in cols] for path, cols in tables.items()}
                    mine.update(((pos, *path), cols) for path, cols in below_tables.items())
                    refined.append((signature + ((pos, inner),), kept, mine))
            parts = refined
        out.extend((signature, group if members is None else [group[j] for j in members], tables)
                   for signature, members, tables in parts)
    return out


def _alike(objs: Sequence[Mapping[str, Any]], names: tuple[str, ...],
           place: Place) -> list[tuple[Any, Sequence[int], list[Sequence[Any]]]] | None:
    """The groups of ``objs``, each of the same field names as ``names``, by the types of their
    values; None if one lacks a name (it has another instead)."""
    try:
        columns: list[Sequence[Any]] = [() if place.step(name)[0] == SKIP else list(map(itemgetter(name), objs))
                                        for name in names]
    except KeyError:
        return None
    kinds = [_SKIPPED if not c else _NUMBERS if k == _NUMBERS else k
             for c, k in zip(columns, map(frozenset, map(map, repeat(type), columns)))]
    varying = [p for p, k in enumerate(kinds) if len(k) > 1 and k is not _NUMBERS]
    if not varying:
        return [((names, tuple(kinds)), range(len(objs)), columns)]
    found: dict[Any, list[int]] = {}
    for i, own in enumerate(zip(*(map(type, columns[p]) for p in varying))):
        found.setdefault(own, []).append(i)
    groups: list[tuple[Any, Sequence[int], list[Sequence[Any]]]] = []
    for own, idx in found.items():
        types = list(kinds)
        for p, t in zip(varying, own):
            types[p] = frozenset((t,))
        groups.append(((names, tuple(types)), idx, [_cut(c, idx) for c in columns]))
    return groups


def in_order(obj: Mapping[str, Any], shape: Any) -> dict[str, Any]:
    """``obj`` (of ``shape``, as :func:`shapes` names it) with its fields, and those of its
    nested objects, in the shape's order: the positions its plan takes values from."""
    names, _, *nested = shape
    out = {name: obj[name] for name in names}
    for pos, inner in nested:
        out[names[pos]] = in_order(out[names[pos]], inner)
    return out


def _cut(column: Sequence[Any], idx: Sequence[int]) -> Sequence[Any]:
    return [column[i] for i in idx] if column else column


@dataclass(frozen=True, slots=True)
class Plan:
    """A shape's cells: ``takes`` are (object, position, how) in the order of their cells."""

    paths: tuple[tuple[int, ...], ...]  # the positions leading to each object; object 0, ``()``, is the record
    takes: tuple[tuple[int, int, int], ...]
    between: tuple[str, ...]  # the row's text before each take's cell, and after the last
    left: tuple[str, ...]  # fields no column takes that always hold data (numbers, booleans)
    maybe: tuple[tuple[int, int, str], ...]  # (object, position, field) no column takes: data unless empty
    dropped: tuple[str, ...]  # columns the CSV header lacks
    currency: tuple[int, int] | None  # (object, position) of the header's currencyId

    def objects(self, tables: Columns) -> list[list[Sequence[Any]]]:
        """Each object's columns (by its index in the plan) out of a group's ``tables``."""
        return list(map(tables.__getitem__, self.paths))

    def rows(self, objects: list[list[Sequence[Any]]], count: int, places: int | Sequence[int], comma: bool,
             alarm: Alarm) -> tuple[list[str], bool]:
        """The text of each of ``count`` records' cells, and whether a cell among them may need quoting."""
        if not self.takes:
            return [self.between[0]] * count, False
        pieces: list[Iterable[str]] = []
        quoting = False
        for (me, pos, how), text in zip(self.takes, self.between):
            if text:
                pieces.append(repeat(text))
            texts, odd = column_texts(objects[me][pos], how, places, comma, alarm)
            pieces.append(texts)
            quoting |= odd
        if self.between[-1]:
            pieces.append(repeat(self.between[-1]))
        return list(map("".join, zip(*pieces))), quoting


class Compiler:
    """Makes the :class:`Plan` of one record (or line) for the header part or the line part of
    a row: ``index`` maps that part's columns to their cells, ``kinds`` how a column's numbers
    are written (``CsvWriter``'s), ``joiner`` ends the row's text (the delimiter before the lines'
    cells), ``periods`` are the columns read as ``YYYYMM``."""

    def __init__(self, index: Mapping[str, int], kinds: Mapping[str, int], width: int, delimiter: str,
                 joiner: str, periods: Collection[str]) -> None:
        self.index, self.kinds, self.width, self.periods = index, kinds, width, periods
        self.delimiter, self.joiner = delimiter, joiner

    def compile(self, place: Place, root: Mapping[str, Any]) -> Plan | None:
        objects: list[tuple[int, ...]] = [()]
        takes: list[tuple[int, int, str, type]] = []
        renamed: list[tuple[int, int, str, str, type]] = []
        maybe: list[tuple[int, int, str]] = []
        left: list[str] = []

        def visit(at: Place, obj: Mapping[str, Any], me: int) -> bool:
            for pos, (name, value) in enumerate(obj.items()):
                if value is None:
                    continue
                kind, path, column, below = at.step(name)
                vtype = type(value)
                if kind == SKIP:
                    continue
                if vtype is dict:
                    if below is None or (len(value) == 1 and "value" in value):
                        return False
                    objects.append((*objects[me], pos))
                    if not visit(below, value, len(objects) - 1):
                        return False
                elif vtype not in _LEAVES:
                    return False
                elif kind == COLUMN and vtype is not list:
                    takes.append((me, pos, column, vtype))
                elif kind == RENAMED:
                    renamed.append((me, pos, path, column, vtype))
                elif vtype is str or vtype is list:
                    maybe.append((me, pos, at.where + path))
                else:
                    left.append(at.where + path)
            return True

        if not visit(place, root, 0):
            return None
        filled = {column for _, _, column, _ in takes}
        for me, pos, path, target, vtype in renamed:  # renamed DTO paths fill the gaps, in order
            column = place.out_prefix + target
            if target in place.accepted and column not in filled and vtype is not list:
                takes.append((me, pos, column, vtype))
                filled.add(column)
            elif column in filled:
                return None  # whether it is left out depends on the two values
            elif vtype is str or vtype is list:
                maybe.append((me, pos, place.where + path))
            else:
                left.append(place.where + path)
        kept = sorted((self.index[t[2]], t) for t in takes if t[2] in self.index)
        at = [cell for cell, _ in kept]
        between = [self.delimiter * (here - before) for before, here in zip([0, *at], at)]
        between.append(self.delimiter * (self.width - 1 - (at[-1] if at else 0)) + self.joiner)
        currency = next(((me, pos) for me, pos, column, _ in takes if column == "currencyId"), None)
        return Plan(tuple(objects), tuple((me, pos, self._how(column, vtype)) for _, (me, pos, column, vtype) in kept),
                    tuple(between), tuple(left), tuple(maybe),
                    tuple(t[2] for t in takes if t[2] not in self.index), currency)

    def _how(self, column: str, vtype: type) -> int:
        if vtype is str:
            return PERIOD if column in self.periods else PLAIN
        if vtype is bool:
            return BOOL
        kind = self.kinds[column]
        return TEXT_NUMBER if kind == _TEXT else MONEY if kind == _MONEY else NUMBER
