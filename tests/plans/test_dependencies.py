"""Plans: a document waits for its customer, both ways right; each step's outputs its own."""

from __future__ import annotations

from collections import Counter

import pytest

import importer
from importer.errors import ConfigError
from importer.plans.plan import load_plan, run_plan
from importer.schema import unwrap_value
from tests.support.runs import TOKEN, get_json, read_lines

INVOICE_HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"


def write_plan(tmp_path, customers: str, invoices: str) -> str:
    (tmp_path / "customers.csv").write_text(customers, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICE_HEADER + invoices, encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[step]]\nname = "customers"\ninput = "customers.csv"\nentity = "customer"\n\n'
        '[[step]]\nname = "invoices"\ninput = "invoices.csv"\nentity = "invoice"\n',
        encoding="utf-8",
    )
    return str(plan)


async def test_repeated_and_invalid_customers(sandbox, tmp_path):
    plan = write_plan(
        tmp_path,
        "number,name,numberOfEmployees\nC1,En,\nC1,En igjen,\nC2,To,mange\nC3,Tre,\n",
        "I1,C1,2024-01-01,a,1,100\nI2,C2,2024-01-01,b,1,200\nI3,C3,2024-01-01,c,1,300\n",
    )
    overrides = {"base_url": sandbox.url, "token": TOKEN}
    [(_, customers), (_, invoices)] = await run_plan(load_plan(plan), overrides=overrides)
    assert customers.outcomes["created"] == 2 and customers.outcomes["invalid"] == 2
    # C1 exists although its second row was refused; C2 never existed: its invoice waits.
    assert invoices.outcomes["created"] == 2 and invoices.outcomes["skipped"] == 1
    lines = {x["key"]: x for x in read_lines(tmp_path / "invoices.csv.results.ndjson") if x["outcome"] != "started"}
    assert lines["I2"]["outcome"] == "skipped" and "customer C2 invalid in step 'customers'" in lines["I2"]["error"]
    failed = (tmp_path / "invoices.failed.csv").read_text(encoding="utf-8")
    assert "I2,C2" in failed and "I1" not in failed  # the skipped invoice waits in the failed file
    held = {unwrap_value(i["referenceNumber"]) for i in await get_json(f"{sandbox.url}/sandbox/records/invoice")}
    assert held == {"I1", "I3"}

    # C2 fixed: a plan resume creates it and then sends its invoice, nothing else.
    (tmp_path / "customers.csv").write_text("number,name,numberOfEmployees\nC1,En,\nC1,En igjen,\nC2,To,2\nC3,Tre,\n",
                                            encoding="utf-8")
    [(_, customers), (_, invoices)] = await run_plan(load_plan(plan), overrides={**overrides, "resume": True})
    assert customers.outcomes["created"] == 1 and invoices.outcomes["created"] == 1
    assert invoices.already_done == 2
    records = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert Counter(unwrap_value(i["referenceNumber"]) for i in records) == Counter({"I1": 1, "I2": 1, "I3": 1})
    assert Counter(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")) == Counter(
        {"C1": 1, "C2": 1, "C3": 1})


async def test_a_customer_refused_as_a_duplicate_exists(sandbox, tmp_path):
    plan = write_plan(tmp_path, "number,name\nC1,En\n", "I1,C1,2024-01-01,a,1,100\n")
    overrides = {"base_url": sandbox.url, "token": TOKEN}
    await run_plan(load_plan(plan), overrides=overrides)
    (tmp_path / "invoices.csv").write_text(INVOICE_HEADER + "I2,C1,2024-01-01,b,1,100\n", encoding="utf-8")
    [(_, customers), (_, invoices)] = await run_plan(load_plan(plan), overrides={**overrides, "restart": True})
    assert customers.outcomes["failed"] == 1  # "already exists"
    assert invoices.outcomes["created"] == 1 and invoices.calls == 1  # no lookup needed


async def test_an_invalid_customer_row_the_api_has_is_looked_up_once(sandbox, tmp_path):
    (tmp_path / "first.csv").write_text("number,name\nC1,En\n", encoding="utf-8")
    await importer.import_records(tmp_path / "first.csv", entity="customer", base_url=sandbox.url, token=TOKEN)
    plan = write_plan(tmp_path, "number,name,numberOfEmployees\nC1,En,mange\n",
                      "I1,C1,2024-01-01,a,1,100\nI2,C1,2024-01-02,b,1,100\n")
    [(_, customers), (_, invoices)] = await run_plan(load_plan(plan), overrides={"base_url": sandbox.url,
                                                                                  "token": TOKEN})
    assert customers.outcomes["invalid"] == 1
    assert invoices.outcomes["created"] == 2
    assert invoices.calls == 3  # two POSTs and one GET for C1, however many of its documents


async def test_steps_whose_inputs_share_a_name_get_their_own_outputs(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "customers.csv").write_text("number,name\nC1,En\n", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[step]]\nname = "first"\ninput = "a/customers.csv"\nentity = "customer"\n\n'
        '[[step]]\nname = "second"\ninput = "b/customers.csv"\nentity = "customer"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = await run_plan(load_plan(plan), overrides={"dry_run": True}, results_dir=out)
    assert sorted(p.name for p in out.iterdir()) == [
        "first.customers.csv.dry-run.ndjson", "second.customers.csv.dry-run.ndjson"]
    assert all(s.outcomes["valid"] == 1 for _, s in done)


async def test_two_steps_naming_one_results_file_are_refused(tmp_path):
    (tmp_path / "c.csv").write_text("number,name\nC1,En\n", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[step]]\nname = "one"\ninput = "c.csv"\nentity = "customer"\nresults = "r.ndjson"\n\n'
        '[[step]]\nname = "two"\ninput = "c.csv"\nentity = "customer"\nmode = "update"\nresults = "r.ndjson"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="would share the results file"):
        await run_plan(load_plan(plan), overrides={"dry_run": True})
