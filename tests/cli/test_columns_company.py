"""``importer columns ENTITY --company FILE``: the company's allowed values next to each column that names one."""

from __future__ import annotations

import orjson

from importer.company import Company, dump_company
from importer.company.demo import demo_company
from tests.support.runs import run_cli


def _company_file(tmp_path, company: Company) -> str:
    path = tmp_path / "company.json"
    dump_company(company, path)
    return str(path)


def _rows(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}


async def test_columns_list_the_companys_values_next_to_each_reference(tmp_path):
    code, out, err = await run_cli("columns", "invoice", "--company", _company_file(tmp_path, demo_company()))
    assert code == 0, err
    rows = _rows(out)
    assert "credit terms ids of Demo AS (built in): 10 (10 dager netto), 14 (14 dager netto), " \
           "15 (15 dager netto), 30 (30 dager netto), KONTANT (Kontant)" in rows["creditTermsId"]
    assert "VAT categories of Demo AS (built in): 3 (Høy sats), 31 (Middels sats" in rows["line.vatCodeId"]
    assert "6 (Konsulenttime)" in rows["line.inventoryNumber"]
    assert "UTGATT" not in rows["line.inventoryNumber"]  # an item that cannot be sold is no allowed value
    assert "NOK (Norske kroner)" in rows["currencyId"]
    assert "Demo AS" not in rows["documentDate"] and "Demo AS" not in rows["line.quantity"]
    assert "one of Service, MaterialCost, OtherCost" in rows["line.itemType"]  # the schema's own words stay

    code, out, err = await run_cli("columns", "customer", "--company", _company_file(tmp_path, demo_company()))
    assert code == 0, err
    assert "1 (Innenlands kunder), 2 (Utenlandske kunder)" in _rows(out)["customerClassId"]


async def test_many_values_are_cut_with_a_count_and_json_has_them_all(tmp_path):
    demo = demo_company()
    records = {name: list(rows) for name, rows in demo.records.items()}
    records["items"] += [{"inventoryNumber": f"V{n:03d}", "description": f"Vare {n}", "status": "Active"}
                         for n in range(30)]
    path = _company_file(tmp_path, Company.of("Mange varer AS", records))
    code, out, err = await run_cli("columns", "invoice", "--company", path)
    assert code == 0, err
    line = _rows(out)["line.inventoryNumber"]
    sellable = sum(1 for r in records["items"] if r.get("status") in ("Active", "NoPurchases"))
    assert "items of Mange varer AS:" in line and f"… and {sellable - 10} more ({sellable} in all)" in line
    assert line.count("(Vare ") <= 10

    code, out, err = await run_cli("columns", "invoice", "--company", path, "--format", "json")
    assert code == 0, err
    data = {item["name"]: item for item in orjson.loads(out)}
    items = data["line.inventoryNumber"]["company"]
    assert items["kind"] == "items" and items["count"] == sellable and len(items["values"]) == sellable
    assert {"id": "SYLT", "description": "Jordbærsyltetøy"} in items["values"]
    assert "company" not in data["line.quantity"]


async def test_a_company_file_that_cannot_be_read_is_named(tmp_path):
    bad = tmp_path / "company.json"
    bad.write_text("{not json", encoding="utf-8")
    code, out, err = await run_cli("columns", "invoice", "--company", str(bad))
    assert code == 2 and out == ""
    assert "company file" in err and "company.json" in err and "not JSON" in err and "Traceback" not in err
