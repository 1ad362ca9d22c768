"""A map that ``map init --company`` proposed, used as it is: the sandbox stores the company's ids."""

from __future__ import annotations

import pytest

from importer.company import dump_company
from importer.company.demo import demo_company
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, run_cli

CUSTOMERS = (
    "Kundenr;Navn;Betalingsbet.;Valuta;Kundeklasse\n"
    "5001;Fjord Fisk AS;30 dager netto;NKR;Innenlands kunder\n"
    "5002;Bakeriet Berg;14 dager;kr;Innenlands kunder\n"
    "5003;Kiosken ANS;Kontant;NOK;Innenlands kunder\n"
    "5004;Nordic Trade AB;30 dager netto;Euro;Utenlandske kunder\n"
)
INVOICES = (
    "Fakturanr;Kundenr;Fakturadato;Varenr;Antall;Pris;MVA\n"
    "7001;5001;03.02.2024;Konsulenttime;2;1000,00;25\n"
    "7001;5001;;SYLT;4;50,00;15\n"
    "7002;5002;04.02.2024;222;1;200,00;0\n"
)


@pytest.mark.one_profile
async def test_proposed_value_maps_send_the_companys_ids(start_sandbox, tmp_path):
    company = demo_company()
    company_file = tmp_path / "company.json"
    dump_company(company, company_file)
    maps = {}
    for name, entity, text in (("kunder", "customer", CUSTOMERS), ("fakturaer", "invoice", INVOICES)):
        source = tmp_path / f"{name}.csv"
        source.write_text(text, encoding="utf-8")
        maps[entity] = (source, tmp_path / f"{name}.map.toml")
        code, _, err = await run_cli("map", "init", str(source), "-e", entity, "--company", str(company_file),
                                     "-o", str(maps[entity][1]))
        assert code == 0, err
        assert "TODO" not in err, err  # every value of these files has a place in the company
    async with start_sandbox(company=company) as sandbox:
        for entity, (source, map_file) in maps.items():
            results = tmp_path / f"{entity}.results.ndjson"
            code, _, err = await run_cli("run", str(source), "--map", str(map_file), "--base-url", sandbox.url,
                                         "--token", TOKEN, "--results", str(results))
            assert code == 0, err
            finals = assert_one_final_line_per_record(results, 4 if entity == "customer" else 3)  # rows
            assert {line["outcome"] for line in finals} == {"created"}
        customers = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
        invoices = {i["referenceNumber"]: i for i in await get_json(f"{sandbox.url}/sandbox/records/invoice")}
        read = await get_json(f"{sandbox.url}/v1/customerinvoice/7001")

    assert {n: c["creditTermsId"] for n, c in customers.items()} == {
        "5001": "30", "5002": "14", "5003": "KONTANT", "5004": "30"}
    assert {n: c["currencyId"] for n, c in customers.items()} == {
        "5001": "NOK", "5002": "NOK", "5003": "NOK", "5004": "EUR"}
    assert {n: c["customerClassId"] for n, c in customers.items()} == {
        "5001": "1", "5002": "1", "5003": "1", "5004": "2"}
    lines = {ref: [(line["inventoryNumber"], line["vatCodeId"]) for line in inv["invoiceLines"]]
             for ref, inv in invoices.items()}
    assert lines == {"7001": [("6", "3"), ("SYLT", "31")], "7002": [("222", "5")]}
    # The company works out VAT from those ids: 25 % of 2000 plus 15 % of 200.
    assert isinstance(read, dict) and read["vatTotal"] == 530.0
