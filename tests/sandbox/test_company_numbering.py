"""Numbers as the company's series give them, on the v1 and V2 creates, asserted on what
the ledger holds and on the Location of each create.

The company: invoices from an automatic series that does not allow manual numbering on
imports (next number AR000042), credit notes from an automatic series that does (KR00100
last used, step 10), debit notes from a manual series, and customers auto-numbered by the
CUSTOMER dimension from a series that allows manual numbering on imports (next 50001).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from importer.company import Company
from importer.company.demo import demo_company
from importer.company.file import company_document, company_from_document


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


def series(numbering_id: str, manual: bool, last: str | None, next_number: str | None, step: int = 1,
           end: str = "ZZ999999") -> dict[str, Any]:
    return {"numberingId": numbering_id, "description": numbering_id, "manualNumbering": manual,
            "newNumberSymbol": "<NEW>",
            "sequence": [{"numberingId": numbering_id, "startNbr": last or "000001", "endNbr": end,
                          "startDate": "2000-01-01T00:00:00", "lastNbr": last, "warnNbr": None,
                          "nbrStep": step, "nextNumber": next_number}]}


def numbered() -> Company:
    doc = company_document(demo_company(dt.date(2024, 1, 1)))
    doc["numberSeries"] = [series("ARINV", False, "AR000041", "AR000042"), series("ARCRN", False, "KR00100", None, 10),
                           series("ARDEB", True, None, None), series("KUNDE", False, "50000", "50001")]
    doc["numbering"] = {
        "customer": {"series": "KUNDE", "allowManualOnImports": True},
        "invoice": {"series": "ARINV", "allowManualOnImports": False},
        "creditNote": {"series": "ARCRN", "allowManualOnImports": True},
        "debitNote": {"series": "ARDEB", "allowManualOnImports": False},
    }
    doc["customerDimension"]["segments"][0]["isAutoNumber"] = True
    return company_from_document(doc)


def document(customer: str, number: str | None = None, override: bool | None = None,
             line_field: str = "invoiceLines") -> dict[str, Any]:
    body: dict[str, Any] = {"customerNumber": w(customer), "documentDate": w("2024-02-01"),
                            line_field: [{"quantity": w(1), "unitPriceInCurrency": w(100)}]}
    if number is not None:
        body["referenceNumber"] = w(number)
    if override is not None:
        body["overrideNumberSeries"] = w(override)
    return body


async def post(api: Any, path: str, body: dict[str, Any], **kw: Any) -> tuple[int, Any, Any]:
    return await api.call("POST", path, json=body, **kw)


async def created(api: Any, path: str, body: dict[str, Any]) -> str:
    """POST a create that must succeed; the number its Location carries."""
    status, answer, headers = await post(api, path, body)
    assert status == 201, answer
    return headers["Location"].rsplit("/", 1)[1]


async def held(api: Any, entity: str) -> list[str]:
    key = "number" if entity == "customer" else "referenceNumber"
    return sorted(r[key] for r in await api.records(entity))


async def customer(api: Any) -> str:
    return await created(api, "/v1/customer", {"name": w("Acme AS"), "customerClassId": w("1")})


def refused(status: int, answer: Any, *words: str) -> None:
    assert status == 400, answer
    message = answer["message"]
    assert message.startswith("VismaId: ") and "Error creating " in message, message
    for word in words:
        assert word in message, message


async def test_automatic_series_on_v1_ignores_a_sent_number(sandbox_with) -> None:
    async with sandbox_with(company=numbered()) as api:
        k = await customer(api)
        assert await created(api, "/v1/customerinvoice", document(k, "MINE-1")) == "AR000042"
        assert await created(api, "/v1/customerinvoice", document(k)) == "AR000043"
        # overrideNumberSeries works on the V2 create only: on v1 it is ignored too
        assert await created(api, "/v1/customerinvoice", document(k, "MINE-2", True)) == "AR000044"
        assert await held(api, "invoice") == ["AR000042", "AR000043", "AR000044"]
        status, doc, _ = await api.call("GET", "/v1/customerinvoice/AR000042")
        assert status == 200 and doc["referenceNumber"] == "AR000042"
        status, _, _ = await api.call("GET", "/v1/customerinvoice/MINE-1")
        assert status == 404


async def test_v2_override_needs_the_series_to_allow_it(sandbox_with) -> None:
    async with sandbox_with(company=numbered()) as api:
        k = await customer(api)
        status, answer, _ = await post(api, "/v2/customerinvoice", document(k, "MINE-1", True))
        refused(status, answer, "overrideNumberSeries", "ARINV", "manual numbering on imports", "MINE-1")
        assert await held(api, "invoice") == []
        status, _, headers = await post(api, "/v2/customerinvoice", document(k, "MINE-2"))
        assert status == 201 and headers["ETag"]
        assert headers["Location"].endswith("/v1/customerinvoice/AR000042")
        assert await held(api, "invoice") == ["AR000042"]


async def test_v2_override_keeps_the_number_where_the_series_allows_it(sandbox_with) -> None:
    async with sandbox_with(company=numbered()) as api:
        k = await customer(api)
        path = "/V2/CustomerCreditNote"  # paths are case-insensitive, as on v1
        assert await created(api, path, document(k, "KN-7", True, "lines")) == "KN-7"
        assert await created(api, path, document(k, "KN-8", False, "lines")) == "KR00110"
        assert await created(api, "/v1/customerCreditNote", document(k, "KN-9", True, "lines")) == "KR00120"
        assert await held(api, "credit-note") == ["KN-7", "KR00110", "KR00120"]
        status, doc, _ = await api.call("GET", "/v1/customerCreditNote/KN-7")
        assert status == 200 and doc["referenceNumber"] == "KN-7" and doc["documentType"] == "CreditNote"


async def test_a_manual_series_needs_a_number(sandbox_with) -> None:
    async with sandbox_with(company=numbered()) as api:
        k = await customer(api)
        for path in ("/v1/customerDebitNote", "/v2/customerDebitNote"):
            status, answer, _ = await post(api, path, document(k, None, None, "lines"))
            refused(status, answer, "'referenceNumber' cannot be empty", "ARDEB", "manual numbering")
        assert await held(api, "debit-note") == []
        assert await created(api, "/v1/customerDebitNote", document(k, "D-1", None, "lines")) == "D-1"
        assert await created(api, "/v2/customerDebitNote", document(k, "D-2", None, "lines")) == "D-2"
        assert await held(api, "debit-note") == ["D-1", "D-2"]


async def test_customers_follow_the_customer_dimension(sandbox_with) -> None:
    async with sandbox_with(company=numbered()) as api:
        body = {"name": w("Acme AS"), "number": w("C1")}
        assert await created(api, "/v1/customer", body) == "50001"
        assert await created(api, "/v1/customer", {**body, "overrideNumberSeries": w(True)}) == "C1"
        assert await created(api, "/v1/customer", {"name": w("Beta AS")}) == "50002"
        assert await held(api, "customer") == ["50001", "50002", "C1"]


async def test_a_v2_create_in_the_background(sandbox_with) -> None:
    async with sandbox_with(company=numbered(), background_delay_ms=10) as api:
        k = await customer(api)
        status, job, _ = await post(api, "/v2/customerinvoice", document(k, "MINE-1"),
                                    headers={"erp-api-background": "none"})
        assert status == 202, job
        for _ in range(100):
            status, state, _ = await api.call("GET", f"/v1/background/{job['id']}")
            if state["status"] != "Started":
                break
            await asyncio.sleep(0.02)
        assert state["status"] == "Finished" and state["statusCode"] == 201, state
        assert state["responseHeaders"]["Location"].endswith("/v1/customerinvoice/AR000042")
        assert await held(api, "invoice") == ["AR000042"]


@pytest.mark.parametrize("company", [None, demo_company(dt.date(2024, 1, 1))], ids=["no-company", "demo"])
async def test_lenient_numbering_keeps_what_is_sent(sandbox_with, company) -> None:
    async with sandbox_with(company=company) as api:
        assert await created(api, "/v1/customer", {"name": w("Acme AS"), "number": w("K1")}) == "K1"
        assert await created(api, "/v1/customerinvoice", document("K1", "F-1")) == "F-1"
        assert await created(api, "/v2/customerinvoice", document("K1", "F-2")) == "F-2"
        assert await created(api, "/v2/customerinvoice", document("K1", "F-3", True)) == "F-3"
        assert await created(api, "/v2/customerinvoice", document("K1")) == "000001"
        assert await held(api, "invoice") == ["000001", "F-1", "F-2", "F-3"]
        status, _, _ = await api.call("GET", "/v2/customerinvoice")
        assert status == 405
