"""``verify --strategy auto`` on small inputs: the listing when it costs fewer calls than GETs by key.

Each case loads customers into the sandbox, then verifies a file against what it stores and
counts the calls the verify made (a static token: every call is a read of the ledger).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.verify import verify_records
from tests.support.runs import TOKEN, read_lines
from tests.support.stored import stored_records

pytestmark = pytest.mark.parametrize("profile", ["standard"])


def _customers(numbers: range, name: str = "Kunde") -> str:
    return "number,name,creditLimit\n" + "".join(f"{n},{name} {n},{n % 7}.5\n" for n in numbers)


async def _load(sb, tmp_path: Path, numbers: range) -> None:
    source = tmp_path / "load.csv"
    source.write_text(_customers(numbers), encoding="utf-8")
    done = await importer.import_records(source, entity="customer", base_url=sb.url, token=TOKEN)
    assert done.ok, done.to_dict()
    assert len(await stored_records(sb, "customer")) == len(numbers)


async def test_nine_records_on_a_one_page_ledger_take_one_list_call(start_sandbox, tmp_path):
    check = tmp_path / "check.csv"
    # Seven as loaded, one with another name, one the ledger does not have.
    check.write_text(_customers(range(500, 507)) + "507,Annet navn,3.5\n508,Finnes ikke,1\n", encoding="utf-8")
    async with start_sandbox() as sb:
        await _load(sb, tmp_path, range(500, 508))
        async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
            auto = await verify_records(client, check, "customer", tmp_path / "auto.ndjson")
            by_key = await verify_records(client, check, "customer", tmp_path / "get.ndjson", strategy="get")
    assert (auto.strategy, auto.calls, auto.list_calls_estimate) == ("list", 1, 1)
    assert by_key.calls == 9
    assert auto.counts == by_key.counts == {"ok": 7, "missing": 1, "different": 1, "invalid": 0, "error": 0}
    report = {line["key"]: line for line in read_lines(tmp_path / "auto.ndjson")}
    assert report["507"]["differences"] == [{"field": "name", "expected": "Annet navn", "actual": "Kunde 507"}]
    assert report["508"]["status"] == "missing"


async def test_a_listing_of_more_pages_than_records_goes_by_key(start_sandbox, tmp_path):
    check = tmp_path / "check.csv"
    check.write_text(_customers(range(626, 630)), encoding="utf-8")  # the last four of 30
    async with start_sandbox(max_page_size=5) as sb:
        await _load(sb, tmp_path, range(600, 630))
        async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
            auto = await verify_records(client, check, "customer", tmp_path / "auto.ndjson")
    # The first page (1 call) says 5 more pages are needed for 4 records: 4 GETs instead.
    assert (auto.strategy, auto.list_calls_estimate, auto.calls) == ("get", 6, 5)
    assert auto.counts["ok"] == 4 and auto.exit_code == 0


async def test_a_listing_of_fewer_pages_than_records_goes_on(start_sandbox, tmp_path):
    check = tmp_path / "check.csv"
    check.write_text(_customers(range(600, 612)) + _customers(range(620, 628)).split("\n", 1)[1], encoding="utf-8")
    async with start_sandbox(max_page_size=10) as sb:
        await _load(sb, tmp_path, range(600, 630))
        async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
            auto = await verify_records(client, check, "customer", tmp_path / "auto.ndjson")
    # 20 records, a listing of 3 pages: the first page finds 10, two more find the rest.
    assert (auto.strategy, auto.list_calls_estimate, auto.calls) == ("list", 3, 3)
    assert auto.counts["ok"] == 20 and auto.exit_code == 0


async def test_one_record_is_one_get(start_sandbox, tmp_path):
    check = tmp_path / "check.csv"
    check.write_text(_customers(range(700, 701)), encoding="utf-8")
    async with start_sandbox() as sb:
        await _load(sb, tmp_path, range(700, 703))
        async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
            auto = await verify_records(client, check, "customer", None)
    assert (auto.strategy, auto.calls, auto.list_calls_estimate) == ("get", 1, None)
    assert auto.counts["ok"] == 1
