"""Every tenant (company) has a ledger of its own: records, auto-numbers, state file, inspection."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from importer.entities import ENTITIES
from importer.sandbox import SandboxConfig
from importer.sandbox.store import Store
from tests.support.sandbox_api import AUTH, Api, FakeClock, customer_body, running_api, w

ROOT = Path(__file__).resolve().parents[2]
FORM = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret"}
BACKGROUND = {"erp-api-background": "none"}
EMPTY_COUNTS = {"customer": 0, "invoice": 0, "credit-note": 0, "debit-note": 0, "dunning-letter": 0}


async def token(api: Api, tenant: str, client: str = "sandbox", secret: str = "sandbox-secret") -> dict[str, str]:
    """Authorization headers for a fresh token of ``client`` acting for ``tenant``."""
    form = {**FORM, "client_id": client, "client_secret": secret, "tenant_id": tenant}
    async with api.session.post(api.running.token_url, data=form) as r:
        assert r.status == 200
        return {"Authorization": f"Bearer {(await r.json())['access_token']}"}


async def records(api: Api, entity: str, tenant: str | None = None) -> list[dict[str, Any]]:
    """/sandbox/records/{entity}, of every tenant or of one."""
    params = {"tenant": tenant} if tenant is not None else {}
    async with api.session.get(f"{api.url}/sandbox/records/{entity}", params=params, headers=AUTH) as r:
        assert r.status == 200
        return await r.json()


def invoice_body(customer: str) -> dict[str, Any]:
    return {"customerNumber": w(customer), "invoiceLines": [{"description": w("line")}]}


async def test_two_companies_hold_the_same_customer_number(api: Api) -> None:
    a, b = await token(api, "a"), await token(api, "b")
    assert (await api.call("POST", "/v1/customer", json=customer_body("10001", "Alfa AS"), headers=a))[0] == 201
    assert (await api.call("POST", "/v1/customer", json=customer_body("10001", "Beta AS"), headers=b))[0] == 201
    assert (await api.call("POST", "/v1/customer", json=customer_body("20002", "Only B"), headers=b))[0] == 201
    _, alfa, _ = await api.call("GET", "/v1/customer/10001", headers=a)
    _, beta, _ = await api.call("GET", "/v1/customer/10001", headers=b)
    assert (alfa["name"], beta["name"]) == ("Alfa AS", "Beta AS")
    _, listed_a, _ = await api.call("GET", "/v1/customer", headers=a)
    _, listed_b, _ = await api.call("GET", "/v1/customer", headers=b)
    assert [c["name"] for c in listed_a] == ["Alfa AS"]
    assert [c["name"] for c in listed_b] == ["Beta AS", "Only B"]
    assert listed_a[0]["metadata"]["totalCount"] == 1  # the count is the company's too
    assert (await api.call("GET", "/v1/customer/20002", headers=a))[0] == 404
    # A duplicate is still refused within one company.
    assert (await api.call("POST", "/v1/customer", json=customer_body("10001", "Again"), headers=a))[0] == 400
    # A document may name only its own company's customers, and reads their names.
    status, body, _ = await api.call("POST", "/v1/customerinvoice", json=invoice_body("20002"), headers=a)
    assert status == 400 and "20002" in body["ExceptionMessage"]
    assert (await api.call("POST", "/v1/customerinvoice", json=invoice_body("10001"), headers=b))[0] == 201
    _, [invoice], _ = await api.call("GET", "/v1/customerinvoice", headers=b)
    assert invoice["customer"] == {"number": "10001", "name": "Beta AS"}


async def test_auto_numbers_count_per_company(api: Api) -> None:
    a, b = await token(api, "a"), await token(api, "b")
    locations: dict[str, list[str]] = {"a": [], "b": []}
    for name, headers in (("a", a), ("b", b)):
        _, _, created = await api.call("POST", "/v1/customer", json=customer_body(None), headers=headers)
        locations[name].append(created["Location"])
        for _ in range(2 if name == "a" else 1):
            status, _, created = await api.call("POST", "/v1/customerinvoice", json=invoice_body("000001"),
                                                headers=headers)
            assert status == 201
            locations[name].append(created["Location"])
    tails = {name: [loc.rsplit("/", 1)[1] for loc in found] for name, found in locations.items()}
    assert tails == {"a": ["000001", "000001", "000002"], "b": ["000001", "000001"]}


async def test_every_token_of_a_company_sees_its_ledger(sandbox_with: Any) -> None:
    clients = {"sandbox": "sandbox-secret", "other": "other-secret"}
    async with sandbox_with(clients=clients) as api:
        first, second = await token(api, "a"), await token(api, "a")
        other_client = await token(api, "a", "other", "other-secret")
        assert (await api.call("POST", "/v1/customer", json=customer_body("10001"), headers=first))[0] == 201
        for headers in (second, other_client):
            status, found, _ = await api.call("GET", "/v1/customer/10001", headers=headers)
            assert status == 200 and found["number"] == "10001"
        assert (await api.call("POST", "/v1/customer", json=customer_body("10001"), headers=other_client))[0] == 400


async def test_the_static_token_acts_for_the_sandbox_tenant(api: Api) -> None:
    assert await api.post_customer("10001") == 201  # the static token
    assert [c["number"] for c in await records(api, "customer", "sandbox")] == ["10001"]
    same_company = await token(api, "sandbox")
    assert (await api.call("GET", "/v1/customer/10001", headers=same_company))[0] == 200
    assert (await api.call("GET", "/v1/customer/10001", headers=await token(api, "a")))[0] == 404


async def test_windows_are_per_company_and_client(sandbox_with: Any) -> None:
    clients = {"sandbox": "sandbox-secret", "other": "other-secret"}
    async with sandbox_with(rate_limit=1, rate_window=60, clock=FakeClock(), clients=clients) as api:
        a = await token(api, "a")
        assert (await api.call("GET", "/v1/customer", headers=a))[0] == 200
        assert (await api.call("GET", "/v1/customer", headers=a))[0] == 429
        # The same company through another client, and the same client for another company.
        for headers in (await token(api, "a", "other", "other-secret"), await token(api, "b")):
            status, _, answer = await api.call("GET", "/v1/customer", headers=headers)
            assert status == 200 and answer["X-RateLimit-Remaining"] == "0"


async def test_records_route_lists_every_company_or_one(api: Api) -> None:
    a, b = await token(api, "a"), await token(api, "b")
    await api.call("POST", "/v1/customer", json=customer_body("10001", "Alfa AS"), headers=a)
    await api.call("POST", "/v1/customer", json=customer_body("10001", "Beta AS"), headers=b)
    await api.call("POST", "/v1/customer", json=customer_body("10002", "Alfa II"), headers=a)
    assert [c["name"] for c in await records(api, "customer", "a")] == ["Alfa AS", "Alfa II"]
    assert [c["name"] for c in await records(api, "customer", "b")] == ["Beta AS"]
    assert sorted(c["name"] for c in await records(api, "customer")) == ["Alfa AS", "Alfa II", "Beta AS"]
    assert await records(api, "customer", "nobody") == []
    assert await records(api, "invoice", "a") == []
    stats = await api.stats()
    assert stats["records"]["customer"] == 3
    assert stats["tenants"] == {"a": {**EMPTY_COUNTS, "customer": 2}, "b": {**EMPTY_COUNTS, "customer": 1}}


async def test_reset_forgets_every_company(api: Api) -> None:
    a = await token(api, "a")
    await api.call("POST", "/v1/customer", json=customer_body(None), headers=a)
    await api.post_customer("10001")
    assert await api.reset() == 204
    stats = await api.stats()
    assert stats["tenants"] == {} and stats["records"] == EMPTY_COUNTS
    assert (await api.call("GET", "/v1/customer", headers=a))[1] == []
    _, _, created = await api.call("POST", "/v1/customer", json=customer_body(None), headers=a)
    assert created["Location"].endswith("/000001")  # the company's sequence starts over too


async def test_a_background_job_lands_in_its_company(api: Api) -> None:
    a, b = await token(api, "a"), await token(api, "b")
    status, accepted, _ = await api.call("POST", "/v1/customer", json=customer_body("10001"),
                                         headers={**BACKGROUND, **a})
    assert status == 202
    async with asyncio.timeout(5):
        while True:
            _, state, _ = await api.call("GET", f"/v1/background/{accepted['id']}", headers=a)
            if state["status"] != "Started":
                break
            await asyncio.sleep(0.02)
    assert state["statusCode"] == 201
    assert [c["number"] for c in await records(api, "customer", "a")] == ["10001"]
    assert await records(api, "customer", "b") == [] and await records(api, "customer", "sandbox") == []
    assert (await api.call("GET", "/v1/customer/10001", headers=b))[0] == 404


async def test_live_repeated_failures_are_kept_per_company(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live", seed=3) as api:
        a, b = await token(api, "a"), await token(api, "b")
        bad = {"nmae": w("x")}
        for _ in range(2):
            assert (await api.call("POST", "/v1/customer", json=bad, headers=a))[0] in (400, 500)
        assert (await api.call("POST", "/v1/customer", json=bad, headers=a))[0] == 429
        assert (await api.call("POST", "/v1/customer", json=bad, headers=b))[0] in (400, 500)


async def test_live_queued_release_finishes_in_its_company(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live") as api:
        a, b = await token(api, "a"), await token(api, "b")
        for headers in (a, b):
            await api.call("POST", "/v1/customer", json=customer_body("10001"), headers=headers)
            body = {**invoice_body("10001"), "referenceNumber": w("I1")}
            assert (await api.call("POST", "/v1/customerinvoice", json=body, headers=headers))[0] == 201
        _, answer, _ = await api.call("POST", "/v1/customerinvoice/I1/action/release", headers=a)
        assert answer["actionResult"] == "Queued"
        async with asyncio.timeout(5):
            while (await api.call("GET", "/v1/customerinvoice/I1", headers=a))[1]["status"] != "Open":
                await asyncio.sleep(0.02)
        assert (await api.call("GET", "/v1/customerinvoice/I1", headers=b))[1]["status"] == "Balanced"


async def test_state_file_keeps_each_company_apart(tmp_path: Path) -> None:
    config = SandboxConfig(state_path=str(tmp_path / "state.db"))
    async with running_api(config) as api:
        a, b = await token(api, "a"), await token(api, "b")
        for headers, name in ((a, "Alfa AS"), (b, "Beta AS")):
            await api.call("POST", "/v1/customer", json=customer_body(None, name), headers=headers)
        await api.call("POST", "/v1/customer", json=customer_body(None, "Alfa II"), headers=a)
    async with running_api(config) as api:
        a, b = await token(api, "a"), await token(api, "b")
        assert [c["name"] for c in (await api.call("GET", "/v1/customer", headers=a))[1]] == ["Alfa AS", "Alfa II"]
        assert [c["name"] for c in (await api.call("GET", "/v1/customer", headers=b))[1]] == ["Beta AS"]
        # Each company's sequence continues where it stopped.
        _, _, in_a = await api.call("POST", "/v1/customer", json=customer_body(None), headers=a)
        _, _, in_b = await api.call("POST", "/v1/customer", json=customer_body(None), headers=b)
        assert (in_a["Location"][-6:], in_b["Location"][-6:]) == ("000003", "000002")
    with sqlite3.connect(tmp_path / "state.db") as db:
        rows = db.execute("SELECT tenant, key FROM records ORDER BY tenant, key").fetchall()
        sequences = db.execute("SELECT tenant, entity, last FROM sequences ORDER BY tenant").fetchall()
    assert rows == [("a", "000001"), ("a", "000002"), ("a", "000003"), ("b", "000001"), ("b", "000002")]
    assert sequences == [("a", "customer", 3), ("b", "customer", 2)]


def write_untenanted_state(path: Path, sequences: bytes) -> None:
    """A state file as the sandbox wrote it before it kept companies apart."""
    customer = {"number": "000001", "name": "Kept AS", "status": "Active",
                "createdDateTime": "2024-01-01T00:00:00Z", "lastModifiedDateTime": "2024-01-01T00:00:00Z"}
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE records (entity TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL, "
            "PRIMARY KEY (entity, key));"
            "CREATE TABLE meta (name TEXT PRIMARY KEY, data BLOB NOT NULL);"
        )
        db.execute("INSERT INTO records VALUES ('customer', '000001', ?)", (orjson.dumps(customer),))
        db.execute("INSERT INTO records VALUES ('customer', 'C2', ?)",
                   (orjson.dumps({**customer, "number": "C2", "name": "Second AS"}),))
        db.execute("INSERT INTO meta VALUES ('sequences', ?)", (sequences,))
        db.execute("INSERT INTO meta VALUES ('stats', ?)", (orjson.dumps({"requests": 7}),))
    db.close()


async def test_an_old_state_file_becomes_the_static_tenants(tmp_path: Path) -> None:
    state = tmp_path / "old.db"
    write_untenanted_state(state, orjson.dumps({"customer": 1}))
    async with running_api(SandboxConfig(state_path=str(state))) as api:
        assert [c["name"] for c in (await api.call("GET", "/v1/customer"))[1]] == ["Kept AS", "Second AS"]
        _, _, created = await api.call("POST", "/v1/customer", json=customer_body(None))
        assert created["Location"].endswith("/000002")  # the sequence was kept
        stats = await api.stats()
        assert list(stats["tenants"]) == ["sandbox"] and stats["requests"] == 7 + 2
        assert (await api.call("GET", "/v1/customer/C2", headers=await token(api, "a")))[0] == 404
    with sqlite3.connect(state) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(records)")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        old_sequences = db.execute("SELECT data FROM meta WHERE name = 'sequences'").fetchall()
    db.close()
    assert columns == ["tenant", "entity", "key", "data"]
    assert tables == {"records", "sequences", "meta"} and old_sequences == []


def test_an_old_state_file_that_cannot_migrate_is_left_as_it_was(tmp_path: Path) -> None:
    state = tmp_path / "old.db"
    write_untenanted_state(state, b"{not json")
    with pytest.raises(sqlite3.DatabaseError, match="sequences"):
        Store(ENTITIES, str(state))
    with sqlite3.connect(state) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(records)")]
        count = db.execute("SELECT count(*) FROM records").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert columns == ["entity", "key", "data"] and count == 2 and tables == {"records", "meta"}


async def test_the_command_line_names_a_damaged_old_state_file(tmp_path: Path) -> None:
    state = tmp_path / "old.db"
    write_untenanted_state(state, b"{not json")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer.sandbox", "--port", "0", "--state", str(state),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 1 and out == b""
    text = err.decode()
    assert "cannot start" in text and str(state) in text and "sequences are damaged" in text
    assert "Traceback" not in text
