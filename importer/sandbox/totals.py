"""A document's amounts as the ledger works them out: line amounts, then header totals.

Arithmetic is decimal and each amount is rounded to cents once (half away from zero), so a
header total is exactly the sum of the line amounts it is made of. The sandbox keeps every
document in the company's currency: each ``...InCurrency`` figure and its base twin are equal
(an ``exchangeRate`` sent with a document is stored and answered, never applied).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["line_amounts", "document_totals"]

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


def _decimal(value: Any) -> Decimal | None:
    """A stored number as a Decimal (via its text, so 0.1 stays 0.1); None when absent."""
    if value is None or type(value) is bool:
        return None
    return Decimal(str(value))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _twins(name: str, value: Decimal) -> dict[str, float]:
    """``name`` and ``nameInCurrency`` (the same figure: one currency, see the module doc)."""
    number = float(value)
    return {name: number, f"{name}InCurrency": number}


def line_amounts(line: Mapping[str, Any]) -> dict[str, float]:
    """A stored line's computed DTO fields: ``amount``, and the base twins of what was sent.

    ``amount`` is the manual amount when one was sent, else quantity × unit price less the
    discount (the discount amount sent, else the discount percent of quantity × unit
    price); a missing quantity or price counts as 0.
    """
    quantity = _decimal(line.get("quantity")) or _ZERO
    price = _decimal(line.get("unitPriceInCurrency"))
    gross = quantity * (price or _ZERO)
    discount = _decimal(line.get("discountAmountInCurrency"))
    if discount is None:
        percent = _decimal(line.get("discountPercent"))
        discount = gross * percent / _HUNDRED if percent is not None else None
    manual = _decimal(line.get("manualAmountInCurrency"))
    if manual is not None:
        amount = manual
    else:
        amount = gross - (discount or _ZERO)
    out = _twins("amount", _cents(amount))
    if price is not None:
        out.update(_twins("unitPrice", price))
    if discount is not None:
        out.update(_twins("discountAmount", _cents(discount)))
    if manual is not None:
        out.update(_twins("manualAmount", _cents(manual)))
    return out


def document_totals(amounts: Iterable[float], tax_details: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Header totals from the lines' ``amount``s and the tax details sent (none: no VAT).

    ``detailTotal`` sums the lines, ``vatTotal`` the tax details' ``vatAmount``s;
    ``amount`` is both together, and ``balance`` the same (the sandbox takes no payments).
    """
    detail = sum((Decimal(str(a)) for a in amounts), _ZERO)
    vat = sum((_decimal(t.get("vatAmount")) or _ZERO for t in tax_details), _ZERO)
    total = _cents(detail + vat)
    return {
        **_twins("detailTotal", _cents(detail)),
        **_twins("vatTotal", _cents(vat)),
        **_twins("amount", total),
        **_twins("balance", total),
    }
