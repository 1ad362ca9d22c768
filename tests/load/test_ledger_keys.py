"""What the ledger holds is the truth: references that cannot collide, lookups that prove a
document by its content, and the key the company gave a document used from then on.

Every test asserts on what the server stores: the sandbox's own records, or the documents of a
small server of the test's own that numbers documents itself.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

import importer
from importer.schema import unwrap_value
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

CUSTOMERS = "number,name\n" + "".join(f"K{i},Kunde {i}\n" for i in range(1, 6))
PREFIX = "ORDER-2024-11-LONG-SHARED-PREFIX-" + "X" * 40  # more than any prefix a reference was cut to


def _invoices(path: Path, count: int, *, day: int, key_prefix: str = PREFIX, order_refs: bool = False) -> Path:
    """Auto-numbered invoices (documentKey only); with ``order_refs`` two invoices share each
    externalReference, as an export of two invoices per order writes it."""
    header = "documentKey,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency"
    header += ",externalReference\n" if order_refs else "\n"
    rows = []
    for i in range(1, count + 1):
        row = f"{key_prefix}{i:04d},K{i % 5 + 1},2024-11-{day:02d},Vare {i} dag {day},1,{100 + i}"
        rows.append(row + (f",ORDER-{(i + 1) // 2}\n" if order_refs else "\n"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def _description(doc: dict[str, Any]) -> str:
    [line] = doc["invoiceLines"]
    return str(unwrap_value(line["description"]))


async def _import(sb, path: Path, entity: str, **options: Any):
    options.setdefault("retry_base", 0.01)
    return await importer.import_records(path, entity=entity, base_url=sb.url, token=TOKEN, **options)


async def test_no_invoice_is_lost_or_doubled_under_faults_with_colliding_names(start_sandbox, tmp_path):
    """Keys that share a long prefix, the same file name in two folders, and a file whose own
    externalReference repeats, sent through 15 % faults (some stored before they fail)."""
    async with start_sandbox(fault_rate=0.15) as sb:
        (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
        assert (await _import(sb, tmp_path / "customers.csv", "customer")).ok
        files = [
            _invoices(tmp_path / "jan" / "invoices.csv", 60, day=1),
            _invoices(tmp_path / "feb" / "invoices.csv", 60, day=2),  # same name, same keys, next month
            _invoices(tmp_path / "orders.csv", 60, day=3, order_refs=True),
        ]
        for path in files:
            await _import(sb, path, "invoice", concurrency=8, timeout=1)
        stored = await get_json(f"{sb.url}/sandbox/records/invoice")
    by_description = Counter(_description(doc) for doc in stored)
    assert max(by_description.values()) == 1, "an invoice was created twice"
    by_key = {str(doc["referenceNumber"]): doc for doc in stored}
    created, unknown, absent = set(), set(), set()
    for path, day in zip(files, (1, 2, 3), strict=True):
        for line in final_lines(f"{path}.results.ndjson"):
            number = int(line["identity"][-4:])
            description = f"Vare {number} dag {day}"
            if line["outcome"] == "created":  # reported created: it is there, and it is this record
                doc = by_key.get(line["key"])
                assert doc is not None and _description(doc) == description, line
                assert unwrap_value(doc.get("externalReference")) == line["reference"]
                created.add(description)
            else:
                assert line["outcome"] == "failed", line
                (unknown if line["unknown"] else absent).add(description)
    assert len(created) + len(unknown) + len(absent) == 180
    assert len(created) >= 150
    assert not absent & set(by_description)  # a failure that was proved absent is absent
    assert set(by_description) - created <= unknown  # what is stored unreported is honestly unknown
    references = Counter(line["reference"] for path in files[:2] for line in final_lines(f"{path}.results.ndjson"))
    assert max(references.values()) == 1  # same file name, same keys: never the same reference


async def test_a_lookup_never_takes_another_invoice_for_the_one_sent(start_sandbox, tmp_path):
    """Every write stored and then answered 500: each invoice is found again only by a document
    that holds what was sent; two invoices of one order are never taken for one another."""
    async with start_sandbox(fault_rate=1.0, faults=("store-then-fail",)) as sb:
        (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
        await _import(sb, tmp_path / "customers.csv", "customer")
        path = _invoices(tmp_path / "orders.csv", 20, day=3, order_refs=True)
        await _import(sb, path, "invoice", concurrency=4, timeout=5)
        stored = await get_json(f"{sb.url}/sandbox/records/invoice")
    assert Counter(_description(doc) for doc in stored) == Counter(f"Vare {i} dag 3" for i in range(1, 21))
    by_key = {str(doc["referenceNumber"]): doc for doc in stored}
    for line in final_lines(f"{path}.results.ndjson"):
        if line["outcome"] == "created":
            number = int(line["identity"][-4:])
            assert _description(by_key[line["key"]]) == f"Vare {number} dag 3", line
        else:  # two documents carry its order's reference: it cannot be told, and is not sent again
            assert line["outcome"] == "failed" and line["unknown"] is True, line


# -- a company that numbers its own documents ------------------------------------------------------

class NumberingCompany:
    """Invoices numbered by the company: a sent referenceNumber is ignored, Location names its own."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.numbers = itertools.count(900001)
        self.released: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()

    def routes(self) -> dict[str, Any]:
        async def create(request: web.Request, server: HostileServer) -> web.StreamResponse:
            body = orjson.loads(await request.read())
            number = str(next(self.numbers))
            lines = [{k: unwrap_value(v) for k, v in line.items() if k != "operation"} | {"lineNumber": n}
                     for n, line in enumerate(body.pop("invoiceLines", []), 1)]
            doc = {k: unwrap_value(v) for k, v in body.items()}
            customer = doc.pop("customerNumber", None)
            doc.update(referenceNumber=number, customer={"number": customer}, status="Balanced", invoiceLines=lines)
            self.documents[number] = doc
            return web.Response(status=201, headers={"Location": f"{server.url}/v1/customerinvoice/{number}"})

        async def item(request: web.Request, server: HostileServer) -> web.StreamResponse:
            path = request.rel_url.path
            self.paths[f"{request.method} {path}"] += 1
            parts = path.split("/")
            number = parts[3]
            doc = self.documents.get(number)
            if doc is None:
                return web.json_response({"message": f"Invoice {number} not found"}, status=404)
            if request.method == "PUT":
                body = orjson.loads(await request.read())
                doc.update({k: unwrap_value(v) for k, v in body.items() if k != "invoiceLines"})
                return web.Response(status=204)
            if len(parts) > 4:  # /action/release
                self.released[number] += 1
                doc["status"] = "Open"
                return web.json_response({"actionId": "a1", "actionResult": "Done"})
            return web.json_response(doc)

        return {"POST /v2/customerinvoice": create, "* /v1/customerinvoice/*": item}


async def test_the_companys_own_numbers_are_the_records_keys(tmp_path):
    company = NumberingCompany()
    path = tmp_path / "invoices.csv"
    path.write_text("referenceNumber,customerNumber,documentDate,line.description,line.quantity,"
                    "line.unitPriceInCurrency\n" + "".join(
                        f"INV-{i},K1,2024-11-0{i},Vare {i},1,{i}00\n" for i in range(1, 6)), encoding="utf-8")
    async with hostile(company.routes()) as server:
        code, out, err = await run_cli("run", str(path), "-e", "invoice", "--base-url", server.url,
                                       "--token", TOKEN, "--release")
        assert code == 0, out + err
        assert "renumbered" in out + err
        lines = final_lines(f"{path}.results.ndjson")
        # the results name each invoice by the company's number, and keep the file's beside it
        numbered = {line["sent_key"]: line["key"] for line in lines}
        assert sorted(numbered) == [f"INV-{i}" for i in range(1, 6)]
        for sent, key in numbered.items():  # each under the number the company gave that invoice
            assert company.documents[key]["documentDate"] == f"2024-11-0{sent[-1]}"
        assert all(line["release"]["outcome"] == "done" for line in lines)
        # the ledger's documents were released, each once; the file's numbers were never addressed
        assert company.released == Counter({str(900000 + i): 1 for i in range(1, 6)})
        assert not any("INV-" in p for p in company.paths)
        assert {doc["status"] for doc in company.documents.values()} == {"Open"}

        # unreleased ones: verify reads the results file beside the input, and so compares the
        # company's documents; a changed cell sent as an update goes to the company's number
        other = tmp_path / "more.csv"
        other.write_text(path.read_text(encoding="utf-8").replace("INV-", "NEW-"), encoding="utf-8")
        code, out, err = await run_cli("run", str(other), "-e", "invoice", "--base-url", server.url,
                                       "--token", TOKEN)
        assert code == 0, out + err
        code, out, err = await run_cli("verify", str(other), "-e", "invoice", "--base-url", server.url,
                                       "--token", TOKEN, "--strategy", "get")
        assert code == 0, out + err
        report = [orjson.loads(x) for x in Path(f"{other}.verify.ndjson").read_bytes().splitlines()]
        assert sorted(r["key"] for r in report) == [str(900005 + i) for i in range(1, 6)]  # the company's
        assert {r["status"] for r in report} == {"ok"}
        other.write_text(other.read_text(encoding="utf-8").replace("NEW-3,K1,2024-11-03", "NEW-3,K1,2024-11-13"),
                         encoding="utf-8")
        code, out, err = await run_cli("run", str(other), "-e", "invoice", "--base-url", server.url,
                                       "--token", TOKEN, "--resume", "--mode", "update")
        assert code == 0, out + err
        [changed] = [doc for doc in company.documents.values() if doc["documentDate"] == "2024-11-13"]
        assert int(changed["referenceNumber"]) > 900005  # NEW-3, under the company's own number
        assert len(company.documents) == 10 and not any("INV-" in p or "NEW-" in p for p in company.paths)


@pytest.mark.parametrize("refs", [False, True])
async def test_a_dry_run_shows_the_reference_and_the_next_run_draws_another(tmp_path, refs):
    path = _invoices(tmp_path / "invoices.csv", 3, day=1, order_refs=refs)
    runs = []
    for _ in range(2):
        code, out, err = await run_cli("run", str(path), "-e", "invoice", "--dry-run")
        assert code == 0, out + err
        payloads = [line["payload"] for line in final_lines(f"{path}.dry-run.ndjson")]
        runs.append([payload["externalReference"]["value"] for payload in payloads])
    for references in runs:
        if refs:  # the file's own are sent as they are
            assert references == ["ORDER-1", "ORDER-1", "ORDER-2"]
        else:
            assert all(r.startswith("imp-") and len(r) == 20 for r in references) and len(set(references)) == 3
    if not refs:  # a new results file, a new key: no reference of one import names another's document
        assert not set(runs[0]) & set(runs[1])
