"""The preflight, end to end: the CLI as a subprocess, against a sandbox of the demo company on loopback.

The sandbox sits behind a counting proxy of the test's own, so each test knows exactly which
calls reached it, and asks the sandbox what it stored: a record the preflight refuses
costs no write and leaves nothing in the ledger.
"""

from __future__ import annotations

import csv
from pathlib import Path

import aiohttp

from importer.company import dump_company
from importer.company.demo import demo_company
from importer.sandbox import SandboxConfig, serve
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, final_lines, run_cli
from tests.support.sandbox_api import customer_body
from tests.support.stored import stored_records

COLUMNS = ["referenceNumber", "customerNumber", "documentDate", "currencyId", "creditTermsId", "branchNumber",
           "paymentMethodId", "salesperson", "line.inventoryNumber", "line.quantity", "line.unitPriceInCurrency",
           "line.uom", "line.vatCodeId", "line.accountNumber"]
GOOD = {"customerNumber": "10000", "documentDate": "2020-01-27", "currencyId": "NOK", "line.inventoryNumber": "222",
        "line.quantity": "2", "line.unitPriceInCurrency": "100", "line.uom": "STK", "line.vatCodeId": "3"}
# record number -> (column, bad value, what its message must say); records 1 and 8 are good.
BAD = {
    2: ("creditTermsId", "30 dager netto",
        "record 2, column creditTermsId: `30 dager netto` is not a credit terms id of this company; "
        "it has `30` (30 dager netto)"),
    3: ("line.vatCodeId", "25", "record 3, column line.vatCodeId: `25` is not a VAT category of this company; it has"),
    4: ("line.inventoryNumber", "UTGATT",
        "record 4, column line.inventoryNumber: `UTGATT` item has status Inactive and cannot be sold; it has"),
    5: ("currencyId", "XBT", "record 5, column currencyId: `XBT` is not a currency of this company; it has `"),
    6: ("customerNumber", "99999", "record 6, column customerNumber: customer `99999` is in neither the ledger"),
    7: ("line.uom", "KG", "record 7, column line.uom: unit `KG` is not defined for item '222'; the item's units are STK"),
    9: ("branchNumber", "77", "record 9, column branchNumber: `77` is not a branch of this company; it has `1` (Hovedkontor)"),
    10: ("documentDate", "1990-01-10", "record 10, column documentDate: `1990-01-10` is in no financial period"),
    11: ("paymentMethodId", "GIRO", "record 11, column paymentMethodId: `GIRO` is not a payment method of this company"),
    12: ("salesperson", "KJH", "record 12, column salesperson: `KJH` is not a salesperson of this company; it has `1` (Salg)"),
    13: ("line.accountNumber", "9999", "record 13, column line.accountNumber: `9999` is not an account of this company"),
}
RECORDS = 13


def _write_invoices(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        for n in range(1, RECORDS + 1):
            row = {**GOOD, "referenceNumber": f"I{n}"}
            if n in BAD:
                row[BAD[n][0]] = BAD[n][1]
            out.writerow(row)
    return path


async def _customer(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/customer", json=customer_body("10000", customerClassId={"value": "1"}),
                                headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 201, await r.text()


async def test_a_live_run_sends_nothing_until_told_to_send_the_valid_and_a_resume_reads_no_company(
    tmp_path: Path,
) -> None:
    data = _write_invoices(tmp_path / "invoices.csv")
    results = Path(f"{data}.results.ndjson")
    async with serve(SandboxConfig(seed=1)) as sb, proxied(sb.url) as proxy:
        await _customer(sb.url)
        live = ("run", str(data), "-e", "invoice", "--base-url", proxy.url, "--token", TOKEN)

        code, out, err = await run_cli(*live)
        assert code == 2, (out, err)
        assert "the company would refuse 11 of the 13 records, so nothing was sent" in err
        assert "--send-valid" in err and "Traceback" not in err
        assert proxy.server.count("POST") == 0
        assert await stored_records(sb, "invoice") == {}
        assert not results.exists()  # no outcome written: a fixed map or --send-valid starts clean
        assert proxy.server.count("GET", "/v1/creditTerm") == 1  # the company, read once

        code, out, err = await run_cli(*live, "--send-valid")
        assert code == 1, (out, err)
        assert proxy.server.count("POST") == 2  # the two valid records: not one call for the eleven others
        stored = await stored_records(sb, "invoice")
        assert sorted(doc["customerNumber"] for doc in stored.values()) == ["10000", "10000"]
        lines = {line["records"][0]: line for line in final_lines(results)}
        assert sorted(lines) == list(range(1, RECORDS + 1))  # one final line per record
        assert {n for n, line in lines.items() if line["outcome"] == "created"} == {1, 8}
        for n, (_, _, said) in BAD.items():
            assert lines[n]["outcome"] == "invalid" and said in lines[n]["error"], lines[n]["error"]
            assert lines[n]["attempts"] == 0
        assert "11 records refused before sending; 11 calls saved" in " ".join(out.split())
        assert Path(f"{results}.company.json").is_file()

        reads = proxy.server.count("GET", "/v1/creditTerm")
        code, out, err = await run_cli(*live, "--send-valid", "--resume", "--retry-failed")
        assert code == 1, (out, err)
        assert proxy.server.count("GET", "/v1/creditTerm") == reads  # the kept company, not read again
        assert proxy.server.count("POST") == 2  # the refused records are refused again, without a call
        assert len(await stored_records(sb, "invoice")) == 2


async def test_a_dry_run_with_a_company_file_lists_the_same_problems(tmp_path: Path) -> None:
    data = _write_invoices(tmp_path / "invoices.csv")
    company = tmp_path / "demo.company.json"
    dump_company(demo_company(), company)
    code, out, err = await run_cli("run", str(data), "-e", "invoice", "--dry-run", "--company", str(company))
    assert code == 1, (out, err)
    lines = {line["records"][0]: line for line in final_lines(f"{data}.dry-run.ndjson")}
    assert sorted(lines) == list(range(1, RECORDS + 1))
    # No ledger to ask in a dry run: the document's customer (record 6) is not checked.
    assert {n for n, line in lines.items() if line["outcome"] == "valid"} == {1, 6, 8}
    for n, (_, _, said) in BAD.items():
        if n != 6:
            assert lines[n]["outcome"] == "invalid" and said in lines[n]["error"], lines[n]["error"]


async def test_check_groups_the_problems_by_column_and_value(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    rows = ["number,name,creditTermsId,customerClassId,vatZoneId"]
    rows += [f"C{n},Kunde {n},30 dager,1,01" for n in range(1, 6)]  # one wrong value on five records
    rows += ["C6,Kunde 6,30,7,01", "C7,Kunde 7,30,1,01"]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    company = tmp_path / "demo.company.json"
    dump_company(demo_company(), company)
    code, out, err = await run_cli("check", str(data), "-e", "customer", "--company", str(company))
    assert code == 1, (out, err)
    assert "7 records checked" in out and "6 records would be refused" in out
    assert "column creditTermsId: 5 records" in out
    assert "5 × `30 dager` is not a credit terms id of this company; it has `30` (30 dager netto)" in out
    assert "(records 1, 2, 3, ...)" in out
    assert "column customerClassId: 1 record" in out and "(record 6)" in out
    clean = tmp_path / "clean.csv"
    clean.write_text("number,name,creditTermsId\nC1,Kunde,14\n", encoding="utf-8")
    code, out, err = await run_cli("check", str(clean), "-e", "customer", "--company", str(company))
    assert code == 0 and "the company takes every record" in out, (out, err)
