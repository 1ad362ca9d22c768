"""The expressions of a map's ``[computed]`` columns, read into a tree: a tokenizer and a Pratt parser.

The language is small on purpose: values, column references, operators and a fixed set of
functions; nothing in it names Python or runs it. Grammar, loosest binding first::

    expr    := expr "or" expr | expr "and" expr | "not" expr
             | expr ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") expr
             | expr "&" expr                          text joined as it is
             | expr ("+" | "-") expr | expr ("*" | "/") expr | "-" expr
             | NUMBER | STRING | COLUMN | NAME "(" [expr ("," expr)*] ")" | "(" expr ")"
    NUMBER  := digits with an optional "." and decimals (1.5, 30): always a decimal point
    STRING  := "text" or 'text' (\\" \\' \\\\ inside)
    COLUMN  := a name of letters, digits and _ (Beløp, Antall), or any name in brackets: [Adresse 1]

Every node keeps the offset it starts at, so a mistake is shown under the expression with a
caret. :func:`parse` raises :class:`ExprSyntaxError`; :func:`check` finds the mistakes a
correct sentence can still have (an unknown function, a wrong count of arguments, a lookup
table the map does not declare) and :func:`columns_of` lists the columns it reads.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ExprSyntaxError", "Node", "Literal", "Column", "Unary", "Binary", "Call", "FUNCTIONS",
    "parse", "check", "columns_of", "shown_at", "written",
]

# name -> (fewest, most) arguments; most None: any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "concat": (1, None), "join": (2, None), "if": (3, 3), "empty": (1, 1), "lookup": (2, 3),
    "date": (1, 2), "round": (1, 2), "trim": (1, 1),
}
KEYWORDS = frozenset({"and", "or", "not"})
_COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")
# Binding power of each infix operator: higher binds tighter.
_INFIX = {"or": 10, "and": 20, **dict.fromkeys(_COMPARISONS, 40), "&": 50, "+": 60, "-": 60, "*": 70, "/": 70}
_NOT, _NEGATE = 30, 80
_SINGLE = "+-*/&(),=<>"
_DEEPEST = 100  # parentheses, calls and signs within each other: past this, a mistake (and Python's stack)
_LONGEST = 400  # tokens of one expression: a chain of operators is a tree as deep as it is long


class ExprSyntaxError(Exception):
    def __init__(self, reason: str, pos: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | Decimal
    pos: int


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int  # where the operator stands


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | Column | Unary | Binary | Call


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num" | "str" | "name" | "col" | "op" | "end"
    text: str
    pos: int


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def written(name: str) -> str:
    """A column name as an expression writes it: bare, or in brackets."""
    return name if name and all(_is_name_char(c) for c in name) and not name[0].isdigit() else f"[{name}]"


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            start, out = i, []
            i += 1
            while True:
                if i >= n:
                    raise ExprSyntaxError(f"text begun with {ch} is not closed", start)
                if text[i] == "\\" and i + 1 < n and text[i + 1] in "\"'\\":
                    out.append(text[i + 1])
                    i += 2
                elif text[i] == ch:
                    i += 1
                    break
                else:
                    out.append(text[i])
                    i += 1
            yield _Token("str", "".join(out), start)
        elif ch == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise ExprSyntaxError("a column name begun with [ is not closed with ]", i)
            name = text[i + 1:end].strip()
            if not name:
                raise ExprSyntaxError("an empty column name", i)
            yield _Token("col", name, i)
            i = end + 1
        elif ch.isascii() and ch.isdigit():
            start = i
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            if i < n and text[i] == "." and i + 1 < n and text[i + 1].isascii() and text[i + 1].isdigit():
                i += 1
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
            if i < n and _is_name_char(text[i]):
                raise ExprSyntaxError("a name cannot begin with a digit: write it in brackets, [1 Navn]", start)
            yield _Token("num", text[start:i], start)
        elif _is_name_char(ch):
            start = i
            while i < n and _is_name_char(text[i]):
                i += 1
            yield _Token("name", text[start:i], start)
        elif text.startswith(("!=", "<>", "<=", ">="), i):
            yield _Token("op", text[i:i + 2], i)
            i += 2
        elif ch in _SINGLE:
            yield _Token("op", ch, i)
            i += 1
        else:
            hint = "; a column name with it goes in brackets: [Adresse 1]" if ch in ".-/#%" else ""
            raise ExprSyntaxError(f"{ch!r} is not part of an expression{hint}", i)
    yield _Token("end", "", n)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        if len(self.tokens) > _LONGEST:
            raise ExprSyntaxError(f"more than {_LONGEST} names, values and operators; split the work "
                                  "over a lookup table or a value map", self.tokens[_LONGEST].pos)
        self.at = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str, what: str) -> _Token:
        token = self.peek
        if token.kind != "op" or token.text != text:
            raise ExprSyntaxError(f"expected {text!r} {what}, found {_described(token)}", token.pos)
        return self.take()

    def expression(self, power: int = 0) -> Node:
        self.depth += 1
        try:
            return self._expression(power)
        finally:
            self.depth -= 1

    def _expression(self, power: int) -> Node:
        if self.depth > _DEEPEST:
            raise ExprSyntaxError(f"nested too deeply (more than {_DEEPEST} levels)", self.peek.pos)
        left = self.prefix()
        while True:
            token = self.peek
            op = token.text.lower() if token.kind == "name" else token.text if token.kind == "op" else ""
            bind = _INFIX.get(op) if token.kind != "name" or op in ("and", "or") else None
            if bind is None or bind <= power:
                return left
            # comparisons do not chain: a = b = c is a mistake, not (a = b) = c
            if op in _COMPARISONS and isinstance(left, Binary) and left.op in _COMPARISONS:
                raise ExprSyntaxError("comparisons do not chain; join them with and", token.pos)
            self.take()
            right = self.expression(bind)  # left-associative: a - b - c is (a - b) - c
            left = Binary("!=" if op == "<>" else op, left, right, token.pos)

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return Literal(Decimal(token.text), token.pos)
        if token.kind == "str":
            return Literal(token.text, token.pos)
        if token.kind == "col":
            return Column(token.text, token.pos)
        if token.kind == "op" and token.text == "-":
            return Unary("-", self.expression(_NEGATE), token.pos)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")", "to close the ( opened at character " + str(token.pos + 1))
            return inner
        if token.kind == "name":
            word = token.text.lower()
            if word == "not":
                return Unary("not", self.expression(_NOT), token.pos)
            if word in KEYWORDS:
                raise ExprSyntaxError(f"{token.text!r} needs a value before it; a column of that name "
                                      f"goes in brackets: [{token.text}]", token.pos)
            if self.peek.kind == "op" and self.peek.text == "(":
                return self.call(token)
            return Column(token.text, token.pos)
        raise ExprSyntaxError(f"expected a value, found {_described(token)}", token.pos)

    def call(self, name: _Token) -> Node:
        self.take()  # (
        args: list[Node] = []
        if not (self.peek.kind == "op" and self.peek.text == ")"):
            args.append(self.expression())
            while self.peek.kind == "op" and self.peek.text == ",":
                self.take()
                args.append(self.expression())
        self.expect(")", f"to close {name.text}(")
        return Call(name.text.lower(), tuple(args), name.pos)


def _described(token: _Token) -> str:
    if token.kind == "end":
        return "the end"
    if token.kind == "str":
        return f"the text {token.text!r}"
    return repr(token.text)


def parse(text: str) -> Node:
    """The tree of ``text``; :class:`ExprSyntaxError` at the first mistake."""
    parser = _Parser(text)
    if parser.peek.kind == "end":
        raise ExprSyntaxError("an empty expression", 0)
    node = parser.expression()
    if parser.peek.kind != "end":
        token = parser.peek
        hint = " (a column name with spaces goes in brackets: [Adresse 1])" if token.kind in ("name", "num") else ""
        raise ExprSyntaxError(f"expected an operator or the end, found {_described(token)}{hint}", token.pos)
    return node


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def columns_of(node: Node) -> list[Column]:
    """The column references of ``node``, in the order written."""
    return [n for n in walk(node) if isinstance(n, Column)]


def check(node: Node, tables: Collection[str], layout_problem: Callable[[str], str | None]) -> list[tuple[str, int]]:
    """What a well-formed expression still gets wrong, as (reason, offset): functions, their
    arguments, lookup tables (``tables``: those the map declares) and date layouts."""
    found: list[tuple[str, int]] = []
    for n in walk(node):
        if not isinstance(n, Call):
            continue
        arity = FUNCTIONS.get(n.name)
        if arity is None:
            close = difflib.get_close_matches(n.name, FUNCTIONS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}()?" if close else f" (there are {', '.join(FUNCTIONS)})"
            found.append((f"unknown function {n.name}(){hint}", n.pos))
            continue
        low, high = arity
        if len(n.args) < low or (high is not None and len(n.args) > high):
            want = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            found.append((f"{n.name}() takes {want} arguments, not {len(n.args)}", n.pos))
            continue
        first = n.args[0]
        if n.name == "lookup":
            if not (isinstance(first, Literal) and isinstance(first.value, str)):
                found.append(("lookup() takes the table's name in quotes first: lookup(\"customers\", Kundenr)",
                              first.pos))
            elif first.value not in tables:
                known = f"the map declares {', '.join(sorted(tables))}" if tables else "the map declares none"
                found.append((f"no lookup table {first.value!r}: declare it as [lookups.{first.value}] "
                               f"({known})", first.pos))
        elif n.name == "date" and len(n.args) == 2:
            layout = n.args[1]
            reason = (layout_problem(layout.value) if isinstance(layout, Literal) and isinstance(layout.value, str)
                      else "date()'s layout is a text in quotes, such as \"%d.%m.%Y\"")
            if reason:
                found.append((reason, layout.pos))
        elif n.name == "round" and len(n.args) == 2:
            digits = n.args[1]
            if not (isinstance(digits, Literal) and isinstance(digits.value, Decimal)
                    and digits.value == digits.value.to_integral_value() and 0 <= digits.value <= 10):
                found.append(("round()'s decimals are a whole number from 0 to 10", digits.pos))
    return found


def shown_at(text: str, pos: int, indent: str = "    ") -> str:
    """The expression on one line and a caret under ``pos``."""
    line = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return f"\n{indent}{line}\n{indent}{' ' * pos}^"
