"""``reconcile --per-customer`` in flat memory: both sides' documents wait on disk, not in lists.

The sandbox holds released invoices (copies of one it stored, in its state file) for four
customers, so the rows stay four while the documents grow tenfold; every 97th the ledger holds
with more work on it than the file says, and the file has one the ledger lacks. Memory is
what ``tracemalloc`` sees allocated at the peak of the reconcile alone (the sandbox that
answers it runs in a process of its own).
"""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.company import read_company
from importer.ledger.receivables import Receivables, reconcile_receivables
from tests.support.copies import copy_stored
from tests.support.receivables import call
from tests.support.runs import TOKEN

ROOT = Path(__file__).resolve().parents[2]
HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
EVERY = 97


def _customer(n: int) -> str:
    return f"C{n % 4}"


async def _ledger(start_sandbox, folder: Path, count: int) -> Path:
    """A state file of ``count`` released invoices INV-1..: one imported, the rest copies of it."""
    folder.mkdir()
    state = folder / "ledger.db"
    (folder / "c.csv").write_text("number,name,customerClassId\n" + "".join(f"C{n},Kunde {n},1\n" for n in range(4)),
                                  encoding="utf-8")
    (folder / "t.csv").write_text(HEADER + "INV-1,C1,2024-01-31,Arbeid,2,950.50\n", encoding="utf-8")
    async with start_sandbox(state_path=str(state)) as sandbox:
        for name, entity in (("c.csv", "customer"), ("t.csv", "invoice")):
            done = await importer.import_records(folder / name, entity=entity, base_url=sandbox.url, token=TOKEN)
            assert done.ok, done.to_dict()
        status, answer = await call(sandbox, "POST", "/v1/customerinvoice/INV-1/action/release")
        assert status == 200, answer

    def change(key: str, record: dict[str, Any]) -> None:
        n = int(key.split("-")[1])
        record["customerNumber"] = _customer(n)
        if n % EVERY == 7:
            record["invoiceLines"][0]["quantity"] = 3

    copy_stored(state, "invoice", "INV-1", (f"INV-{n}" for n in range(2, count + 1)), change)
    source = folder / "invoices.csv"
    with source.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in range(1, count + 1):
            f.write(f"INV-{n},{_customer(n) if n > 1 else 'C1'},2024-01-31,Arbeid,2,950.50\n")
        f.write("INV-NONE,C2,2024-01-31,Arbeid,2,950.50\n")  # not in the ledger
    return state


@asynccontextmanager
async def _sandbox_process(state: Path) -> AsyncIterator[str]:
    """A sandbox in a process of its own, so that tracemalloc sees the reconcile alone; its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer.sandbox", "--port", "0", "--state", str(state), "--max-page-size", "250",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=str(ROOT))
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert first.startswith("Sandbox listening on "), first
        yield first.removeprefix("Sandbox listening on ").strip()
    finally:
        proc.terminate()
        await proc.wait()


async def _reconcile(start_sandbox, folder: Path, count: int) -> tuple[int, Receivables]:
    state = await _ledger(start_sandbox, folder, count)
    async with _sandbox_process(state) as url:
        async with ApiClient(url, StaticToken(TOKEN)) as client:
            await client.authenticate()
            company = (await read_company(client)).company
            tracemalloc.start()
            try:
                result = await reconcile_receivables(client, [("invoice", folder / "invoices.csv")], company)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    return peak, result


@pytest.mark.parametrize("profile", ["standard"])
async def test_per_customer_keeps_the_documents_on_disk(start_sandbox, tmp_path):
    peaks = {}
    for count in (200, 2000):
        peak, result = await _reconcile(start_sandbox, tmp_path / str(count), count)
        peaks[count] = peak
        changed = [n for n in range(2, count + 1) if n % EVERY == 7]
        assert result.problems == [] and len(result.rows) == 4
        assert result.counts == {"invoice": {"file": count + 1, "ledger": count}}
        kinds = [(d["kind"], d["key"]) for d in result.differences()]
        assert sorted(kinds) == sorted([("different", f"INV-{n}") for n in changed] + [("missing", "INV-NONE")])
        net = {c: o.ledger_net - o.file_net for (c, _), o in result.rows.items()}
        assert sum(net.values()) == Decimal("950.50") * (len(changed) - 2)  # an hour more each, less INV-NONE
        assert result.open_items == []  # every one released
    # Before: every document's payload, figures and ledger item in lists, some 3 KB a document.
    assert peaks[2000] - peaks[200] < 2 * 1024 * 1024, peaks  # the old code: some 5 MB more
