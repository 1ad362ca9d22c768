"""A map's ``[computed]`` columns: read and checked when the map loads, planned when it is bound.

::

    [computed]                                  # "API column" = 'expression'
    "mainAddress.addressLine1" = 'join(" ", [Adresse 1], Husnr)'
    amount = 'Beløp * Antall'
    documentDueDate = 'date(Fakturadato) + 30'
    customerClassId = 'if(Type = "B", "2", "1")'
    number = 'lookup("customers", Kundenr)'

The language is :mod:`importer.mapping.exprparse`'s; values are worked out by
:mod:`importer.mapping.exprrun` with the column's own conventions (its ``decimal_comma`` and
``date_format``, else the map's, else the run's). A text result is then read as a source cell
mapped to the column would be (rewrites, value map, format); a number, date or true/false
result is an API value already. Mistakes in an expression are found when the map loads;
columns it reads that the input lacks, when it is bound to the CSV header, before any record.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from importer.entities import Entity
from importer.errors import RecordError
from importer.mapping.coerce import SWITCH_TO_COMMA, SWITCH_TO_POINT, CoerceOptions, coercer_for
from importer.mapping.columns import field_for_column
from importer.mapping.dates import date_format_problem
from importer.mapping.exprparse import Column, ExprSyntaxError, Node, check, columns_of, parse, shown_at, written
from importer.mapping.exprrun import Env, as_text, compile_expr, is_blank
from importer.mapping.mapspec import closest, toml_key

if TYPE_CHECKING:
    from importer.mapping.mapspec import ColumnMap

__all__ = ["Computed", "read_computed", "plan_computed"]

Problem = Callable[[str, str], None]
Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Computed:
    column: str  # the API column it fills
    where: str  # its key in the map: computed.amount
    text: str  # the expression as written
    tree: Node
    reads: tuple[Column, ...]  # the source columns it reads, in the order written


def read_computed(
    section: dict[str, Any], lookups: Collection[str], valid: Collection[str], constants: Collection[str],
    problem: Problem, suggest: Callable[[str], str],
) -> dict[str, Computed]:
    """The ``[computed]`` section, each expression parsed and checked; mistakes go to ``problem``
    with the expression and a caret under the place."""
    out: dict[str, Computed] = {}
    for dst, text in section.items():
        where = f"computed.{toml_key(dst)}"
        if dst not in valid:
            problem(where, f"{dst!r} is not an API column{suggest(dst)}")
            continue
        if dst in constants:
            problem(where, "is a constant too; keep one of them")
            continue
        if not isinstance(text, str):
            problem(where, "expected an expression in quotes, e.g. amount = 'Beløp * Antall'")
            continue
        try:
            tree = parse(text)
        except ExprSyntaxError as exc:
            problem(where, f"{exc.reason} (character {exc.pos + 1}){shown_at(text, exc.pos)}")
            continue
        found = check(tree, lookups, date_format_problem)
        for reason, pos in found:
            problem(where, f"{reason} (character {pos + 1}){shown_at(text, pos)}")
        if not found:
            out[dst] = Computed(dst, where, text, tree, tuple(columns_of(tree)))
    return out


def plan_computed(
    cmap: ColumnMap, names: Sequence[str], produced: dict[str, str], header: bool,
    options_for: Callable[[str], CoerceOptions], converter_for: Callable[[str], Convert | None],
) -> tuple[list[tuple[str, Callable[[dict[str, Any]], Any]]], list[str]]:
    """The computed columns for one set of source columns: (API column, function of the record)
    pairs, or the problems with them. ``header``: ``names`` is a CSV header (problems show where)."""
    present = set(names)
    problems: list[str] = []
    steps: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
    for dst, comp in cmap.computed.items():
        if dst in produced:
            problems.append(f"{comp.where}: source column {produced[dst]!r} maps to {dst!r} too; "
                            f"list it in ignore = [...], or take it out of [computed]")
            continue
        lacking = [c for c in comp.reads if c.name not in present]
        for ref in lacking[:1]:
            near = closest(ref.name, names)
            hint = f"; did you mean {written(near)}?" if near else ""
            shown = f" (character {ref.pos + 1}){shown_at(comp.text, ref.pos)}" if header else ""
            problems.append(f"{comp.where}: the input has no column {ref.name!r}{hint}{shown}")
        if lacking:
            continue
        opts = options_for(dst)
        run = compile_expr(comp.tree, Env(opts.decimal_comma, opts.date_format, cmap.lookups))
        steps.append((dst, _guarded(run, _finisher(cmap.entity, dst), converter_for(dst), dst, cmap.name)))
    return steps, problems


def _finisher(entity: Entity, dst: str) -> Convert:
    """How a typed result (a number, a date, true/false) becomes ``dst``'s API value."""
    found = field_for_column(entity, dst)
    assert found is not None  # [computed] keys are checked to be API columns when the map loads
    kind = found.type or found.kind
    plain = coercer_for(found, CoerceOptions())

    def finish(value: Any) -> Any:
        if isinstance(value, Decimal):
            if kind == "number":
                value = float(value)  # the nearest double, as the API keeps numbers
            elif kind != "integer":
                value = as_text(value)
        elif isinstance(value, date) or (isinstance(value, bool) and kind != "boolean"):
            value = as_text(value)
        return plain(value)

    return finish


def _guarded(
    run: Callable[[dict[str, Any]], Any], finish: Convert, convert: Convert | None, dst: str, map_name: str,
) -> Callable[[dict[str, Any]], Any]:
    label = f"[computed] {toml_key(dst)} in {map_name}"

    def compute(record: dict[str, Any]) -> Any:
        try:
            value = run(record)
            if is_blank(value):
                return "" if value is None else value
            if isinstance(value, str):
                return convert(value) if convert is not None else value
            return finish(value)
        except RecordError as exc:
            reason = exc.reason.replace(SWITCH_TO_COMMA, f"set decimal_comma = true under [formats] in {map_name}")
            reason = reason.replace(SWITCH_TO_POINT, f"set decimal_comma = false under [formats] in {map_name}")
            reason = reason.replace("pass --date-format", f"set date_format under [formats] in {map_name}")
            raise RecordError(f"{reason} ({label})", exc.column or dst) from None

    return compute
