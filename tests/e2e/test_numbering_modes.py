"""``importer run`` with the company's numbering, as a consultant runs it: a map that says
``numbering = "company"``, a resume that creates nothing twice, and a dry run on the embedded
sandbox that says which numbering applies and why.

The live-style runs go to a sandbox of the test's own on a loopback port, whose invoice
series is automatic (tests/load/numbering_company.py); the tests assert on what it stores.
"""

from __future__ import annotations

from typing import Any

from importer.company import dump_company
from importer.sandbox import SandboxConfig, serve
from importer.schema import unwrap_value
from tests.support.numbering_company import FIRST, company_with, write_files
from tests.support.runs import TOKEN, final_lines, get_json, read_lines, run_cli

MAP = """entity = "invoice"
numbering = "company"
numbering_field = "customerRefNumber"
"""


async def _invoices(sb: Any) -> dict[str, Any]:
    return {d["referenceNumber"]: unwrap_value(d.get("customerRefNumber"))
            for d in await get_json(f"{sb.url}/sandbox/records/invoice")}  # type: ignore[union-attr]


async def test_a_map_that_says_company_numbering_and_a_resume_that_creates_nothing_twice(tmp_path):
    customers, invoices = write_files(tmp_path, ["INV-1", "INV-2", None])
    mapping = tmp_path / "invoices.map.toml"
    mapping.write_text(MAP + "[columns]\n" + "".join(
        f'"{c}" = "{c}"\n' for c in ("referenceNumber", "documentKey", "customerNumber", "documentDate",
                                     "line.description", "line.quantity", "line.unitPriceInCurrency")),
        encoding="utf-8")
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        connection = ("--base-url", sb.url, "--token", TOKEN)
        code, _, err = await run_cli("run", str(customers), "-e", "customer", *connection)
        assert code == 0, err
        code, out, err = await run_cli("run", str(invoices), "--map", str(mapping), *connection)
        assert code == 0, err
        assert "company for all invoices (the map's numbering company)" in " ".join(out.split())
        first = await _invoices(sb)
        code, _, err = await run_cli("run", str(invoices), "--map", str(mapping), "--resume", *connection)
        assert code == 0, err
        again = await _invoices(sb)
    # The company numbers in the order the creates arrive, which the run's concurrency decides.
    assert first == again and sorted(first) == [FIRST, "AR000043", "AR000044"]
    assert sorted(map(str, first.values())) == ["INV-1", "INV-2", "None"]
    lines = final_lines(f"{invoices}.results.ndjson")
    assert [line["outcome"] for line in lines] == ["created"] * 3
    # each line records the number the company gave the very document it sent
    assert {line["key"]: line.get("sent_key") for line in lines} == first


async def test_a_dry_run_on_the_sandbox_says_which_numbering_applies_and_why(tmp_path):
    _, invoices = write_files(tmp_path, ["INV-1"])
    snapshot = tmp_path / "acme.company.json"
    dump_company(company_with("automatic"), snapshot)
    code, out, err = await run_cli("run", str(invoices), "-e", "invoice", "--dry-run", "--sandbox",
                                   "--company", str(snapshot))
    assert code == 0, err
    said = " ".join(out.split())
    assert ("company for invoices with a number (number series 'ARINV' is automatic and does not allow manual "
            "numbering on imports: the file's number is kept in customerRefNumber)") in said
    [line] = read_lines(f"{invoices}.dry-run.ndjson")
    assert line["request"] == "POST /v2/customerinvoice"
    assert "referenceNumber" not in line["payload"]
    assert line["payload"]["customerRefNumber"] == {"value": "INV-1"}
