"""Invoices, credit notes, debit notes: customer checks, lines, release; dunning letters."""

from __future__ import annotations

import pytest

from tests.support.sandbox_api import Api, w

DOCUMENTS = [
    ("/v1/customerinvoice", "invoiceLines", "invoice"),
    ("/v1/customerCreditNote", "lines", "credit-note"),
    ("/v1/customerDebitNote", "lines", "debit-note"),
]

GUIDE_CREDIT_NOTE = {
    "currencyId": {"value": "NOK"},
    "externalReference": {"value": "ExRef"},
    "lines": [{"operation": "Insert", "inventoryNumber": {"value": "6"}, "quantity": {"value": 1},
               "unitPriceInCurrency": {"value": 1}}],
    "customerNumber": {"value": "10000"},
    "referenceNumber": {"value": "25698"},
    "documentDate": {"value": "2019-12-21"},
    "postPeriod": {"value": "122019"},
    "financialPeriod": {"value": "201912"},
}


def ledger_entity(path: str) -> str:
    return next(entity for p, _, entity in DOCUMENTS if p == path)


def line(**fields: object) -> dict[str, object]:
    return {k: (v if k == "operation" else w(v)) for k, v in fields.items()}


@pytest.fixture
async def ledger(api: Api) -> Api:
    assert await api.post_customer("10000") == 201
    return api


@pytest.mark.parametrize(("path", "lines", "entity"), DOCUMENTS)
async def test_post_put_get_each_document(ledger: Api, path: str, lines: str, entity: str) -> None:
    body = {
        "customerNumber": w("10000"), "referenceNumber": w("D1"), "documentDate": w("2024-01-31"),
        lines: [line(description="a", quantity=1), line(operation="Insert", description="b", quantity=2)],
    }
    status, _, headers = await ledger.call("POST", path, json=body)
    assert status == 201 and headers["Location"] == f"{ledger.url}{path}/D1"
    status, doc, _ = await ledger.call("GET", f"{path}/D1")
    assert status == 200
    assert doc["referenceNumber"] == "D1" and doc["customer"] == {"number": "10000", "name": "Acme AS"}
    assert "customerNumber" not in doc
    assert [(x["lineNumber"], x["description"]) for x in doc[lines]] == [(1, "a"), (2, "b")]
    assert "operation" not in doc[lines][0]
    assert doc["status"] == "Balanced" and "released" not in doc
    (stored,) = await ledger.records(entity)
    assert stored["released"] is False and stored["customerNumber"] == "10000"
    assert (await ledger.call("PUT", f"{path}/D1", json={"invoiceText": w("changed")}))[0] == 204
    _, doc, _ = await ledger.call("GET", f"{path}/D1")
    assert doc["invoiceText"] == "changed" and len(doc[lines]) == 2
    assert len(await ledger.records(entity)) == 1


async def test_guide_credit_note_and_line_update(ledger: Api) -> None:
    assert (await ledger.call("POST", "/v1/CustomerCreditNote", json=GUIDE_CREDIT_NOTE))[0] == 201
    update = {"lines": [{"operation": "Update", "lineNumber": w(1), "inventoryNumber": w("6"),
                         "quantity": w(3), "unitPriceInCurrency": w(1)}]}
    assert (await ledger.call("PUT", "/v1/CustomerCreditNote/25698", json=update))[0] == 204
    _, doc, _ = await ledger.call("GET", "/v1/customerCreditNote/25698")
    assert doc["lines"] == [{
        "inventoryNumber": "6", "quantity": 3, "unitPriceInCurrency": 1, "lineNumber": 1,
        "unitPrice": 1, "amount": 3, "amountInCurrency": 3,
    }]
    assert doc["currencyId"] == "NOK" and doc["externalReference"] == "ExRef"
    assert doc["postPeriod"] == "201912" and doc["financialPeriod"] == "201912"  # both YYYYMM on reads


async def test_line_insert_update_delete(ledger: Api) -> None:
    body = {"customerNumber": w("10000"), "referenceNumber": w("I1"),
            "invoiceLines": [line(description=d, quantity=1) for d in "abc"]}
    await ledger.call("POST", "/v1/customerinvoice", json=body)
    ops = {"invoiceLines": [
        line(operation="Delete", lineNumber=2),
        line(operation="Update", lineNumber=3, quantity=9),
        line(operation="Insert", lineNumber=1, description="d", quantity=4),  # number ignored
    ]}
    assert (await ledger.call("PUT", "/v1/customerinvoice/I1", json=ops))[0] == 204
    _, doc, _ = await ledger.call("GET", "/v1/customerinvoice/I1")
    assert [(x["lineNumber"], x["description"], x["quantity"]) for x in doc["invoiceLines"]] == [
        (1, "a", 1), (3, "c", 9), (4, "d", 4),
    ]


async def test_line_update_of_missing_line_is_refused_whole(ledger: Api) -> None:
    body = {"customerNumber": w("10000"), "referenceNumber": w("I1"), "invoiceLines": [line(description="a")]}
    await ledger.call("POST", "/v1/customerinvoice", json=body)
    ops = {"invoiceText": w("x"), "invoiceLines": [line(operation="Update", lineNumber=7, quantity=1)]}
    status, err, _ = await ledger.call("PUT", "/v1/customerinvoice/I1", json=ops)
    assert status == 400 and "invoiceLines[0].lineNumber" in err["ExceptionMessage"]
    status, err, _ = await ledger.call(
        "PUT", "/v1/customerinvoice/I1", json={"invoiceLines": [{"operation": "Delete"}]}
    )
    assert status == 400 and "invoiceLines[0].lineNumber" in err["ExceptionMessage"]
    _, doc, _ = await ledger.call("GET", "/v1/customerinvoice/I1")
    assert "invoiceText" not in doc and len(doc["invoiceLines"]) == 1


async def test_unknown_customer_is_refused(ledger: Api) -> None:
    body = {"customerNumber": w("99999"), "referenceNumber": w("I1")}
    status, err, _ = await ledger.call("POST", "/v1/customerinvoice", json=body)
    assert status == 400 and "99999" in err["ExceptionMessage"]
    assert (await ledger.stats())["records"]["invoice"] == 0


async def test_missing_customer_number_is_refused(ledger: Api) -> None:
    status, err, _ = await ledger.call("POST", "/v1/customerDebitNote", json={"referenceNumber": w("X")})
    assert status == 400 and "customerNumber" in err["ExceptionMessage"]


async def test_put_to_unknown_customer_is_refused(ledger: Api) -> None:
    await ledger.call("POST", "/v1/customerinvoice", json={"customerNumber": w("10000"), "referenceNumber": w("I1")})
    status, _, _ = await ledger.call("PUT", "/v1/customerinvoice/I1", json={"customerNumber": w("nobody")})
    assert status == 400


async def test_duplicate_reference_number_is_refused(ledger: Api) -> None:
    body = {"customerNumber": w("10000"), "referenceNumber": w("I1")}
    assert (await ledger.call("POST", "/v1/customerinvoice", json=body))[0] == 201
    assert (await ledger.call("POST", "/v1/customerinvoice", json=body))[0] == 400
    # The same number is free in another document type.
    assert (await ledger.call("POST", "/v1/customerDebitNote", json=body))[0] == 201
    assert (await ledger.stats())["duplicates_refused"] == 1


async def test_put_unknown_document_is_404(ledger: Api) -> None:
    assert (await ledger.call("PUT", "/v1/customerinvoice/none", json={"note": w("x")}))[0] == 404


async def test_periods_must_be_well_formed(ledger: Api) -> None:
    body = {"customerNumber": w("10000"), "financialPeriod": w("122019")}
    status, err, _ = await ledger.call("POST", "/v1/customerinvoice", json=body)
    assert status == 400 and "financialPeriod" in err["ExceptionMessage"]
    body = {"customerNumber": w("10000"), "postPeriod": w("201912")}
    status, err, _ = await ledger.call("POST", "/v1/customerinvoice", json=body)
    assert status == 400 and "postPeriod" in err["ExceptionMessage"]


@pytest.mark.parametrize("path", [p for p, _, _ in DOCUMENTS])
async def test_release(ledger: Api, path: str) -> None:
    await ledger.call("POST", path, json={"customerNumber": w("10000"), "referenceNumber": w("R1")})
    status, body, _ = await ledger.call("POST", f"{path}/R1/action/release")
    assert status == 200 and body["actionResult"] == "Done" and len(body["actionId"]) == 36
    _, doc, _ = await ledger.call("GET", f"{path}/R1")
    assert doc["status"] == "Open"
    assert next(r for r in await ledger.records(ledger_entity(path)) if r["referenceNumber"] == "R1")["released"]
    status, err, _ = await ledger.call("POST", f"{path}/R1/action/release")
    assert status == 400 and "already released" in err["ExceptionMessage"]
    assert (await ledger.call("POST", f"{path}/nope/action/release"))[0] == 404
    # A released document no longer takes changes.
    assert (await ledger.call("PUT", f"{path}/R1", json={"note": w("late")}))[0] == 400


async def test_hold_documents_cannot_be_released(ledger: Api) -> None:
    body = {"customerNumber": w("10000"), "referenceNumber": w("H1"), "hold": w(True)}
    await ledger.call("POST", "/v1/customerinvoice", json=body)
    assert (await ledger.call("GET", "/v1/customerinvoice/H1"))[1]["status"] == "Hold"
    assert (await ledger.call("POST", "/v1/customerinvoice/H1/action/release"))[0] == 400
    await ledger.call("PUT", "/v1/customerinvoice/H1", json={"hold": w(False)})
    assert (await ledger.call("GET", "/v1/customerinvoice/H1"))[1]["status"] == "Balanced"
    assert (await ledger.call("POST", "/v1/customerinvoice/H1/action/release"))[0] == 200


async def test_dunning_letter(ledger: Api) -> None:
    body = {"dunningLetterDate": "2020-01-21T09:39:48.538Z", "levelFrom": 1, "levelTo": 2}
    status, result, _ = await ledger.call("POST", "/v1/customer/10000/action/createDunningLetter", json=body)
    assert status == 200 and result["actionResult"] == "Done"
    letters = await ledger.records("dunning-letter")
    assert letters == [{
        "actionId": result["actionId"], "customerNumber": "10000", "dunningLetterDate": "2020-01-21T09:39:48.538Z",
        "levelFrom": 1, "levelTo": 2, "actionResult": "Done",
        "createdDateTime": letters[0]["createdDateTime"], "lastModifiedDateTime": letters[0]["lastModifiedDateTime"],
    }]
    assert (await ledger.stats())["records"]["dunning-letter"] == 1


async def test_dunning_letter_errors(ledger: Api) -> None:
    status, err, _ = await ledger.call("POST", "/v1/customer/nobody/action/createDunningLetter", json={})
    assert status == 404 and "nobody" in err["message"]
    path = "/v1/customer/10000/action/CREATEDUNNINGLETTER"
    status, err, _ = await ledger.call("POST", path, json={"levelFrom": {"value": 1}})
    assert status == 400 and "levelFrom" in err["ExceptionMessage"]
    status, err, _ = await ledger.call("POST", path, json={"levelFrom": 3, "levelTo": 1})
    assert status == 400
    status, err, _ = await ledger.call("POST", path, json={"dunningLetterDate": "yesterday"})
    assert status == 400 and "dunningLetterDate" in err["ExceptionMessage"]
