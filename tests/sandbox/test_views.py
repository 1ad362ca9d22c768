"""Reads answer the response DTOs: every entity's GET and list checked against its read table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from importer.entities import ENTITIES
from importer.mapping.flatten import WRITE_ONLY, RecordFlattener
from importer.sandbox.dates import as_read, parse_datetime
from importer.sandbox.listing import DOCUMENT_STATUSES
from importer.schema import fields, read_fields
from tests.support.bodies import full_body
from tests.support.sandbox_api import Api, w

READABLE = [e for e in ENTITIES.values() if not e.is_action]
DOCUMENTS = [e for e in READABLE if e.is_document]
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "datetime": (str,), "uuid": (str,),
}


def assert_fits(value: dict[str, Any], schema: str, where: str) -> None:
    """Every key of ``value`` is a field of the response schema, in its shape, recursively."""
    table = read_fields(schema)
    for name, v in value.items():
        path = f"{where}.{name}"
        assert name in table, f"{path} is no field of {schema}"
        f = table[name]
        if v is None:
            continue
        if f.kind == "object":
            assert isinstance(v, dict), path
            assert_fits(v, f.ref or "", path)
        elif f.kind == "array":
            assert isinstance(v, list), path
            for i, item in enumerate(v):
                if f.ref:
                    assert_fits(item, f.ref, f"{path}[{i}]")
                else:
                    assert not isinstance(item, dict | list), path
        elif f.kind == "scalar":
            assert isinstance(v, _PYTHON_TYPES[f.type or "string"]), (path, v)
            assert f.type != "boolean" or type(v) is bool, path
            assert f.type not in ("integer", "number") or type(v) is not bool, path
            if f.type == "datetime":
                assert parse_datetime(v) is not None, (path, v)
            if f.enum and not (name == "status" and v in DOCUMENT_STATUSES):
                assert v in f.enum, (path, v)


@pytest.fixture
async def full(api: Api) -> Api:
    """A sandbox holding one customer and one document of each kind, every field sent."""
    customer = full_body("CustomerUpdateDto")
    customer |= {"number": w("10000"), "name": w("Acme AS")}
    assert (await api.call("POST", "/v1/customer", json=customer))[0] == 201
    for e in DOCUMENTS:
        body = full_body(e.schema) | {"referenceNumber": w("D1"), "hold": w(False)}
        status, err, _ = await api.call("POST", e.path, json=body)
        assert status == 201, err
    return api


@pytest.mark.parametrize("entity", READABLE, ids=lambda e: e.name)
async def test_get_and_list_fit_the_read_schema(full: Api, entity: Any) -> None:
    key = "10000" if entity.name == "customer" else "D1"
    status, got, _ = await full.call("GET", f"{entity.path}/{key}")
    assert status == 200
    assert "metadata" not in got  # a GET by key carries no paging info
    assert_fits(got, entity.read_schema, entity.name)
    params = {"expandApplications": "true", "expandDunningInformation": "true", "expandInvoiceAddress": "true"}
    status, items, _ = await full.call("GET", entity.path, params=params if entity.is_document else {})
    assert status == 200 and len(items) == 1
    assert_fits(items[0], entity.read_schema, entity.name)
    assert items[0]["metadata"] == {"totalCount": 1, "maxPageSize": 1000}
    assert {k: v for k, v in items[0].items() if k != "metadata"} == got


@pytest.mark.parametrize("entity", READABLE, ids=lambda e: e.name)
async def test_no_request_only_names_are_answered(full: Api, entity: Any) -> None:
    """Top-level request names the response schema lacks (customerClassId, taxDetailLines, ...)."""
    key = "10000" if entity.name == "customer" else "D1"
    _, got, _ = await full.call("GET", f"{entity.path}/{key}")
    request_only = set(fields(entity.schema)) - set(read_fields(entity.read_schema))
    assert request_only  # the two schemas do differ, or this test proves nothing
    assert not request_only & set(got)
    if entity.is_document:
        line_request = fields(fields(entity.schema)[entity.line_field].ref)
        line_read = read_fields(read_fields(entity.read_schema)[entity.line_field].ref)
        for line in got[entity.line_field]:
            assert not (set(line_request) - set(line_read)) & set(line), line


def _kept(answered: Any, stored: Any) -> bool:
    """The answer holds the stored value; a date as the date-time the API answers (2024-01-31T00:00:00)."""
    return answered == stored or (type(stored) is str and answered == as_read(stored))


@pytest.mark.parametrize("entity", READABLE, ids=lambda e: e.name)
async def test_every_answered_column_keeps_its_value(full: Api, entity: Any) -> None:
    """Flattened to import columns, the answer holds what was stored, write-only columns aside."""
    key = "10000" if entity.name == "customer" else "D1"
    _, got, _ = await full.call("GET", f"{entity.path}/{key}")
    (stored,) = await full.records(entity.name)
    flattener = RecordFlattener(entity)
    sent, answered = flattener.flatten(stored), flattener.flatten(got)
    skipped = WRITE_ONLY[entity.name] | {"postPeriod"}  # postPeriod changes layout (checked below)
    missing = {c: v for c, v in sent.header.items() if c not in skipped and not _kept(answered.header.get(c), v)}
    assert not missing
    assert len(sent.header) > 20  # a rich record, or this test proves little
    for sent_line, answered_line in zip(sent.lines or [], answered.lines or [], strict=True):
        lost = {c: v for c, v in sent_line.items() if c not in skipped and not _kept(answered_line.get(c), v)}
        assert not lost


async def test_customer_references_take_the_dto_shape(full: Api) -> None:
    _, got, _ = await full.call("GET", "/v1/customer/10000")
    assert got["customerClass"] == {"id": "1"} and got["creditTerms"] == {"id": "30"}
    assert got["mainAddress"]["country"] == {"id": "S1"} and got["mainAddress"]["county"] == {"id": "S1"}
    assert got["parentRecord"] == {"number": "10000", "name": "Acme AS"}
    assert got["glAccounts"]["salesAccount"] == {"number": "3000"}
    assert got["defaultPaymentMethodId"] == "BANK"
    for write_only in ("note", "overrideWithClassValues", "customerClassId", "attributeLines"):
        assert write_only not in got


@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_document_references_and_periods(full: Api, entity: Any) -> None:
    _, got, _ = await full.call("GET", f"{entity.path}/D1")
    assert got["customer"] == {"number": "10000", "name": "Acme AS"}
    assert got["childRecord"] == {"number": "10000", "name": "Acme AS"}
    assert got["postPeriod"] == "202401" and got["financialPeriod"] == "202401"
    assert got["documentType"] == entity.read_schema.removeprefix("Customer").removesuffix("Dto")
    assert got["invoiceAddress"]["country"] == {"id": "S1"}
    assert got["invoiceAddress"]["city"] == "S1"
    (line,) = got[entity.line_field]
    assert line["vatCode"] == {"id": "3"} and line["account"] == {"number": "3000"}
    assert line["lineNumber"] == 1 and "operation" not in line


async def test_customer_name_is_read_when_answering(api: Api) -> None:
    """A document shows its customer's current name, not the one it had when the document was made."""
    await api.post_customer("10000", name="Old name")
    await api.call("POST", "/v1/customerinvoice", json={"customerNumber": w("10000"), "referenceNumber": w("I1")})
    await api.call("PUT", "/v1/customer/10000", json={"name": w("New name")})
    _, got, _ = await api.call("GET", "/v1/customerinvoice/I1")
    assert got["customer"] == {"number": "10000", "name": "New name"}


def _cents(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_line_amounts_and_totals(api: Api, entity: Any) -> None:
    await api.post_customer("10000")
    tax_field = "taxDetails" if "taxDetails" in fields(entity.schema) else "taxDetailLines"
    lines = [
        {"quantity": w(3), "unitPriceInCurrency": w(19.99)},  # 59.97
        {"quantity": w(2), "unitPriceInCurrency": w(50), "discountAmountInCurrency": w(10)},  # 90
        {"quantity": w(4), "unitPriceInCurrency": w(25), "discountPercent": w(12.5)},  # 87.50
        {"quantity": w(1), "unitPriceInCurrency": w(999), "manualAmountInCurrency": w(0.1)},  # manual
    ]
    body = {"customerNumber": w("10000"), "referenceNumber": w("T1"), entity.line_field: lines,
            tax_field: [{"taxId": w("3"), "vatAmount": w(40.1)}, {"taxId": w("5"), "vatAmount": w(2)}]}
    assert (await api.call("POST", entity.path, json=body))[0] == 201
    _, got, _ = await api.call("GET", f"{entity.path}/T1")
    amounts = [_cents(line["amount"]) for line in got[entity.line_field]]
    assert amounts == [Decimal("59.97"), Decimal("90"), Decimal("87.5"), Decimal("0.1")]
    assert [line["lineNumber"] for line in got[entity.line_field]] == [1, 2, 3, 4]
    assert got[entity.line_field][2]["discountAmount"] == 12.5
    assert all(line["amountInCurrency"] == line["amount"] for line in got[entity.line_field])
    assert _cents(got["detailTotal"]) == sum(amounts) == Decimal("237.57")
    assert _cents(got["vatTotal"]) == Decimal("42.1")
    assert _cents(got["amount"]) == _cents(got["balance"]) == Decimal("279.67")
    for name in ("detailTotal", "vatTotal", "amount", "balance"):
        assert got[f"{name}InCurrency"] == got[name]
    assert got["currencyId"] == "NOK"


async def test_totals_without_tax_details_are_the_lines(api: Api) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "referenceNumber": w("T1"), "currencyId": w("SEK"),
            "invoiceLines": [{"quantity": w(2), "unitPriceInCurrency": w(10)}]}
    await api.call("POST", "/v1/customerinvoice", json=body)
    _, got, _ = await api.call("GET", "/v1/customerinvoice/T1")
    assert (got["detailTotal"], got["vatTotal"], got["amount"]) == (20, 0, 20)
    assert got["currencyId"] == "SEK"
    # Totals follow line changes.
    ops = {"invoiceLines": [{"operation": "Update", "lineNumber": w(1), "quantity": w(5)}]}
    await api.call("PUT", "/v1/customerinvoice/T1", json=ops)
    assert (await api.call("GET", "/v1/customerinvoice/T1"))[1]["amount"] == 50


@pytest.mark.parametrize("entity", DOCUMENTS, ids=lambda e: e.name)
async def test_status_changes_on_release(api: Api, entity: Any) -> None:
    await api.post_customer("10000")
    await api.call("POST", entity.path, json={"customerNumber": w("10000"), "referenceNumber": w("R1")})
    _, before, _ = await api.call("GET", f"{entity.path}/R1")
    assert before["status"] == "Balanced" and "released" not in before
    await api.call("POST", f"{entity.path}/R1/action/release")
    _, after, _ = await api.call("GET", f"{entity.path}/R1")
    assert after["status"] == "Open" and "released" not in after
    assert after["lastModifiedDateTime"] >= before["lastModifiedDateTime"]
