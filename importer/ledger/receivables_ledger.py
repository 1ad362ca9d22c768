"""The ledger's side of the per-customer reconcile: its customer documents, balances and customers.

Read with the customer document and balance endpoints (``/v1/customerdocument``, paged by
page number; ``/v1/customer/balance``, by ``numberToRead``/``skipRecords``), every call
through the client, so the calls are counted. A document is a :class:`Doc`, signed (credit
notes negative).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from importer.client import ApiClient
from importer.errors import ApiError
from importer.ledger.amounts import ZERO

__all__ = ["Doc", "SIGN", "ledger_documents", "ledger_balances", "ledger_customers"]

SIGN = {"invoice": Decimal(1), "debit-note": Decimal(1), "credit-note": Decimal(-1)}
_TYPES = {"Invoice": "invoice", "DebitNote": "debit-note", "CreditNote": "credit-note"}
_MAX_PAGES = 10_000


@dataclass(slots=True)
class Doc:
    """One document on one side, signed (credit notes negative)."""

    entity: str
    key: str
    customer: str
    currency: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    status: str = ""
    records: list[int] = field(default_factory=list)



async def _get(client: ApiClient, what: str, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
    attempt = await client.request("GET", path, params=params)
    response = attempt.response
    if response is None or response.status != 200 or attempt.error is not None or not response.is_json:
        status = response.status if response is not None else None
        raise ApiError(status, f"{what}: {attempt.error or (f'HTTP {status}' if status else 'no answer')}")
    data = response.json()
    if not isinstance(data, list):
        raise ApiError(200, f"{what}: expected a JSON array, got {type(data).__name__}")
    return [item for item in data if isinstance(item, dict)]


async def _paged(client: ApiClient, path: str, params: Mapping[str, str]) -> AsyncGenerator[list[dict[str, Any]], None]:
    """Every page of a ``pageNumber``/``pageSize`` list (metadata says the size and the total), as it comes."""
    size, seen = 10_000, 0
    for number in range(1, _MAX_PAGES + 1):
        items = await _get(client, f"{path} page {number}", path,
                           {**params, "pageNumber": str(number), "pageSize": str(size)})
        meta = items[0].get("metadata") if items else None
        if number == 1 and isinstance(meta, dict) and isinstance(meta.get("maxPageSize"), int):
            size = min(size, meta["maxPageSize"])
        elif number == 1 and items:
            size = min(size, len(items))
        seen += len(items)
        yield items
        total = meta.get("totalCount") if isinstance(meta, dict) else None
        if not items or len(items) < size or (isinstance(total, int) and seen >= total):
            return
    raise ApiError(200, f"{path}: more than {_MAX_PAGES} pages")


async def ledger_documents(client: ApiClient, base: str, problems: list[str]) -> AsyncGenerator[Doc, None]:
    """Every customer document the ledger holds (``/v1/customerdocument``, paged), signed, a page at a time."""
    async for page in _paged(client, "/v1/customerdocument", {}):
        for item in page:
            entity = _TYPES.get(str(item.get("documentType")))
            if entity is None:
                continue
            key = str(item.get("referenceNumber") or "").strip()
            customer = item.get("customer")
            number = str(customer.get("number") or "") if isinstance(customer, Mapping) else ""
            gross, vat = _number(item.get("amount")), _number(item.get("vatTotal"))
            if gross is None:
                problems.append(f"{entity} {key}: the ledger answers no amount: counted as 0")
            sign = SIGN[entity]
            g, v = gross or ZERO, vat or ZERO
            yield Doc(entity, key, number, str(item.get("currencyId") or base), sign * (g - v), sign * v, sign * g,
                      status=str(item.get("status") or ""))


async def ledger_balances(client: ApiClient) -> dict[str, Decimal]:
    """Each customer's balance: ``numberToRead``/``skipRecords`` until a short or stale page."""
    out: dict[str, Decimal] = {}
    size = 1000
    for _ in range(_MAX_PAGES):
        items = await _get(client, "/v1/customer/balance", "/v1/customer/balance",
                           {"numberToRead": str(size), "skipRecords": str(len(out))})
        fresh = 0
        for item in items:
            customer = item.get("customer")
            number = str(customer.get("number") or "") if isinstance(customer, Mapping) else ""
            if number and number not in out:
                out[number] = _number(item.get("balance")) or ZERO
                fresh += 1
        if not fresh or len(items) < size:
            return out
    return out


async def ledger_customers(client: ApiClient) -> dict[str, dict[str, Any]]:
    """Every customer's VAT zone and class, in the request's names (what the VAT needs)."""
    out: dict[str, dict[str, Any]] = {}
    async for page in _paged(client, "/v1/customer", {}):
        for item in page:
            zone, cls = item.get("vatZone"), item.get("customerClass")
            out[str(item.get("number") or "")] = {
                "vatZoneId": zone.get("id") if isinstance(zone, Mapping) else None,
                "customerClassId": cls.get("id") if isinstance(cls, Mapping) else None,
            }
    return out


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))
