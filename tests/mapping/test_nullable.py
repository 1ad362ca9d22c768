"""``{"value": null}`` clears a field, and the API takes it only where the wrapper holds null:
text and nested objects may be cleared, numbers, booleans, dates and enums may not."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from importer.entities import ENTITIES
from importer.mapping import RecordMapper
from importer.mapping.records import cannot_clear
from importer.schema import fields
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

BASE = {"number": {"value": "10000"}, "name": {"value": "Fjord AS"}}


def _one(entity: str, record: dict[str, Any], mode: str = "create") -> Any:
    [work] = RecordMapper(ENTITIES[entity], mode=mode).works([SourceRecord(1, record)])
    return work


@pytest.mark.parametrize(("name", "what"), [
    ("creditLimit", "a number"), ("printInvoices", "a boolean"), ("status", "a value from its list"),
])
def test_a_null_for_a_field_that_holds_none_makes_the_record_invalid(name, what):
    assert not fields("CustomerUpdateDto")[name].nullable  # what the schema says, not a guess
    work = _one("customer", {**BASE, name: {"value": None}})
    assert work.payload is None
    assert work.error == (f"{name}: cannot be cleared: the API takes no null for {what}; "
                          "give a value or leave the field out")


def test_a_null_date_on_a_document_names_the_record_and_the_field():
    work = _one("invoice", {"referenceNumber": {"value": "1"}, "customerNumber": {"value": "1"},
                            "documentDate": {"value": None}})
    assert work.error == ("record 1: documentDate: cannot be cleared: the API takes no null for a date; "
                          "give a value or leave the field out")


def test_a_null_inside_a_line_names_the_line_column():
    work = _one("invoice", {"referenceNumber": {"value": "1"}, "customerNumber": {"value": "1"},
                            "invoiceLines": [{"description": {"value": "ok"}}, {"quantity": {"value": None}}]})
    assert work.error == ("record 1: line.quantity: cannot be cleared: the API takes no null for a number; "
                          "give a value or leave the field out")


def test_text_objects_and_nullable_numbers_may_be_cleared():
    record = {**BASE, "corporateId": {"value": None}, "mainAddress": {"value": None},
              "invoiceAddress": {"value": {"countryId": {"value": None}, "city": {"value": "Oslo"}}},
              # DtoValueOfNullableOfInt32: the one integer of a customer that clears
              "numberOfEmployees": {"value": None}}
    assert fields("CustomerUpdateDto")["numberOfEmployees"].nullable
    work = _one("customer", record, mode="update")
    assert work.error is None
    assert work.payload == record


def test_values_of_an_api_shaped_record_are_checked_as_a_flat_one_is():
    too_many = _one("customer", {**BASE, "numberOfEmployees": {"value": 3_000_000_000}})
    assert too_many.error == ("numberOfEmployees: 3000000000 is out of range: the field takes whole numbers "
                              "from -2147483648 to 2147483647")
    flat = _one("customer", {"number": "10000", "name": "Fjord AS", "numberOfEmployees": "3000000000"})
    assert flat.error == too_many.error.replace("3000000000", "'3000000000'")  # the cell as written
    line = _one("credit-note", {"referenceNumber": {"value": "1"}, "customerNumber": {"value": "1"},
                                "lines": [{"lineNumber": {"value": 2**31}}]})
    assert line.error.startswith("record 1: line.lineNumber: 2147483648 is out of range")
    # Checked, never rewritten: an enum in another case is still sent as written.
    ok = _one("customer", {**BASE, "status": {"value": "active"}})
    assert ok.error is None and ok.payload["status"] == {"value": "active"}


def test_every_refusal_reason_is_worded_for_its_field_type():
    for schema in ("CustomerUpdateDto", "CustomerInvoiceUpdateDto", "CustomerInvoiceLinesUpdateDto"):
        for spec in fields(schema).values():
            if spec.wrapped and not spec.nullable:
                assert "this field" not in cannot_clear(spec), spec


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_the_cli_refuses_the_null_before_sending_and_sends_the_rest(sandbox, tmp_path):
    path = tmp_path / "customers.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in (
        {**BASE, "creditLimit": {"value": None}},
        {"number": {"value": "10001"}, "name": {"value": "Bryggen AS"}, "corporateId": {"value": None}},
        {"number": "10002", "name": "Tall AS", "numberOfEmployees": "3000000000"},
    )) + b"\n")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url,
                                   "--token", TOKEN)
    assert code == 1, (out, err)
    assert "Traceback" not in err
    lines = {line["key"]: line for line in final_lines(f"{path}.results.ndjson")}
    assert lines["10000"]["outcome"] == "invalid"
    assert lines["10000"]["error"].startswith("creditLimit: cannot be cleared: the API takes no null for a number")
    assert lines["10001"]["outcome"] == "created"
    assert lines["10002"]["outcome"] == "invalid"
    assert "numberOfEmployees: '3000000000' is out of range" in lines["10002"]["error"]
    stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert [c["number"] for c in stored] == ["10001"]
