"""``reconcile`` in flat memory: what waits for the listing waits on disk, and so do the rows.

The sandbox holds the invoices (copies of one it stored, in its state file), spread over a
customer for every four of them, so that 20,000 invoices make 5,000 rows: more than the
rows kept in memory. Every 500th the ledger holds with more work on it than the file says,
and the file has one the ledger lacks. Memory is what ``tracemalloc`` sees allocated at the
peak of the reconcile alone (the sandbox's store is made before tracing starts).

The command line prints the currencies' totals and the first rows that differ with their
count; the CSV (and the JSON) has every row.
"""

from __future__ import annotations

import csv
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.reconcile import SHOWN, Reconciliation, reconcile_totals
from tests.support.copies import copy_stored
from tests.support.runs import TOKEN, get_json, run_cli

HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
PRICE = Decimal("950.50")  # two hours: 1,901.00 an invoice in the file
EVERY = 499  # the ledger holds one invoice of so many with three hours


def _customer(n: int, count: int) -> str:
    return f"C{n % max(count // 4, 1):05d}"


def _differs(n: int, every: int) -> bool:
    return n % every == 7


async def _ledger(start_sandbox, tmp_path: Path, count: int, every: int) -> Path:
    """A state file of ``count`` invoices INV-1..: one imported, the rest copies of it; every
    ``every``-th has three hours of work where the file says two."""
    tmp_path.mkdir()
    state = tmp_path / "ledger.db"
    (tmp_path / "c.csv").write_text("number,name\nC00001,Kunde AS\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(HEADER + f"INV-1,C00001,2024-01-31,Arbeid,2,{PRICE}\n", encoding="utf-8")
    async with start_sandbox(company=None, state_path=str(state)) as sandbox:
        for name, entity in (("c.csv", "customer"), ("t.csv", "invoice")):
            done = await importer.import_records(tmp_path / name, entity=entity, base_url=sandbox.url, token=TOKEN)
            assert done.ok, done.to_dict()

    def change(key: str, record: dict[str, Any]) -> None:
        n = int(key.split("-")[1])
        record["customerNumber"] = _customer(n, count)
        if _differs(n, every):
            record["invoiceLines"][0]["quantity"] = 3

    copy_stored(state, "invoice", "INV-1", (f"INV-{n}" for n in range(2, count + 1)), change)
    return state


def _source(tmp_path: Path, count: int) -> Path:
    source = tmp_path / "invoices.csv"
    with source.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in range(1, count + 1):
            customer = "C00001" if n == 1 else _customer(n, count)
            f.write(f"INV-{n},{customer},2024-01-31,Arbeid,2,{PRICE}\n")
        f.write(f"INV-NONE,C-NONE,2024-01-31,Arbeid,2,{PRICE}\n")  # not in the ledger
    return source


def _changed(count: int, every: int) -> tuple[int, int]:
    """How many invoices the ledger holds otherwise, and how many customers' rows they make differ."""
    changed = [n for n in range(2, count + 1) if _differs(n, every)]
    return len(changed), len({_customer(n, count) for n in changed})


async def _reconcile(start_sandbox, tmp_path: Path, count: int) -> tuple[int, Reconciliation]:
    state = await _ledger(start_sandbox, tmp_path, count, EVERY)
    source = _source(tmp_path, count)
    async with start_sandbox(company=None, state_path=str(state), max_page_size=250) as sandbox:
        async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
            tracemalloc.start()
            try:
                result = await reconcile_totals(client, source, "invoice")
                first, differing = result.differing()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    return peak, result


@pytest.mark.parametrize("profile", ["standard"])
async def test_reconcile_keeps_what_waits_and_its_rows_on_disk(start_sandbox, tmp_path, monkeypatch):
    # Rows past 1,024 go to disk here (4,096 in use), so 6,000 invoices (1,500 customers) take that path.
    monkeypatch.setattr("importer.ledger.reconcile_rows._CACHED", 1024)
    peaks = {}
    for count in (1000, 6000):
        peak, result = await _reconcile(start_sandbox, tmp_path / str(count), count)
        peaks[count] = peak
        changed, customers = _changed(count, EVERY)
        assert result.error is None and result.records == count + 1 and result.invalid_count == 0
        assert result.calls == -(-count // 250)  # every page of the listing, once
        assert len(result.rows) == count // 4 + 1  # a row per customer, and the one of the missing invoice
        first, differing = result.differing()
        assert differing == customers + 1 and len(first) == min(SHOWN, differing)
        assert [m["key"] for m in result.missing] == ["INV-NONE"]
        totals = list(result.totals().values())
        assert sum(t.count_file for t in totals) == count + 1 and sum(t.count_ledger for t in totals) == count
        assert sum(t.sum_file for t in totals) == (count + 1) * 2 * PRICE
        assert sum(t.sum_ledger for t in totals) == count * 2 * PRICE + changed * PRICE
        rows = list(result.sorted_rows())
        assert len(rows) == len(result.rows) and rows == sorted(rows, key=lambda r: (r[0], r[1]))
        assert sum(1 for *_, f in rows if not f.agrees) == differing
        result.close()
    # Before: the file's entries in dicts and a row object per customer, some 0.7 KB a document.
    # What grows now is the sandbox's own index of a listing page (70 bytes a document it holds).
    # The rows kept in memory (1,024 at most here) are the rest of the growth; they do not grow past it.
    assert peaks[6000] < 10 * 1024 * 1024, peaks
    assert peaks[6000] - peaks[1000] < 2 * 1024 * 1024, peaks  # the old code: some 3.5 MB more


@pytest.mark.parametrize("profile", ["standard"])
async def test_the_table_shows_the_first_rows_that_differ_and_the_csv_has_them_all(start_sandbox, tmp_path):
    count = 1200  # 300 customers; every 13th invoice differs: 92 of them, and the missing one's
    state = await _ledger(start_sandbox, tmp_path / "ledger", count, 13)
    source = _source(tmp_path, count)
    out = tmp_path / "totals.csv"
    async with start_sandbox(company=None, state_path=str(state), max_page_size=250) as sandbox:
        conn = ("--base-url", sandbox.url, "--token", TOKEN)
        code, stdout, stderr = await run_cli("reconcile", str(source), "-e", "invoice", "--csv", str(out), *conn)
        listed = await get_json(f"{sandbox.url}/v1/customerinvoice?pageSize=250&pageNumber=1")
        code_json, data, _ = await run_cli("reconcile", str(source), "-e", "invoice", "--format", "json", *conn)
    changed, customers = _changed(count, 13)
    assert customers > SHOWN
    assert code == 1 and "Traceback" not in stderr and TOKEN not in stdout + stderr
    # The first rows that differ, and two totals: the missing invoice names no currency, the ledger NOK.
    assert stdout.count("DIFFERS") == SHOWN + 2
    assert f"customers whose figures differ: {customers + 1:,} of {count // 4 + 1:,}" in stdout
    assert f"the first {SHOWN} shown; every row: {out}" in stdout
    with open(out, encoding="utf-8", newline="") as f:
        rows = [row for row in csv.DictReader(f)]
    assert sum(1 for row in rows if row["level"] == "customer") == count // 4 + 1
    assert sum(1 for row in rows if row["level"] == "customer" and row["agrees"] == "false") == customers + 1
    # The ledger's side of the CSV is what the ledger stores: INV-7 (changed) on its customer's row.
    inv7 = next(doc for doc in listed if doc["referenceNumber"] == "INV-7")
    row7 = next(row for row in rows if row["customer"] == _customer(7, count))
    assert Decimal(row7["sum_ledger"]) - Decimal(row7["sum_file"]) == Decimal(str(inv7["detailTotal"])) - 2 * PRICE
    assert Decimal(row7["difference"]) == PRICE * sum(1 for n in range(2, count + 1)
                                                      if _differs(n, 13) and _customer(n, count) == row7["customer"])
    totals = [row for row in rows if row["level"] == "total"]
    assert sum(Decimal(t["sum_ledger"]) for t in totals) == count * 2 * PRICE + changed * PRICE
    figures = json.loads(data)
    assert code_json == 1 and len(figures["rows"]) == count // 4 + 1 and figures["rows_differing"] == customers + 1
    assert [(r["customer"], r["difference"]) for r in figures["rows"] if not r["agrees"]] == [
        (row["customer"], row["difference"]) for row in rows if row["level"] == "customer" and row["agrees"] == "false"]
