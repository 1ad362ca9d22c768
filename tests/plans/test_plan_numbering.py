"""Plans and fleets number as the company they are given: its snapshot reaches every step.

The company's invoice series is automatic and does not allow manual numbering on imports
(tests/support/numbering_company.py), so the snapshot's numbering is ``company`` (the
file's number kept in customerRefNumber) where the defaults without a snapshot would be
``override`` (refused by that series). Each test asserts on what the sandbox stores, or,
where the sandbox is the CLI's own (``--sandbox``), on the summary and the ledger's keys
in the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

import importer
from importer.company import dump_company
from importer.plans.plan import load_plan, run_plan
from importer.sandbox import SandboxConfig, serve
from importer.schema import unwrap_value
from tests.support.numbering_company import FIRST, company_with, write_files
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

WHY = ("company for invoices with a number (number series 'ARINV' is automatic and does not allow manual "
       "numbering on imports: the file's number is kept in customerRefNumber)")
STEPS = """
[[step]]
name = "customers"
input = "customers.csv"
entity = "customer"

[[step]]
name = "invoices"
input = "invoices.csv"
entity = "invoice"
"""


async def _ledger(url: str, tenant: str | None = None) -> dict[str, Any]:
    query = f"?tenant={tenant}" if tenant else ""
    stored = await get_json(f"{url}/sandbox/records/invoice{query}")
    assert isinstance(stored, list)
    return {str(unwrap_value(d["referenceNumber"])): unwrap_value(d.get("customerRefNumber")) for d in stored}


async def test_run_plan_gives_every_step_the_company(tmp_path: Path) -> None:
    write_files(tmp_path, ["INV-1", "INV-2"])
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(STEPS, encoding="utf-8")
    company = company_with("automatic")
    async with serve(SandboxConfig(seed=1, company=company)) as sb:
        done = await run_plan(load_plan(plan_file), overrides={"base_url": sb.url, "token": TOKEN}, company=company)
        ledger = await _ledger(sb.url)
    invoices = done[1][1]
    assert invoices.numbering is not None and invoices.numbering.startswith(WHY)
    assert ledger == {FIRST: "INV-1", "AR000043": "INV-2"}  # numbered by the company, not refused
    assert [(line["key"], line["sent_key"]) for line in final_lines(tmp_path / "invoices.csv.results.ndjson")] == [
        (FIRST, "INV-1"), ("AR000043", "INV-2")]


async def test_a_plan_on_the_sandbox_numbers_as_its_sandbox_company(tmp_path: Path) -> None:
    """``sandbox_company`` in the plan: the sandbox is that company, and so is every step's numbering."""
    write_files(tmp_path, ["INV-1", "INV-2"])
    dump_company(company_with("automatic"), tmp_path / "acme.company.json")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('sandbox_company = "acme.company.json"\n' + STEPS, encoding="utf-8")
    code, out, err = await run_cli("plan", str(plan_file), "--sandbox", "--summary-json", "-")
    assert code == 0, err
    summaries = orjson.loads(out)
    invoices = summaries[1] if isinstance(summaries, list) else summaries["steps"][1]
    assert invoices["numbering"].startswith(WHY)
    lines = final_lines(tmp_path / "invoices.csv.results.ndjson")
    assert [(line["outcome"], line["key"], line["sent_key"]) for line in lines] == [
        ("created", FIRST, "INV-1"), ("created", "AR000043", "INV-2")]


async def test_a_fleet_gives_every_company_the_snapshot(tmp_path: Path) -> None:
    company = company_with("automatic")
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        write_files(tmp_path / name, ["INV-1"])
    manifest = tmp_path / "fleet.toml"
    manifest.write_text("".join(
        f'[[company]]\nname = "{name}"\ntenant_id = "t-{name}"\ntoken_env = "UNSET_TOKEN"\n'
        f'[[company.step]]\nname = "customers"\ninput = "{name}/customers.csv"\nentity = "customer"\n'
        f'[[company.step]]\nname = "invoices"\ninput = "{name}/invoices.csv"\nentity = "invoice"\n\n'
        for name in ("one", "two")), encoding="utf-8")
    async with serve(SandboxConfig(seed=1, company=company)) as sb:
        result = await importer.run_fleet(manifest, sandbox=sb.url, snapshot=company)
        ledgers = [await _ledger(sb.url, f"t-{name}") for name in ("one", "two")]
    assert result.exit_code == 0
    assert ledgers == [{FIRST: "INV-1"}, {FIRST: "INV-1"}]  # each company's own series, its own ledger
    for run in result.companies:
        assert run.steps[1][1].numbering is not None and run.steps[1][1].numbering.startswith(WHY)
