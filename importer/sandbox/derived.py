"""What the API fills in on a document when the request leaves it out: periods and due dates.

- ``financialPeriod`` (YYYYMM) and ``postPeriod`` (MMYYYY, as requests spell it; reads
  answer YYYYMM) come from the document date: the company's financial period whose dates
  hold it. Without a company they are the date's calendar month. A date no period of the
  company holds is refused, naming the date and the periods the company has.
- ``documentDueDate`` and ``cashDiscountDate`` (where the entity has them: invoices and
  debit notes) come from the credit terms: the document's ``creditTermsId``, else its
  customer's. Without a company, or without terms, they stay unset.

Credit-term rules, by ``dueDateType`` (and ``discountType`` with ``discountDay`` for the
cash-discount date), with ``dueDay1`` as N:

- ``N`` fixed number of days: the document date + N days;
- ``D`` day of next month: day N of the next month (its last day when shorter);
- ``E`` end of month, ``M`` end of next month;
- ``T`` day of the month: day N of the document's month, or of the next one when that day
  has passed;
- ``P`` fixed number of days starting next month: the first of the next month + N days.

``C`` (custom, with its day ranges) is not derived. Nor is the terms' weekend rule
(``moveDueDateIfOnTheWeekend``), which a snapshot does not keep.

On an update, a field not sent is derived again when the document date (periods, dates) or
the credit terms (dates) change. Derived dates keep the shape of the document date as
sent: ``2020-01-27`` gives ``2020-02-26``, ``2020-01-27T00:00:00`` gives ``2020-02-26T00:00:00``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from importer.company import Company
from importer.sandbox.references import document_error

__all__ = ["derive_document", "due_date", "PERIOD_FIELDS", "DATE_FIELDS"]

Record = dict[str, Any]

PERIOD_FIELDS = ("financialPeriod", "postPeriod")
DATE_FIELDS = ("documentDueDate", "cashDiscountDate")  # field -> terms' (type, day) below
_RULE_OF = {"documentDueDate": ("dueDateType", "dueDay1"), "cashDiscountDate": ("discountType", "discountDay")}


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _next_month(day: dt.date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _day_of(year: int, month: int, n: int) -> dt.date:
    return dt.date(year, month, max(1, min(n, calendar.monthrange(year, month)[1])))


def due_date(rule: str, n: int, day: dt.date) -> dt.date | None:
    """The date a credit-terms rule (``dueDateType``/``discountType``) gives for ``day``."""
    year, month = _next_month(day)
    match rule.upper():
        case "N":
            return day + dt.timedelta(days=n)
        case "D":
            return _day_of(year, month, n)
        case "E":
            return _month_end(day.year, day.month)
        case "M":
            return _month_end(year, month)
        case "T":
            this = _day_of(day.year, day.month, n)
            return this if this >= day else _day_of(year, month, n)
        case "P":
            return dt.date(year, month, 1) + dt.timedelta(days=n)
    return None


def _date_of(value: object) -> dt.date | None:
    if type(value) is not str:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _periods_of(day: dt.date, sent: str, company: Company | None, *, creating: bool) -> dict[str, str]:
    if company is None:
        period = f"{day.year:04d}{day.month:02d}"
    else:
        row = company.period_of(day.isoformat())
        if row is None:
            ids = company.ids("financialPeriods")
            held = f"the company's periods run from {min(ids)} to {max(ids)}" if ids else "the company has none"
            raise document_error(
                f"No financial period holds the document date {day.isoformat()} (documentDate '{sent}'); {held}.",
                creating=creating,
            )
        period = str(row["period"])
    return {"financialPeriod": period, "postPeriod": period[4:] + period[:4]}


def derive_document(
    record: Record, current: Mapping[str, Any] | None, fields: Collection[str],
    company: Company | None, customers: Mapping[str, Mapping[str, Any]],
) -> None:
    """Fill in ``record`` (a create's fields, or an update's changes to ``current``) what it leaves out.

    ``fields`` are the request fields the entity has (only those are derived).
    """
    merged: Mapping[str, Any] = record if current is None else {**current, **record}
    day = _date_of(merged.get("documentDate"))
    if day is None:
        return
    dated = current is None or "documentDate" in record
    periods = [f for f in PERIOD_FIELDS if f in fields and f not in record]
    if dated and periods:
        derived = _periods_of(day, merged["documentDate"], company, creating=current is None)
        for name in periods:
            record[name] = derived[name]
    if company is None or not (dated or "creditTermsId" in record):
        return
    terms_id = merged.get("creditTermsId")
    if terms_id is None:
        customer = customers.get(str(merged.get("customerNumber") or ""))
        terms_id = customer.get("creditTermsId") if customer is not None else None
    terms = company.find("creditTerms", terms_id) if terms_id is not None else None
    if terms is None:
        return
    tail = str(merged["documentDate"])[10:]
    for name in DATE_FIELDS:
        if name not in fields or name in record:
            continue
        rule, count = (terms.get(key) for key in _RULE_OF[name])
        when = due_date(str(rule or ""), count if isinstance(count, int) else 0, day)
        if when is not None:
            record[name] = when.isoformat() + tail
