"""What a report reads from a line besides its outcome: whose word it is, and why it failed.

    line_identity(line)                    # what the line is the last word on
    normalise_reason("Customer '10023' already exists", "10023")   # "Customer '…' already exists"
    add_reason(reasons, "customer", "failed", line, "customers.csv.results.ndjson")

A record refused because an earlier record of the same input had its identity is a record
of its own, not a later word on the first: its line names the first (``duplicate_of``);
lines written before that field are read by their error text instead
(:func:`importer.load.identity.duplicate_of`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from importer.load.identity import duplicate_of
from importer.load.results import ResultsLine

__all__ = ["Example", "Reason", "INPUT_OUTCOMES", "EXAMPLES_PER_REASON", "line_identity", "first_of",
           "add_reason", "normalise_reason"]

EXAMPLES_PER_REASON = 3
_REASON_LIMIT = 240  # a reason longer than this is cut: it still groups on its start

# Who must act on a reason: the file's owner (the record cannot be sent as it is) or
# whoever looks after the API side (it was sent, and the API said no or nothing).
INPUT_OUTCOMES = frozenset({"invalid", "skipped"})


@dataclass(slots=True)
class Example:
    file: str
    records: list[int]
    key: str | None


@dataclass(slots=True)
class Reason:
    """Records that failed the same way: ``reason`` is the template (what differs per record
    taken out), ``example`` the first record's own message, shown once for the group."""

    entity: str
    reason: str
    side: str = "input"  # "input" (invalid, skipped) or "API" (failed, unknown, queued)
    example: str = ""
    records: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    examples: list[Example] = field(default_factory=list)


def first_of(line: ResultsLine) -> int | None:
    """The record of the input that had ``line``'s identity first, when ``line`` refused a
    later one as its duplicate: its ``duplicate_of``, or (a line written before that field)
    what its error text names."""
    if line.outcome != "invalid":
        return None
    return line.duplicate_of if line.duplicate_of is not None else duplicate_of(line.error)


def line_identity(line: ResultsLine) -> str:
    """What a line is the word on: its identity, or, for a second record of one input with an
    identity met before (refused as a duplicate), that record."""
    first = first_of(line)
    suffix = "" if first is None or not line.records else f"\0duplicate {line.records[0]}"
    return f"{line.entity or ''}\0{line.identity}{suffix}"


def add_reason(reasons: dict[tuple[str, str, str], Reason], entity: str, kind: str, line: ResultsLine,
               file: str) -> None:
    text = normalise_reason(line.error or "", line.key)
    side = "input" if kind in INPUT_OUTCOMES else "API"
    reason = reasons.get((entity, side, text))
    if reason is None:
        example = _SPACE.sub(" ", line.error or "").strip()
        reason = reasons[(entity, side, text)] = Reason(entity, text, side, example[:_REASON_LIMIT])
    reason.records += len(line.records)
    reason.outcomes[kind] += len(line.records)
    if len(reason.examples) < EXAMPLES_PER_REASON:
        reason.examples.append(Example(file, list(line.records), line.key))


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»|‘[^’]*’|“[^”]*”")
_HEX = re.compile(r"\b(?=[0-9a-fA-F-]*\d)[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]{4,})*\b")  # ids, UUIDs
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d.,:]*(?<![.,:])")
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def normalise_reason(error: str, key: str | None = None) -> str:
    """The reason with what differs per record taken out.

    "Customer '10023' already exists" and "Customer '10077' already exists" are one
    reason, and so are "record 7: ..." and "record 12: ...".
    """
    text = error
    if key:  # the record's own key, quoted or not, wherever the message names it
        text = re.sub(rf"(?<![\w-]){re.escape(key)}(?![\w-])", "#", text)
    text = _URL.sub("<url>", text)
    text = _QUOTED.sub("'…'", text)
    text = _HEX.sub("#", text)
    text = _NUMBER.sub("#", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:_REASON_LIMIT] + ("…" if len(text) > _REASON_LIMIT else "")
