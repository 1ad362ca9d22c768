"""A sandbox safe to leave running: control token, Origin, Host, body size and slow bodies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from tests.support.sandbox_api import AUTH, Api, FakeClock, customer_body

FORM = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret",
        "tenant_id": "t"}


def port_of(api: Api) -> int:
    port = urlsplit(api.url).port
    assert port is not None
    return port


async def open_raw(api: Api) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port_of(api))


async def status_of(api: Api, method: str, path: str, **kw: Any) -> int:
    async with api.session.request(method, api.url + path, **kw) as r:
        await r.read()
        return r.status


# -- control routes ---------------------------------------------------------------------


async def test_control_routes_refuse_without_a_token(api: Api) -> None:
    await api.post_customer("10000")
    for headers in ({}, {"Authorization": "Bearer guessed"}, {"Authorization": "Basic c2FuZGJveA=="}):
        for method, path in (("GET", "/sandbox/stats"), ("GET", "/sandbox/records/customer"),
                             ("POST", "/sandbox/reset")):
            async with api.session.request(method, api.url + path, headers=headers) as r:
                assert r.status == 401, (method, path, headers)
                assert "Bearer" in r.headers["WWW-Authenticate"]
                assert "sandbox-token" not in await r.text()
    assert len(await api.records("customer")) == 1  # the refused reset did nothing


async def test_control_routes_take_static_issued_and_control_tokens(sandbox_with: Any) -> None:
    clock = FakeClock()
    async with sandbox_with(static_token=None, control_token="ctl-123", token_ttl=60, clock=clock) as api:
        async with api.session.post(api.running.token_url, data=FORM) as r:
            issued = (await r.json())["access_token"]
        for token in ("ctl-123", issued):
            headers = {"Authorization": f"Bearer {token}"}
            assert await status_of(api, "GET", "/sandbox/stats", headers=headers) == 200
        assert await status_of(api, "GET", "/sandbox/stats", headers=AUTH) == 401  # static token is off
        clock.advance(60)  # the issued token expired; the control token does not
        assert await status_of(api, "GET", "/sandbox/stats", headers={"Authorization": f"Bearer {issued}"}) == 401
        assert await status_of(api, "POST", "/sandbox/reset", headers={"Authorization": "Bearer ctl-123"}) == 204
        # The control token opens the control routes only, not the API.
        assert await status_of(api, "GET", "/v1/customer", headers={"Authorization": "Bearer ctl-123"}) == 401


# -- Origin and Host --------------------------------------------------------------------


async def test_a_foreign_origin_is_refused(api: Api) -> None:
    await api.post_customer("10000")
    for origin in ("http://evil.example", "null", f"http://localhost.evil.example:{port_of(api)}"):
        headers = {**AUTH, "Origin": origin}
        assert await status_of(api, "POST", "/sandbox/reset", headers=headers) == 403
        assert await status_of(api, "POST", "/v1/customer", json=customer_body("2"), headers=headers) == 403
        assert await status_of(api, "POST", "/connect/token", data=FORM, headers=headers) == 403
    assert [c["number"] for c in await api.records("customer")] == ["10000"]
    # Its own origin (a page the sandbox served, were there one) is fine.
    own = {**AUTH, "Origin": api.url}
    assert await status_of(api, "GET", "/sandbox/stats", headers=own) == 200


async def test_a_foreign_host_is_refused(api: Api) -> None:
    port = port_of(api)
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", f"rebound.test:{port}"):
        headers = {**AUTH, "Host": host}
        assert await status_of(api, "GET", "/sandbox/stats", headers=headers) == 421, host
        assert await status_of(api, "GET", "/v1/customer", headers=headers) == 421, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert await status_of(api, "GET", "/v1/customer", headers={**AUTH, "Host": host}) == 200, host


async def test_the_configured_host_name_is_accepted(sandbox_with: Any) -> None:
    async with sandbox_with(host="localhost") as api:
        port = port_of(api)
        assert await status_of(api, "GET", "/v1/customer", headers={**AUTH, "Host": f"localhost:{port}"}) == 200
        assert await status_of(api, "GET", "/v1/customer", headers={**AUTH, "Host": f"evil:{port}"}) == 421


async def test_a_wildcard_bind_accepts_any_host_but_checks_origin(sandbox_with: Any) -> None:
    async with sandbox_with(host="0.0.0.0") as api:
        port = port_of(api)
        headers = {**AUTH, "Host": f"my-laptop.lan:{port}"}
        assert await status_of(api, "GET", "/v1/customer", headers=headers) == 200
        own = {**headers, "Origin": f"http://my-laptop.lan:{port}"}
        assert await status_of(api, "GET", "/v1/customer", headers=own) == 200
        foreign = {**headers, "Origin": "http://evil.example"}
        assert await status_of(api, "POST", "/sandbox/reset", headers=foreign) == 403


# -- bodies -----------------------------------------------------------------------------


async def test_an_oversized_body_answers_413(sandbox_with: Any) -> None:
    async with sandbox_with(max_body_bytes=1024) as api:
        big = customer_body("10000", note={"value": "x" * 2000})
        status, body, _ = await api.call("POST", "/v1/customer", json=big)
        assert status == 413 and "1024 bytes" in body["message"]
        status, _, _ = await api.call("PUT", "/v1/customer/10000", json=big)
        assert status == 413
        assert await status_of(api, "POST", "/connect/token", data={**FORM, "scope": "x" * 2000}) == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: found while reading
            for _ in range(4):
                yield b" " * 512

        headers = {**AUTH, "Content-Type": "application/json"}
        assert await status_of(api, "POST", "/v1/customer", data=chunks(), headers=headers) == 413
        stats = await api.stats()
        assert stats["records"]["customer"] == 0 and "500" not in stats["by_status"]
        assert stats["by_status"]["413"] == 1  # the chunked one got as far as the API
        assert await api.post_customer("small") == 201  # the server is fine afterwards


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(sandbox_with: Any) -> None:
    async with sandbox_with(max_body_bytes=1024, body_timeout=5) as api:
        reader, writer = await open_raw(api)
        try:
            writer.write(f"POST /v1/customer HTTP/1.1\r\nHost: 127.0.0.1:{port_of(api)}\r\n"
                         "Authorization: Bearer sandbox-token\r\nContent-Length: 1000000000\r\n\r\n".encode())
            await writer.drain()
            async with asyncio.timeout(2):  # well before the body timeout: nothing was read
                answer = await reader.read(4096)
            assert answer.startswith(b"HTTP/1.1 413"), answer[:40]
        finally:
            writer.close()


async def test_a_trickling_body_times_out_with_408(sandbox_with: Any) -> None:
    async with sandbox_with(body_timeout=0.3) as api:
        reader, writer = await open_raw(api)
        try:
            head = (f"POST /v1/customer HTTP/1.1\r\nHost: 127.0.0.1:{port_of(api)}\r\n"
                    "Authorization: Bearer sandbox-token\r\nContent-Type: application/json\r\n"
                    "Content-Length: 200\r\n\r\n")
            writer.write(head.encode() + b'{"name": ')
            await writer.drain()
            started = time.monotonic()

            async def trickle() -> None:
                for _ in range(30):  # one byte every 50 ms: never the whole body in time
                    await asyncio.sleep(0.05)
                    writer.write(b" ")
                    await writer.drain()

            dripping = asyncio.create_task(trickle())
            async with asyncio.timeout(3):
                answer = await reader.read(4096)
                dripping.cancel()  # bytes sent after the server closed would have it reset the connection
                await asyncio.gather(dripping, return_exceptions=True)
                try:
                    rest = await reader.read()  # the server closes the connection after it
                except ConnectionResetError:  # a byte of the trickle crossed the close
                    rest = b""
            assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
            assert b"0.3 seconds" in answer + rest
            assert time.monotonic() - started < 1.5
        finally:
            writer.close()
        assert (await api.stats())["records"]["customer"] == 0


async def test_idle_keepalive_connections_are_closed(sandbox_with: Any) -> None:
    async with sandbox_with(keepalive_timeout=0.3) as api:
        reader, writer = await open_raw(api)
        try:
            writer.write(f"GET /v1/customer HTTP/1.1\r\nHost: 127.0.0.1:{port_of(api)}\r\n"
                         "Authorization: Bearer sandbox-token\r\n\r\n".encode())
            await writer.drain()
            started = time.monotonic()
            async with asyncio.timeout(3):
                received = b""
                while chunk := await reader.read(4096):  # ends when the server hangs up
                    received += chunk
            assert received.startswith(b"HTTP/1.1 200")
            assert 0.2 < time.monotonic() - started < 2.0
        finally:
            writer.close()
