"""What a customer owes, as the ledger answers it: the customer balance and document endpoints.

Served from the documents the tenant's ledger holds (reference-data.md §10 and §11):

- ``GET /v1/customerdocument`` and ``GET /v1/customer/{customerNumber}/document``: one
  ``CustomerDocumentDto`` per invoice, credit note and debit note, paged by
  ``pageNumber``/``pageSize`` with ``metadata {totalCount, maxPageSize}`` on each element
  (none in the live profile, as its other lists); filters ``documentType``, ``status``,
  ``released`` (0 or 1) and ``customer``;
- ``GET /v1/customer/{customerNumber}/invoice``: the customer's invoices as
  ``CustomerInvoiceDto``, paged the same way;
- ``GET /v1/customer/{customerCd}/balance``: one ``CustomerBalanceDto``;
- ``GET /v1/customer/balance``: every customer's, paged by the deprecated
  ``numberToRead``/``skipRecords`` (a plain array);
- ``GET /v2/customer/balance``: ``CustomerBalanceV2dto`` rows between ``fromFinPeriod`` and
  ``toFinPeriod`` (YYYYPP, both required), paged by ``pageNumber``/``pageSize`` (a plain array).

The figures are the documents' own as reads answer them (``views.View``), so ``amount``,
``balance`` and ``vatTotal`` are gross with the company's VAT. Amounts of a document are
positive whatever its type; ``documentType`` says which way it goes.

**What a balance counts** (the reference leaves the meaning open; this is the sandbox's
choice): released documents only, status Open (a document on hold or balanced but not
released is not yet owed), invoices and debit notes adding their ``balance``, credit notes
taking theirs off. The sandbox takes no payments, so a released document's balance is its
amount. ``totalOrder``, ``totalLoan``, ``totalDiscount*`` and the V2 ``paymentsAndPrepayments``
and ``overdueCharges`` are 0 (no orders, loans, discounts or payments here);
``totalSalePeriod``/``totalSaleYear`` are the released documents' net line totals in the
current period and year. In V2, ``sales`` is the released invoices and debit notes of the
periods asked, ``adjustmentsAndDiscounts`` the credit notes (negative), ``beginBalance`` what
was owed before ``fromFinPeriod``, and ``yearToDateBalance`` their sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import orjson

from importer.sandbox.answers import Answer, ipp_error, json_answer, message_error
from importer.sandbox.dates import now_iso
from importer.sandbox.ledger import Ledger
from importer.sandbox.listing import DOCUMENT_STATUSES
from importer.sandbox.views import Groups

__all__ = ["route", "answer"]

_DOCUMENTS: tuple[str, ...] = ("invoice", "debit-note", "credit-note")
_SIGN = {"invoice": 1, "debit-note": 1, "credit-note": -1}
_TYPES = {"Invoice": "invoice", "DebitNote": "debit-note", "CreditNote": "credit-note"}
# The CustomerDocumentDto fields a stored document's read view gives (reference-data.md §11).
_DOCUMENT_FIELDS = (
    "documentDueDate", "customer", "documentType", "referenceNumber", "postPeriod", "financialPeriod",
    "documentDate", "origInvoiceDate", "status", "currencyId", "amount", "amountInCurrency", "balance",
    "balanceInCurrency", "cashDiscount", "cashDiscountInCurrency", "paymentMethod", "customerRefNumber",
    "invoiceText", "lastModifiedDateTime", "createdDateTime", "note", "vatTotal", "vatTotalInCurrency",
    "location", "branchNumber", "cashAccount", "project", "account", "subaccount",
)
_LIGHT = Groups(attachments=False, tax_details=False, applications=False, dunning=False, invoice_address=False)
_ROUTES = {
    ("v1", "customerdocument"): "documents",
    ("v1", "customer", "*", "document"): "documents",
    ("v1", "customer", "*", "invoice"): "invoices",
    ("v1", "customer", "*", "balance"): "balance",
    ("v1", "customer", "balance"): "balances",
    ("v2", "customer", "balance"): "balances-v2",
}


def route(parts: list[str]) -> str | None:
    """Which of these endpoints a GET path's parts (``["", "v1", ...]``) name; None: another's."""
    low = [p.lower() for p in parts[1:] if p != ""]
    found = _ROUTES.get(tuple(low))
    if found is None and len(low) == 4:
        found = _ROUTES.get((low[0], low[1], "*", low[3]))
    return found


def answer(ledger: Ledger, kind: str, parts: list[str], query: Mapping[str, str], key: str | None) -> Answer:
    """The answer of endpoint ``kind`` (``route``'s) for a GET; ``key`` the path's customer."""
    if kind == "documents":
        return _documents(ledger, query, key)
    if kind == "invoices":
        return _invoices(ledger, query, _customer(ledger, key))
    if kind == "balance":
        customer = _customer(ledger, key)
        return json_answer(200, _balance(ledger, customer, _released(ledger)))
    if kind == "balances":
        return _balances(ledger, query)
    return _balances_v2(ledger, query)


# -- documents -------------------------------------------------------------------------------


def _documents(ledger: Ledger, query: Mapping[str, str], key: str | None) -> Answer:
    customer = key if key is not None else (query.get("customer") or None)
    if key is not None:
        _customer(ledger, key)
    kinds = _DOCUMENTS
    wanted_type = query.get("documentType")
    if wanted_type:
        name = {t.casefold(): n for t, n in _TYPES.items()}.get(wanted_type.casefold())
        kinds = (name,) if name else ()
    statuses = {s.casefold(): s for s in DOCUMENT_STATUSES}
    status = query.get("status")
    if status and status.casefold() not in statuses:
        raise ipp_error(f"Invalid value for query parameter 'status': expected one of "
                        f"{', '.join(DOCUMENT_STATUSES)}, got {status!r}.")
    released = query.get("released")
    if released and released not in ("0", "1"):
        raise ipp_error(f"Invalid value for query parameter 'released': expected 0 or 1, got {released!r}.")
    rows = []
    for name, record in _stored(ledger, kinds):
        if customer is not None and record.get("customerNumber") != customer:
            continue
        if status and str(record.get("status", "")).casefold() != status.casefold():
            continue
        if released and bool(record.get("released")) is not (released == "1"):
            continue
        rows.append(_document(ledger, name, record))
    return _page(ledger, rows, query)


def _invoices(ledger: Ledger, query: Mapping[str, str], customer: str) -> Answer:
    view = ledger.rules["invoice"].view
    assert view is not None
    groups = Groups.of_query(query, listing=True)
    rows = [view.render(r, ledger.tables.records["customer"], groups)
            for _, r in _stored(ledger, ("invoice",)) if r.get("customerNumber") == customer]
    return _page(ledger, rows, query)


def _stored(ledger: Ledger, kinds: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name in kinds:
        for record in ledger.tables.records[name].values():
            yield name, record


def _document(ledger: Ledger, name: str, record: dict[str, Any]) -> dict[str, Any]:
    """A stored document as a ``CustomerDocumentDto``."""
    view = ledger.rules[name].view
    assert view is not None
    full = view.render(record, ledger.tables.records["customer"], _LIGHT)
    return {f: full[f] for f in _DOCUMENT_FIELDS if f in full}


def _whole(query: Mapping[str, str], param: str, default: int, least: int) -> int:
    text = query.get(param)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ipp_error(f"Invalid value for query parameter '{param}': expected a whole number, got {text!r}.") \
            from None
    if value < least:
        raise ipp_error(f"Invalid value for query parameter '{param}': must be {least} or more.")
    return value


def _page(ledger: Ledger, rows: list[dict[str, Any]], query: Mapping[str, str], *, meta: bool = True) -> Answer:
    """The ``pageNumber``/``pageSize`` page of ``rows``; each element with ``metadata`` (standard profile)."""
    size = min(_whole(query, "pageSize", ledger.max_page_size, 1), ledger.max_page_size)
    number = _whole(query, "pageNumber", 1, 1)
    page = rows[(number - 1) * size:number * size]
    if meta and not ledger.live:
        metadata = {"totalCount": len(rows), "maxPageSize": ledger.max_page_size}
        for row in page:
            row["metadata"] = metadata
    return Answer(200, orjson.dumps(page))


# -- balances --------------------------------------------------------------------------------


def _customer(ledger: Ledger, key: str | None) -> str:
    if key is None or key not in ledger.tables.records["customer"]:
        raise message_error(404, f"Customer '{key}' was not found.")
    return key


def _released(ledger: Ledger) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(entity, stored, rendered) of every released document: what the balances count."""
    out = []
    for name, record in _stored(ledger, _DOCUMENTS):
        if record.get("released"):
            view = ledger.rules[name].view
            assert view is not None
            out.append((name, record, view.render(record, ledger.tables.records["customer"], _LIGHT)))
    return out


def _number(value: Any) -> Decimal:
    return Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else Decimal(0)


def _fin_period(record: Mapping[str, Any]) -> str:
    """The document's financial period (YYYYMM): stored, else its document date's month."""
    period = record.get("financialPeriod")
    if isinstance(period, str) and period:
        return period
    day = str(record.get("documentDate") or now_iso())
    return day[:4] + day[5:7]


def _reference(ledger: Ledger, key: str) -> dict[str, Any]:
    """``customer {internalId, number, name}``: internalId is the customer's place in the ledger."""
    customers = ledger.tables.records["customer"]
    position = next((i for i, k in enumerate(customers, 1) if k == key), 0)
    out: dict[str, Any] = {"internalId": position, "number": key}
    name = customers[key].get("name")
    if isinstance(name, str):
        out["name"] = name
    return out


def _balance(ledger: Ledger, key: str, released: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict:
    """One ``CustomerBalanceDto`` (see the module doc for what it counts)."""
    today = now_iso()
    period, year = today[:4] + today[5:7], today[:4]
    balance = sale_period = sale_year = Decimal(0)
    modified = str(ledger.tables.records["customer"][key].get("lastModifiedDateTime") or "")
    for name, record, shown in released:
        if record.get("customerNumber") != key:
            continue
        sign = _SIGN[name]
        balance += sign * _number(shown.get("balance"))
        net = sign * _number(shown.get("detailTotal"))
        own = _fin_period(record)
        sale_period += net if own == period else 0
        sale_year += net if own[:4] == year else 0
        modified = max(modified, str(record.get("lastModifiedDateTime") or ""))
    zero = 0.0
    return {
        "customer": _reference(ledger, key), "balance": float(balance), "totalOrder": zero, "totalLoan": zero,
        "totalSalePeriod": float(sale_period), "totalSaleYear": float(sale_year),
        "totalDiscountPeriod": zero, "totalDiscountYear": zero, "lastModified": modified,
    }


def _balances(ledger: Ledger, query: Mapping[str, str]) -> Answer:
    """Every customer's balance; ``numberToRead``/``skipRecords`` (capped at the largest page)."""
    read = min(_whole(query, "numberToRead", ledger.max_page_size, 1), ledger.max_page_size)
    skip = _whole(query, "skipRecords", 0, 0)
    keys = list(ledger.tables.records["customer"])[skip:skip + read]
    released = _released(ledger)
    return Answer(200, orjson.dumps([_balance(ledger, k, released) for k in keys]))


def _period(query: Mapping[str, str], param: str) -> str:
    text = query.get(param) or ""
    if len(text) != 6 or not text.isdigit():
        raise ipp_error(f"Invalid value for query parameter '{param}': a financial period as YYYYPP is "
                        f"required, got {text!r}.")
    return text


def _balances_v2(ledger: Ledger, query: Mapping[str, str]) -> Answer:
    """``CustomerBalanceV2dto`` rows for the periods ``fromFinPeriod``..``toFinPeriod`` (inclusive)."""
    first, last = _period(query, "fromFinPeriod"), _period(query, "toFinPeriod")
    wanted = query.get("customer") or None
    rows = []
    released = _released(ledger)
    for key in ledger.tables.records["customer"]:
        if wanted is not None and key != wanted:
            continue
        begin = sales = adjustments = Decimal(0)
        for name, record, shown in released:
            if record.get("customerNumber") != key:
                continue
            amount = _number(shown.get("balance"))
            own = _fin_period(record)
            if own < first:
                begin += _SIGN[name] * amount
            elif own <= last:
                if _SIGN[name] > 0:
                    sales += amount
                else:
                    adjustments -= amount
        rows.append({
            "customer": _reference(ledger, key), "beginBalance": float(begin), "sales": float(sales),
            "paymentsAndPrepayments": 0.0, "adjustmentsAndDiscounts": float(adjustments), "overdueCharges": 0.0,
            "yearToDateBalance": float(begin + sales + adjustments),
        })
    return _page(ledger, rows, query, meta=False)
