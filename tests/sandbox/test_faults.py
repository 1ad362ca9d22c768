"""Seeded faults on writes (500/502/503, reset, slow, store-then-fail) and added latency."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from tests.support.sandbox_api import AUTH, Api, customer_body

FORM = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret",
        "tenant_id": "t"}


async def outcome(api: Api, number: str) -> str:
    """POST a customer; the status code, or "reset" when the connection dropped."""
    try:
        status, _, _ = await api.call("POST", "/v1/customer", json=customer_body(number))
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        return "reset"
    return str(status)


@pytest.mark.parametrize("kind", ["500", "502", "503"])
async def test_status_faults_store_nothing(sandbox_with: Any, kind: str) -> None:
    async with sandbox_with(fault_rate=1.0, faults=(kind,), seed=1) as api:
        status, body, headers = await api.call("POST", "/v1/customer", json=customer_body("1"))
        assert status == int(kind) and body["message"]
        assert headers["X-RateLimit-Remaining"] == "14999"
        status, _, _ = await api.call("PUT", "/v1/customer/1", json={})
        assert status == int(kind)
        stats = await api.stats()
        assert stats["records"]["customer"] == 0
        assert stats["faults"][kind] == 2 and stats["by_status"][kind] == 2


async def test_reset_drops_the_connection_and_stores_nothing(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=1.0, faults=("reset",), seed=1) as api:
        with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
            await api.call("POST", "/v1/customer", json=customer_body("1"))
        stats = await api.stats()
        assert stats["records"]["customer"] == 0 and stats["faults"]["reset"] == 1


async def test_slow_outlasts_a_client_timeout(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=1.0, faults=("slow",), slow_ms=300, seed=1) as api:
        with pytest.raises(asyncio.TimeoutError):
            await api.call("POST", "/v1/customer", json=customer_body("1"),
                           timeout=aiohttp.ClientTimeout(total=0.1))
        started = time.perf_counter()
        status, _, _ = await api.call("POST", "/v1/customer", json=customer_body("2"))
        assert status == 201 and time.perf_counter() - started >= 0.3
        await asyncio.sleep(0.3)  # the timed-out request still completes server-side
        assert {r["number"] for r in await api.records("customer")} == {"1", "2"}
        assert (await api.stats())["faults"]["slow"] == 2


async def test_store_then_fail_stores_the_record(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=1.0, faults=("store-then-fail",), seed=7) as api:
        outcomes = [await outcome(api, f"C{i}") for i in range(12)]
        assert set(outcomes) == {"500", "reset"}  # both endings occur with this seed
        assert len(await api.records("customer")) == 12
        # A blind retry of one of them now fails as a duplicate.
        assert await outcome(api, "C0") in {"500", "reset"}
        stats = await api.stats()
        assert stats["duplicates_refused"] == 1 and stats["faults"]["store-then-fail"] == 13


async def test_faults_are_reproducible_for_a_seed(sandbox_with: Any) -> None:
    runs = []
    for seed in (42, 42, 43):
        async with sandbox_with(fault_rate=0.5, seed=seed) as api:
            runs.append([await outcome(api, f"C{i}") for i in range(16)])
            assert (await api.stats())["seed"] == seed
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert "201" in runs[0] and len(set(runs[0])) > 2


async def test_reads_token_and_sandbox_endpoints_are_never_faulted(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=1.0, faults=("500",)) as api:
        async with api.session.post(api.running.token_url, data=FORM) as r:
            assert r.status == 200
        assert (await api.call("GET", "/v1/customer"))[0] == 200
        assert await api.reset() == 204


async def test_fault_rate_share(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=0.25, faults=("503",), seed=3) as api:
        outcomes = [await outcome(api, f"C{i}") for i in range(200)]
        faulted = outcomes.count("503")
        assert 25 <= faulted <= 75
        assert (await api.stats())["records"]["customer"] == 200 - faulted


async def test_latency_is_added(sandbox_with: Any) -> None:
    async with sandbox_with(latency_ms=120) as api:
        started = time.perf_counter()
        assert (await api.call("GET", "/v1/customer"))[0] == 200
        assert time.perf_counter() - started >= 0.12


async def test_jitter_spreads_latency(sandbox_with: Any) -> None:
    async with sandbox_with(latency_ms=60, jitter_ms=50, seed=5) as api:
        times = []
        for _ in range(8):
            started = time.perf_counter()
            await api.call("GET", "/v1/customer")
            times.append(time.perf_counter() - started)
        assert min(times) >= 0.01
        assert max(times) - min(times) > 0.02  # not all the same delay


async def test_unauthenticated_writes_are_not_faulted(sandbox_with: Any) -> None:
    async with sandbox_with(fault_rate=1.0, faults=("500",)) as api:
        headers = {k: v for k, v in AUTH.items() if k != "Authorization"}
        status, _, _ = await api.call("POST", "/v1/customer", json=customer_body("1"), anonymous=True, headers=headers)
        assert status == 401
