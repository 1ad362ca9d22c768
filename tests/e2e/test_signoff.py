"""Receivables per customer, file against ledger, through the CLI against the company sandbox.

Customers, invoices with mixed VAT (25 %, 15 %, 12 %), a credit note and a debit note are
imported; then one invoice's amount is changed with a PUT and another invoice is deleted in
the ledger, and the rest released. ``reconcile --per-customer`` must name exactly those two
documents with their differences, gross and net; an aged-receivables file of what the ledger
now owes reconciles; ``signoff`` writes the HTML and CSVs with the same figures.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from importer.sandbox.server import RunningSandbox
from tests.support.receivables import inputs, migrated
from tests.support.runs import TOKEN, run_cli

pytestmark = pytest.mark.one_profile

async def test_per_customer_names_the_deleted_and_the_changed_invoice(sandbox: RunningSandbox, tmp_path: Path) -> None:
    paths = await migrated(sandbox, tmp_path)
    (ledger,) = sandbox.sandbox.ledgers.values()
    stored = ledger.tables.records["invoice"]
    assert "I3" not in stored and stored["I2"]["invoiceLines"][0]["unitPriceInCurrency"] == 600
    code, out, err = await run_cli("reconcile", "--per-customer", *inputs(paths), "--format", "json",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    result = orjson.loads(out)
    found = {(d["kind"], d["key"]): (d["file_gross"], d["ledger_gross"], d["difference"], d["net_difference"])
             for d in result["differences"]}
    assert found == {("different", "I2"): ("625.00", "750.00", "125.00", "100.00"),
                     ("missing", "I3"): ("896.00", None, "-896.00", "-800.00")}
    rows = {r["customer"]: r for r in result["rows"]}
    assert (rows["C1"]["file_gross"], rows["C1"]["ledger_gross"], rows["C1"]["ledger_balance"]) \
        == ("1980.00", "2105.00", "2105.00")
    assert (rows["C2"]["file_gross"], rows["C2"]["ledger_gross"], rows["C2"]["difference"]) \
        == ("936.00", "40.00", "-896.00")
    (nok,) = result["totals"]
    assert (nok["file_net"], nok["file_vat"], nok["file_gross"], nok["ledger_gross"]) \
        == ("2440.00", "476.00", "2916.00", "2145.00")
    assert result["calls"] > 0 and result["open_items"] == []


async def test_an_aged_receivables_file_reconciles_with_the_ledgers_balances(
        sandbox: RunningSandbox, tmp_path: Path) -> None:
    paths = await migrated(sandbox, tmp_path)
    aged = tmp_path / "aldersfordelt.csv"
    aged.write_text("Kunde;Valuta;Saldo\nC1;NOK;2 105,00\nC2;NOK;40,00\n", encoding="utf-8")
    code, out, err = await run_cli("reconcile", "--per-customer", *inputs(paths), "--aged", str(aged),
                                   "--aged-column", "customer=Kunde", "--aged-column", "currency=Valuta",
                                   "--aged-column", "balance=Saldo", "--format", "json",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    rows = {r["customer"]: r for r in orjson.loads(out)["rows"]}
    assert {c: (r["legacy_balance"], r["ledger_balance"], r["balance_difference"]) for c, r in rows.items()} \
        == {"C1": ("2105.00", "2105.00", "0.00"), "C2": ("40.00", "40.00", "0.00")}, err
    code, out, err = await run_cli("reconcile", "--per-customer", *inputs(paths), "--aged", str(aged),
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 2 and "no column 'customer'" in err and "Traceback" not in err


async def test_signoff_writes_the_figures_and_csvs_that_sum_to_them(sandbox: RunningSandbox, tmp_path: Path) -> None:
    paths = await migrated(sandbox, tmp_path)
    out_file = tmp_path / "new folder" / "signoff.html"
    code, out, err = await run_cli("signoff", *inputs(paths), "--out", str(out_file),
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    page = out_file.read_text(encoding="utf-8")
    assert "<script" not in page and "2916.00" in page and "Not run: no SAF-T input" in page
    for path in paths.values():
        if path.name != "customers.csv":
            assert str(path) in page
    with open(out_file.with_name("signoff.customers.csv"), encoding="utf-8") as f:
        customers = list(csv.DictReader(f))
    assert customers[0]["customer"] == "C2"  # the largest difference first
    assert sum(Decimal(r["file gross"]) for r in customers) == Decimal("2916.00")
    assert sum(Decimal(r["ledger gross"]) for r in customers) == Decimal("2145.00")
    with open(out_file.with_name("signoff.documents.csv"), encoding="utf-8") as f:
        documents = list(csv.DictReader(f))
    assert sorted(d["document"] for d in documents) == ["I2", "I3"]
    assert sum(Decimal(d["difference"]) for d in documents) == Decimal("2145.00") - Decimal("2916.00")
    with open(out_file.with_name("signoff.runs.csv"), encoding="utf-8") as f:
        runs = list(csv.DictReader(f))
    assert {r["entity"] for r in runs} == {"invoice", "credit-note", "debit-note"}
    assert all(len(r["run id"]) == 12 for r in runs)


_V110 = Path(__file__).resolve().parents[3] / "shared" / "saf-t" / "example-financial-v1.10-888888888.xml"


@pytest.mark.skipif(not _V110.is_file(), reason="the published SAF-T examples are not here")
async def test_signoff_holds_a_saft_files_customers_against_its_general_ledger(
        sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The v1.10 example: six customers close at 135,500 and account 1500 at 103,700; the page says
    so, with the account's row, and the CSV beside it holds the same figures."""
    paths = await migrated(sandbox, tmp_path)
    out_file = tmp_path / "signoff.html"
    code, _, err = await run_cli("signoff", *inputs(paths), "--saft", str(_V110), "--out", str(out_file),
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err  # the ledger still differs from the files (see above)
    page = out_file.read_text(encoding="utf-8")
    assert "Not run" not in page and "135,500 NOK" in page and "103,700" in page and "31,800 more" in page
    with open(out_file.with_name("signoff.subledger.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["customers close"], r["account closes"], r["difference"], r["agrees"]) for r in rows] \
        == [("135500.00", "103700.00", "31800.00", "no")]
    assert rows[0]["account"].startswith("1500")
