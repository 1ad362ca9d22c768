"""An update of a document makes its lines the file's lines: matched against what the ledger holds.

A PUT of a document changes its lines only by operations (``Insert``, ``Update``,
``Delete`` of a ``lineNumber``), so sending the file's lines as they are would add them
again on every run. Instead the document is read first (one GET, counted as a call; an
upsert reuses the GET that told it the document exists) and the file's lines are matched
to the ledger's, always the same way:

1. a file line that names its ``lineNumber`` updates that line;
2. file lines without a number take the ledger's remaining lines in order: the first of
   them updates the first ledger line no file line named, and so on;
3. ledger lines left over are deleted;
4. file lines left over are inserted (the API numbers them).

A document given without any lines keeps its lines: only its header fields change. A file
that states operations itself (a line with ``line.operation`` ``Update`` or ``Delete``, or an
``Insert`` of a numbered line) is sent as it says: it speaks in changes, not in the lines
the document should end with, so nothing is matched or deleted for it.
A number the document does not have, or one named twice, fails the record before the
PUT, and so does a document whose status takes no changes (released: ``Open``,
``Closed``, ...), unless it already holds what the file says: then it is ``updated`` with
``recovered`` (a resume after a kill, a nightly run over released invoices) and nothing is sent.

    plan = await plan_update(lookups, entity, work, document)   # document: the upsert's GET, or None
    plan.lines      # the lines to send, with their operations; None: leave them as they are
    plan.error      # why it is not sent (plan.attempt: the read, for the caller's bookkeeping)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from importer.client.http import Attempt, LookupUnavailable, Response
from importer.entities import Entity
from importer.load.lookups import Lookups
from importer.mapping import Work
from importer.schema import unwrap_value

__all__ = ["LinePlan", "plan_update", "read_document", "match_lines", "CHANGEABLE"]

# The statuses of a document the API takes a PUT on: not yet released. (Open, Closed,
# PendingPrint and PendingEmail come with the release, Voided after it.)
CHANGEABLE = frozenset({"Hold", "Balanced"})


@dataclass(slots=True)
class LinePlan:
    """What an update of one document sends, or why it sends nothing."""

    attempt: Attempt  # the read of the document
    lines: list[dict[str, Any]] | None = None  # with operations; None: the file gives no lines
    error: str | None = None  # not sent: why
    holds: bool = False  # not sent: the document already holds what the file says


async def read_document(lookups: Lookups, key: str) -> Response | None | Attempt:
    """The document as the ledger holds it; None when it has no such document; the read's
    Attempt (with the reason) when the answer cannot tell."""
    try:
        return await lookups.by_key(key)
    except LookupUnavailable as exc:
        return Attempt(None, 1, str(exc).replace("could not check whether it exists", "could not read it", 1))


async def plan_update(lookups: Lookups, entity: Entity, work: Work, document: Response | None) -> LinePlan:
    """The lines to send in an update of ``work``'s document (``document``: as already read)."""
    key = work.key or ""
    label = f"{entity.name.replace('-', ' ')} {key!r}"
    if document is None:
        found = await read_document(lookups, key)
        if isinstance(found, Attempt):
            return LinePlan(found, error=f"{label}: {found.error}; nothing was sent")
        if found is None:
            return LinePlan(Attempt(Response(404, {}, b""), 1, None),
                            error=f"{label} is not in the ledger (HTTP 404); nothing was sent")
        document = found
    attempt = Attempt(document, 1, None)
    held = document.json()
    if not isinstance(held, dict):
        return LinePlan(attempt, error=f"{label}: the API answered something that is not a document")
    status = unwrap_value(held.get("status"))
    payload = work.payload or {}
    if isinstance(status, str) and status not in CHANGEABLE:
        if not lookups.differences(payload, held):
            return LinePlan(Attempt(document, 1, None, found_by_lookup=True), holds=True)
        return LinePlan(attempt, error=f"{label} is released (status {status}): the API takes no changes to a "
                                       "released document; nothing was sent")
    lines = payload.get(entity.line_field or "")
    if not isinstance(lines, list) or not lines:
        return LinePlan(attempt)
    matched = match_lines(lines, held.get(entity.line_field or ""), label)
    if isinstance(matched, tuple):
        index, why = matched
        return LinePlan(attempt, error=f"{_where(work, index, len(lines))}: {why}; nothing was sent")
    return LinePlan(attempt, lines=matched)


def match_lines(lines: list[Any], held: Any, label: str = "the document") -> list[dict[str, Any]] | tuple[int, str]:
    """The file's ``lines`` as operations on the ledger's ``held`` lines (see the module's rules).

    ``(index, why)`` when they cannot be matched: the file line at fault and the reason.
    """
    if any(_operation(line) is not None for line in lines):  # the file states its own operations
        return [line if not isinstance(line, dict) or "operation" in line else
                {"operation": "Update" if _number(line) is not None else "Insert", **line} for line in lines]
    held = held if isinstance(held, list) else []
    numbers = [n for n in (_number(line) for line in held) if n is not None]
    if len(numbers) != len(held):
        return 0, f"{label} holds a line without a lineNumber, which no update can name"
    named: dict[int, int] = {}  # lineNumber -> index of the file line naming it
    for i, line in enumerate(lines):
        number = _number(line)
        if number is None:
            continue
        if number in named:
            return i, f"line {number} is named twice (by the document's lines {named[number] + 1} and {i + 1} in the file)"
        if number not in numbers:
            have = ", ".join(map(str, numbers)) or "none"
            return i, f"{label} has no line {number} (its lines: {have})"
        named[number] = i
    free = iter([n for n in numbers if n not in named])
    out: list[dict[str, Any]] = []
    for line in lines:
        if not isinstance(line, dict):
            out.append(line)
            continue
        body = {k: v for k, v in line.items() if k != "operation"}
        if _number(line) is not None:  # (no line here states an operation: see above)
            out.append({"operation": "Update", **body})
        elif (spare := next(free, None)) is not None:
            out.append({"operation": "Update", **body, "lineNumber": {"value": spare}})
        else:
            out.append({"operation": "Insert", **body})
    out.extend({"operation": "Delete", "lineNumber": {"value": n}} for n in free)
    return out


def _number(line: Any) -> int | None:
    if not isinstance(line, dict):
        return None
    value = unwrap_value(line.get("lineNumber"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _operation(line: Any) -> str | None:
    """The operation a file line gives; an ``Insert`` without a number is the mapper's default."""
    operation = unwrap_value(line.get("operation")) if isinstance(line, dict) else None
    if operation == "Insert" and _number(line) is None:
        return None
    return operation if isinstance(operation, str) else None


def _where(work: Work, index: int, count: int) -> str:
    """``record 7: lineNumber`` for the file line at ``index`` (one record a line), else its position."""
    if len(work.records) == count:
        return f"record {work.records[index]}: lineNumber"
    return f"record {work.records[0]}: line {index + 1} of the document, lineNumber"
