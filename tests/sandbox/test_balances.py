"""The customer balance and document endpoints (reference-data.md §10, §11) answer from what
the ledger holds: gross amounts with the company's VAT, released documents counted in the
balance (credit notes taken off), each endpoint with its own paging style and the fields the
reference names. The OpenAPI document has none of these schemas, so each answer is held to
the reference's field lists (``reference-data.json``) instead, and its invoices list to
``CustomerInvoiceDto`` with the response-schema checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from tests.support.sandbox_api import Api, w
from tests.support.schemas import FORMATS, OPENAPI, openapi_document

_REF = Path("shared/visma-reference/reference-data.json")
REFERENCE = next((p / _REF for p in Path(__file__).resolve().parents if (p / _REF).is_file()), None)
pytestmark = pytest.mark.skipif(REFERENCE is None or OPENAPI is None, reason="../shared is not present")

PATHS = {"invoice": "customerinvoice", "credit-note": "customerCreditNote", "debit-note": "customerDebitNote"}


def reference_fields(endpoint: str) -> set[str]:
    """The top-level response fields the reference lists for ``endpoint`` ("GET /v1/...")."""
    assert REFERENCE is not None
    table = orjson.loads(REFERENCE.read_bytes())[endpoint]["response_fields"]
    return {name.split(".")[0].split("[")[0] for name in table}


def line(price: float, category: str) -> dict[str, Any]:
    return {"quantity": w(1), "unitPriceInCurrency": w(price), "vatCodeId": w(category)}


async def post_document(api: Api, entity: str, key: str, customer: str, lines: list[dict[str, Any]],
                        *, release: bool = True) -> None:
    field = "invoiceLines" if entity == "invoice" else "lines"
    body = {"referenceNumber": w(key), "customerNumber": w(customer), "documentDate": w("2024-05-10"),
            field: lines}
    status, answer, _ = await api.call("POST", f"/v2/{PATHS[entity]}", json=body)
    assert status == 201, answer
    if release:
        status, answer, _ = await api.call("POST", f"/v1/{PATHS[entity]}/{key}/action/release")
        assert status == 200, answer


async def ledger_of_two_customers(api: Api) -> None:
    """C1: invoice 1 480.00 gross (1 200 net, 25 % and 15 %), credit note 125.00, an unreleased
    debit note 40.00 (0 %); C2: invoice 625.00."""
    for number in ("C1", "C2"):
        assert await api.post_customer(number, customerClassId=w("1")) == 201
    await post_document(api, "invoice", "I1", "C1", [line(1000, "3"), line(200, "31")])
    await post_document(api, "credit-note", "K1", "C1", [line(100, "3")])
    await post_document(api, "debit-note", "D1", "C1", [line(40, "5")], release=False)
    await post_document(api, "invoice", "I2", "C2", [line(500, "3")])


async def get(api: Api, path: str, status: int = 200) -> Any:
    got, body, _ = await api.call("GET", path)
    assert got == status, (path, got, body)
    return body


async def test_a_customers_balance_counts_its_released_documents_gross(api: Api) -> None:
    await ledger_of_two_customers(api)
    one = await get(api, "/v1/customer/C1/balance")
    assert set(one) <= reference_fields("GET /v1/customer/{customerCd}/balance")
    assert one["customer"]["number"] == "C1" and one["customer"]["name"] == "Acme AS"
    assert one["balance"] == 1355.0  # 1 480 − 125; the debit note is not released
    assert one["totalSaleYear"] == 0.0  # dated 2024: not this year's sales
    await get(api, "/v1/customer/NOSUCH/balance", 404)

    everyone = await get(api, "/v1/customer/balance")
    assert [(b["customer"]["number"], b["balance"]) for b in everyone] == [("C1", 1355.0), ("C2", 625.0)]
    skipped = await get(api, "/v1/customer/balance?numberToRead=1&skipRecords=1")
    assert [b["customer"]["number"] for b in skipped] == ["C2"]

    await get(api, "/v2/customer/balance?toFinPeriod=202412", 400)  # fromFinPeriod is required
    v2 = await get(api, "/v2/customer/balance?fromFinPeriod=202405&toFinPeriod=202412&customer=C1")
    assert set(v2[0]) <= reference_fields("GET /v2/customer/balance")
    assert (v2[0]["beginBalance"], v2[0]["sales"], v2[0]["adjustmentsAndDiscounts"], v2[0]["yearToDateBalance"]) \
        == (0.0, 1480.0, -125.0, 1355.0)
    later = await get(api, "/v2/customer/balance?fromFinPeriod=202406&toFinPeriod=202412&customer=C1")
    assert (later[0]["beginBalance"], later[0]["sales"], later[0]["yearToDateBalance"]) == (1355.0, 0.0, 1355.0)


async def test_documents_list_with_the_company_vat_status_and_paging(api: Api) -> None:
    await ledger_of_two_customers(api)
    listed = await get(api, "/v1/customerdocument")
    fields = reference_fields("GET /v1/customerdocument") | {"metadata"}
    assert all(set(d) <= fields for d in listed)
    figures = {d["referenceNumber"]: (d["documentType"], d["status"], d["amount"], d["vatTotal"], d["balance"])
               for d in listed}
    assert figures == {
        "I1": ("Invoice", "Open", 1480.0, 280.0, 1480.0),
        "K1": ("CreditNote", "Open", 125.0, 25.0, 125.0),
        "D1": ("DebitNote", "Balanced", 40.0, 0.0, 40.0),
        "I2": ("Invoice", "Open", 625.0, 125.0, 625.0),
    }
    assert listed[0]["customer"] == {"number": "C1", "name": "Acme AS"}
    assert listed[0]["metadata"]["totalCount"] == 4
    pages = [await get(api, f"/v1/customerdocument?pageSize=3&pageNumber={n}") for n in (1, 2)]
    assert [len(p) for p in pages] == [3, 1]
    assert {d["referenceNumber"] for p in pages for d in p} == set(figures)
    assert [d["referenceNumber"] for d in await get(api, "/v1/customerdocument?released=0")] == ["D1"]
    assert [d["referenceNumber"] for d in await get(api, "/v1/customerdocument?documentType=CreditNote")] == ["K1"]
    await get(api, "/v1/customerdocument?status=Paid", 400)

    own = await get(api, "/v1/customer/C1/document?status=Open")
    assert sorted(d["referenceNumber"] for d in own) == ["I1", "K1"]
    await get(api, "/v1/customer/NOSUCH/document", 404)


async def test_a_customers_invoices_answer_the_invoice_dto(api: Api) -> None:
    await ledger_of_two_customers(api)
    invoices = await get(api, "/v1/customer/C1/invoice")
    assert [(i["referenceNumber"], i["amount"], i["vatTotal"]) for i in invoices] == [("I1", 1480.0, 280.0)]
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/CustomerInvoiceDto"},
              "components": openapi_document()["components"]}
    errors = [e.message for e in Draft202012Validator(schema, format_checker=FORMATS).iter_errors(invoices)]
    assert errors == []
