"""Every reference in a write is checked against the company, and refused as the live API refuses it.

Each test asks the sandbox what it stored (/sandbox/records): a refused write leaves nothing.
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

# A company with one unusable record of each kind besides the demo company's usable ones.
UNUSABLE = company_with(extra={
    "creditTerms": [
        {"termsId": "LEV", "description": "Leverandør", "visibleTo": "VE", "dueDateType": "N", "dueDay1": 30},
        {"termsId": "AV", "description": "Avviklet", "visibleTo": "DS", "dueDateType": "N", "dueDay1": 30},
    ],
    "vatCategories": [{"vatCategoryId": "99", "description": "Gammel", "active": False, "vatCategoryLines": []}],
    "items": [{"inventoryNumber": "SLUTT", "status": "NoSales", "baseUnit": "STK", "salesUnit": "STK"},
              {"inventoryNumber": "INNKJØP", "status": "NoPurchases", "baseUnit": "STK", "salesUnit": "STK",
               "inventoryUnits": [{"fromUnit": "PAKKE", "toUnit": "STK"}]}],
    "accounts": [{"accountCD": "3999", "description": "Stengt", "active": False}],
    "subaccounts": [{"subaccountNumber": "9", "active": False, "segments": [{"segmentId": 1, "segmentValue": "9"}]}],
    "branches": [{"number": "2", "name": "Nedlagt", "isActive": False}],
    "salespersons": [{"salespersonID": "7", "name": "Sluttet", "isActive": False}],
    "paymentMethods": [{"paymentMethodID": "SJEKK", "description": "Sjekk", "active": False}],
})

# (where in the invoice, value, the sentence the refusal must carry, the field path it must name)
UNKNOWN_ON_INVOICE = [
    ("creditTermsId", "30 dager netto", "TermsID '30 dager netto' cannot be found in the system", "creditTermsId"),
    ("customerVatZoneId", "99", "TaxZoneID '99' cannot be found in the system", "customerVatZoneId"),
    ("currencyId", "XBT", "CuryID 'XBT' cannot be found in the system", "currencyId"),
    ("paymentMethodId", "GIRO", "PaymentMethodID 'GIRO' cannot be found in the system", "paymentMethodId"),
    ("branchNumber", "77", "BranchID '77' cannot be found in the system", "branchNumber"),
    ("salesperson", "KJH", "SalesPersonID 'KJH' cannot be found in the system", "salesperson"),
    ("line.vatCodeId", "vatCodX87", "TaxCategoryID 'vatCodX87' cannot be found in the system",
     "invoiceLines[0].vatCodeId"),
    ("line.inventoryNumber", "inventX84", "InventoryID 'inventX84' cannot be found in the system",
     "invoiceLines[0].inventoryNumber"),
    ("line.accountNumber", "9999", "AccountID '9999' cannot be found in the system", "invoiceLines[0].accountNumber"),
    ("line.uom", "KG", "UOM 'KG' is not defined for item '222'", "invoiceLines[0].uom"),
    ("line.subaccount", [{"segmentId": 1, "segmentValue": "77"}],
     "SubID segment value '77' cannot be found in the system", "invoiceLines[0].subaccount[0].segmentValue"),
]
UNUSABLE_ON_INVOICE = [
    ("creditTermsId", "LEV", "TermsID 'LEV' is not available for customers (visibleTo VE)"),
    ("creditTermsId", "AV", "TermsID 'AV' is not available for customers (visibleTo DS)"),
    ("paymentMethodId", "SJEKK", "PaymentMethodID 'SJEKK' is inactive"),
    ("branchNumber", "2", "BranchID '2' is inactive"),
    ("salesperson", "7", "SalesPersonID '7' is inactive"),
    ("line.vatCodeId", "99", "TaxCategoryID '99' is inactive"),
    ("line.inventoryNumber", "UTGATT", "InventoryID 'UTGATT' has status Inactive and cannot be sold"),
    ("line.inventoryNumber", "SLUTT", "InventoryID 'SLUTT' has status NoSales and cannot be sold"),
    ("line.accountNumber", "3999", "AccountID '3999' is inactive"),
    ("line.subaccount", [{"segmentId": 1, "segmentValue": "9"}], "SubID segment value '9' is inactive"),
]


def _invoice_with(where: str, value: Any) -> dict[str, Any]:
    if where.startswith("line."):
        return invoice_body(line={where[5:]: value if where == "line.subaccount" else w(value)})
    return invoice_body(**{where: w(value)})


@pytest.mark.parametrize(("where", "value", "sentence", "path"), UNKNOWN_ON_INVOICE, ids=lambda v: str(v)[:20])
async def test_an_unknown_reference_refuses_the_invoice(
    sandbox_with: SandboxWith, where: str, value: Any, sentence: str, path: str,
) -> None:
    async with sandbox_with(company=UNUSABLE) as api:
        await with_customer(api)
        status, body, _ = await api.call("POST", "/v1/customerinvoice", json=_invoice_with(where, value))
        message = document_message(status, body)
        assert ". Error creating document. Error: " + sentence in message
        assert f"({path}" in message  # the field it came from
        assert await api.records("invoice") == []


@pytest.mark.parametrize(("where", "value", "sentence"), UNUSABLE_ON_INVOICE, ids=lambda v: str(v)[:20])
async def test_an_unusable_reference_refuses_the_invoice(
    sandbox_with: SandboxWith, where: str, value: Any, sentence: str,
) -> None:
    async with sandbox_with(company=UNUSABLE) as api:
        await with_customer(api)
        status, body, _ = await api.call("POST", "/v1/customerinvoice", json=_invoice_with(where, value))
        assert sentence in document_message(status, body)
        assert await api.records("invoice") == []


async def test_usable_references_are_accepted_as_the_api_compares_keys(sandbox_with: SandboxWith) -> None:
    """Trimmed and without case; NoPurchases items sell; a converted unit of the item is known."""
    async with sandbox_with(company=UNUSABLE) as api:
        await with_customer(api)
        body = invoice_body(
            currencyId=w("nok"), creditTermsId=w(" 30 "), customerVatZoneId=w("01"), paymentMethodId=w("bank"),
            branchNumber=w("1"), salesperson=w("1"),
            line={"inventoryNumber": w("innkjøp"), "uom": w("pakke"), "vatCodeId": w("3"),
                  "accountNumber": w("3000"), "subaccount": [{"segmentId": 1, "segmentValue": "0"}]},
        )
        status, err, _ = await api.call("POST", "/v1/customerinvoice", json=body)
        assert status == 201, err
        (stored,) = await api.records("invoice")
        assert stored["referenceNumber"] == "I1" and stored["invoiceLines"][0]["inventoryNumber"] == "innkjøp"


async def test_the_refusal_names_the_companys_closest_ids(api: Api) -> None:
    await with_customer(api)
    status, body, _ = await api.call("POST", "/v1/customerinvoice", json=_invoice_with("line.vatCodeId", "31x"))
    message = document_message(status, body)
    assert "(invoiceLines[0].vatCodeId; the company has 31, " in message


@pytest.mark.parametrize(("entity", "path", "line_field"), [
    ("credit-note", "/v1/customerCreditNote", "lines"), ("debit-note", "/v1/customerDebitNote", "lines"),
])
async def test_credit_and_debit_notes_are_checked_too(api: Api, entity: str, path: str, line_field: str) -> None:
    await with_customer(api)
    body = {"referenceNumber": w("N1"), "customerNumber": w("10000"), "documentDate": w("2020-01-27"),
            "lines": [{"operation": "Insert", "inventoryNumber": w("6"), "quantity": w(1),
                       "unitPriceInCurrency": w(10), "vatCodeId": w("vatCodX87")}]}
    status, answer, _ = await api.call("POST", path, json=body)
    assert "TaxCategoryID 'vatCodX87' cannot be found in the system (lines[0].vatCodeId" in document_message(
        status, answer)
    assert await api.records(entity) == []
    body["lines"][0]["vatCodeId"] = w("3")
    status, err, _ = await api.call("POST", path, json=body)
    assert status == 201, err
    assert [r["referenceNumber"] for r in await api.records(entity)] == ["N1"]


async def test_an_update_is_refused_and_leaves_the_document_as_it_was(api: Api) -> None:
    await with_customer(api)
    assert (await api.call("POST", "/v1/customerinvoice", json=invoice_body()))[0] == 201
    (before,) = await api.records("invoice")
    change = {"invoiceText": w("changed"),
              "invoiceLines": [{"operation": "Update", "lineNumber": w(1), "uom": w("TIME")}]}
    status, body, _ = await api.call("PUT", "/v1/customerinvoice/I1", json=change)
    message = document_message(status, body)
    assert ". Error updating document. Error: UOM 'TIME' is not defined for item '222'" in message
    assert "(invoiceLines[0].uom; the item's units are STK)" in message
    assert await api.records("invoice") == [before]


# (customer field, value, the sentence of the refusal)
UNKNOWN_ON_CUSTOMER = [
    ({"customerClassId": w("9")}, "CustomerClassID '9' cannot be found in the system (customerClassId"),
    ({"creditTermsId": w("30 dager")}, "TermsID '30 dager' cannot be found in the system (creditTermsId"),
    ({"vatZoneId": w("NO")}, "TaxZoneID 'NO' cannot be found in the system (vatZoneId"),
    ({"currencyId": w("NKR")}, "CuryID 'NKR' cannot be found in the system (currencyId"),
    ({"defaultPaymentMethod": w({"paymentMethodId": w("GIRO")})},
     "PaymentMethodID 'GIRO' cannot be found in the system (defaultPaymentMethod.paymentMethodId"),
    ({"glAccounts": w({"salesAccount": w("3001")})},
     "AccountID '3001' cannot be found in the system (glAccounts.salesAccount"),
    ({"glAccounts": w({"salesSubaccount": [{"segmentId": 1, "segmentValue": "X"}]})},
     "SubID segment value 'X' cannot be found in the system (glAccounts.salesSubaccount[0].segmentValue)"),
]


@pytest.mark.parametrize(("fields", "sentence"), UNKNOWN_ON_CUSTOMER, ids=lambda v: str(v)[:24])
async def test_an_unknown_reference_refuses_the_customer(api: Api, fields: dict[str, Any], sentence: str) -> None:
    status, body, _ = await api.call("POST", "/v1/customer", json={"number": w("10000"), "name": w("A"), **fields})
    assert status == 400, body
    assert body["ExceptionType"] == "IPPException" and body["ExceptionFaultCode"] == "12002"
    assert body["ExceptionMessage"].startswith("Error: " + sentence)
    assert await api.records("customer") == []


async def test_a_customer_update_is_checked_and_a_refused_one_changes_nothing(api: Api) -> None:
    await with_customer(api, creditTermsId=w("14"))
    (before,) = await api.records("customer")
    status, body, _ = await api.call("PUT", "/v1/customer/10000", json={"name": w("B"), "creditTermsId": w("45")})
    assert status == 400 and "TermsID '45' cannot be found" in body["ExceptionMessage"]
    assert await api.records("customer") == [before]
    assert (await api.call("PUT", "/v1/customer/10000", json={"creditTermsId": w("30")}))[0] == 204
    assert (await api.records("customer"))[0]["creditTermsId"] == "30"


async def test_a_class_that_requires_a_vat_zone_refuses_a_customer_without_one(sandbox_with: SandboxWith) -> None:
    strict = company_with(extra={"customerClasses": [
        {"id": "3", "description": "Krever sone", "taxZoneId": None, "requiredTaxzoneId": True},
    ]})
    async with sandbox_with(company=strict) as api:
        status, body, _ = await api.call(
            "POST", "/v1/customer", json={"number": w("1"), "name": w("A"), "customerClassId": w("3")})
        assert status == 400 and "customer class '3' requires one (vatZoneId)" in body["ExceptionMessage"]
        assert await api.records("customer") == []
        status, err, _ = await api.call("POST", "/v1/customer", json={
            "number": w("1"), "name": w("A"), "customerClassId": w("3"), "vatZoneId": w("02")})
        assert status == 201, err
        assert [c["vatZoneId"] for c in await api.records("customer")] == ["02"]


async def test_without_a_company_anything_goes() -> None:
    """``company=None``: the API's shapes only, no reference is looked up."""
    async with running_api(SandboxConfig(company=None)) as api:
        await with_customer(api, customerClassId=w("XYZ"), creditTermsId=w("30 dager netto"))
        body = invoice_body(creditTermsId=w("30 dager netto"), currencyId=w("XBT"),
                            line={"vatCodeId": w("vatCodX87"), "inventoryNumber": w("inventX84"), "uom": w("KG")})
        status, err, _ = await api.call("POST", "/v1/customerinvoice", json=body)
        assert status == 201, err
        (stored,) = await api.records("invoice")
        assert stored["invoiceLines"][0]["vatCodeId"] == "vatCodX87"
        assert stored["financialPeriod"] == "202001"  # the period still follows the date
        assert "documentDueDate" not in stored  # no company, no credit terms to count from


async def test_the_live_profile_keeps_the_reason_in_every_shape(sandbox_with: SandboxWith) -> None:
    async with sandbox_with(profile="live", seed=7) as api:
        await with_customer(api)
        for n in range(6):
            body = invoice_body(f"I{n}", line={"vatCodeId": w(f"bad{n}")})
            status, answer, _ = await api.call("POST", "/v1/customerinvoice", json=body)
            assert status in (400, 500)
            text = str(answer)
            assert f"TaxCategoryID 'bad{n}' cannot be found in the system" in text
            assert text.count("VismaId") <= 1
        assert await api.records("invoice") == []
