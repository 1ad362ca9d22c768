"""Token scopes: what a token may do is what its scopes say, as the API gateway enforces it.

Every test talks to a real sandbox over a loopback socket, gets its tokens from
``/connect/token`` and checks what the sandbox stored (``/sandbox/records``), not only the
status codes: a refused write must leave the ledger as it was.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from importer.sandbox import SandboxConfig
from importer.sandbox.auth import SCOPES
from importer.sandbox.config import parse_client_scopes
from tests.support.sandbox_api import AUTH, GUIDE_CUSTOMER, Api, customer_body, running_api, w

ROOT = Path(__file__).resolve().parents[2]
READ, CREATE, UPDATE, DELETE = (f"vismanet_erp_service_api:{s}" for s in ("read", "create", "update", "delete"))
CLIENTS = {"sandbox": "sandbox-secret", "reader": "reader-secret", "maker": "maker-secret"}
ALLOWED = {"reader": (READ,), "maker": (READ, CREATE)}


async def token(api: Api, client: str, scope: str | None = None) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": "client_credentials", "client_id": client, "client_secret": CLIENTS[client],
            "tenant_id": "sandbox"}
    if scope is not None:
        form["scope"] = scope
    async with api.session.post(api.running.token_url, data=form) as r:
        return r.status, await r.json()


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@pytest.fixture
async def ledger() -> Any:
    """A sandbox with a read-only and a read-and-create client, one customer and one invoice."""
    async with running_api(SandboxConfig(clients=dict(CLIENTS), client_scopes=dict(ALLOWED),
                                         background_delay_ms=5)) as api:
        assert await api.post_customer("10000", name="Fjord AS") == 201
        invoice = {"customerNumber": w("10000"), "referenceNumber": w("I1"),
                   "invoiceLines": [{"quantity": w(2), "unitPriceInCurrency": w(50)}]}
        assert (await api.call("POST", "/v1/customerinvoice", json=invoice))[0] == 201
        yield api


def assert_forbidden(status: int, body: Any, scope: str) -> None:
    assert status == 403, (status, body)
    assert scope in body["message"] and "Bearer" not in body["message"]


async def test_a_read_only_token_reads_and_every_write_is_refused(ledger: Api) -> None:
    status, granted = await token(ledger, "reader")
    assert status == 200 and granted["scope"] == READ  # what the client may have, nothing more
    auth = bearer(granted["access_token"])
    before = {e: await ledger.records(e) for e in ("customer", "invoice", "dunning-letter")}

    status, got, _ = await ledger.call("GET", "/v1/customer/10000", headers=auth)
    assert status == 200 and got["name"] == "Fjord AS"
    status, got, _ = await ledger.call("GET", "/v1/customerinvoice", headers=auth)
    assert status == 200 and [i["referenceNumber"] for i in got] == ["I1"]

    writes = [
        ("POST", "/v1/customer", {"json": customer_body("20000", "Ny AS")}, CREATE),
        ("PUT", "/v1/customer/10000", {"json": {"name": w("Renamed AS")}}, UPDATE),
        ("POST", "/v1/customerinvoice/I1/action/release", {}, CREATE),
        ("POST", "/v1/customer/10000/action/createDunningLetter", {"json": {"levelFrom": 1, "levelTo": 2}}, CREATE),
        ("POST", "/v1/customer", {"json": customer_body("30000"), "headers": {"erp-api-background": "none"}}, CREATE),
        ("DELETE", "/v1/customerinvoice/I1", {}, DELETE),
    ]
    for method, path, kw, scope in writes:
        headers = {**auth, **kw.pop("headers", {})}
        status, body, response_headers = await ledger.call(method, path, headers=headers, **kw)
        assert_forbidden(status, body, scope)
        assert "Location" not in response_headers
    await asyncio.sleep(0.05)  # a background write, had it been queued, would have run by now
    assert {e: await ledger.records(e) for e in before} == before  # nothing stored, nothing changed
    assert (await ledger.stats())["by_status"]["403"] == len(writes)


async def test_a_token_has_the_scopes_it_asked_for(ledger: Api) -> None:
    """A client allowed everything, asking for read only, gets a token that cannot write."""
    status, granted = await token(ledger, "sandbox", READ)
    assert status == 200 and granted["scope"] == READ
    status, body, _ = await ledger.call("PUT", "/v1/customer/10000", json={"name": w("X")},
                                        headers=bearer(granted["access_token"]))
    assert_forbidden(status, body, UPDATE)
    assert (await ledger.records("customer"))[0]["name"] == "Fjord AS"
    # Without a scope parameter the default client gets create, read and update, as before.
    status, granted = await token(ledger, "sandbox")
    assert granted["scope"].split() == [CREATE, READ, UPDATE]
    auth = bearer(granted["access_token"])
    assert (await ledger.call("PUT", "/v1/customer/10000", json={"name": w("X")}, headers=auth))[0] == 204
    assert (await ledger.records("customer"))[0]["name"] == "X"


async def test_create_without_update(ledger: Api) -> None:
    status, granted = await token(ledger, "maker")
    assert status == 200 and granted["scope"].split() == [CREATE, READ]
    auth = bearer(granted["access_token"])
    assert (await ledger.call("POST", "/v1/customer", json=GUIDE_CUSTOMER | {"number": w("10001")},
                              headers=auth))[0] == 201
    status, body, _ = await ledger.call("PUT", "/v1/customer/10001", json={"name": w("Changed")}, headers=auth)
    assert_forbidden(status, body, UPDATE)
    stored = {r["number"]: r["name"] for r in await ledger.records("customer")}
    assert stored == {"10000": "Fjord AS", "10001": "NewCustomer"}


async def test_a_scope_the_client_is_not_allowed_is_refused_at_the_token(ledger: Api) -> None:
    for scope in (CREATE, f"{READ} {UPDATE}"):
        status, body = await token(ledger, "reader", scope)
        assert status == 400 and body["error"] == "invalid_scope"
        assert "reader-secret" not in body["error_description"]
    status, body = await token(ledger, "reader", "vismanet_erp_service_api:everything")
    assert status == 400 and body["error"] == "invalid_scope"
    assert (await ledger.stats())["tokens_issued"] == 0


async def test_the_static_token_keeps_every_scope(ledger: Api) -> None:
    assert (await ledger.call("PUT", "/v1/customer/10000", json={"name": w("Static AS")}))[0] == 204
    assert (await ledger.records("customer"))[0]["name"] == "Static AS"


async def test_live_profile_refuses_too() -> None:
    """The live profile shapes the 403 its own ways; the write is refused all the same."""
    config = SandboxConfig(profile="live", clients=dict(CLIENTS), client_scopes=dict(ALLOWED), seed=7)
    async with running_api(config) as api:
        auth = bearer((await token(api, "reader"))[1]["access_token"])
        for _ in range(5):
            status, _, _ = await api.call("POST", "/v1/customer", json=customer_body("10000"), headers=auth)
            assert status == 403
        assert await api.records("customer") == []


def test_client_scopes_are_read_and_checked() -> None:
    assert parse_client_scopes("reader=read") == ("reader", (READ,))
    assert parse_client_scopes(f"x=create, {UPDATE},create") == ("x", (CREATE, UPDATE))
    assert parse_client_scopes("none=") == ("none", ())
    for bad in ("reader", "=read", "reader=write"):
        with pytest.raises(ValueError, match="reader|scope"):
            parse_client_scopes(bad)
    with pytest.raises(ValueError, match="not one of the clients"):
        SandboxConfig(client_scopes={"ghost": (READ,)})
    with pytest.raises(ValueError, match="unknown scope"):
        SandboxConfig(clients={"a": "b"}, client_scopes={"a": ("read",)})
    assert SCOPES == (CREATE, READ, UPDATE, DELETE)


async def test_importer_sandbox_client_scopes_option() -> None:
    """``importer sandbox --client-scopes reader=read`` as a user starts it: its tokens only read."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", "sandbox", "--port", "0", "--client", "reader:reader-secret",
        "--client-scopes", "reader=read",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT), env=env,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        match = re.fullmatch(r"Sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        url = match.group(1)
        form = {"grant_type": "client_credentials", "client_id": "reader", "client_secret": "reader-secret",
                "tenant_id": "t"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.post(url + "/connect/token", data=form) as r:
                granted = await r.json()
            assert granted["scope"] == READ
            auth = bearer(granted["access_token"])
            async with session.post(url + "/v1/customer", json=GUIDE_CUSTOMER, headers=auth) as r:
                assert r.status == 403
            async with session.get(url + "/v1/customer", headers=auth) as r:
                assert r.status == 200 and await r.json() == []
            async with session.get(url + "/sandbox/records/customer?tenant=t", headers=AUTH) as r:
                assert r.status == 200 and await r.json() == []  # the ledger holds nothing
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_the_commands_that_only_read_ask_only_for_read(ledger: Api, tmp_path: Path) -> None:
    """A read-only application exports and verifies; a run asks for create and is refused at
    the token endpoint, so nothing is sent and nothing stored."""
    from tests.support.runs import run_cli

    env = {"VISMA_BASE_URL": ledger.running.url, "VISMA_TOKEN_URL": ledger.running.token_url,
           "VISMA_CLIENT_ID": "reader", "VISMA_CLIENT_SECRET": CLIENTS["reader"], "VISMA_TENANT_ID": "sandbox"}
    out = tmp_path / "customers.csv"
    code, _, err = await run_cli("export", "--entity", "customer", "--output", str(out), env=env)
    assert code == 0, err
    assert "10000" in out.read_text(encoding="utf-8")
    code, _, err = await run_cli("verify", str(out), "--entity", "customer", env=env)
    assert code == 0, err
    new = tmp_path / "new.csv"
    new.write_text("number,name\n20000,Ny AS\n", encoding="utf-8")
    code, _, err = await run_cli("run", str(new), "--entity", "customer", env=env)
    assert code != 0 and CLIENTS["reader"] not in err
    status, stored, _ = await ledger.call("GET", "/v1/customer/20000")
    assert status == 404, stored
