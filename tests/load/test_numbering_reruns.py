"""Company numbering run again: a rerun that does not ``--resume`` creates nothing twice.

The company numbers the invoices (an automatic series, tests/support/numbering_company.py),
so no number is sent and the company has nothing to refuse as a duplicate. Each test loads
the file once, then runs it again with ``--restart``, a fresh results file, or ``--mode
upsert`` after a price changed, against the sandbox over a real socket, and asserts on what
the sandbox stores: each document once, under the company's number, with the file's number
in customerRefNumber. Customers numbered by the company are found again by their field
after a lost answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import SandboxConfig, serve
from importer.schema import unwrap_value
from tests.support.numbering_company import FIRST, company_with, creates, run_numbered, stored_invoices, write_files
from tests.support.runs import final_lines, get_json

NUMBERS = ["INV-1", "INV-2", "INV-3"]
LEDGER = {FIRST: "INV-1", "AR000043": "INV-2", "AR000044": "INV-3"}  # what the first run leaves


async def _first_run(sb: Any, tmp_path: Path) -> Path:
    customers, invoices = write_files(tmp_path, NUMBERS)
    assert (await run_numbered(sb, customers, "customer")).ok
    summary = await run_numbered(sb, invoices, "invoice")
    assert summary.outcomes["created"] == 3 and summary.numbering is not None
    assert summary.numbering.startswith("company for invoices with a number")
    assert {k: v[0] for k, v in (await stored_invoices(sb)).items()} == LEDGER
    return invoices


@pytest.mark.parametrize("again", ["restart", "fresh results"])
async def test_a_rerun_finds_every_document_and_creates_none(tmp_path, again):
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        invoices = await _first_run(sb, tmp_path)
        before, posts = await stored_invoices(sb), await creates(sb)
        results = tmp_path / "again.results.ndjson"
        options = {"restart": True} if again == "restart" else {"results": str(results)}
        summary = await run_numbered(sb, invoices, "invoice", **options)
        assert await stored_invoices(sb) == before  # each document once, as it was
        assert await creates(sb) == posts  # not one create
    lines = final_lines(results if again != "restart" else f"{invoices}.results.ndjson")
    assert [(line["outcome"], line["key"], line["sent_key"], line["recovered"]) for line in lines] == [
        ("created", key, legacy, True) for key, legacy in LEDGER.items()]
    assert lines[0]["location"].endswith(f"/v1/customerinvoice/{FIRST}")
    assert summary.held == 3 and summary.held_calls == 1  # one page lists the whole ledger
    assert summary.to_dict()["held_calls"] == 1


async def test_a_rerun_with_a_changed_price_fails_that_document_and_sends_nothing(tmp_path):
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        invoices = await _first_run(sb, tmp_path)
        before, posts = await stored_invoices(sb), await creates(sb)
        invoices.write_text(invoices.read_text(encoding="utf-8").replace(",102\n", ",250\n"), encoding="utf-8")
        summary = await run_numbered(sb, invoices, "invoice", results=str(tmp_path / "again.ndjson"))
        assert await stored_invoices(sb) == before
        assert await creates(sb) == posts
    lines = final_lines(tmp_path / "again.ndjson")
    assert [(line["outcome"], line["key"]) for line in lines] == [
        ("created", FIRST), ("failed", "AR000043"), ("created", "AR000044")]
    assert lines[1]["error"].startswith(
        "record 2: the ledger already holds invoice AR000043 with customerRefNumber 'INV-2', with other values: "
        "line 1 line.unitPriceInCurrency: 102.0 there, 250 sent")
    assert "not created again (run with --mode upsert to update it)" in lines[1]["error"]
    assert summary.outcomes["failed"] == 1 and summary.held == 2


async def test_an_upsert_after_a_price_changed_updates_that_document(tmp_path):
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        invoices = await _first_run(sb, tmp_path)
        posts = await creates(sb)
        invoices.write_text(invoices.read_text(encoding="utf-8").replace(",102\n", ",250\n"), encoding="utf-8")
        summary = await run_numbered(sb, invoices, "invoice", mode="upsert", restart=True)
        after = await stored_invoices(sb)
        assert await creates(sb) == posts  # an update, no create
    assert after == {FIRST: ("INV-1", 101), "AR000043": ("INV-2", 250), "AR000044": ("INV-3", 103)}
    lines = final_lines(f"{invoices}.results.ndjson")
    assert [(line["outcome"], line["action"], line["key"], line["sent_key"]) for line in lines] == [
        ("updated", "update", key, legacy) for key, legacy in LEDGER.items()]
    assert summary.held_calls == 1


async def test_an_upsert_creates_a_new_document_without_asking_for_the_files_number(tmp_path):
    """A number the ledger does not hold is new: created by the company, even where the
    ledger has a record under the file's number (the company's own, another document)."""
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        invoices = await _first_run(sb, tmp_path)
        text = invoices.read_text(encoding="utf-8")
        invoices.write_text(text + f"{FIRST},DOC-4,K1,2024-02-01,Vare 4,1,104\n", encoding="utf-8")
        await run_numbered(sb, invoices, "invoice", mode="upsert", restart=True)
        after = await stored_invoices(sb)
    assert after == {**{k: (v, 100 + i) for i, (k, v) in enumerate(LEDGER.items(), 1)},
                     "AR000045": (FIRST, 104)}  # AR000042 itself is left as it was


@pytest.mark.parametrize("field", ["corporateId", "accountReference"])  # a list filter, and none
async def test_a_customer_whose_answer_was_lost_is_found_by_its_field(tmp_path, field):
    """Every write is stored and answered 500: each customer numbered by the company is
    found again by the field that keeps its number (the list filtered on it, or read whole),
    once; a rerun with --restart finds them all and creates none."""
    customers = tmp_path / "customers.csv"
    customers.write_text("number,name,customerClassId\nK1,Kunde 1,1\nK2,Kunde 2,1\n", encoding="utf-8")
    config = SandboxConfig(seed=3, company=company_with("automatic"), fault_rate=1.0, faults=("store-then-fail",))
    async with serve(config) as sb:
        summary = await run_numbered(sb, customers, "customer", numbering="company", numbering_field=field)
        again = await run_numbered(sb, customers, "customer", numbering="company", numbering_field=field, restart=True)
        stored = await get_json(f"{sb.url}/sandbox/records/customer")
    assert isinstance(stored, list)
    ledger = {str(unwrap_value(c["number"])): unwrap_value(c.get(field)) for c in stored}
    assert sorted(ledger.values()) == ["K1", "K2"]  # each once, its number kept in the field
    assert "K1" not in ledger and "K2" not in ledger  # numbered by the company
    lines = final_lines(f"{customers}.results.ndjson")
    by_legacy = {legacy: key for key, legacy in ledger.items()}
    assert [(line["outcome"], line["key"], line["sent_key"], line["recovered"]) for line in lines] == [
        ("created", by_legacy["K1"], "K1", True), ("created", by_legacy["K2"], "K2", True)]
    assert summary.outcomes["created"] == 2 and summary.unknown == 0 and summary.lookups == 2  # the first run
    assert again.held == 2 and again.sent_units == 0
