"""``undo`` against the sandbox, in process: a run, then undo leaving the ledger as before; what
undo may not delete (released, changed since, debit notes) listed and left as it was; a
second undo sends nothing again; a DELETE refused of a document being released.

The released documents' test runs on the live profile as well: there a release is queued, and
the document reads as it was until the release is done."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

import importer
from importer.api import build_client
from importer.cli.undo import runs_to_undo
from importer.options import ImportOptions
from importer.plans.plan import load_plan, run_plan
from importer.undo import undo_results
from importer.undo.plan import read_targets
from tests.support.hostile_server import error, hostile, json_answer, sequence
from tests.support.runs import TOKEN, read_lines
from tests.support.sandbox_api import w
from tests.support.stored import stored_records

INVOICES = ("referenceNumber,customerNumber,documentDate,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
            "INV-1,K1,2026-01-05,222,2,10\nINV-1,K1,2026-01-05,222,1,5\nINV-2,K2,2026-01-06,222,3,10\n"
            "INV-3,K2,2026-01-07,222,1,10\nINV-4,K3,2026-01-08,222,1,99.5\n")
CREDIT_NOTES = ("referenceNumber,customerNumber,documentDate,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
                "CN-1,K1,2026-01-09,222,1,10\nCN-2,K3,2026-01-09,222,1,20\n")


async def _load(url: str, tmp_path: Path) -> dict[str, Path]:
    """Customers K1..K3, four invoices, two credit notes and a debit note, each with its results file."""
    results = {}
    customers = [{"number": f"K{i}", "name": f"Kunde {i}"} for i in (1, 2, 3)]
    results["customer"] = tmp_path / "customers.results.ndjson"
    await importer.import_records(customers, entity="customer", base_url=url, token=TOKEN,
                                  results=str(results["customer"]))
    for entity, name, text in (("invoice", "invoices.csv", INVOICES), ("credit-note", "credit.csv", CREDIT_NOTES),
                               ("debit-note", "debit.csv", CREDIT_NOTES.replace("CN-", "DN-"))):
        (tmp_path / name).write_text(text, encoding="utf-8")
        summary = await importer.import_records(tmp_path / name, entity=entity, base_url=url, token=TOKEN)
        assert summary.exit_code == 0, summary.outcomes
        results[entity] = tmp_path / f"{name}.results.ndjson"
    return results


def _client(url: str) -> Any:
    return build_client(ImportOptions(entity="invoice", base_url=url, token=TOKEN))


async def _undo(url: str, results: Path, **kw: Any) -> Any:
    async with _client(url) as client:
        return await undo_results(client, str(results), **kw)


def _last_words(path: Path) -> dict[str, dict[str, Any]]:
    finals = [line for line in read_lines(path) if line["outcome"] != "started"]
    counted = Counter(r for line in finals for r in line["records"])
    assert set(counted.values()) == {1}, "each record needs exactly one final line"
    return {line["key"]: line for line in finals}


@pytest.mark.one_profile
async def test_a_run_then_undo_leaves_the_ledger_as_before(sandbox, tmp_path):
    results = await _load(sandbox.url, tmp_path)
    written = {entity: path.read_bytes() for entity, path in results.items()}
    for entity in ("credit-note", "invoice", "customer"):  # the last run first
        summary = await _undo(sandbox.url, results[entity], yes=True, inactivate_customers=True)
        assert summary.exit_code == 0
    assert await stored_records(sandbox, "invoice") == {}
    assert await stored_records(sandbox, "credit-note") == {}
    customers = await stored_records(sandbox, "customer")
    assert {number: c["status"] for number, c in customers.items()} == {"K1": "Inactive", "K2": "Inactive",
                                                                        "K3": "Inactive"}
    assert sorted(await stored_records(sandbox, "debit-note")) == ["DN-1", "DN-2"]  # the API deletes none
    words = _last_words(tmp_path / "invoices.csv.undo.ndjson")
    assert {k: (line["outcome"], line["undo"]) for k, line in words.items()} == {
        f"INV-{i}": ("done", "deleted") for i in range(1, 5)}
    assert words["INV-1"]["records"] == [1, 2] and words["INV-1"]["request"] == "DELETE /v1/customerinvoice/INV-1"
    assert {entity: path.read_bytes() for entity, path in results.items()} == written  # the imports' own files


async def test_released_and_changed_documents_are_listed_and_left_as_they_are(sandbox, tmp_path):
    results = await _load(sandbox.url, tmp_path)
    async with _client(sandbox.url) as client:
        assert (await client.request("POST", "/v1/customerinvoice/INV-2/action/release")).response.status == 200
        with anyio.fail_after(5):  # the live profile's release is queued: done a moment later
            while (await stored_records(sandbox, "invoice"))["INV-2"]["status"] != "Open":
                await anyio.sleep(0.02)
        changed = orjson.dumps({"documentDate": w("2026-02-01")})
        assert (await client.request("PUT", "/v1/customerinvoice/INV-3", changed)).response.status == 204
    before = await stored_records(sandbox, "invoice")

    dry = await _undo(sandbox.url, results["invoice"], yes=False)
    assert await stored_records(sandbox, "invoice") == before  # a dry run changes nothing
    assert dry.counts == Counter({"delete": 2, "released": 1, "different": 1})
    assert [item["request"] for item in dry.planned] == ["DELETE /v1/customerinvoice/INV-1",
                                                         "DELETE /v1/customerinvoice/INV-4"]
    planned = _last_words(tmp_path / "invoices.csv.undo.dry-run.ndjson")
    assert planned["INV-1"]["outcome"] == "valid" and planned["INV-2"]["undo"] == "released"

    summary = await _undo(sandbox.url, results["invoice"], yes=True)
    after = await stored_records(sandbox, "invoice")
    assert sorted(after) == ["INV-2", "INV-3"] and after == {k: before[k] for k in ("INV-2", "INV-3")}
    left = {item["key"]: item for item in summary.left}
    assert "credit note to make" in left["INV-2"]["remedy"]
    assert "documentDate '2026-02-01', sent '2026-01-07'" in left["INV-3"]["error"]

    debit = await _undo(sandbox.url, results["debit-note"], yes=True)
    assert debit.counts == Counter({"left": 2}) and debit.calls == 0
    customers = await _undo(sandbox.url, results["customer"], yes=True)  # without --inactivate-customers
    assert customers.counts == Counter({"left": 3}) and customers.calls == 0
    assert "--inactivate-customers" in customers.left[0]["remedy"]
    assert {c["status"] for c in (await stored_records(sandbox, "customer")).values()} == {"Active"}

    again = await _undo(sandbox.url, results["invoice"], yes=True)  # nothing is sent twice
    assert again.earlier == 2 and again.counts == Counter({"released": 1, "different": 1})
    assert sorted(await stored_records(sandbox, "invoice")) == ["INV-2", "INV-3"]
    _last_words(tmp_path / "invoices.csv.undo.ndjson")  # still one final line per record


@pytest.mark.one_profile
async def test_a_document_the_ledger_holds_otherwise_is_not_deleted(sandbox, tmp_path):
    """Deleted and made again under the same number by someone else: another reference, not ours."""
    results = await _load(sandbox.url, tmp_path)
    async with _client(sandbox.url) as client:
        assert (await client.request("DELETE", "/v1/customerCreditNote/CN-2")).response.status == 204
        body = orjson.dumps({"referenceNumber": w("CN-2"), "customerNumber": w("K3"), "documentDate": w("2026-01-09"),
                             "lines": [{"inventoryNumber": w("222"), "quantity": w(1), "unitPriceInCurrency": w(20)}]})
        assert (await client.request("POST", "/v1/customerCreditNote", body)).response.status == 201
    summary = await _undo(sandbox.url, results["credit-note"], yes=True)
    assert summary.counts == Counter({"deleted": 1, "different": 1})
    assert "externalReference" in summary.left[0]["error"]
    assert sorted(await stored_records(sandbox, "credit-note")) == ["CN-2"]


@pytest.mark.one_profile
def test_the_import_records_what_each_document_was_sent_as(tmp_path):
    """What undo checks the ledger by is in the import's results lines (written by a real run above)."""
    path = tmp_path / "r.ndjson"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in [
        {"records": [1], "entity": "invoice", "identity": "key:A", "fingerprint": "f", "key": "A",
         "action": "create", "outcome": "created", "reference": "imp-x",
         "sent": {"customer": "K1", "date": "2026-01-05", "lines": 1, "amount": "10.00"}},
        {"records": [2], "entity": "invoice", "identity": "key:B", "fingerprint": "g", "key": "B",
         "action": "create", "outcome": "failed"},
    ]))
    (target,) = read_targets(path)
    assert (target.key, target.reference, target.sent["amount"], target.created) == ("A", "imp-x", "10.00", True)


@pytest.mark.one_profile
async def test_a_plan_is_undone_last_step_first(sandbox, tmp_path):
    (tmp_path / "customers.csv").write_text("number,name\nC1,En\nC2,To\n", encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICES.replace("K1", "C1").replace("K2", "C2").replace("K3", "C2"),
                                           encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\nname = "customers"\ninput = "customers.csv"\nentity = "customer"\n\n'
                    '[[step]]\nname = "invoices"\ninput = "invoices.csv"\nentity = "invoice"\n', encoding="utf-8")
    out = tmp_path / "out"
    await run_plan(load_plan(plan), overrides={"base_url": sandbox.url, "token": TOKEN}, results_dir=out)
    runs = runs_to_undo([], str(plan), str(out))
    assert runs == [str(out / "invoices.csv.results.ndjson"), str(out / "customers.csv.results.ndjson")]
    assert runs_to_undo([str(out)], None, None) == runs  # the folder: the run that ended last first
    for path in runs:
        await _undo(sandbox.url, Path(path), yes=True, inactivate_customers=True)
    assert await stored_records(sandbox, "invoice") == {}
    assert {c["status"] for c in (await stored_records(sandbox, "customer")).values()} == {"Inactive"}


def _created_invoice(path: Path) -> None:
    path.write_bytes(orjson.dumps({"records": [1], "entity": "invoice", "identity": "key:INV-9", "fingerprint": "f",
                                   "key": "INV-9", "action": "create", "outcome": "created", "reference": "imp-9",
                                   "sent": {"customer": "K1", "date": "2026-01-05", "lines": 1}}) + b"\n")


def _invoice(status: str) -> Any:
    return json_answer({"referenceNumber": "INV-9", "status": status, "externalReference": "imp-9",
                        "customer": {"number": "K1"}, "documentDate": "2026-01-05T00:00:00", "invoiceLines": [{}]})


@pytest.mark.one_profile
@pytest.mark.parametrize(("after", "undo", "said"), [
    ("Open", "released", "released while undo ran (its status is now Open)"),
    ("Balanced", "failed", "it still reads as Balanced: a release the API has queued"),
])
async def test_a_delete_refused_is_looked_up_again(tmp_path, after, undo, said):
    """A document whose release the API had queued reads as unreleased; its DELETE is refused.
    Released by then, it is listed as released; else the failure says to run undo again."""
    results = tmp_path / "i.results.ndjson"
    _created_invoice(results)
    refused = error(400, "Invoice 'INV-9' is released and cannot be deleted.")
    async with hostile({"GET /v1/customerinvoice/INV-9": sequence(_invoice("Balanced"), _invoice(after)),
                        "DELETE /v1/customerinvoice/INV-9": refused}) as server:
        summary = await _undo(server.url, results, yes=True)
        assert server.count("DELETE", "/v1/customerinvoice/INV-9") == 1
        assert server.count("GET", "/v1/customerinvoice/INV-9") == 2
    assert summary.counts == Counter({undo: 1}) and summary.exit_code == (0 if undo == "released" else 1)
    (line,) = _last_words(tmp_path / "i.undo.ndjson").values()
    assert line["undo"] == undo and said in line["error"] and "cannot be deleted" in line["error"]
