"""Every reference in a write checked against the company, as the API checks it.

With a company (``SandboxConfig.company``), a customer or document write is refused when
it names something the company does not have or cannot use, and nothing of it is stored:

- a customer's class, credit terms, VAT zone, currency, default payment method and GL
  accounts (and their subaccounts); a class with ``requiredTaxzoneId`` needs a VAT zone,
  sent or the class's own;
- a document's credit terms, VAT zone (``customerVatZoneId``), currency, payment method,
  branch and salesperson; each line's VAT category (``vatCodeId``), item, unit (known for
  the line's item: its base, sales or a converted unit), account, subaccount, branch and
  salesperson;
- a document's ``financialPeriod`` and ``postPeriod`` (sent, or derived from the document
  date by ``derived.py``): the period must exist, be active and be open in the customer
  ledger.

What "usable" means follows the reference facts (reference-data.md, "Derived rules (a)"):
credit terms visible to all or to customers (not suppliers only, not disabled), an active
VAT category, an item whose status is Active or NoPurchases, an active account, branch,
salesperson, payment method and subaccount segment value. Ids compare trimmed and without
case (``Company.find``).

Refusals come in the live API's shapes: a document's as ``{"message": "VismaId: <guid>.
Error creating document. Error: TaxCategoryID 'X' cannot be found in the system. ..."}``,
a customer's as an IPPException. Each message names the request field (dotted path, line
indexes 0-based, as validation does), the value and the reason, and for an unknown id the
company's closest ones.

Not checked: ``locationId``, ``cashAccount``, ``project``, ``contact``, a customer's
``parentRecordNumber`` and ``priceClassId``, and exchange rates for foreign currencies (a
snapshot holds none of them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from importer.company import Company
from importer.company.kinds import kind
from importer.sandbox.answers import ApiError, ipp_error, message_error

__all__ = ["References", "Refusal"]

Record = Mapping[str, Any]

# What a request field refers to: (reference kind, the name the API's messages give it).
_TERMS = ("creditTerms", "TermsID")
_ZONE = ("vatZones", "TaxZoneID")
_CURRENCY = ("currencies", "CuryID")
_PAYMENT = ("paymentMethods", "PaymentMethodID")
_BRANCH = ("branches", "BranchID")
_SALESPERSON = ("salespersons", "SalesPersonID")
_ACCOUNT = ("accounts", "AccountID")

_CUSTOMER_FIELDS: dict[str, tuple[str, str]] = {
    "customerClassId": ("customerClasses", "CustomerClassID"),
    "creditTermsId": _TERMS, "vatZoneId": _ZONE, "currencyId": _CURRENCY,
}
_DOCUMENT_FIELDS: dict[str, tuple[str, str]] = {
    "creditTermsId": _TERMS, "customerVatZoneId": _ZONE, "currencyId": _CURRENCY,
    "paymentMethodId": _PAYMENT, "branchNumber": _BRANCH, "salesperson": _SALESPERSON,
    "salesPersonID": _SALESPERSON,
}
_LINE_FIELDS: dict[str, tuple[str, str]] = {
    "vatCodeId": ("vatCategories", "TaxCategoryID"), "inventoryNumber": ("items", "InventoryID"),
    "accountNumber": _ACCOUNT, "branchNumber": _BRANCH, "salesperson": _SALESPERSON,
}
_SELLABLE = ("active", "nopurchases")  # item statuses a sales document may use
_FOR_CUSTOMERS = ("al", "cu")  # credit terms visibleTo codes usable on the customer side


class Refusal(Exception):
    """One reference the company refuses: the sentence the API's message carries."""


def _inactive(kind_name: str, record: Record) -> str | None:
    """Why ``record`` exists but cannot be used in a sales write; None when it can."""
    if kind_name == "items":  # a snapshot without the field says nothing against the item
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


class References:
    """The checks of one company; raise ApiError in the live API's shapes."""

    __slots__ = ("company", "_segments")

    def __init__(self, company: Company) -> None:
        self.company = company
        # (segmentId, value) -> active, over every subaccount of the company
        segments: dict[tuple[int, str], bool] = {}
        for sub in company.records["subaccounts"]:
            for seg in sub.get("segments") or ():
                pair = (int(seg.get("segmentId") or 0), str(seg.get("segmentValue") or "").strip().casefold())
                segments[pair] = segments.get(pair, False) or sub.get("active") is not False
        self._segments = segments

    # -- entry points -----------------------------------------------------------------------

    def check_customer(self, record: Record, *, creating: bool) -> None:
        """A customer create or update (``record``: the fields sent, unwrapped)."""
        try:
            for path, value, target in _customer_references(record):
                self._one(path, value, *target)
            for path, value in _customer_subaccounts(record):
                self._subaccount(path, value)
            if creating:
                self._class_zone(record)
        except Refusal as exc:
            raise ipp_error(f"Error: {exc}") from None

    def check_document(
        self, record: Record, line_field: str, current: Record | None = None,
    ) -> None:
        """A document create (``current`` None) or update (``current`` the stored document)."""
        try:
            for name, target in _DOCUMENT_FIELDS.items():
                if record.get(name) is not None:
                    self._one(name, record[name], *target)
            stored = {line.get("lineNumber"): line for line in (current or {}).get(line_field) or ()}
            for i, line in enumerate(record.get(line_field) or ()):
                if (line.get("operation") or "Insert") == "Delete":
                    continue
                self._line(f"{line_field}[{i}].", line, stored.get(line.get("lineNumber")))
        except Refusal as exc:
            raise document_error(str(exc), creating=current is None) from None

    def check_periods(self, record: Record, *, creating: bool) -> None:
        """The document's ``financialPeriod`` (YYYYMM) and ``postPeriod`` (MMYYYY), where set."""
        for name in ("financialPeriod", "postPeriod"):
            value = record.get(name)
            if type(value) is not str:
                continue
            period = value if name == "financialPeriod" else value[2:] + value[:2]
            shown = f"{period[4:]}-{period[:4]}"
            row = self.company.find("financialPeriods", period)
            reason = None
            if row is None:
                reason = "does not exist in the company"
            elif row.get("active") is False:
                reason = "is inactive"
            elif row.get("closedInCustomerLedger") is True:
                reason = "is closed in the customer ledger"
            if reason is not None:
                raise document_error(f"The financial period {shown} ({name} '{value}') {reason}.", creating=creating)

    # -- one reference ----------------------------------------------------------------------

    def _one(self, path: str, value: object, kind_name: str, dac: str) -> Record:
        text = str(value).strip()
        row = self.company.find(kind_name, text)
        if row is None:
            raise Refusal(f"{dac} '{text}' cannot be found in the system ({path}{self._hint(kind_name, text)}).")
        reason = _inactive(kind_name, row)
        if reason is not None:
            raise Refusal(f"{dac} '{text}' {reason} ({path}).")
        return row

    def _hint(self, kind_name: str, value: str) -> str:
        id_field = kind(kind_name).id_field
        near = [str(r[id_field]) for r in self.company.closest(kind_name, value) if r.get(id_field) is not None]
        return f"; the company has {', '.join(near)}" if near else "; the company has none"

    def _line(self, prefix: str, line: Record, before: Record | None) -> None:
        item = None
        for name, target in _LINE_FIELDS.items():
            if line.get(name) is not None:
                row = self._one(prefix + name, line[name], *target)
                if name == "inventoryNumber":
                    item = row
        if item is None and before is not None and before.get("inventoryNumber") is not None:
            item = self.company.find("items", before["inventoryNumber"])  # an Update keeps the line's item
        unit = line.get("uom")
        if unit is not None and item is not None and not _knows_unit(item, str(unit)):
            units = ", ".join(_units_of(item)) or "none"
            raise Refusal(
                f"UOM '{str(unit).strip()}' is not defined for item '{item.get('inventoryNumber')}' "
                f"({prefix}uom; the item's units are {units})."
            )
        if line.get("subaccount") is not None:
            self._subaccount(prefix + "subaccount", line["subaccount"])

    def _subaccount(self, path: str, segments: object) -> None:
        for i, seg in enumerate(segments if isinstance(segments, list) else ()):
            if not isinstance(seg, Mapping) or seg.get("segmentValue") is None:
                continue
            value = str(seg["segmentValue"]).strip()
            active = self._segments.get((int(seg.get("segmentId") or 0), value.casefold()))
            where = f"{path}[{i}].segmentValue"
            if active is None:
                raise Refusal(f"SubID segment value '{value}' cannot be found in the system ({where}).")
            if not active:
                raise Refusal(f"SubID segment value '{value}' is inactive ({where}).")

    def _class_zone(self, record: Record) -> None:
        cls = self.company.find("customerClasses", record.get("customerClassId"))
        if cls is None or cls.get("requiredTaxzoneId") is not True or record.get("vatZoneId") is not None:
            return
        if not str(cls.get("taxZoneId") or "").strip():
            raise Refusal(
                f"'VAT zone' cannot be empty: customer class '{cls.get('id')}' requires one (vatZoneId)."
            )


def document_error(text: str, *, creating: bool) -> ApiError:
    """A document write refused by the company, as the live API words it."""
    doing = "creating" if creating else "updating"
    return message_error(400, f"VismaId: {uuid.uuid4()}. Error {doing} document. Error: {text}")


def _customer_references(record: Record) -> Iterator[tuple[str, object, tuple[str, str]]]:
    for name, target in _CUSTOMER_FIELDS.items():
        if record.get(name) is not None:
            yield name, record[name], target
    payment = record.get("defaultPaymentMethod")
    if isinstance(payment, Mapping) and payment.get("paymentMethodId") is not None:
        yield "defaultPaymentMethod.paymentMethodId", payment["paymentMethodId"], _PAYMENT
    accounts = record.get("glAccounts")
    if isinstance(accounts, Mapping):
        for name, value in accounts.items():
            if name.endswith("Account") and value is not None:
                yield f"glAccounts.{name}", value, _ACCOUNT


def _customer_subaccounts(record: Record) -> Iterator[tuple[str, object]]:
    accounts = record.get("glAccounts")
    if isinstance(accounts, Mapping):
        for name, value in accounts.items():
            if name.endswith("Subaccount") and value is not None:
                yield f"glAccounts.{name}", value


def _units_of(item: Record) -> list[str]:
    units = [item.get("baseUnit"), item.get("salesUnit")]
    units += [u.get("fromUnit") for u in item.get("inventoryUnits") or () if isinstance(u, Mapping)]
    return list(dict.fromkeys(str(u).strip() for u in units if u))


def _knows_unit(item: Record, unit: str) -> bool:
    wanted = unit.strip().casefold()
    return any(u.casefold() == wanted for u in _units_of(item))

