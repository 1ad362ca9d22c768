"""Pattern transforms of a mapping file: period layouts and regex rewrites, compiled once.

Both are written per API column under ``[formats]``::

    postPeriod = { format = "MM.YYYY" }        # 01.2024 → 012024 (postPeriod is MMYYYY)
    financialPeriod = { format = "MM.YYYY" }   # 01.2024 → 202401 (financialPeriod is YYYYMM)
    "line.accountNumber" = { rewrite = { pattern = '^(\\d{4})-(\\d{3})$', to = '\\1\\2' } }

A period layout is made of ``YYYY`` (the year), ``MM`` (a two-digit month) or ``M`` (one or
two digits) and any other characters, which must appear as written. A rewrite is a regular
expression and its replacement (``\\1``, ``\\g<name>``); a list of them is tried in order and
the first whose pattern is found applies. A value none of them matches is an error for the
record, unless the column says ``unmatched = "keep"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from importer.errors import RecordError

__all__ = ["PeriodFormat", "Rewrite", "parse_period_format", "parse_rewrites", "rewriter"]

Problem = Callable[[str, str], None]  # (where, reason): how the loader collects mistakes

_TOKEN = re.compile(r"([A-Za-z])\1*")  # runs of one letter: YYYY, MM, M, DD
_REWRITE_KEYS = ("pattern", "to")


@dataclass(frozen=True, slots=True)
class PeriodFormat:
    """A legacy period layout such as ``MM.YYYY``, read into the API's six digits."""

    layout: str
    regex: re.Pattern[str]

    def read(self, value: Any, api_layout: str) -> str:
        """``value`` in this layout → the period as ``api_layout`` (``MMYYYY`` or ``YYYYMM``)."""
        text = value.strip() if isinstance(value, str) else str(value)
        found = self.regex.fullmatch(text)
        if found is None:
            raise RecordError(f"{value!r} is not a period in the format {self.layout}")
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise RecordError(f"{value!r} is not a period in the format {self.layout}: month {month} is not 1-12")
        mm, yyyy = f"{month:02d}", found["year"]
        return mm + yyyy if api_layout == "MMYYYY" else yyyy + mm

    def write(self, year: int, month: int) -> str:
        """A period in this layout (for writing a legacy file back)."""
        out = []
        for token in _tokens(self.layout):
            out.append({"YYYY": f"{year:04d}", "MM": f"{month:02d}", "M": str(month)}.get(token, token))
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Rewrite:
    pattern: re.Pattern[str]
    to: str


def _tokens(layout: str) -> list[str]:
    """``MM.YYYY`` → ``["MM", ".", "YYYY"]``: runs of one letter, and each other character."""
    tokens: list[str] = []
    pos = 0
    for found in _TOKEN.finditer(layout):
        tokens.extend(layout[pos:found.start()])
        tokens.append(found.group())
        pos = found.end()
    tokens.extend(layout[pos:])
    return tokens


def parse_period_format(where: str, value: Any, problem: Problem) -> PeriodFormat | None:
    """A checked :class:`PeriodFormat`, or None after reporting why ``value`` is none."""
    if not isinstance(value, str) or not value.strip():
        problem(where, f"expected a period layout such as \"MM.YYYY\", got {value!r}")
        return None
    layout = value.strip()
    parts: list[str] = []
    seen: list[str] = []
    for token in _tokens(layout):
        if token == "YYYY":
            parts.append(r"(?P<year>\d{4})")
        elif token in ("MM", "M"):
            parts.append(r"(?P<month>\d{2})" if token == "MM" else r"(?P<month>\d{1,2})")
        elif token.isalpha():
            hint = "write the year as YYYY" if token.startswith("Y") else "use YYYY, MM or M"
            problem(where, f"{token!r} in {layout!r} is not part of a period layout: {hint}")
            return None
        else:
            parts.append(re.escape(token))
            continue
        seen.append("year" if token == "YYYY" else "month")
    if sorted(seen) != ["month", "year"]:
        problem(where, f"{layout!r} needs the year (YYYY) and the month (MM or M) once each")
        return None
    return PeriodFormat(layout, re.compile("".join(parts)))


def parse_rewrites(where: str, value: Any, problem: Problem) -> tuple[Rewrite, ...]:
    """``{ pattern = ..., to = ... }`` or a list of them, compiled; () after reporting a mistake."""
    tables = value if isinstance(value, list) else [value]
    shape = "expected { pattern = '^(\\d{4})-(\\d{3})$', to = '\\1\\2' } or a list of them"
    if not tables:
        problem(where, f"{shape}, got an empty list")
        return ()
    out: list[Rewrite] = []
    for i, table in enumerate(tables):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if not isinstance(table, dict) or set(table) != set(_REWRITE_KEYS):
            problem(at, f"{shape}, got {_described(table)}")
            return ()
        pattern, to = table["pattern"], table["to"]
        if not isinstance(pattern, str) or not pattern or not isinstance(to, str):
            problem(at, "pattern must be a non-empty text and to a text (\"\" removes what the pattern finds)")
            return ()
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            problem(at + ".pattern", f"not a regular expression: {exc}")
            return ()
        reason = _replacement_problem(compiled, to)
        if reason:
            problem(at + ".to", reason)
            return ()
        out.append(Rewrite(compiled, to))
    return tuple(out)


def _replacement_problem(pattern: re.Pattern[str], to: str) -> str | None:
    """Why ``to`` cannot replace what ``pattern`` finds (a group it lacks, a bad escape), if so.

    The replacement is tried on an empty match of a pattern with the same groups, so Python's
    own template rules decide, once, at load time."""
    names = {index: name for name, index in pattern.groupindex.items()}
    blank = "".join(f"(?P<{names[i]}>)" if i in names else "()" for i in range(1, pattern.groups + 1))
    try:
        re.compile(blank).sub(to, "", count=1)
    except (re.error, IndexError) as exc:
        return f"'{to}' cannot replace a match of '{pattern.pattern}': {exc}"
    return None


def rewriter(rewrites: tuple[Rewrite, ...], keep_unmatched: bool, where: str) -> Callable[[Any], Any]:
    """A converter: the value rewritten by the first pattern found in it."""
    shown = " or ".join(f"'{r.pattern.pattern}'" for r in rewrites)  # as written in TOML, unescaped
    hint = f"fix the value, add a pattern under {where}, or set unmatched = \"keep\" there"

    def rewrite(value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else str(value)
        for step in rewrites:
            result, count = step.pattern.subn(step.to, text)
            if count:
                return result
        if keep_unmatched:
            return value
        raise RecordError(f"{value!r} does not match the pattern {shown}; {hint}")

    return rewrite


def _described(value: Any) -> str:
    if isinstance(value, dict):
        return "a table with " + (", ".join(sorted(value)) or "no keys")
    return "a list" if isinstance(value, list) else repr(value)
