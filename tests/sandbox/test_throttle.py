"""Fixed-window rate limit per client and company: headers on every answer, 429 with Retry-After."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.sandbox_api import Api, FakeClock, customer_body

FORM = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret",
        "tenant_id": "t"}


async def test_headers_on_every_v1_answer(api: Api) -> None:
    _, _, ok = await api.call("POST", "/v1/customer", json=customer_body("1"))
    _, _, refused = await api.call("POST", "/v1/customer", json=customer_body("1"))
    _, _, missing = await api.call("GET", "/v1/customer/none")
    for headers, remaining in ((ok, 14999), (refused, 14998), (missing, 14997)):
        assert headers["X-RateLimit-Limit"] == "15000"
        assert headers["X-RateLimit-Remaining"] == str(remaining)
        assert 3590 <= int(headers["X-RateLimit-Reset"]) <= 3600
        assert headers["X-RateLimit-Policy"] == "15000;w=3600"


async def test_429_with_retry_after_and_reset(sandbox_with: Any) -> None:
    clock = FakeClock()
    async with sandbox_with(rate_limit=3, rate_window=10, clock=clock) as api:
        for expected in (2, 1, 0):
            status, _, headers = await api.call("GET", "/v1/customer")
            assert status == 200 and headers["X-RateLimit-Remaining"] == str(expected)
            clock.advance(1)
        status, body, headers = await api.call("POST", "/v1/customer", json=customer_body("1"))
        assert status == 429 and body["message"]
        assert headers["Retry-After"] == "7" and headers["X-RateLimit-Reset"] == "7"
        assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Policy"] == "3;w=10"
        assert (await api.stats())["records"]["customer"] == 0  # a throttled request does not run
        clock.advance(6.5)
        status, _, headers = await api.call("GET", "/v1/customer")
        assert status == 429 and headers["Retry-After"] == "1"  # never 0 while the window lasts
        clock.advance(0.5)  # the window that opened at t=0 resets at t=10, not 10 s after the last call
        status, _, headers = await api.call("GET", "/v1/customer")
        assert status == 200 and headers["X-RateLimit-Remaining"] == "2" and headers["X-RateLimit-Reset"] == "10"
        stats = await api.stats()
        assert stats["throttled"] == 2 and stats["by_status"]["429"] == 2


async def test_windows_stay_aligned_after_idle_periods(sandbox_with: Any) -> None:
    clock = FakeClock()
    async with sandbox_with(rate_limit=1, rate_window=10, clock=clock) as api:
        assert (await api.call("GET", "/v1/customer"))[0] == 200
        clock.advance(34)  # windows at 0, 10, 20, 30: the current one ends at 40
        _, _, headers = await api.call("GET", "/v1/customer")
        assert headers["X-RateLimit-Reset"] == "6"


async def test_limit_is_per_client(sandbox_with: Any) -> None:
    async with sandbox_with(rate_limit=1, rate_window=60) as api:
        assert (await api.call("GET", "/v1/customer"))[0] == 200
        assert (await api.call("GET", "/v1/customer"))[0] == 429
        async with api.session.post(api.running.token_url, data=FORM) as r:
            token = (await r.json())["access_token"]
        status, _, headers = await api.call("GET", "/v1/customer", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and headers["X-RateLimit-Remaining"] == "0"


async def test_short_real_window(sandbox_with: Any) -> None:
    async with sandbox_with(rate_limit=2, rate_window=0.3) as api:
        statuses = [(await api.call("GET", "/v1/customer"))[0] for _ in range(3)]
        assert statuses == [200, 200, 429]
        await asyncio.sleep(0.35)
        assert (await api.call("GET", "/v1/customer"))[0] == 200


async def test_unauthenticated_requests_are_not_counted(sandbox_with: Any) -> None:
    async with sandbox_with(rate_limit=1, rate_window=60) as api:
        for _ in range(3):
            assert (await api.call("GET", "/v1/customer", anonymous=True))[0] == 401
        assert (await api.call("GET", "/v1/customer"))[0] == 200


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_windows_are_per_company_and_client(sandbox_with: Any, profile: str) -> None:
    async def token(tenant: str) -> dict[str, str]:
        async with api.session.post(api.running.token_url, data={**FORM, "tenant_id": tenant}) as r:
            return {"Authorization": f"Bearer {(await r.json())['access_token']}"}

    async with sandbox_with(rate_limit=2, rate_window=60, profile=profile) as api:
        company_a, company_a_again, company_b = await token("A"), await token("A"), await token("B")
        assert (await api.call("GET", "/v1/customer", headers=company_a))[0] == 200
        assert (await api.call("GET", "/v1/customer", headers=company_a_again))[0] == 200
        # Two tokens of one client for one company share its window ...
        assert (await api.call("GET", "/v1/customer", headers=company_a))[0] == 429
        # ... another company of the same client has a window of its own.
        status, _, headers = await api.call("GET", "/v1/customer", headers=company_b)
        assert status == 200 and headers["X-RateLimit-Remaining"] == "1"
