"""A live plan's preflight: every step's input checked against the company before the first step sends.

The CLI runs as a subprocess against a sandbox of the demo company reached by base URL (a live
run in the importer's eyes), behind a counting proxy of the test's own; each test asks the
sandbox what it stored, so a refused plan is seen to leave the ledger empty, not one customer in.
"""

from __future__ import annotations

import csv
from pathlib import Path

from importer.sandbox import SandboxConfig, serve
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, run_cli
from tests.support.stored import stored_records

PLAN = """
[[step]]
name = "customers"
input = "customers.csv"
entity = "customer"

[[step]]
name = "invoices"
input = "invoices.csv"
entity = "invoice"
"""
COLUMNS = ["referenceNumber", "customerNumber", "documentDate", "currencyId", "line.inventoryNumber",
           "line.quantity", "line.unitPriceInCurrency", "line.uom", "line.vatCodeId"]
GOOD = {"documentDate": "2020-01-27", "currencyId": "NOK", "line.inventoryNumber": "222", "line.quantity": "2",
        "line.unitPriceInCurrency": "100", "line.uom": "STK", "line.vatCodeId": "3"}
# Invoice I2 names a VAT category the demo company does not have; its customer K2, like K1, is
# created by the plan's customers step, so counts as known before that step has run.
INVOICES = [("I1", "K1", "3"), ("I2", "K2", "25"), ("I3", "K2", "3")]
SAID = "column line.vatCodeId: `25` is not a VAT category of this company"


def write_plan(folder: Path, invoices: list[tuple[str, str, str]] = INVOICES) -> Path:
    (folder / "customers.csv").write_text(
        "number,name,creditTermsId,customerClassId,vatZoneId\nK1,Kunde 1,30,1,01\nK2,Kunde 2,30,1,01\n",
        encoding="utf-8")
    with (folder / "invoices.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        for reference, customer, vat in invoices:
            out.writerow({**GOOD, "referenceNumber": reference, "customerNumber": customer, "line.vatCodeId": vat})
    plan = folder / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    return plan


async def test_a_bad_invoice_step_stops_the_plan_before_its_customers_are_sent(tmp_path: Path) -> None:
    plan = write_plan(tmp_path)
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        live = ("plan", str(plan), "--base-url", proxy.url, "--token", TOKEN)

        code, out, err = await run_cli(*live)
        assert code == 2, (out, err)
        assert "the company would refuse 1 of the 5 records of the plan, so nothing was sent by any step" in err
        assert "step 'invoices': 1 of 3 records" in err and SAID in err and "(record 2)" in err
        assert "step 'customers'" not in err and "--send-valid" in err and "Traceback" not in err
        assert proxy.server.count("POST") == 0
        assert await stored_records(sb, "customer") == {}  # not half-loaded: no customer either
        assert await stored_records(sb, "invoice") == {}
        assert not (tmp_path / "customers.csv.results.ndjson").exists()  # no outcome written
        assert not (tmp_path / "invoices.csv.results.ndjson").exists()
        assert proxy.server.count("GET", "/v1/creditTerm") == 1  # the company, read once for every step

        code, out, err = await run_cli(*live, "--send-valid")
        assert code == 1, (out, err)
        assert sorted(await stored_records(sb, "customer")) == ["K1", "K2"]
        stored = await stored_records(sb, "invoice")
        assert sorted(doc["customerNumber"] for doc in stored.values()) == ["K1", "K2"]
        assert proxy.server.count("POST", "/v1/customer") == 2
        assert_one_final_line_per_record(tmp_path / "invoices.csv.results.ndjson", 3)
        lines = {line["records"][0]: line for line in final_lines(tmp_path / "invoices.csv.results.ndjson")}
        assert lines[2]["outcome"] == "invalid" and SAID in lines[2]["error"] and lines[2]["attempts"] == 0
        assert {n for n, line in lines.items() if line["outcome"] == "created"} == {1, 3}


async def test_a_resume_reuses_the_kept_company_and_a_dry_run_checks_against_it(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [("I1", "K1", "3"), ("I2", "K9", "3"), ("I3", "K2", "25")])
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        live = ("plan", str(plan), "--base-url", proxy.url, "--token", TOKEN, "--send-valid")
        code, out, err = await run_cli(*live)
        assert code == 1, (out, err)
        kept = tmp_path / "customers.csv.results.ndjson.company.json"
        assert kept.is_file()
        lines = {line["records"][0]: line for line in final_lines(tmp_path / "invoices.csv.results.ndjson")}
        assert lines[2]["outcome"] == "invalid" and "customer `K9` is in neither the ledger nor this plan" \
            in lines[2]["error"]
        assert lines[3]["outcome"] == "invalid" and SAID in lines[3]["error"]
        assert len(await stored_records(sb, "invoice")) == 1

        reads = proxy.server.count("GET", "/v1/creditTerm")
        posts = proxy.server.count("POST")
        code, out, err = await run_cli(*live, "--resume", "--retry-failed")
        assert code == 1, (out, err)
        assert proxy.server.count("GET", "/v1/creditTerm") == reads  # the kept company, not read again
        assert proxy.server.count("POST") == posts  # the refused invoices are refused again, without a call
        assert len(await stored_records(sb, "invoice")) == 1

        # A dry run of the plan (nothing sent, no connection needed) checks against the kept company.
        code, out, err = await run_cli("plan", str(plan), "--dry-run")
        assert code == 1, (out, err)
        dry = {line["records"][0]: line for line in final_lines(tmp_path / "invoices.csv.dry-run.ndjson")}
        assert dry[3]["outcome"] == "invalid" and SAID in dry[3]["error"]
        assert dry[1]["outcome"] == "valid"
        assert proxy.server.count("GET", "/v1/creditTerm") == reads
