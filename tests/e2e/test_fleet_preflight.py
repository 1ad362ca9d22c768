"""``importer fleet``: each company's preflight on its own, before its own first step sends.

Two companies on one sandbox of the demo company, reached by base URL (live in the importer's
eyes), each signing in for its own tenant: one company's invoice file names a VAT category the
company does not have. Its ledger stays empty (not even its customers go in) and its row says it
was refused and why; the other company's ledger is loaded whole.
"""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from tests.support.runs import assert_one_final_line_per_record, get_json, run_cli

SECRET = "bureau-secret-2b9e"
ENV = {"BUREAU_ID": "bureau", "BUREAU_SECRET": SECRET}
COLUMNS = ["referenceNumber", "customerNumber", "documentDate", "currencyId", "line.inventoryNumber",
           "line.quantity", "line.unitPriceInCurrency", "line.uom", "line.vatCodeId"]
GOOD = {"documentDate": "2020-01-27", "currencyId": "NOK", "line.inventoryNumber": "222", "line.quantity": "2",
        "line.unitPriceInCurrency": "100", "line.uom": "STK", "line.vatCodeId": "3"}


def company(folder: Path, name: str, vat: str) -> str:
    """A company's files (two customers, two invoices; the second invoice with ``vat``) and its table."""
    (folder / name).mkdir()
    (folder / name / "customers.csv").write_text(
        "number,name,creditTermsId,customerClassId,vatZoneId\nK1,Kunde 1,30,1,01\nK2,Kunde 2,30,1,01\n",
        encoding="utf-8")
    with (folder / name / "invoices.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        out.writerow({**GOOD, "referenceNumber": "I1", "customerNumber": "K1"})
        out.writerow({**GOOD, "referenceNumber": "I2", "customerNumber": "K2", "line.vatCodeId": vat})
    return (f'[[company]]\nname = "{name}"\ntenant_id = "t-{name}"\n'
            'client_id_env = "BUREAU_ID"\nclient_secret_env = "BUREAU_SECRET"\n'
            f'[[company.step]]\nname = "customers"\ninput = "{name}/customers.csv"\nentity = "customer"\n'
            f'[[company.step]]\nname = "invoices"\ninput = "{name}/invoices.csv"\nentity = "invoice"\n\n')


async def stored(url: str, entity: str, tenant: str) -> list[str]:
    key = "number" if entity == "customer" else "referenceNumber"
    return sorted(r[key] for r in await get_json(f"{url}/sandbox/records/{entity}?tenant={tenant}"))


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_one_companys_bad_file_stops_only_that_company(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(clients={"bureau": SECRET}) as sandbox:
        manifest = tmp_path / "bureau.toml"
        manifest.write_text(f'[defaults]\nbase_url = "{sandbox.url}"\ntoken_url = "{sandbox.url}/connect/token"\n\n'
                            + company(tmp_path, "north", "3") + company(tmp_path, "south", "25"))
        summary = tmp_path / "fleet.json"
        code, out, err = await run_cli("fleet", str(manifest), "--summary-json", str(summary), env=ENV, timeout=60)
        assert code == 2, (out, err)
        by_name = {c["company"]: c for c in orjson.loads(summary.read_bytes())["companies"]}

        assert by_name["north"]["state"] == "done" and by_name["north"]["exit_code"] == 0, by_name["north"]
        assert await stored(sandbox.url, "customer", "t-north") == ["K1", "K2"]
        assert await stored(sandbox.url, "invoice", "t-north") == ["I1", "I2"]
        assert_one_final_line_per_record(tmp_path / "results" / "north" / "invoices.csv.results.ndjson", 2)

        south = by_name["south"]
        assert south["state"] == "refused" and south["exit_code"] == 2 and south["steps"] == []
        assert "step 'invoices': 1 of 2 records" in south["error"]
        assert "column line.vatCodeId: `25` is not a VAT category of this company" in south["error"]
        assert await stored(sandbox.url, "customer", "t-south") == []  # nothing of it went in
        assert await stored(sandbox.url, "invoice", "t-south") == []
        assert not list((tmp_path / "results" / "south").glob("*.results.ndjson"))
        row = next(line for line in out.splitlines() if line.strip().startswith("south"))
        assert "refused" in row and "south: " in out and "--send-valid" in out
        assert "Traceback" not in err and SECRET not in out + err

        # Told to send the valid records, the refused company loads all but the bad invoice.
        code, out, err = await run_cli("fleet", str(manifest), "--only", "south", "--send-valid", env=ENV)
        assert code == 1, (out, err)
        assert await stored(sandbox.url, "customer", "t-south") == ["K1", "K2"]
        assert await stored(sandbox.url, "invoice", "t-south") == ["I1"]
