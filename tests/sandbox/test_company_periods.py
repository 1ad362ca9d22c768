"""A document's periods must be open in the company; periods and due dates left out are derived.

Expected dates are worked out by hand from the credit-terms rules (reference-data.md:
N days, D day of next month, E end of month, M end of next month, T day of the month,
P days from the first of next month).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from importer.sandbox import SandboxConfig
from tests.support.company_api import company_with, document_message, invoice_body, with_customer
from tests.support.sandbox_api import Api, running_api, w

SandboxWith = Callable[..., AbstractAsyncContextManager[Api]]


def _period(period: str, *, active: bool = True, closed: bool = False) -> dict[str, Any]:
    year, month = period[:4], period[4:]
    return {"period": period, "year": int(year), "startDate": f"{year}-{month}-01T00:00:00",
            "endDate": f"{year}-{month}-28T00:00:00", "active": active,
            "closedInCustomerLedger": closed, "closedInGeneralLedger": closed}


# January open, February closed in the customer ledger, March inactive, April missing.
PERIODS = company_with(replace={"financialPeriods": [
    _period("202001"), _period("202002", closed=True), _period("202003", active=False), _period("202005"),
]})


def _terms(terms_id: str, due: str, day: int, discount: str = "N", discount_day: int = 0) -> dict[str, Any]:
    return {"termsId": terms_id, "visibleTo": "CU", "dueDateType": due, "dueDay1": day,
            "discountType": discount, "discountDay": discount_day, "discountPercent": 2.0}


TERMS = company_with(extra={"creditTerms": [
    _terms("DNM", "D", 15), _terms("D31", "D", 31), _terms("EOM", "E", 0), _terms("EONM", "M", 0),
    _terms("T20", "T", 20), _terms("T28", "T", 28), _terms("P10", "P", 10), _terms("SKONTO", "N", 30, "N", 10),
]})


@pytest.mark.parametrize(("sent", "sentence"), [
    ({"financialPeriod": w("202002")}, "The financial period 02-2020 (financialPeriod '202002') is closed in the customer ledger."),
    ({"postPeriod": w("022020")}, "The financial period 02-2020 (postPeriod '022020') is closed in the customer ledger."),
    ({"financialPeriod": w("202003")}, "The financial period 03-2020 (financialPeriod '202003') is inactive."),
    ({"financialPeriod": w("202004")}, "The financial period 04-2020 (financialPeriod '202004') does not exist in the company."),
    ({"documentDate": w("2020-02-03")}, "The financial period 02-2020 (financialPeriod '202002') is closed in the customer ledger."),
    ({"documentDate": w("2020-03-03")}, "The financial period 03-2020 (financialPeriod '202003') is inactive."),
    ({"documentDate": w("2020-04-10")},
     "No financial period holds the document date 2020-04-10 (documentDate '2020-04-10'); "
     "the company's periods run from 202001 to 202005."),
], ids=["closed", "closed-post", "inactive", "missing", "closed-by-date", "inactive-by-date", "no-period-for-date"])
async def test_a_period_not_open_in_the_customer_ledger_is_refused(
    sandbox_with: SandboxWith, sent: dict[str, Any], sentence: str,
) -> None:
    async with sandbox_with(company=PERIODS) as api:
        await with_customer(api)
        status, body, _ = await api.call("POST", "/v1/customerinvoice", json=invoice_body(**sent))
        assert ". Error creating document. Error: " + sentence in document_message(status, body)
        assert await api.records("invoice") == []


async def test_moving_a_document_into_a_closed_period_is_refused(sandbox_with: SandboxWith) -> None:
    async with sandbox_with(company=PERIODS) as api:
        await with_customer(api)
        assert (await api.call("POST", "/v1/customerinvoice", json=invoice_body()))[0] == 201
        (before,) = await api.records("invoice")
        status, body, _ = await api.call("PUT", "/v1/customerinvoice/I1", json={"documentDate": w("2020-02-10")})
        assert ". Error updating document. Error: The financial period 02-2020" in document_message(status, body)
        assert await api.records("invoice") == [before]


async def test_periods_and_due_dates_are_derived_from_the_date_and_the_terms(api: Api) -> None:
    await with_customer(api)
    body = invoice_body(creditTermsId=w("30"))
    assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201
    (stored,) = await api.records("invoice")
    assert stored["financialPeriod"] == "202001" and stored["postPeriod"] == "012020"
    assert stored["documentDueDate"] == "2020-02-26"  # 27 January + 30 days
    assert stored["cashDiscountDate"] == "2020-01-27"  # no discount days
    _, got, _ = await api.call("GET", "/v1/customerinvoice/I1")
    assert got["financialPeriod"] == "202001" and got["postPeriod"] == "202001"  # reads answer YYYYMM
    _, found, _ = await api.call("GET", "/v1/customerinvoice", params={"financialPeriod": "202001"})
    assert [d["referenceNumber"] for d in found] == ["I1"]
    _, none, _ = await api.call("GET", "/v1/customerinvoice", params={"financialPeriod": "202002"})
    assert none == []


async def test_sent_periods_and_dates_are_kept(api: Api) -> None:
    await with_customer(api)
    body = invoice_body(creditTermsId=w("30"), postPeriod=w("022020"), documentDueDate=w("2020-03-01"))
    assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201
    (stored,) = await api.records("invoice")
    assert stored["postPeriod"] == "022020" and stored["financialPeriod"] == "202001"
    assert stored["documentDueDate"] == "2020-03-01" and stored["cashDiscountDate"] == "2020-01-27"


async def test_the_customers_terms_apply_when_the_document_has_none(api: Api) -> None:
    await with_customer(api, creditTermsId=w("14"))
    body = invoice_body(documentDate=w("2020-01-27T00:00:00"))
    assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201
    (stored,) = await api.records("invoice")
    assert stored["documentDueDate"] == "2020-02-10T00:00:00"  # the date's own shape is kept


@pytest.mark.parametrize(("terms", "date", "due", "discount"), [
    ("DNM", "2020-01-27", "2020-02-15", "2020-01-27"),
    ("D31", "2020-01-27", "2020-02-29", "2020-01-27"),  # day 31 of a 29-day February: its last day
    ("EOM", "2020-01-27", "2020-01-31", "2020-01-27"),
    ("EONM", "2020-01-27", "2020-02-29", "2020-01-27"),
    ("EONM", "2019-12-05", "2020-01-31", "2019-12-05"),  # across the year end
    ("T20", "2020-01-27", "2020-02-20", "2020-01-27"),  # the 20th has passed: next month's
    ("T28", "2020-01-27", "2020-01-28", "2020-01-27"),
    ("P10", "2020-01-27", "2020-02-11", "2020-01-27"),  # 1 February + 10 days
    ("SKONTO", "2020-01-27", "2020-02-26", "2020-02-06"),  # 30 days net, 10 days discount
], ids=lambda v: str(v))
async def test_each_kind_of_credit_terms_gives_its_due_date(
    sandbox_with: SandboxWith, terms: str, date: str, due: str, discount: str,
) -> None:
    async with sandbox_with(company=TERMS) as api:
        await with_customer(api)
        body = invoice_body(creditTermsId=w(terms), documentDate=w(date))
        status, err, _ = await api.call("POST", "/v1/customerinvoice", json=body)
        assert status == 201, err
        (stored,) = await api.records("invoice")
        assert (stored["documentDueDate"], stored["cashDiscountDate"]) == (due, discount)


async def test_debit_notes_get_due_dates_and_credit_notes_only_periods(api: Api) -> None:
    await with_customer(api, creditTermsId=w("10"))
    line = {"operation": "Insert", "inventoryNumber": w("6"), "quantity": w(1), "unitPriceInCurrency": w(5)}
    for path in ("/v1/customerDebitNote", "/v1/customerCreditNote"):
        body = {"referenceNumber": w("N1"), "customerNumber": w("10000"), "documentDate": w("2019-12-21"),
                "lines": [line]}
        status, err, _ = await api.call("POST", path, json=body)
        assert status == 201, err
    (debit,) = await api.records("debit-note")
    (credit,) = await api.records("credit-note")
    assert (debit["financialPeriod"], debit["postPeriod"], debit["documentDueDate"]) == ("201912", "122019", "2019-12-31")
    assert (credit["financialPeriod"], credit["postPeriod"]) == ("201912", "122019")
    assert "documentDueDate" not in credit  # a credit note has no due date


async def test_a_new_date_or_new_terms_derive_again_on_update(api: Api) -> None:
    await with_customer(api)
    assert (await api.call("POST", "/v1/customerinvoice", json=invoice_body(creditTermsId=w("14"))))[0] == 201
    assert (await api.call("PUT", "/v1/customerinvoice/I1", json={"documentDate": w("2020-02-03")}))[0] == 204
    (stored,) = await api.records("invoice")
    assert (stored["financialPeriod"], stored["postPeriod"], stored["documentDueDate"]) == ("202002", "022020", "2020-02-17")
    assert (await api.call("PUT", "/v1/customerinvoice/I1", json={"creditTermsId": w("30")}))[0] == 204
    (stored,) = await api.records("invoice")
    assert stored["documentDueDate"] == "2020-03-04" and stored["financialPeriod"] == "202002"
    assert (await api.call("PUT", "/v1/customerinvoice/I1", json={"invoiceText": w("x")}))[0] == 204
    assert (await api.records("invoice"))[0]["documentDueDate"] == "2020-03-04"  # nothing to derive again


async def test_without_a_company_the_period_is_the_calendar_month_and_never_refused() -> None:
    async with running_api(SandboxConfig(company=None)) as api:
        await with_customer(api)
        body = invoice_body(documentDate=w("1999-07-15"), creditTermsId=w("30"))
        assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201
        (stored,) = await api.records("invoice")
        assert (stored["financialPeriod"], stored["postPeriod"]) == ("199907", "071999")
        assert "documentDueDate" not in stored
