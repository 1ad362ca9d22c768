"""A line that names its lineNumber is that line: updated when its document is, inserted when
it is created. So an exported document, edited and sent again, keeps its line count."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson

from importer.entities import ENTITIES
from importer.load.calls import build_call
from importer.mapping import RecordMapper
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

CUSTOMERS = "number,name\n10000,Fjord AS\n"
INVOICE = (
    "referenceNumber,customerNumber,documentDate,line.inventoryNumber,line.description,line.quantity,"
    "line.unitPriceInCurrency\n"
    "INV-1,10000,2024-01-27,222,Poteter,500,12.5\n"
    "INV-1,10000,2024-01-27,FRAKT,Frakt,1,99\n"
)


def _mapped(entity: str, *rows: dict[str, Any], mode: str = "create") -> Any:
    mapper = RecordMapper(ENTITIES[entity], mode=mode)
    [work] = mapper.works([SourceRecord(i, row) for i, row in enumerate(rows, 1)])
    assert work.error is None, work.error
    return work


def _lines(entity: str, work: Any, mode: str) -> list[dict[str, Any]]:
    call = build_call(ENTITIES[entity], work, mode)
    return orjson.loads(call.body)[ENTITIES[entity].line_field]


def test_a_numbered_line_is_an_update_of_that_line_when_the_document_is_updated():
    work = _mapped("invoice",
                   {"referenceNumber": "1", "line.lineNumber": "2", "line.quantity": "3"},
                   {"referenceNumber": "1", "line.quantity": "4"},
                   {"referenceNumber": "1", "line.lineNumber": "1", "line.operation": "Delete"},
                   mode="update")
    lines = _lines("invoice", work, "update")
    assert [(line["operation"], line.get("lineNumber")) for line in lines] == [
        ("Update", {"value": 2}), ("Insert", None), ("Delete", {"value": 1}),
    ]
    # The new line makes the PUT unsafe to send twice; without it, it is safe.
    assert build_call(ENTITIES["invoice"], work, "update").idempotent is False
    only_numbered = _mapped("invoice", {"referenceNumber": "1", "line.lineNumber": "2", "line.quantity": "3"},
                            mode="update")
    assert build_call(ENTITIES["invoice"], only_numbered, "update").idempotent is True


def test_on_a_create_every_line_is_an_insert_and_keeps_its_number_as_written():
    work = _mapped("credit-note",
                   {"referenceNumber": "9", "customerNumber": "1", "line.lineNumber": "1", "line.quantity": "3"},
                   {"referenceNumber": "9", "line.lineNumber": "2", "line.quantity": "5"})
    lines = _lines("credit-note", work, "create")
    assert [(line["operation"], line["lineNumber"]) for line in lines] == [
        ("Insert", {"value": 1}), ("Insert", {"value": 2}),
    ]
    # What was mapped is not changed by building one request or the other.
    assert all("operation" not in line for line in work.payload["lines"])
    assert [line["operation"] for line in _lines("credit-note", work, "update")] == ["Update", "Update"]


def test_an_operation_given_is_kept_whatever_the_mode():
    work = _mapped("debit-note", {"referenceNumber": "5", "line.operation": "Insert", "line.lineNumber": "1"},
                   mode="update")
    assert _lines("debit-note", work, "update")[0]["operation"] == "Insert"


def test_api_shaped_lines_follow_the_same_rule():
    work = _mapped("invoice", {"referenceNumber": {"value": "1"}, "customerNumber": {"value": "1"},
                               "invoiceLines": [{"lineNumber": {"value": 1}, "quantity": {"value": 2}},
                                                {"quantity": {"value": 1}}]})
    assert [line["operation"] for line in _lines("invoice", work, "update")] == ["Update", "Insert"]
    assert [line["operation"] for line in _lines("invoice", work, "create")] == ["Insert", "Insert"]


def _edit_quantity(path: Path, line_number: str, quantity: str) -> None:
    """Change one line's quantity in an exported CSV, as a user would in a spreadsheet."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["line.lineNumber"] for row in rows] == ["1", "2"]
    for row in rows:
        if row["line.lineNumber"] == line_number:
            row["line.quantity"] = quantity
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


async def _stored_lines(sandbox: Any) -> list[tuple[int, float, str]]:
    [invoice] = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    return [(line["lineNumber"], line["quantity"], line["inventoryNumber"]) for line in invoice["invoiceLines"]]


async def _import(sandbox: Any, path: Path, entity: str, *args: str) -> list[dict[str, Any]]:
    code, out, err = await run_cli("run", str(path), "--entity", entity, "--base-url", sandbox.url,
                                   "--token", TOKEN, *args)
    assert code == 0, (out, err)
    return final_lines(f"{path}.results.ndjson")


async def test_export_edit_upsert_changes_the_lines_instead_of_adding_them(sandbox, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICE, encoding="utf-8")
    await _import(sandbox, tmp_path / "customers.csv", "customer")
    await _import(sandbox, tmp_path / "invoices.csv", "invoice")
    assert await _stored_lines(sandbox) == [(1, 500, "222"), (2, 1, "FRAKT")]

    exported = tmp_path / "export.csv"
    code, out, err = await run_cli("export", "--entity", "invoice", "-o", str(exported),
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, (out, err)
    _edit_quantity(exported, "1", "650")

    [line] = await _import(sandbox, exported, "invoice", "--mode", "upsert")
    assert (line["action"], line["outcome"]) == ("update", "updated"), line
    assert await _stored_lines(sandbox) == [(1, 650, "222"), (2, 1, "FRAKT")]

    # --mode update reads the same file the same way: still two lines.
    _edit_quantity(exported, "2", "3")
    [line] = await _import(sandbox, exported, "invoice", "--mode", "update", "--results",
                           str(tmp_path / "update.results.ndjson"))
    assert line["outcome"] == "updated", line
    assert await _stored_lines(sandbox) == [(1, 650, "222"), (2, 3, "FRAKT")]


async def test_upsert_of_a_new_document_with_line_numbers_creates_its_lines(sandbox, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    numbered = tmp_path / "numbered.csv"
    numbered.write_text(
        "referenceNumber,customerNumber,line.lineNumber,line.inventoryNumber,line.quantity\n"
        "INV-7,10000,1,222,5\nINV-7,10000,2,FRAKT,1\n", encoding="utf-8")
    await _import(sandbox, tmp_path / "customers.csv", "customer")
    [line] = await _import(sandbox, numbered, "invoice", "--mode", "upsert")
    assert (line["action"], line["outcome"]) == ("create", "created"), line
    assert await _stored_lines(sandbox) == [(1, 5, "222"), (2, 1, "FRAKT")]
