"""Which API columns name a record of the company, and which of its records a write may use.

A column such as ``creditTermsId`` or ``line.vatCodeId`` takes the id of one of the
company's records (``REFERENCE_COLUMNS``: column → kind, whatever the entity; a column
the entity does not have is simply never asked about). ``usable`` says why a record
exists but cannot be used in a sales write (an item that cannot be sold, credit terms
for suppliers only, anything inactive), as the API refuses it (one rule, which the checks of
:mod:`importer.company.checks` and the sandbox use too); ``allowed`` lists the
records a column may name, each with its id and what the company calls it, for
``importer columns --company`` and ``map init --company``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from importer.company.kinds import kind
from importer.company.model import Company

__all__ = ["REFERENCE_COLUMNS", "reference_kind", "usable", "described", "allowed", "shown_values", "plural", "one"]

Record = Mapping[str, Any]

_GL_ACCOUNTS = ("cashDiscountAccount", "customerLedgerAccount", "discountAccount", "freightAccount",
                "prepaymentAccount", "salesAccount", "salesEuAccount", "salesExportAccount",
                "salesNonTaxableAccount")

REFERENCE_COLUMNS: dict[str, str] = {
    # a customer's
    "customerClassId": "customerClasses",
    "creditTermsId": "creditTerms",
    "currencyId": "currencies",
    "vatZoneId": "vatZones",
    "defaultPaymentMethod.paymentMethodId": "paymentMethods",
    **{f"glAccounts.{name}": "accounts" for name in _GL_ACCOUNTS},
    # a document's
    "customerVatZoneId": "vatZones",
    "paymentMethodId": "paymentMethods",
    "branchNumber": "branches",
    "salesperson": "salespersons",
    "salesPersonID": "salespersons",
    # a document line's
    "line.vatCodeId": "vatCategories",
    "line.inventoryNumber": "items",
    "line.accountNumber": "accounts",
    "line.branchNumber": "branches",
    "line.salesperson": "salespersons",
}

_SELLABLE = ("active", "nopurchases")  # item statuses a sales document may use
_FOR_CUSTOMERS = ("al", "cu")  # credit terms visibleTo codes usable on the customer side


def reference_kind(column: str) -> str | None:
    """The kind of record ``column`` names (``creditTerms``), or None for a column that names none."""
    return REFERENCE_COLUMNS.get(column)


def usable(kind_name: str, record: Record) -> str | None:
    """Why ``record`` exists but a sales write cannot use it (``has status Inactive and cannot be
    sold``); None when it can. A record without the field says nothing against it. The one rule
    the checks (:mod:`importer.company.checks`), the sandbox and map init share."""
    if kind_name == "items":
        status = str(record.get("status") or "")
        if status and status.casefold() not in _SELLABLE:
            return f"has status {status} and cannot be sold"
        return None
    if kind_name == "creditTerms":
        visible = str(record.get("visibleTo") or "")
        if visible and visible.casefold() not in _FOR_CUSTOMERS:
            return f"is not available for customers (visibleTo {visible})"
        return None
    flag = "isActive" if kind_name in ("branches", "salespersons") else "active"
    return "is inactive" if record.get(flag) is False else None


def described(kind_name: str, record: Record) -> tuple[str, str]:
    """(id, what the company calls it) of one record."""
    text = record.get("description") or record.get("name") or ""
    return str(record.get(kind(kind_name).id_field, "")), str(text)


def allowed(company: Company, kind_name: str) -> list[Record]:
    """The records of ``kind_name`` a write may name, in id order."""
    return [r for r in company.records[kind_name] if usable(kind_name, r) is None]


def shown_values(company: Company, kind_name: str, records: list[Record] | None = None, most: int = 10) -> str:
    """``10 (10 dager netto), 14 (14 dager netto) … and 3 more (5 in all)``: records as a message shows them."""
    rows = allowed(company, kind_name) if records is None else records
    parts = []
    for r in rows[:most]:
        rid, text = described(kind_name, r)
        parts.append(f"{rid} ({text})" if text and text != rid else rid)
    more = f" … and {len(rows) - most} more ({len(rows)} in all)" if len(rows) > most else ""
    return ", ".join(parts) + more if parts else "none"


def plural(label: str) -> str:
    """``credit terms id`` -> ``credit terms ids``, ``VAT category`` -> ``VAT categories``."""
    if label.endswith("series"):
        return label
    if label.endswith("y") and label[-2:-1] not in "aeiou":
        return label[:-1] + "ies"
    return label + ("es" if label.endswith(("s", "ch", "sh")) else "s")


def one(label: str) -> str:
    """``an item``, ``a VAT category``."""
    return ("an " if label[:1] in "aeiou" else "a ") + label
