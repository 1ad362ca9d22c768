"""Helpers of the company tests: companies built on the demo company, and minimal writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from importer.company import Company
from importer.company.demo import demo_company
from tests.support.sandbox_api import Api, w


def company_with(
    extra: Mapping[str, list[dict[str, Any]]] | None = None,
    replace: Mapping[str, list[dict[str, Any]]] | None = None,
) -> Company:
    """The demo company with ``extra`` records added to some kinds and ``replace`` swapping others."""
    base = demo_company()
    records = {name: list(rows) for name, rows in base.records.items()}
    for name, rows in (extra or {}).items():
        records[name] += rows
    records.update(replace or {})
    return Company.of("Test AS", records, customer_dimension=base.customer_dimension)


def invoice_body(number: str = "I1", line: Mapping[str, Any] | None = None, **header: Any) -> dict[str, Any]:
    """A valid invoice for customer 10000 in January 2020 with one line; ``line``/``header`` add fields."""
    body: dict[str, Any] = {
        "referenceNumber": w(number), "customerNumber": w("10000"), "documentDate": w("2020-01-27"),
        "invoiceLines": [{"operation": "Insert", "inventoryNumber": w("222"), "quantity": w(2),
                          "unitPriceInCurrency": w(100), "uom": w("STK"), **(line or {})}],
    }
    body.update(header)
    return body


async def with_customer(api: Api, **extra: Any) -> Api:
    """``api`` after creating customer 10000 (class 1) with ``extra`` fields."""
    status, err, _ = await api.call(
        "POST", "/v1/customer", json={"number": w("10000"), "name": w("Acme AS"), "customerClassId": w("1"), **extra},
    )
    assert status == 201, err
    return api


def document_message(status: int, body: Any) -> str:
    """The text of a document refusal, which must be in the live API's VismaId shape."""
    assert status == 400, body
    assert isinstance(body, dict) and set(body) == {"message"}, body
    message = str(body["message"])
    assert message.startswith("VismaId: "), message
    return message
