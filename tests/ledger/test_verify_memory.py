"""``verify`` by listing in flat memory: what waits for its key to come by waits on disk.

The sandbox holds the documents (copies of one it stored, in its state file); the input
names each of them, one the ledger holds otherwise and one it lacks. Memory is what
``tracemalloc`` sees allocated at the peak of the verify alone (the sandbox's store is made
before tracing starts; its pages are traced, and are the same size at any input length).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.verify import VerifySummary, verify_records
from tests.support.copies import copy_stored
from tests.support.runs import TOKEN, read_lines

HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
CHANGED = "INV-7"  # the ledger holds 3 hours of work on it, where the file says 2


def _invoice(key: str) -> str:
    """Four rows: four input records, one document."""
    return (f"{key},10000,2024-01-31,Arbeid,2,950.5\n{key},10000,,Deler,1,100\n"
            f"{key},10000,,Kjøring,1,450\n{key},10000,,Rør og koblinger,4,89.9\n")


def _more_work(key: str, record: dict[str, Any]) -> None:
    if key == CHANGED:
        record["invoiceLines"][0]["quantity"] = 3


async def _ledger(start_sandbox, tmp_path: Path, count: int) -> Path:
    """A state file of ``count`` invoices INV-1..: one imported, the rest copies of it."""
    tmp_path.mkdir()
    state = tmp_path / "ledger.db"
    (tmp_path / "c.csv").write_text("number,name\n10000,Kunde AS\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(HEADER + _invoice("INV-1"), encoding="utf-8")
    async with start_sandbox(company=None, state_path=str(state)) as sandbox:
        for name, entity in (("c.csv", "customer"), ("t.csv", "invoice")):
            done = await importer.import_records(tmp_path / name, entity=entity, base_url=sandbox.url, token=TOKEN)
            assert done.ok, done.to_dict()
    copy_stored(state, "invoice", "INV-1", (f"INV-{n}" for n in range(2, count + 1)), _more_work)
    return state


async def _verify(start_sandbox, tmp_path: Path, count: int) -> tuple[int, VerifySummary, Path]:
    state = await _ledger(start_sandbox, tmp_path, count)
    source = tmp_path / "invoices.csv"
    with source.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in range(1, count + 1):
            f.write(_invoice(f"INV-{n}"))
        f.write(_invoice("INV-NONE"))  # not in the ledger
    report = tmp_path / "invoices.verify.ndjson"
    async with start_sandbox(company=None, state_path=str(state), max_page_size=250) as sandbox:
        async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
            tracemalloc.start()
            try:
                summary = await verify_records(client, source, "invoice", report, strategy="list")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    return peak, summary, report


@pytest.mark.parametrize("profile", ["standard"])
async def test_verify_by_listing_keeps_what_waits_on_disk(start_sandbox, tmp_path):
    peaks = {}
    for count in (250, 2500):  # invoices of four lines: 1,000 and 10,000 records
        peak, summary, report = await _verify(start_sandbox, tmp_path / str(count), count)
        peaks[count] = peak
        assert summary.error is None and summary.strategy == "list"
        assert summary.counts == {"ok": count - 1, "missing": 1, "different": 1, "invalid": 0, "error": 0}
        assert summary.calls == -(-count // 250)  # every page of the listing
        lines = read_lines(report)
        assert len(lines) == count + 1 and {line["key"] for line in lines} == {
            *(f"INV-{n}" for n in range(1, count + 1)), "INV-NONE"}
        changed = next(line for line in lines if line["key"] == CHANGED)
        assert changed["records"] == [25, 26, 27, 28] and changed["differences"] == [
            {"field": "line.quantity", "line": 1, "expected": 2, "actual": 3}]
        assert lines[-1] == {"key": "INV-NONE", "records": [4 * count + n for n in range(1, 5)], "status": "missing"}
    # Before: some 5 KB a waiting invoice (+50 MB from 500 to 10,000 invoices of two lines). What
    # grows now is the sandbox's own index of a listing page (70 bytes a document it holds).
    assert peaks[2500] < 16 * 1024 * 1024, peaks
    assert peaks[2500] - peaks[250] < 3 * 1024 * 1024, peaks
