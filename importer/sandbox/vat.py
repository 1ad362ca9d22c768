"""A stored document's VAT fields as the company behind the sandbox answers them.

The computation itself is the company's (:mod:`importer.company.vat`: zone, category,
the VATs that apply, rate, method, rounding), shared with ``reconcile`` so the importer
and the sandbox work out the same VAT. This module only turns its figures into the
response DTO's fields: each figure with its ``...InCurrency`` twin (the sandbox keeps one
currency, see totals.py), ``amount`` and ``balance`` gross, and ``taxDetails``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from importer.company import Company
from importer.company.vat import VatLine, document_figures, document_vat

__all__ = ["company_totals", "document_vat", "VatLine"]

Record = Mapping[str, Any]


def _twins(name: str, value: Decimal) -> dict[str, float]:
    """``name`` and ``nameInCurrency``: one figure (the sandbox keeps one currency, see totals.py)."""
    return {name: float(value), f"{name}InCurrency": float(value)}


def company_totals(
    company: Company, record: Record, customer: Record | None, line_field: str,
    amounts: Sequence[float], detail_total: float, today: str,
) -> dict[str, Any]:
    """A stored document's VAT fields and gross amounts as the company answers them.

    ``amounts`` are the stored lines' computed amounts (``totals.line_amounts``), in order;
    ``detail_total`` their sum; ``today`` (YYYY-MM-DD) dates a document sent without a date.
    """
    figures = document_figures(company, record, customer, line_field,
                               [Decimal(str(a)) for a in amounts], today)
    gross = figures["amount"]
    return {
        **_twins("vatTotal", figures["vatTotal"]),
        **_twins("vatTaxableTotal", figures["vatTaxableTotal"]),
        **_twins("vatExemptTotal", figures["vatExemptTotal"]),
        **_twins("amount", gross),
        **_twins("balance", gross),
        "taxDetails": figures["taxDetails"],
    }
