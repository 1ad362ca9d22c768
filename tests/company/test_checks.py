"""One set of rules: what importer.company.checks finds is exactly what the sandbox refuses.

Each case is written to a real sandbox of the same company: a write the checks find nothing
in is stored, and one they find a problem in is refused (naming the same field) and leaves
nothing stored. A kind the company's snapshot could not read is not checked by either.
"""

from __future__ import annotations

from typing import Any

import pytest

from importer.company import Company
from importer.company.checks import check_customer, check_document, check_periods
from importer.mapping.flatten import unwrap
from importer.sandbox import SandboxConfig
from tests.support.company_api import company_with, invoice_body, with_customer
from tests.support.sandbox_api import customer_body, running_api, w

COMPANY = company_with(extra={
    "creditTerms": [{"termsId": "LEV", "description": "Leverandør", "visibleTo": "VE", "dueDateType": "N",
                     "dueDay1": 30}],
    "branches": [{"number": "2", "name": "Nedlagt", "isActive": False}],
})
CLOSED = company_with(replace={"financialPeriods": [
    {"period": "202001", "startDate": "2020-01-01T00:00:00", "endDate": "2020-01-31T00:00:00", "active": True,
     "closedInCustomerLedger": True}]})

# (where in the invoice, value, the field path the problem is at; None: no problem)
INVOICE_CASES: list[tuple[str, Any, str | None]] = [
    ("creditTermsId", "30", None),
    ("creditTermsId", "30 dager netto", "creditTermsId"),
    ("creditTermsId", "LEV", "creditTermsId"),
    ("customerVatZoneId", "99", "customerVatZoneId"),
    ("currencyId", "XBT", "currencyId"),
    ("currencyId", "eur", None),  # ids compare without case
    ("paymentMethodId", "GIRO", "paymentMethodId"),
    ("branchNumber", "2", "branchNumber"),
    ("salesperson", "KJH", "salesperson"),
    ("line.vatCodeId", "vatCodX87", "invoiceLines[0].vatCodeId"),
    ("line.vatCodeId", "31", None),
    ("line.inventoryNumber", "UTGATT", "invoiceLines[0].inventoryNumber"),
    ("line.accountNumber", "9999", "invoiceLines[0].accountNumber"),
    ("line.uom", "KG", "invoiceLines[0].uom"),
    ("line.subaccount", [{"segmentId": 1, "segmentValue": "77"}], "invoiceLines[0].subaccount[0].segmentValue"),
]
CUSTOMER_CASES: list[tuple[str, Any, str | None]] = [
    ("customerClassId", "1", None),
    ("customerClassId", "9", "customerClassId"),
    ("creditTermsId", "Kontant", None),  # ids compare without case: KONTANT
    ("creditTermsId", "14 dager netto", "creditTermsId"),  # the description, not the id
    ("vatZoneId", "03", "vatZoneId"),
    ("currencyId", "XBT", "currencyId"),
]


def _invoice(where: str, value: Any) -> dict[str, Any]:
    if where.startswith("line."):
        return invoice_body(line={where[5:]: value if where == "line.subaccount" else w(value)})
    return invoice_body(**{where: w(value)})


def _document_paths(company: Company, body: dict[str, Any]) -> list[str]:
    record = unwrap(body)
    return [p.path for p in check_document(company, record, "invoiceLines") + check_periods(company, record)]


@pytest.mark.parametrize(("where", "value", "path"), INVOICE_CASES, ids=lambda v: str(v)[:20])
async def test_the_checks_and_the_sandbox_agree_on_an_invoice(where: str, value: Any, path: str | None) -> None:
    body = _invoice(where, value)
    found = _document_paths(COMPANY, body)
    assert found == ([path] if path else [])
    async with running_api(SandboxConfig(company=COMPANY)) as api:
        await with_customer(api)
        status, answer, _ = await api.call("POST", "/v1/customerinvoice", json=body)
        stored = await api.records("invoice")
    if path is None:
        assert status == 201, answer
        assert len(stored) == 1
    else:
        assert status == 400 and path in str(answer), answer
        assert stored == []


@pytest.mark.parametrize(("where", "value", "path"), CUSTOMER_CASES, ids=lambda v: str(v)[:20])
async def test_the_checks_and_the_sandbox_agree_on_a_customer(where: str, value: Any, path: str | None) -> None:
    body = customer_body("C1", **{where: w(value)})
    found = [p.path for p in check_customer(COMPANY, unwrap(body), creating=True)]
    assert found == ([path] if path else [])
    async with running_api(SandboxConfig(company=COMPANY)) as api:
        status, answer, _ = await api.call("POST", "/v1/customer", json=body)
        stored = await api.records("customer")
    assert (status, len(stored)) == ((201, 1) if path is None else (400, 0)), answer


async def test_a_closed_period_is_found_from_the_document_date_and_refused_by_the_sandbox() -> None:
    body = invoice_body()  # documentDate 2020-01-27, no period sent
    problems = check_periods(CLOSED, unwrap(body), derive=True)
    assert [(p.path, p.value, p.why) for p in problems] == [
        ("documentDate", "2020-01-27", "is closed in the customer ledger")]
    async with running_api(SandboxConfig(company=CLOSED)) as api:
        await with_customer(api)
        status, answer, _ = await api.call("POST", "/v1/customerinvoice", json=body)
        assert status == 400 and "closed in the customer ledger" in str(answer)
        assert await api.records("invoice") == []


def test_a_kind_the_snapshot_could_not_read_is_not_checked() -> None:
    base = company_with()
    blind = Company.of("Blind AS", {k: list(v) for k, v in base.records.items()}, unavailable={"creditTerms": 403})
    record = unwrap(invoice_body(creditTermsId=w("anything")))
    assert [p.path for p in check_document(base, record, "invoiceLines")] == ["creditTermsId"]
    assert check_document(blind, record, "invoiceLines") == []
