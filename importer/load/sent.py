"""What a created document was sent as, in brief: the ``sent`` field of its final line.

``importer undo`` deletes a document only when the ledger still holds the one the run
created. The results file keeps no payloads, so the final line of each document created
carries what undo compares with what the ledger answers::

    "sent": {"customer": "10000", "date": "2026-01-05", "lines": 2, "amount": "25.00"}

``amount`` is the sum of the lines as the ledger works a line out (a manual amount when
one is sent, else quantity × unit price less the discount amount), each line rounded to
cents; it is left out when a line's amount depends on something the payload does not say
in those terms (a discount percent), so nothing is compared that the ledger may reckon
otherwise. ``date`` is the document date as sent (its date part); either is left out when
the payload has none.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from importer.entities import Entity
from importer.schema import unwrap_value

__all__ = ["document_sent", "CENT"]

CENT = Decimal("0.01")


def document_sent(entity: Entity, payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """The brief of a document's payload; None for anything that is not a document."""
    if not entity.is_document or payload is None:
        return None
    brief: dict[str, Any] = {}
    customer = unwrap_value(payload.get("customerNumber"))
    if customer is not None:
        brief["customer"] = str(customer).strip()
    date = unwrap_value(payload.get("documentDate"))
    if date is not None:
        brief["date"] = str(date)[:10]
    lines = payload.get(entity.line_field or "") or []
    brief["lines"] = len(lines) if isinstance(lines, list) else 0
    amount = _lines_amount(lines) if isinstance(lines, list) else None
    if amount is not None:
        brief["amount"] = str(amount)
    return brief


def _lines_amount(lines: list[Any]) -> Decimal | None:
    total = Decimal(0)
    for line in lines:
        if not isinstance(line, dict):
            return None
        amount = _line_amount(line)
        if amount is None:
            return None
        total += amount
    return total


def _line_amount(line: dict[str, Any]) -> Decimal | None:
    manual = _number(line, "manualAmountInCurrency", "manualAmount")
    if manual is not None:
        return manual.quantize(CENT, rounding=ROUND_HALF_UP)
    if unwrap_value(line.get("discountPercent")) is not None:
        return None
    quantity = _number(line, "quantity") or Decimal(0)
    price = _number(line, "unitPriceInCurrency", "unitPrice") or Decimal(0)
    discount = _number(line, "discountAmountInCurrency", "discountAmount") or Decimal(0)
    return (quantity * price - discount).quantize(CENT, rounding=ROUND_HALF_UP)


def _number(line: dict[str, Any], *names: str) -> Decimal | None:
    for name in names:
        value = unwrap_value(line.get(name))
        if value is None or isinstance(value, bool):
            continue
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return None
