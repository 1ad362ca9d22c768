"""A document's amount as the ledger works it out from its lines, and as a listing answers it.

A line's amount is its manual amount when one is given, else quantity × unit price (a missing
one counts as 0) less the discount amount, else less the discount percent of that product;
each line is rounded to cents, half away from zero, as the ledger rounds it. A document's
amount is its lines' amounts plus the ``vatAmount`` of the tax-detail lines it carries (none:
no VAT). Arithmetic is :class:`~decimal.Decimal`, every number read through its text, so
``0.1`` stays ``0.1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from importer.entities import Entity
from importer.errors import RecordError
from importer.schema import fields, unwrap_value

__all__ = [
    "CENT", "ZERO", "cents", "number_of", "line_amount", "document_amount", "carries_vat", "ledger_amount",
]

CENT = Decimal("0.01")
ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_TAX_SCHEMA = "TaxDetailUpdateDto"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# -- amounts -------------------------------------------------------------------------------


def number_of(obj: Mapping[str, Any], name: str, column: str) -> Decimal | None:
    """A field's number as a Decimal (via its text, so 0.1 stays 0.1); None when absent."""
    value = unwrap_value(obj.get(name))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise RecordError(f"{value!r} is not a number", column)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RecordError(f"{value!r} is not a number", column) from None
    if not number.is_finite():
        raise RecordError(f"{value!r} is not a finite number", column)
    return number


def line_amount(line: Mapping[str, Any], prefix: str = "line.") -> Decimal:
    """A document line's amount as the ledger works it out, in cents (see the module doc)."""
    manual = number_of(line, "manualAmountInCurrency", prefix + "manualAmountInCurrency")
    quantity = number_of(line, "quantity", prefix + "quantity") or ZERO
    price = number_of(line, "unitPriceInCurrency", prefix + "unitPriceInCurrency") or ZERO
    discount = number_of(line, "discountAmountInCurrency", prefix + "discountAmountInCurrency")
    percent = number_of(line, "discountPercent", prefix + "discountPercent")
    if manual is not None:
        return cents(manual)
    gross = quantity * price
    if discount is None:
        discount = gross * percent / _HUNDRED if percent is not None else ZERO
    return cents(gross - discount)


def _tax_field(entity: Entity) -> str | None:
    """The request's tax-detail array: ``taxDetailLines`` or ``taxDetails`` by entity."""
    table = fields(entity.schema)
    return next((f.name for f in table.values() if f.kind == "array" and f.ref == _TAX_SCHEMA), None)


def _items(value: object) -> list[Any]:
    """An array field's items; none when it is absent (or not an array)."""
    return value if isinstance(value, list) else []


def document_amount(entity: Entity, payload: Mapping[str, Any]) -> Decimal:
    """The document's amount: its lines' amounts plus the VAT its tax details carry, if any."""
    lines = unwrap_value(payload.get(entity.line_field or ""))
    total = sum((line_amount(line) for line in _items(lines) if isinstance(line, Mapping)), ZERO)
    tax = _tax_field(entity)
    for detail in _items(unwrap_value(payload.get(tax))) if tax else []:
        if isinstance(detail, Mapping):
            total += number_of(detail, "vatAmount", f"{tax}.vatAmount") or ZERO
    return cents(total)


def carries_vat(entity: Entity, payload: Mapping[str, Any]) -> bool:
    """Whether the document states its VAT itself (tax-detail lines), as NDJSON in the API's shape can."""
    tax = _tax_field(entity)
    return bool(tax and _items(unwrap_value(payload.get(tax))))


def ledger_amount(item: Mapping[str, Any], *, with_vat: bool = True) -> Decimal | None:
    """A listed document's amount; None when the ledger answers none.

    ``with_vat``: its ``amount`` (``detailTotal`` + ``vatTotal`` without one). Else its line
    total before the VAT the ledger worked out: ``detailTotal`` (``amount`` − ``vatTotal``
    without one), what a file without VAT columns is compared with.
    """

    def number(name: str) -> Decimal | None:
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        found = Decimal(str(value))
        return found if found.is_finite() else None

    amount, detail, vat = number("amount"), number("detailTotal"), number("vatTotal")
    if not with_vat:
        if detail is not None:
            return detail
        return None if amount is None else amount - (vat or ZERO)
    if amount is not None:
        return amount
    if detail is None:
        return None
    return detail + (vat or ZERO)
