"""Which number a created customer or document gets, by the company's number series.

With a company (``SandboxConfig.company``), each numbered entity follows its numbering
(``Company.numbering_of``) as the live API does:

- **automatic** series (``manualNumbering`` false): the company numbers. A number sent is
  ignored and the next number of the series is given (the Location header and reads carry
  it). Only a V2 document create (``POST /v2/customerinvoice`` ...) or a customer create,
  sent with ``overrideNumberSeries: {value: true}`` and a number, keeps that number, and
  only when the series allows manual numbering on imports; when it does not, the create
  is refused (a rehearsal should say so before the live run hands out other numbers).
  ``overrideNumberSeries`` on a v1 document create is ignored, as Visma says it works on
  the V2 create only.
- **manual** series (``manualNumbering`` true): a number is required, on v1 and V2.
- **lenient** (no numbering for the entity, or no company): a number sent is kept; a
  record sent without one gets the next free number (``000001``, ...).

Customers are automatic when the CUSTOMER dimension says ``isAutoNumber`` (numbered by
their series if the snapshot names one, else ``000001``, ...), manual when their
numbering names a manual series, and lenient otherwise.

A series hands out numbers from the sequence row in force today (latest ``startDate``):
its ``nextNumber``, else the one after ``lastNbr``, else ``startNbr``, then each
``nbrStep`` on, added to the rightmost run of digits (``AR000123`` -> ``AR000124``), as
Visma's number series do. Numbers already in use are skipped; past ``endNbr`` the create
is refused. What a tenant has drawn from a series is kept with its other sequences.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from importer.company import Company
from importer.company.model import Numbered, norm_id
from importer.entities import Entity
from importer.sandbox.answers import ApiError, message_error
from importer.sandbox.dates import now_iso
from importer.sandbox.store import TenantTables

__all__ = ["Plan", "plan_number", "draw_number", "step_number"]

Mode = Literal["lenient", "manual", "automatic"]

_NUMBERED: dict[str, Numbered] = {
    "customer": "customer", "invoice": "invoice", "credit-note": "creditNote", "debit-note": "debitNote",
}
_DIGITS = re.compile(r"(\d+)(?!.*\d)")


@dataclass(frozen=True, slots=True)
class Plan:
    """How a create is numbered: the number it keeps, or a draw from a series (or neither:
    lenient numbering's next free number)."""

    key: str | None  # the number the record keeps (checked for duplicates)
    series: Mapping[str, Any] | None = None  # the series to draw from when ``key`` is None
    automatic: bool = False  # drawn from the series (or, without one, the next free number)


def _refusal(what: str, message: str) -> ApiError:
    """A refusal in the live API's words for what the company itself refuses."""
    return message_error(400, f"VismaId: {uuid.uuid4()}. Error creating {what}. Error: {message}")


def _mode(company: Company, entity: Entity) -> tuple[Mode, Mapping[str, Any] | None, bool]:
    """(how the entity is numbered, its series record, whether manual numbering on imports is allowed)."""
    setting, series = company.numbering_of(_NUMBERED[entity.name])
    allow = setting.allow_manual_on_imports
    if series is not None and series.get("manualNumbering"):
        return "manual", series, allow
    if entity.name == "customer":
        segments = (company.customer_dimension or {}).get("segments") or ()
        if any(isinstance(s, Mapping) and s.get("isAutoNumber") for s in segments):
            return "automatic", series, allow
        return "lenient", None, allow
    if series is not None:
        return "automatic", series, allow
    return "lenient", None, allow


def plan_number(
    company: Company | None, entity: Entity, sent: str | None, override: bool, *, v2: bool, label: str,
) -> Plan:
    """The numbering of one create: ``sent`` is the number the body carries (trimmed, or None)."""
    if company is None or entity.name not in _NUMBERED:
        return Plan(sent)
    mode, series, allow = _mode(company, entity)
    what = "customer" if entity.name == "customer" else "document"
    field = entity.key_field or "number"
    name = series.get("numberingId") if series else None
    if mode == "lenient":
        return Plan(sent)
    if mode == "manual":
        if sent is None:
            raise _refusal(what, f"'{field}' cannot be empty: number series '{name}' has manual numbering, "
                                 f"so every {label.lower()} needs its own number.")
        return Plan(sent)
    if override and sent is not None and (v2 or entity.name == "customer"):
        if not allow:
            where = f"number series '{name}'" if name else "the customer number series"
            raise _refusal(what, f"'overrideNumberSeries': {where} does not allow manual numbering on imports, "
                                 f"so {field} '{sent}' cannot be used.")
        return Plan(sent)
    return Plan(None, series, automatic=True)


def step_number(text: str, by: int) -> str:
    """``text`` with ``by`` added to its rightmost run of digits, keeping its width."""
    match = _DIGITS.search(text)
    if match is None:
        return text + str(by) if by else text
    digits = match.group(1)
    value = str(int(digits) + by).rjust(len(digits), "0")
    return text[: match.start()] + value + text[match.end():]


def _sequence_row(series: Mapping[str, Any], today: str) -> Mapping[str, Any] | None:
    rows = [r for r in series.get("sequence") or () if isinstance(r, Mapping)]
    current = [r for r in rows if str(r.get("startDate") or "")[:10] <= today]
    return max(current or rows, key=lambda r: str(r.get("startDate") or ""), default=None)


def _first(row: Mapping[str, Any], step: int) -> str:
    if row.get("nextNumber"):
        return str(row["nextNumber"])
    if row.get("lastNbr"):
        return step_number(str(row["lastNbr"]), step)
    return str(row.get("startNbr") or "000001")


def draw_number(tables: TenantTables, entity: Entity, series: Mapping[str, Any] | None, label: str) -> str:
    """The next number an automatic series gives (the next free number without a series)."""
    if series is None:
        return tables.next_number(entity.name)
    name = str(series.get("numberingId"))
    what = "customer" if entity.name == "customer" else "document"
    row = _sequence_row(series, now_iso()[:10])
    if row is None:
        raise _refusal(what, f"number series '{name}' has no sequence to number a {label.lower()} from.")
    given = row.get("nbrStep")
    step = given if isinstance(given, int) and given > 0 else 1
    first = _first(row, step)
    end = str(row.get("endNbr") or "")
    counter = f"numberSeries:{norm_id(name)}"
    drawn = tables.sequences.get(counter, 0)
    table = tables.records[entity.name]
    while True:
        number = step_number(first, step * drawn)
        drawn += 1
        if end and _past(number, end):
            raise _refusal(what, f"number series '{name}' has no numbers left after '{end}'.")
        if number not in table:
            break
    tables.set_sequence(counter, drawn)
    return number


def _past(number: str, end: str) -> bool:
    a, b = _DIGITS.search(number), _DIGITS.search(end)
    return a is not None and b is not None and int(a.group(1)) > int(b.group(1))
