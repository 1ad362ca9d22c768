"""An update or upsert of a document leaves the ledger holding the file's lines: changed lines
updated, lines gone from the file deleted, new ones inserted, however often it runs; a released
document is refused before its PUT, and the ledger keeps it as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from importer.load.doclines import match_lines
from tests.support.ledger_proxy import proxied
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

CUSTOMERS = "number,name\n10000,Fjord AS\n"
COLUMNS = "referenceNumber,customerNumber,line.lineNumber,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
CREATED = COLUMNS + (
    "INV-1,10000,,6,1,10\nINV-1,10000,,222,2,20\nINV-1,10000,,SYLT,3,30\n"
    "INV-2,10000,,MAT,1,5\nINV-2,10000,,KJØR,1,6\n"
)
# INV-1: line 2 named and changed, a new item takes line 1 (the first no row names), line 3 goes.
# INV-2: four rows without numbers: lines 1 and 2 updated, two inserted. INV-3: new.
CHANGED = COLUMNS + (
    "INV-1,10000,2,222,7,20\nINV-1,10000,,ESK-L,1,99\n"
    "INV-2,10000,,MAT,2,5\nINV-2,10000,,KJØR,3,6\nINV-2,10000,,FRAKT,4,7\nINV-2,10000,,LEIE,5,8\n"
    "INV-3,10000,,TIME,1,1000\n"
)
WANTED = {  # (inventoryNumber, quantity, unit price) as the changed file has them
    "INV-1": [("222", 7, 20), ("ESK-L", 1, 99)],
    "INV-2": [("MAT", 2, 5), ("KJØR", 3, 6), ("FRAKT", 4, 7), ("LEIE", 5, 8)],
    "INV-3": [("TIME", 1, 1000)],
}


async def _run(base: str, path: Path, results: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--base-url", base, "--token", TOKEN,
                                   "--results", str(results), *args)
    assert "Traceback" not in err, err
    assert code in (0, 1), (out, err)
    return final_lines(results)


async def _customers(base: str, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    code, out, err = await run_cli("run", str(tmp_path / "customers.csv"), "--entity", "customer",
                                   "--base-url", base, "--token", TOKEN)
    assert code == 0, (out, err)


async def _document(base: str, key: str) -> dict[str, Any]:
    """The invoice as the API answers it."""
    document = await get_json(f"{base}/v1/customerinvoice/{key}")
    assert isinstance(document, dict) and document.get("referenceNumber") == key, document
    return document


def _lines(document: dict[str, Any]) -> list[tuple[str, float, float]]:
    return sorted((line["inventoryNumber"], line["quantity"], line["unitPrice"]) for line in document["invoiceLines"])


async def test_an_upsert_run_three_times_leaves_the_files_lines_and_totals(sandbox, tmp_path):
    await _customers(sandbox.url, tmp_path)
    (tmp_path / "created.csv").write_text(CREATED, encoding="utf-8")
    lines = await _run(sandbox.url, tmp_path / "created.csv", tmp_path / "created.results.ndjson")
    assert [line["outcome"] for line in lines] == ["created", "created"]
    (tmp_path / "changed.csv").write_text(CHANGED, encoding="utf-8")
    numbers_after_first: dict[str, list[int]] = {}
    for run in range(3):
        results = await _run(sandbox.url, tmp_path / "changed.csv", tmp_path / f"nightly{run}.ndjson",
                             "--mode", "upsert")
        outcomes = {line["key"]: line["outcome"] for line in results}
        assert outcomes == {"INV-1": "updated", "INV-2": "updated",
                            "INV-3": "created" if run == 0 else "updated"}, results
        for key, wanted in WANTED.items():
            document = await _document(sandbox.url, key)
            assert _lines(document) == sorted(wanted), (run, key, document["invoiceLines"])
            assert document["detailTotal"] == sum(q * p for _, q, p in wanted), (run, key)
            numbers = [line["lineNumber"] for line in document["invoiceLines"]]
            # Lines are updated in place: no run inserts again what an earlier one inserted.
            assert numbers_after_first.setdefault(key, numbers) == numbers, (run, key)
    stored = {r["referenceNumber"]: r for r in await get_json(f"{sandbox.url}/sandbox/records/invoice")}
    assert [line["lineNumber"] for line in stored["INV-1"]["invoiceLines"]] == [1, 2]  # line 3 deleted
    assert [line["lineNumber"] for line in stored["INV-2"]["invoiceLines"]] == [1, 2, 3, 4]


async def test_an_update_reads_the_document_once_and_an_upsert_reuses_its_own_read(sandbox, tmp_path):
    await _customers(sandbox.url, tmp_path)
    (tmp_path / "created.csv").write_text(CREATED, encoding="utf-8")
    await _run(sandbox.url, tmp_path / "created.csv", tmp_path / "created.results.ndjson")
    (tmp_path / "one.csv").write_text(COLUMNS + "INV-2,10000,,MAT,9,5\n", encoding="utf-8")
    async with proxied(sandbox.url) as proxy:
        [line] = await _run(proxy.url, tmp_path / "one.csv", tmp_path / "update.ndjson", "--mode", "update")
        assert line["outcome"] == "updated", line
        assert proxy.server.count("GET", "/v1/customerinvoice/INV-2") == 1
        assert proxy.server.count("PUT", "/v1/customerinvoice/INV-2") == 1
        [line] = await _run(proxy.url, tmp_path / "one.csv", tmp_path / "upsert.ndjson", "--mode", "upsert")
        assert line["outcome"] == "updated", line
        # Upsert asked once whether INV-2 exists (or listed the keys), and the update used that answer.
        assert proxy.server.count("GET", "/v1/customerinvoice/INV-2") == 2
        assert proxy.server.count("PUT", "/v1/customerinvoice/INV-2") == 2
    assert _lines(await _document(sandbox.url, "INV-2")) == [("MAT", 9, 5)]


async def test_an_update_of_a_released_document_is_refused_before_its_put(sandbox, tmp_path):
    await _customers(sandbox.url, tmp_path)
    (tmp_path / "created.csv").write_text(CREATED, encoding="utf-8")
    await _run(sandbox.url, tmp_path / "created.csv", tmp_path / "created.results.ndjson", "--release")
    before = await _document(sandbox.url, "INV-1")
    assert before["status"] == "Open", before
    (tmp_path / "changed.csv").write_text(COLUMNS + "INV-1,10000,,6,5,10\n", encoding="utf-8")
    async with proxied(sandbox.url) as proxy:
        for mode in ("update", "upsert"):
            [line] = await _run(proxy.url, tmp_path / "changed.csv", tmp_path / f"{mode}.ndjson", "--mode", mode)
            assert line["outcome"] == "failed", line
            assert "invoice 'INV-1' is released (status Open)" in line["error"], line
            assert "nothing was sent" in line["error"], line
        assert proxy.server.count("PUT") == 0
    after = await _document(sandbox.url, "INV-1")
    assert after["invoiceLines"] == before["invoiceLines"] and after["detailTotal"] == before["detailTotal"]
    assert after["lastModifiedDateTime"] == before["lastModifiedDateTime"]


async def test_a_released_document_that_already_holds_the_file_is_updated_without_a_put(sandbox, tmp_path):
    await _customers(sandbox.url, tmp_path)
    (tmp_path / "created.csv").write_text(CREATED, encoding="utf-8")
    await _run(sandbox.url, tmp_path / "created.csv", tmp_path / "created.results.ndjson", "--release")
    async with proxied(sandbox.url) as proxy:
        lines = await _run(proxy.url, tmp_path / "created.csv", tmp_path / "again.ndjson", "--mode", "upsert",
                           "--release")
        assert {(line["key"], line["outcome"], line["recovered"], line["release"]["outcome"]) for line in lines} == {
            ("INV-1", "updated", True, "done"), ("INV-2", "updated", True, "done")}, lines
        assert proxy.server.count("PUT") == 0
        assert proxy.server.count("POST") == 0  # not released a second time either
    stored = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert sorted(len(r["invoiceLines"]) for r in stored) == [2, 3]


async def test_a_line_number_the_document_lacks_fails_the_record_by_name(sandbox, tmp_path):
    await _customers(sandbox.url, tmp_path)
    (tmp_path / "created.csv").write_text(CREATED, encoding="utf-8")
    await _run(sandbox.url, tmp_path / "created.csv", tmp_path / "created.results.ndjson")
    (tmp_path / "bad.csv").write_text(COLUMNS + "INV-2,10000,1,MAT,1,5\nINV-2,10000,7,KJØR,1,6\n", encoding="utf-8")
    [line] = await _run(sandbox.url, tmp_path / "bad.csv", tmp_path / "bad.ndjson", "--mode", "update")
    assert line["outcome"] == "failed" and line["records"] == [1, 2], line
    assert line["error"] == ("record 2: lineNumber: invoice 'INV-2' has no line 7 (its lines: 1, 2); "
                             "nothing was sent"), line
    assert _lines(await _document(sandbox.url, "INV-2")) == [("KJØR", 1, 6), ("MAT", 1, 5)]


def test_the_matching_rules():
    held = [{"lineNumber": n} for n in (1, 2, 5)]

    def ops(*lines: dict[str, Any]) -> list[tuple[str, int | None]]:
        out = match_lines(list(lines), held)
        assert isinstance(out, list), out
        return [(line["operation"], (line.get("lineNumber") or {}).get("value")) for line in out]

    numbered = {"lineNumber": {"value": 5}, "quantity": {"value": 1}}
    plain = {"operation": "Insert", "quantity": {"value": 2}}  # the mapper's default for a line without a number
    # Named lines are theirs; unnamed ones take the rest in order; the ledger's leftovers go.
    assert ops(numbered, plain) == [("Update", 5), ("Update", 1), ("Delete", 2)]
    assert ops(plain, plain, plain, plain) == [("Update", 1), ("Update", 2), ("Update", 5), ("Insert", None)]
    # A file that states operations of its own is sent as it says: nothing matched, nothing deleted.
    assert ops({"operation": "Delete", "lineNumber": {"value": 2}}, plain) == [("Delete", 2), ("Insert", None)]
    assert ops({"operation": "Update", "lineNumber": {"value": 1}}) == [("Update", 1)]
    assert match_lines([numbered, numbered], held) == (1, "line 5 is named twice (by the document's lines 1 "
                                                          "and 2 in the file)")
