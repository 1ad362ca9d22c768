"""export for a consultant: the ledger's totals, amounts with their currency's decimals, the
output folder made, the file imported again as it is; pages read one ahead, each once.

Against the sandbox on a real loopback socket (the demo company computes VAT for class-1
customers); where a test must see or spoil each page's request, a small proxy of its own
on another loopback port forwards to the sandbox and records every ``pageNumber``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.export import export_records
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import TOKEN, get_json, run_cli
from tests.support.stored import stored_records

CUSTOMERS = """\
number,name,customerClassId
10000,Fjord AS,1
10001,Ærlig Rørlegger,2
"""

INVOICES = """\
referenceNumber,customerNumber,documentDate,financialPeriod,invoiceText,currencyId,line.inventoryNumber,line.description,line.quantity,line.unitPriceInCurrency,line.vatCodeId
INV-1,10000,2020-01-27,202001,Poteter,NOK,222,Poteter,100,12.5,3
INV-2,10000,2020-02-03,202002,Rør,NOK,TIME,Arbeid,2,625,3
INV-2,10000,2020-02-03,202002,Rør,NOK,MAT,Rør,1,0.1,3
INV-3,10001,2020-02-10,202002,Syltetøy,NOK,SYLT,Syltetøy,3,33.3,3
"""

TOTALS = ("amount", "balance", "vatTotal")


async def _load(sb: Any, tmp_path: Path, invoices: str = INVOICES) -> None:
    for entity, text in (("customer", CUSTOMERS), ("invoice", invoices)):
        path = tmp_path / f"in-{entity}.csv"
        path.write_text(text, encoding="utf-8")
        done = await importer.import_records(path, entity=entity, base_url=sb.url, token=TOKEN,
                                             results=tmp_path / f"in-{entity}.results.ndjson")
        assert done.ok, done.to_dict()


def _rows(path: Path, delimiter: str) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _two_decimals(value: float, comma: bool) -> str:
    text = f"{Decimal(repr(value)):.2f}"
    return text.replace(".", ",") if comma else text


async def test_totals_and_amounts_with_two_decimals_in_both_conventions(sandbox, tmp_path):
    await _load(sandbox, tmp_path)
    ledger = {d["referenceNumber"]: d for d in await get_json(f"{sandbox.url}/v1/customerinvoice")}  # type: ignore[union-attr]
    assert ledger["INV-1"]["vatTotal"] > 0  # class 1: the company worked out VAT
    kept = tmp_path / "out" / "notes.txt"
    kept.parent.mkdir()
    kept.write_text("mine", encoding="utf-8")
    plain, excel = tmp_path / "out" / "2020" / "q1" / "invoices.csv", tmp_path / "new" / "invoices.xl.csv"
    async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
        first = await export_records(client, "invoice", plain)
        second = await export_records(client, "invoice", excel, excel=True)
    assert first.ok and second.ok and first.rows == second.rows == 4
    # The folders were made; what was there already is as it was, and nothing else is left.
    assert kept.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["2020", "invoices.csv", "notes.txt", "q1"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["invoices.xl.csv"]

    for path, delimiter, comma in ((plain, ",", False), (excel, ";", True)):
        rows = _rows(path, delimiter)
        assert [r["referenceNumber"] for r in rows] == ["INV-1", "INV-2", "INV-2", "INV-3"]
        for row in rows:
            answered = ledger[row["referenceNumber"]]
            for name in TOTALS:
                assert row[name] == _two_decimals(answered[name], comma), (path.name, row["referenceNumber"], name)
            assert row["status"] == answered["status"]
        # Unit prices are amounts too: 12.5 and 625 come out as the currency writes them.
        assert [r["line.unitPriceInCurrency"] for r in rows] == [
            _two_decimals(v, comma) for v in (12.5, 625, 0.1, 33.3)]
        assert rows[0]["line.quantity"] == "100"  # a quantity is no amount: as it is
    inv1 = _rows(plain, ",")[0]
    assert Decimal(inv1["amount"]) == Decimal(inv1["vatTotal"]) + Decimal("1250.00")  # 100 × 12.5 and its VAT


async def test_an_exported_file_imports_again_as_the_same_records(start_sandbox, tmp_path):
    async with start_sandbox() as source, start_sandbox() as fresh:
        await _load(source, tmp_path)
        files = {"customer": tmp_path / "export" / "customers.csv", "invoice": tmp_path / "export" / "invoices.xl.csv"}
        for entity, path in files.items():
            code, out, err = await run_cli("export", "--entity", entity, "-o", str(path), *(
                ("--excel",) if entity == "invoice" else ()), "--base-url", source.url, "--token", TOKEN)
            assert code == 0, (out, err)
        assert "vatTotal" in files["invoice"].read_text(encoding="utf-8-sig").splitlines()[0]
        for entity, path in files.items():
            results = tmp_path / f"again-{entity}.ndjson"
            code, out, err = await run_cli("run", str(path), "--entity", entity, "--results", str(results),
                                           "--base-url", fresh.url, "--token", TOKEN)
            assert code == 0, (entity, out, err)
            assert "Traceback" not in err
            assert await stored_records(fresh, entity) == await stored_records(source, entity)
        # The ledger worked the totals out again from the lines: the same as the source's.
        again = {d["referenceNumber"]: d for d in await get_json(f"{fresh.url}/v1/customerinvoice")}  # type: ignore[union-attr]
        before = {d["referenceNumber"]: d for d in await get_json(f"{source.url}/v1/customerinvoice")}  # type: ignore[union-attr]
        assert {k: [d[n] for n in (*TOTALS, "status")] for k, d in again.items()} == {
            k: [d[n] for n in (*TOTALS, "status")] for k, d in before.items()}


# -- pages read one ahead ------------------------------------------------------------------


class PageProxy:
    """Forwards every request to the sandbox and records each list GET's ``pageNumber``;
    ``fail(page)`` says which page to answer 403 instead (a failure no retry mends)."""

    def __init__(self, target: str, fail: Callable[[int], bool] = lambda page: False) -> None:
        self.target, self.fail = target, fail
        self.pages: list[int] = []
        self.url = ""

    async def forward(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        if "pageNumber" in request.query:
            page = int(request.query["pageNumber"])
            self.pages.append(page)
            if self.fail(page):
                return web.json_response({"message": f"page {page} is not yours"}, status=403)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                self.target + request.rel_url.raw_path_qs, headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type="application/json")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[PageProxy]:
        async with hostile({"GET /v1/*": self.forward}) as server:
            self.url = server.url
            yield self


def _many(count: int) -> str:
    head, rows = INVOICES.splitlines()[0], []
    for n in range(1, count + 1):
        rows.append(f"P-{n},10000,2020-02-03,202002,Side {n},NOK,TIME,Arbeid,1,{n}00,3")
    return "\n".join([head, *rows]) + "\n"


@pytest.mark.parametrize("profile", ["standard"])  # paging by the metadata's maxPageSize and totalCount
async def test_every_page_is_asked_for_once(start_sandbox, tmp_path):
    async with start_sandbox(max_page_size=3) as sb:
        await _load(sb, tmp_path, _many(11))
        before = (await get_json(f"{sb.url}/sandbox/stats"))["requests"]  # type: ignore[index]
        async with PageProxy(sb.url).running() as proxy, ApiClient(proxy.url, StaticToken(TOKEN)) as client:
            summary = await export_records(client, "invoice", tmp_path / "all" / "p.csv")
        after = (await get_json(f"{sb.url}/sandbox/stats"))["requests"]  # type: ignore[index]
    assert summary.ok and (summary.records, summary.pages) == (11, 4)
    assert proxy.pages == [1, 2, 3, 4] and after - before == 4  # each page once, in order, none more
    rows = _rows(tmp_path / "all" / "p.csv", ",")
    assert [r["referenceNumber"] for r in rows] == [f"P-{n}" for n in range(1, 12)]
    assert rows[10]["line.unitPriceInCurrency"] == "1100.00"


@pytest.mark.parametrize("profile", ["standard"])
async def test_a_page_that_fails_mid_way_stops_the_export_with_only_a_partial_file(start_sandbox, tmp_path):
    async with start_sandbox(max_page_size=3) as sb:
        await _load(sb, tmp_path, _many(11))
        async with PageProxy(sb.url, fail=lambda page: page == 3).running() as proxy, \
                ApiClient(proxy.url, StaticToken(TOKEN)) as client:
            out = tmp_path / "stop" / "p.csv"
            summary = await export_records(client, "invoice", out)
    assert not summary.ok and summary.error and "page 3" in summary.error and "403" in summary.error
    assert proxy.pages == [1, 2, 3]  # nothing asked for after the page that failed
    assert not out.exists() and summary.partial_path == str(out) + ".partial"
    # What came before the failure is in the partial file, whole: two pages of three.
    assert [r["referenceNumber"] for r in _rows(Path(summary.partial_path), ",")] == [f"P-{n}" for n in range(1, 7)]
    assert summary.records == 6 and TOKEN not in summary.error
