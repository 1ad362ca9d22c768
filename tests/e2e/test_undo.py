"""``importer undo`` on the command line: killed (kill -9) with DELETEs the sandbox carried out
but whose answers never came, then run again: every document deleted once, never a second
DELETE, one final line per record; a released document listed and left as it was."""

from __future__ import annotations

import asyncio
import sys

import pytest

import importer
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, run_cli
from tests.support.stored import stored_records

pytestmark = pytest.mark.one_profile

COUNT = 8
INVOICES = ("referenceNumber,customerNumber,documentDate,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
            + "".join(f"INV-{i},10000,2026-01-05,222,{i},10\n" for i in range(1, COUNT + 1)))


def _a_delete_answered(method: str, path: str, status: int) -> bool:
    return method == "DELETE" and status == 204


async def test_undo_killed_then_run_again_deletes_each_document_once(sandbox, tmp_path):
    await importer.import_records([{"number": "10000", "name": "Fjord AS"}], entity="customer",
                                  base_url=sandbox.url, token=TOKEN, results=str(tmp_path / "c.results.ndjson"))
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    summary = await importer.import_records(path, entity="invoice", base_url=sandbox.url, token=TOKEN)
    assert summary.exit_code == 0
    late = tmp_path / "late.csv"
    late.write_text("referenceNumber,customerNumber,documentDate\nLATE,10000,2026-01-06\n", encoding="utf-8")
    assert (await importer.import_records(late, entity="invoice", base_url=sandbox.url, token=TOKEN,
                                          release=True)).exit_code == 0
    released = (await stored_records(sandbox, "invoice"))["LATE"]
    results = f"{path}.results.ndjson"
    undo = tmp_path / "invoices.csv.undo.ndjson"

    async with proxied(sandbox.url, hold=_a_delete_answered) as proxy:
        args = ["undo", results, f"{late}.results.ndjson", "--yes", "-c", "3",
                "--base-url", proxy.url, "--token", TOKEN]
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "importer", *args,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            await proxy.wait_held(3)  # three documents deleted in the ledger, the answers not yet heard
        finally:
            proc.kill()
            await proc.wait()
        proxy.hold = None
        proxy.let_go()
        assert len(await stored_records(sandbox, "invoice")) == COUNT + 1 - 3
        code, out, err = await run_cli(*args)
        assert code == 0, (out, err)
        for i in range(1, COUNT + 1):
            assert proxy.server.count("DELETE", f"/v1/customerinvoice/INV-{i}") == 1, i
        assert proxy.server.count("DELETE", "/v1/customerinvoice/LATE") == 0
    assert await stored_records(sandbox, "invoice") == {"LATE": released}  # listed, and left as it was
    assert "released: left" in out and "credit note to make" in out
    finals = assert_one_final_line_per_record(undo, COUNT)
    assert {(line["outcome"], line["undo"]) for line in finals} == {("done", "deleted")}
    assert sum(line["recovered"] for line in finals) == 3  # found gone on the second run: not sent again
    (line,) = final_lines(f"{late}.undo.ndjson")
    assert (line["outcome"], line["undo"], line["key"]) == ("skipped", "released", "LATE")
