"""Running a computed column's expression on a record: its tree compiled into closures once.

Values are text (``str``), decimals (``Decimal``: exact, never floats), dates (``date``),
true/false, and empty (``None``, or text of spaces). A column's cell is read as a number,
the way its map reads numbers (``decimal_comma``), only where a number is wanted; as a date
only by ``date(...)``. Empty goes through arithmetic as empty (``Beløp * Antall`` with no
``Antall`` is empty, and ``[defaults]`` can fill it); ``join`` leaves it out. A value that
cannot be used raises ``RecordError`` naming the column it came from, when one did.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from importer.errors import RecordError
from importer.mapping.coerce import read_decimal
from importer.mapping.dates import datetime_coercer
from importer.mapping.exprparse import Binary, Call, Column, Literal, Node, Unary

if TYPE_CHECKING:
    from importer.mapping.lookups import LookupTable

__all__ = ["Env", "compile_expr", "as_text", "is_blank"]

Run = Callable[[dict[str, Any]], Any]
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Env:
    """What an expression reads values with: its column's number and date conventions, the map's tables."""

    decimal_comma: bool
    date_format: str | None  # None: ISO 8601
    lookups: Mapping[str, LookupTable]


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int | float):
        return value != 0
    return not is_blank(value)


def _column(node: Node) -> str | None:
    return node.name if isinstance(node, Column) else None


def _fail(reason: str, node: Node) -> RecordError:
    return RecordError(reason, _column(node))


class _Compiler:
    def __init__(self, env: Env) -> None:
        self.env = env
        self.read_date = datetime_coercer(env.date_format)

    def as_number(self, value: Any, node: Node) -> Decimal | None:
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise _fail(f"{value!r} is not a number", node)
        if isinstance(value, Decimal):
            return value
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, date):
            raise _fail(f"{value.isoformat()} is a date, not a number", node)
        try:
            return read_decimal(value, self.env.decimal_comma)
        except RecordError as exc:
            raise _fail(exc.reason, node) from None

    def as_date(self, value: Any, node: Node, read: Callable[[Any], str] | None = None) -> date | None:
        if is_blank(value):
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, bool | Decimal):
            raise _fail(f"{as_text(value)!r} is not a date", node)
        try:
            return date.fromisoformat((read or self.read_date)(value)[:10])
        except RecordError as exc:
            raise _fail(exc.reason, node) from None

    def compile(self, node: Node) -> Run:
        if isinstance(node, Literal):
            value = node.value
            return lambda record: value
        if isinstance(node, Column):
            name = node.name
            return lambda record: record.get(name)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def unary(self, node: Unary) -> Run:
        inner, operand = self.compile(node.operand), node.operand
        if node.op == "not":
            return lambda record: not _truthy(inner(record))

        def negate(record: dict[str, Any]) -> Any:
            x = self.as_number(inner(record), operand)
            return None if x is None else -x

        return negate

    def binary(self, node: Binary) -> Run:
        op, ln, rn = node.op, node.left, node.right
        lf, rf = self.compile(ln), self.compile(rn)
        if op == "and":
            return lambda record: _truthy(lf(record)) and _truthy(rf(record))
        if op == "or":
            return lambda record: _truthy(lf(record)) or _truthy(rf(record))
        if op == "&":
            return lambda record: as_text(lf(record)) + as_text(rf(record))
        if op in ("=", "!=", *_ORDER):
            return lambda record: self.compare(op, lf(record), rf(record), ln, rn)

        def arithmetic(record: dict[str, Any]) -> Any:
            a, b = lf(record), rf(record)
            if op in "+-" and (isinstance(a, date) or isinstance(b, date)):
                return self.dates(op, a, b, ln, rn)
            x, y = self.as_number(a, ln), self.as_number(b, rn)
            if x is None or y is None:
                return None
            try:
                if op == "+":
                    return x + y
                if op == "-":
                    return x - y
                if op == "*":
                    return x * y
                if not y:
                    raise _fail(f"division by zero ({as_text(b)!r})", rn)
                return x / y
            except InvalidOperation:
                raise _fail(f"{as_text(a)} {op} {as_text(b)} cannot be worked out", node) from None

        return arithmetic

    def dates(self, op: str, a: Any, b: Any, ln: Node, rn: Node) -> Any:
        if is_blank(a) or is_blank(b):
            return None
        if isinstance(a, date) and isinstance(b, date):
            if op == "-":
                return Decimal((a - b).days)
            raise _fail("two dates cannot be added; add a number of days to a date", rn)
        if not isinstance(a, date):  # days + date
            if op == "-":
                raise _fail("a date cannot be taken from a number; write date - days", rn)
            a, b, ln, rn = b, a, rn, ln
        days = self.as_number(b, rn)
        assert days is not None and isinstance(a, date)
        if days != days.to_integral_value():
            raise _fail(f"{as_text(b)!r} is not a whole number of days", rn)
        try:
            return a + timedelta(days=int(days) if op == "+" else -int(days))
        except OverflowError:
            raise _fail(f"{a.isoformat()} {op} {int(days)} days is past the calendar", rn) from None

    def compare(self, op: str, a: Any, b: Any, ln: Node, rn: Node) -> bool:
        if is_blank(a) or is_blank(b):
            both = is_blank(a) and is_blank(b)
            return both if op == "=" else not both if op == "!=" else False
        x: Any
        y: Any
        if isinstance(a, date) or isinstance(b, date):
            x, y = self.as_date(a, ln), self.as_date(b, rn)
        elif isinstance(a, bool) or isinstance(b, bool):
            x, y = _truthy(a), _truthy(b)
        elif isinstance(a, Decimal | int | float) or isinstance(b, Decimal | int | float) or op in _ORDER:
            x, y = self.as_number(a, ln), self.as_number(b, rn)
        else:  # two texts: as a person reads them, case and surrounding spaces aside
            x, y = as_text(a).strip().casefold(), as_text(b).strip().casefold()
        if op == "=":
            return bool(x == y)
        if op == "!=":
            return bool(x != y)
        return bool(_ORDER[op](x, y))

    def call(self, node: Call) -> Run:
        name, args = node.name, node.args
        fs = [self.compile(a) for a in args]
        if name == "concat":
            return lambda record: "".join(as_text(f(record)) for f in fs)
        if name == "join":
            sep, parts = fs[0], fs[1:]

            def join(record: dict[str, Any]) -> str:
                values = (f(record) for f in parts)
                return as_text(sep(record)).join(as_text(v).strip() for v in values if not is_blank(v))

            return join
        if name == "if":
            cond, then, other = fs
            return lambda record: then(record) if _truthy(cond(record)) else other(record)
        if name == "empty":
            return lambda record: is_blank(fs[0](record))
        if name == "trim":
            return lambda record: None if (v := fs[0](record)) is None else as_text(v).strip()
        if name == "date":
            return self.date_call(node, fs)
        if name == "round":
            return self.round_call(node, fs)
        return self.lookup_call(node, fs)

    def date_call(self, node: Call, fs: list[Run]) -> Run:
        layout = node.args[1] if len(node.args) > 1 else None
        read = datetime_coercer(layout.value) if isinstance(layout, Literal) and isinstance(layout.value, str) else None
        arg, value = node.args[0], fs[0]
        return lambda record: self.as_date(value(record), arg, read)

    def round_call(self, node: Call, fs: list[Run]) -> Run:
        digits = node.args[1] if len(node.args) > 1 else None
        places = int(digits.value) if isinstance(digits, Literal) and isinstance(digits.value, Decimal) else 0
        step, arg, value = Decimal(1).scaleb(-places), node.args[0], fs[0]

        def rounded(record: dict[str, Any]) -> Decimal | None:
            x = self.as_number(value(record), arg)
            return None if x is None else x.quantize(step, rounding=ROUND_HALF_UP)

        return rounded

    def lookup_call(self, node: Call, fs: list[Run]) -> Run:
        first = node.args[0]
        assert isinstance(first, Literal) and isinstance(first.value, str)  # checked when the map loads
        table, key_node, key = self.env.lookups[first.value], node.args[1], fs[1]
        fallback = fs[2] if len(fs) > 2 else None

        def lookup(record: dict[str, Any]) -> Any:
            value = key(record)
            if is_blank(value):
                return None
            found = table.find(as_text(value))
            if found is not None:
                return found
            if fallback is not None:
                return fallback(record)
            raise _fail(f"{as_text(value).strip()!r} is not a key of the lookup table {table.described}; "
                        "add it to the table, or give lookup() a third argument for keys it lacks", key_node)

        return lookup


def compile_expr(node: Node, env: Env) -> Run:
    """``node`` as a function of one record (source column -> cell)."""
    return _Compiler(env).compile(node)
