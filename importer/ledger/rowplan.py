"""What one record shape becomes in an export's CSV, worked out once (used by :mod:`.csvplans`).

:func:`shapes` sorts records by shape: field names in order, value types, and the same of
every nested object (``customer``, ``vatCode``). :class:`Compiler` turns one record of a shape
into a :class:`Plan`, following the rules of :class:`~importer.mapping.flatten.Place` field by
field: what the flattener would make a column, a renamed DTO path, a field no column takes
(``left``: always data; ``maybe``: data unless empty), or skip. A plan then writes any number
of records of that shape a column at a time (:func:`column_texts`), the way
:class:`~importer.ledger.files.CsvWriter` writes each value. A shape it cannot settle
(a ``{"value": ...}`` wrapper, a DTO path renamed onto a column the record fills already)
compiles to None.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from importer.ledger.files import _MONEY, _RISKY, _TEXT, money_cell, number_cell
from importer.mapping.flatten import COLUMN, RENAMED, SKIP, Place, as_mmyyyy
from importer.sources.cells import neutralise

__all__ = ["MAX_SHAPES", "Compiler", "Plan", "column_texts", "shapes"]

MAX_SHAPES = 256  # plans kept for headers and for lines each; a new shape past that goes the long way
_LEAVES = frozenset({str, int, float, bool, list})
_RISKY_START = re.compile("\x00[" + re.escape("".join(sorted(_RISKY))) + "]")  # searched in "\x00" + joined
# How a column's values are written: text as it is (a start a spreadsheet would run quoted),
# a period, a boolean, a number in a text column, a number, an amount.
PLAIN, PERIOD, BOOL, TEXT_NUMBER, NUMBER, MONEY = range(6)
_BOOLS = ("false", "true")
_NUMBERS = frozenset({int, float})  # written and counted alike: one shape
_DICT = frozenset({dict})
_EXACT_CENTS = 2.0**46  # below this a double is within half a cent of its shortest repr


def shapes(objs: Sequence[Mapping[str, Any]], place: Place) -> list[tuple[Any, list[int], list[tuple[Any, ...]]]]:
    """``objs`` by full shape, in the order shapes first appear: (shape, indexes, their values)."""
    keys = list(map(tuple, objs))
    values: list[tuple[Any, ...]] = list(map(tuple, map(dict.values, objs)))  # type: ignore[arg-type]
    groups: list[tuple[Any, list[int]]] | None = None
    if keys.count(keys[0]) == len(keys):  # the same names: which types vary, if any?
        columns = list(zip(*values))
        kinds = [_NUMBERS if k == _NUMBERS else k for k in (frozenset(map(type, c)) for c in columns)]
        varying = [p for p, k in enumerate(kinds) if len(k) > 1 and k is not _NUMBERS]
        if not varying:
            groups = [((keys[0], tuple(kinds)), list(range(len(objs))))]
        else:
            found: dict[Any, list[int]] = {}
            for i, own in enumerate(zip(*(map(type, columns[p]) for p in varying))):
                found.setdefault(own, []).append(i)
            groups = []
            for own, idx in found.items():
                types = list(kinds)
                for p, t in zip(varying, own):
                    types[p] = frozenset((t,))
                groups.append(((keys[0], tuple(types)), idx))
    if groups is None:
        found = {}
        for i, (k, v) in enumerate(zip(keys, values)):
            found.setdefault((k, tuple(frozenset((t,)) for t in map(type, v))), []).append(i)
        groups = list(found.items())
    out: list[tuple[Any, list[int], list[tuple[Any, ...]]]] = []
    for shape, idx in groups:
        parts = [(shape, idx)]
        for pos, vtype in enumerate(shape[1]):
            kind, _, _, below = place.step(shape[0][pos]) if vtype == _DICT else (SKIP, "", "", None)
            if kind == SKIP or below is None:
                continue
            refined = []
            for signature, members in parts:
                for inner, at, _ in shapes([values[i][pos] for i in members], below):
                    refined.append((signature + ((pos, inner),),
                                    members if len(at) == len(members) else [members[j] for j in at]))
            parts = refined
        out.extend((signature, members, values if len(members) == len(values) else [values[i] for i in members])
                   for signature, members in parts)
    return out


@dataclass(frozen=True, slots=True)
class Plan:
    """A shape's cells: ``takes`` are (object, position, how) in the order of their cells."""

    objects: tuple[tuple[int, str], ...]  # (parent, field) of each nested object; object 0 is the record
    takes: tuple[tuple[int, int, int], ...]
    template: str  # the row's cells between their delimiters, ``{}`` for each take (str.format)
    left: tuple[str, ...]  # fields no column takes that always hold data (numbers, booleans)
    maybe: tuple[tuple[int, int, str], ...]  # (object, position, field) no column takes: data unless empty
    dropped: tuple[str, ...]  # columns the CSV header lacks
    currency: tuple[int, int] | None  # (object, position) of the header's currencyId

    def values(self, group: Sequence[Mapping[str, Any]], top: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
        """Each object's values, as tuples, for every record of ``group`` (``top``: the records' own)."""
        objs: list[Sequence[Any]] = [group]
        for parent, key in self.objects:
            objs.append(list(map(itemgetter(key), objs[parent])))
        return [top, *(list(map(tuple, map(dict.values, o))) for o in objs[1:])]

    def rows(self, values: list[list[tuple[Any, ...]]], decimals: list[int], comma: bool) -> list[str]:
        """The text of each record's cells."""
        columns = [column_texts(list(map(itemgetter(pos), values[me])), how, decimals, comma)
                   for me, pos, how in self.takes]
        if not columns:
            return [self.template.format()] * len(values[0])
        return list(map(self.template.format, *columns))


def column_texts(column: list[Any], how: int, decimals: list[int], comma: bool) -> list[str]:
    """A column's values as :class:`CsvWriter` writes them; ``decimals``: each row's amount decimals."""
    if how == BOOL:
        return list(map(_BOOLS.__getitem__, column))
    if how == NUMBER:
        texts = list(map(repr, column))
        if "e" in "\x00".join(texts):  # an exponent: no number the import reads
            texts = [number_cell(v, False) for v in column]
        return _commas(texts) if comma else texts
    if how == MONEY:
        cents = _cents(column) if set(decimals) == {2} else None
        if cents is None:
            cents = [money_cell(v, d, False) for v, d in zip(column, decimals)]
        return _commas(cents) if comma else cents
    if how == PERIOD:
        table = {v: as_mmyyyy(v) for v in dict.fromkeys(column)}
        texts = list(map(table.__getitem__, column))
    elif how == TEXT_NUMBER:
        texts = list(map(str, column))
    else:
        texts = column
    if _RISKY_START.search("\x00" + "\x00".join(texts)):
        texts = [neutralise(t) if t[:1] in _RISKY else t for t in texts]
    return texts


def _cents(column: list[Any]) -> list[str] | None:
    """Amounts with two decimals, when ``"%.2f"`` writes each as money_cell does (a value with
    at most two decimals, small enough that its double is within half a cent); else None."""
    if max(map(abs, column)) >= _EXACT_CENTS:
        return None
    texts = list(map("%.2f".__mod__, column))
    if list(map(float, texts)) != column or "n" in "\x00".join(texts):  # more decimals; nan or inf
        return None
    return texts


def _literal(text: str) -> str:
    """``text`` as it stands in a str.format template."""
    return text.replace("{", "{{").replace("}", "}}")


def _commas(texts: list[str]) -> list[str]:
    return "\x00".join(texts).replace(".", ",").split("\x00")


class Compiler:
    """Makes the :class:`Plan` of one record (or line) for the header part or the line part of
    a row: ``index`` maps that part's columns to their cells, ``kinds`` how a column's numbers
    are written (``CsvWriter``'s), ``joiner`` ends the template (the delimiter before the lines'
    cells), ``periods`` are the columns read as ``YYYYMM``."""

    def __init__(self, index: Mapping[str, int], kinds: Mapping[str, int], width: int, delimiter: str,
                 joiner: str, periods: Collection[str]) -> None:
        self.index, self.kinds, self.width, self.periods = index, kinds, width, periods
        self.delimiter, self.joiner = _literal(delimiter), _literal(joiner)

    def compile(self, place: Place, root: Mapping[str, Any]) -> Plan | None:
        objects: list[tuple[int, str]] = []
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
                    objects.append((me, name))
                    if not visit(below, value, len(objects)):
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
        cells = [""] * self.width
        for cell, _ in kept:
            cells[cell] = "{}"
        currency = next(((me, pos) for me, pos, column, _ in takes if column == "currencyId"), None)
        return Plan(tuple(objects), tuple((me, pos, self._how(column, vtype)) for _, (me, pos, column, vtype) in kept),
                    self.delimiter.join(cells) + self.joiner, tuple(left), tuple(maybe),
                    tuple(t[2] for t in takes if t[2] not in self.index), currency)

    def _how(self, column: str, vtype: type) -> int:
        if vtype is str:
            return PERIOD if column in self.periods else PLAIN
        if vtype is bool:
            return BOOL
        kind = self.kinds[column]
        return TEXT_NUMBER if kind == _TEXT else MONEY if kind == _MONEY else NUMBER
