"""State: SQLite survives a restart; /sandbox/stats, /sandbox/records and /sandbox/reset."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.sandbox_api import Api, customer_body, w


async def test_sqlite_state_survives_a_restart(sandbox_with: Any, tmp_path: Path) -> None:
    state = str(tmp_path / "rehearsal" / "state.db")
    async with sandbox_with(state_path=state) as api:
        await api.call("POST", "/v1/customer", json=customer_body(None))  # 000001
        await api.post_customer("000002")
        await api.post_customer("000002")  # refused duplicate, counted
        body = {"customerNumber": w("000001"), "invoiceLines": [{"description": w("a")}]}
        await api.call("POST", "/v1/customerinvoice", json=body)
        await api.call("PUT", "/v1/customer/000001", json={"corporateId": w("kept")})
        await api.call("POST", "/v1/customer/000001/action/createDunningLetter", json={})
        before = await api.stats()
    async with sandbox_with(state_path=state) as api:
        _, customer, _ = await api.call("GET", "/v1/customer/000001")
        assert customer["corporateId"] == "kept"
        _, invoice, _ = await api.call("GET", "/v1/customerinvoice/000001")
        [line] = invoice["invoiceLines"]
        assert (line["description"], line["lineNumber"]) == ("a", 1)
        assert len(await api.records("dunning-letter")) == 1
        # Sequences continue where they stopped.
        _, _, headers = await api.call("POST", "/v1/customer", json=customer_body(None))
        assert headers["Location"].endswith("/000003")
        _, _, headers = await api.call("POST", "/v1/customerinvoice", json={"customerNumber": w("000001")})
        assert headers["Location"].endswith("/000002")
        after = await api.stats()
        assert after["duplicates_refused"] == 1
        assert after["requests"] == before["requests"] + 4
        assert after["records"]["customer"] == 3
        assert [c["number"] for c in await api.records("customer")] == ["000001", "000002", "000003"]


async def test_writes_reach_the_file_while_running(sandbox_with: Any, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with sandbox_with(state_path=str(state)) as api:
        await api.post_customer("10000")
        await asyncio.sleep(0.2)  # longer than the flush delay
        with sqlite3.connect(state) as db:
            rows = db.execute("SELECT entity, key FROM records").fetchall()
        assert rows == [("customer", "10000")]


async def test_reset_clears_everything(sandbox_with: Any, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    async with sandbox_with(state_path=state) as api:
        await api.post_customer("10000")
        await api.post_customer("10000")
        assert await api.reset() == 204
        stats = await api.stats()
        assert stats["records"]["customer"] == 0 and stats["requests"] == 0
        assert stats["duplicates_refused"] == 0 and stats["by_status"] == {}
        _, _, headers = await api.call("POST", "/v1/customer", json=customer_body(None))
        assert headers["Location"].endswith("/000001")
        assert (await api.call("GET", "/v1/customer"))[0] == 200  # the static token still works
    async with sandbox_with(state_path=state) as api:
        assert [c["number"] for c in await api.records("customer")] == ["000001"]


async def test_stats_document(api: Api) -> None:
    await api.post_customer("10000")
    await api.post_customer("10000")
    await api.call("GET", "/v1/customer/none")
    stats = await api.stats()
    assert stats["records"] == {"customer": 1, "invoice": 0, "credit-note": 0, "debit-note": 0, "dunning-letter": 0}
    assert stats["requests"] == 3 and stats["throttled"] == 0 and stats["duplicates_refused"] == 1
    assert stats["faults"] == {"500": 0, "502": 0, "503": 0, "reset": 0, "slow": 0, "store-then-fail": 0}
    assert stats["by_status"] == {"201": 1, "400": 1, "404": 1}


async def test_records_endpoint(api: Api) -> None:
    await api.post_customer("10000", mainAddress=w({"city": w("Oslo")}))
    (record,) = await api.records("customer")
    assert record["number"] == "10000" and record["mainAddress"] == {"city": "Oslo"}
    assert await api.records("credit-note") == []
    async with api.request("GET", "/sandbox/records/nothing") as r:
        assert r.status == 404


async def test_memory_state_is_not_kept(sandbox_with: Any) -> None:
    async with sandbox_with() as api:
        await api.post_customer("10000")
    async with sandbox_with() as api:
        assert await api.records("customer") == []
