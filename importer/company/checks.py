"""Every reference of a write checked against a company: the one set of rules.

Given a :class:`~importer.company.Company`, an entity's write in the API's request shape
(values unwrapped: :func:`importer.mapping.flatten.unwrap`) says what the company would
refuse, as :class:`Problem` s: the request field (dotted path, line indexes 0-based), the
value, the kind of record it names, and why. The importer's preflight
(:mod:`importer.load.preflight`) turns them into messages naming the record and its
column; the sandbox (:mod:`importer.sandbox.references`) turns them into the live API's
error shapes. Both ask here, so they can never disagree.

What is checked:

- a customer's class, credit terms, VAT zone, currency, default payment method and GL
  accounts (and their subaccounts); a class with ``requiredTaxzoneId`` needs a VAT zone,
  sent or the class's own (on a create);
- a document's credit terms, VAT zone (``customerVatZoneId``), currency, payment method,
  branch and salesperson; each line's VAT category (``vatCodeId``), item, unit (known for
  the line's item: its base, sales or a converted unit), account, subaccount, branch and
  salesperson;
- a document's ``financialPeriod`` (YYYYMM) and ``postPeriod`` (MMYYYY), or, when neither
  is sent and ``derive`` is asked for, the period that holds its ``documentDate``: the
  period must exist, be active and be open in the customer ledger.

What "usable" means is :func:`importer.company.columns.usable`. A kind the company's
snapshot could not read (``Company.unavailable``) is not checked: nothing is known of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from importer.company.columns import usable
from importer.company.kinds import kind
from importer.company.model import Company

__all__ = ["Problem", "Reason", "check_customer", "check_document", "check_periods", "check_lines"]

Record = Mapping[str, Any]
Reason = Literal["unknown", "unusable", "unit", "required"]

# What a request field refers to: (reference kind, the name the API's messages give it).
_TERMS = ("creditTerms", "TermsID")
_ZONE = ("vatZones", "TaxZoneID")
_CURRENCY = ("currencies", "CuryID")
_PAYMENT = ("paymentMethods", "PaymentMethodID")
_BRANCH = ("branches", "BranchID")
_SALESPERSON = ("salespersons", "SalesPersonID")
_ACCOUNT = ("accounts", "AccountID")

CUSTOMER_FIELDS: dict[str, tuple[str, str]] = {
    "customerClassId": ("customerClasses", "CustomerClassID"),
    "creditTermsId": _TERMS, "vatZoneId": _ZONE, "currencyId": _CURRENCY,
}
DOCUMENT_FIELDS: dict[str, tuple[str, str]] = {
    "creditTermsId": _TERMS, "customerVatZoneId": _ZONE, "currencyId": _CURRENCY,
    "paymentMethodId": _PAYMENT, "branchNumber": _BRANCH, "salesperson": _SALESPERSON,
    "salesPersonID": _SALESPERSON,
}
LINE_FIELDS: dict[str, tuple[str, str]] = {
    "vatCodeId": ("vatCategories", "TaxCategoryID"), "inventoryNumber": ("items", "InventoryID"),
    "accountNumber": _ACCOUNT, "branchNumber": _BRANCH, "salesperson": _SALESPERSON,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reference the company refuses.

    ``kind``: the kind of record named (``creditTerms``; ``financialPeriods`` for a period,
    ``units`` for a line's unit); ``reason``: ``unknown`` (no such record), ``unusable`` (it
    exists but cannot be used: ``why`` says how), ``unit`` (not a unit of the line's item),
    ``required`` (a value the record needs is missing); ``why``: the words after the value
    (``has status Inactive and cannot be sold``); ``dac``: the name the API's messages give
    the field; ``hint``: what the company has instead, where it is not its records of
    ``kind`` (a unit's item's units).
    """

    path: str
    value: str
    kind: str
    reason: Reason
    why: str
    dac: str
    hint: str | None = None

    @property
    def closest_known(self) -> bool:
        """Whether the company's closest records of ``kind`` say something useful here."""
        return self.reason in ("unknown", "unusable") and self.kind not in ("subaccounts", "financialPeriods")


def check_customer(company: Company, record: Record, *, creating: bool) -> list[Problem]:
    """A customer create or update (``record``: the fields sent, unwrapped)."""
    problems = [p for path, value, target in _customer_references(record)
                if (p := _one(company, path, value, *target)) is not None]
    problems += _subaccounts_of(company, _customer_subaccounts(record))
    if creating:
        problems += _class_zone(company, record)
    return problems


def check_document(company: Company, record: Record, line_field: str,
                   current: Record | None = None) -> list[Problem]:
    """A document create (``current`` None) or update (``current`` the stored document):
    its header's references, then its lines' (:func:`check_lines`)."""
    problems = [p for name, target in DOCUMENT_FIELDS.items() if record.get(name) is not None
                if (p := _one(company, name, record[name], *target)) is not None]
    return problems + check_lines(company, record, line_field, current)


def check_lines(company: Company, record: Record, line_field: str, current: Record | None = None) -> list[Problem]:
    """Each line's references; an Update line without an item keeps the stored line's."""
    problems: list[Problem] = []
    stored = {line.get("lineNumber"): line for line in (current or {}).get(line_field) or ()}
    for i, line in enumerate(record.get(line_field) or ()):
        if not isinstance(line, Mapping) or (line.get("operation") or "Insert") == "Delete":
            continue
        problems += _line(company, f"{line_field}[{i}].", line, stored.get(line.get("lineNumber")))
    return problems


def check_periods(company: Company, record: Record, *, derive: bool = False) -> list[Problem]:
    """The document's ``financialPeriod`` and ``postPeriod``, where sent; with ``derive``, when
    neither is, the period of its ``documentDate`` (as the API derives it)."""
    if "financialPeriods" in company.unavailable:
        return []
    problems = []
    for name in ("financialPeriod", "postPeriod"):
        value = record.get(name)
        if type(value) is not str:
            continue
        period = value if name == "financialPeriod" else value[2:] + value[:2]
        problem = _period(company.find("financialPeriods", period), name, value)
        if problem is not None:
            problems.append(problem)
    day = record.get("documentDate")
    if derive and type(day) is str and record.get("financialPeriod") is None and record.get("postPeriod") is None:
        row = company.period_of(day[:10])
        problem = _period(row, "documentDate", day[:10]) if row is not None else Problem(
            "documentDate", day[:10], "financialPeriods", "unknown", "is in no financial period of the company",
            "FinPeriodID")
        if problem is not None:
            problems.append(problem)
    return problems


# -- one reference ------------------------------------------------------------------------


def _one(company: Company, path: str, value: object, kind_name: str, dac: str) -> Problem | None:
    if kind_name in company.unavailable:
        return None
    text = str(value).strip()
    row = company.find(kind_name, text)
    if row is None:
        return Problem(path, text, kind_name, "unknown", f"is not {_one_of(kind_name)} of this company", dac)
    why = usable(kind_name, row)
    return Problem(path, text, kind_name, "unusable", why, dac) if why is not None else None


def _one_of(kind_name: str) -> str:
    label = kind(kind_name).label
    return ("an " if label[:1] in "aeiou" else "a ") + label


def _period(row: Record | None, name: str, value: str) -> Problem | None:
    why = None
    if row is None:
        why = "does not exist in the company"
    elif row.get("active") is False:
        why = "is inactive"
    elif row.get("closedInCustomerLedger") is True:
        why = "is closed in the customer ledger"
    if why is None:
        return None
    return Problem(name, value, "financialPeriods", "unknown" if row is None else "unusable", why, "FinPeriodID")


def _line(company: Company, prefix: str, line: Record, before: Record | None) -> list[Problem]:
    problems = []
    item = None
    for name, target in LINE_FIELDS.items():
        if line.get(name) is None:
            continue
        problem = _one(company, prefix + name, line[name], *target)
        if problem is not None:
            problems.append(problem)
        elif name == "inventoryNumber":
            item = company.find("items", line[name])
    if item is None and before is not None and before.get("inventoryNumber") is not None:
        item = company.find("items", before["inventoryNumber"])  # an Update keeps the line's item
    unit = line.get("uom")
    if unit is not None and item is not None and not _knows_unit(item, str(unit)):
        units = ", ".join(_units_of(item)) or "none"
        problems.append(Problem(prefix + "uom", str(unit).strip(), "units", "unit",
                                f"is not defined for item '{item.get('inventoryNumber')}'", "UOM",
                                f"the item's units are {units}"))
    if line.get("subaccount") is not None:
        problems += _subaccounts_of(company, [(prefix + "subaccount", line["subaccount"])])
    return problems


def _subaccounts_of(company: Company, fields: Iterator[tuple[str, object]] | list[tuple[str, object]]) -> list[Problem]:
    if "subaccounts" in company.unavailable:
        return []
    segments: dict[tuple[int, str], bool] = {}  # (segmentId, value) -> active, over every subaccount
    for sub in company.records["subaccounts"]:
        for seg in sub.get("segments") or ():
            pair = (int(seg.get("segmentId") or 0), str(seg.get("segmentValue") or "").strip().casefold())
            segments[pair] = segments.get(pair, False) or sub.get("active") is not False
    problems = []
    for path, value in fields:
        for i, seg in enumerate(value if isinstance(value, list) else ()):
            if not isinstance(seg, Mapping) or seg.get("segmentValue") is None:
                continue
            text = str(seg["segmentValue"]).strip()
            active = segments.get((int(seg.get("segmentId") or 0), text.casefold()))
            where = f"{path}[{i}].segmentValue"
            if active is None:
                problems.append(Problem(where, text, "subaccounts", "unknown",
                                        "is not a subaccount segment value of this company", "SubID segment value"))
            elif not active:
                problems.append(Problem(where, text, "subaccounts", "unusable", "is inactive", "SubID segment value"))
    return problems


def _class_zone(company: Company, record: Record) -> list[Problem]:
    if "customerClasses" in company.unavailable:
        return []
    cls = company.find("customerClasses", record.get("customerClassId"))
    if cls is None or cls.get("requiredTaxzoneId") is not True or record.get("vatZoneId") is not None:
        return []
    if str(cls.get("taxZoneId") or "").strip():
        return []
    return [Problem("vatZoneId", "", "vatZones", "required",
                    f"cannot be empty: customer class '{cls.get('id')}' requires one", "VAT zone")]


def _customer_references(record: Record) -> Iterator[tuple[str, object, tuple[str, str]]]:
    for name, target in CUSTOMER_FIELDS.items():
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
