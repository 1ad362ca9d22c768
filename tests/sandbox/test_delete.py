"""DELETE of invoices and credit notes: only unreleased ones, as the API deletes them; 404 and
the error shapes otherwise; a deleted document is gone from reads, lists and the state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.sandbox_api import Api, w

pytestmark = pytest.mark.one_profile

DELETABLE = [("/v1/customerinvoice", "invoiceLines", "invoice"), ("/v1/customerCreditNote", "lines", "credit-note")]


def _document(number: str, lines: str) -> dict[str, Any]:
    return {"customerNumber": w("10000"), "referenceNumber": w(number), "documentDate": w("2024-01-31"),
            lines: [{"description": w("a"), "quantity": w(1), "unitPriceInCurrency": w(10)}]}


@pytest.mark.parametrize(("path", "lines", "entity"), DELETABLE)
async def test_an_unreleased_document_is_deleted_and_a_released_one_is_refused(
        api: Api, path: str, lines: str, entity: str) -> None:
    assert await api.post_customer("10000") == 201
    for number in ("D1", "D2", "D3"):
        assert (await api.call("POST", path, json=_document(number, lines)))[0] == 201
    assert (await api.call("POST", f"{path}/D2/action/release"))[0] == 200

    assert (await api.call("DELETE", f"{path}/D1"))[0] == 204
    status, error, _ = await api.call("DELETE", f"{path}/D2")
    assert status == 400 and error["ExceptionType"] == "IPPException"
    assert "released and cannot be deleted" in error["ExceptionMessage"]
    status, error, _ = await api.call("DELETE", f"{path}/D1")  # a second delete: not found
    assert status == 404 and "'D1' was not found" in error["message"]

    assert (await api.call("GET", f"{path}/D1"))[0] == 404
    _, listed, _ = await api.call("GET", path)
    assert [doc["referenceNumber"] for doc in listed] == ["D2", "D3"]
    stored = {doc["referenceNumber"]: doc for doc in await api.records(entity)}
    assert sorted(stored) == ["D2", "D3"] and stored["D2"]["released"] is True


@pytest.mark.parametrize("path", ["/v1/customer/10000", "/v1/customerDebitNote/D1"])
async def test_what_the_api_deletes_not_answers_405(api: Api, path: str) -> None:
    assert await api.post_customer("10000") == 201
    body = {"customerNumber": w("10000"), "referenceNumber": w("D1"), "lines": []}
    assert (await api.call("POST", "/v1/customerDebitNote", json=body))[0] == 201
    status, error, _ = await api.call("DELETE", path)
    assert status == 405 and "DELETE" in error["message"]
    assert len(await api.records("customer")) == 1 and len(await api.records("debit-note")) == 1


async def test_a_delete_stays_deleted_after_a_restart(sandbox_with: Any, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    async with sandbox_with(state_path=state) as api:
        assert await api.post_customer("10000") == 201
        for number in ("D1", "D2"):
            assert (await api.call("POST", "/v1/customerinvoice", json=_document(number, "invoiceLines")))[0] == 201
        assert (await api.call("DELETE", "/v1/customerinvoice/D1"))[0] == 204
    async with sandbox_with(state_path=state) as api:
        assert [doc["referenceNumber"] for doc in await api.records("invoice")] == ["D2"]
        assert (await api.call("GET", "/v1/customerinvoice/D1"))[0] == 404
        # The number is free again once the document is gone.
        assert (await api.call("POST", "/v1/customerinvoice", json=_document("D1", "invoiceLines")))[0] == 201
