"""The token endpoint, token expiry and 401 answers."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from tests.support.sandbox_api import Api, FakeClock

FORM = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret",
        "tenant_id": "tenant-1"}


async def token_call(api: Api, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with api.session.post(api.running.token_url, data=form, headers=headers or {}) as r:
        assert r.headers.get("Cache-Control") == "no-store"
        return r.status, await r.json()


async def get_with(api: Api, token: str | None) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with api.session.get(api.url + "/v1/customer", headers=headers) as r:
        return r.status, await r.json(), r.headers


async def test_client_credentials_token(api: Api) -> None:
    status, body = await token_call(api, FORM)
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "vismanet_erp_service_api:create" in body["scope"]
    assert len(body["access_token"]) >= 32
    assert (await get_with(api, body["access_token"]))[0] == 200
    assert (await api.stats())["tokens_issued"] == 1


async def test_tokens_are_random(api: Api) -> None:
    first = (await token_call(api, FORM))[1]["access_token"]
    second = (await token_call(api, FORM))[1]["access_token"]
    assert first != second


async def test_scope_is_echoed_and_checked(api: Api) -> None:
    status, body = await token_call(api, {**FORM, "scope": "vismanet_erp_service_api:read"})
    assert status == 200 and body["scope"] == "vismanet_erp_service_api:read"
    status, body = await token_call(api, {**FORM, "scope": "everything"})
    assert status == 400 and body["error"] == "invalid_scope"


async def test_bad_credentials(api: Api) -> None:
    for form in ({**FORM, "client_secret": "hunter2-XYZ"}, {**FORM, "client_id": "other"},
                 {k: v for k, v in FORM.items() if k != "client_secret"}):
        status, body = await token_call(api, form)
        assert status == 400 and body == {"error": "invalid_client", "error_description": body["error_description"]}
        assert "sandbox-secret" not in body["error_description"]
        assert "hunter2-XYZ" not in body["error_description"]


async def test_wrong_grant_type(api: Api) -> None:
    status, body = await token_call(api, {**FORM, "grant_type": "password"})
    assert status == 400 and body["error"] == "unsupported_grant_type"
    status, body = await token_call(api, {k: v for k, v in FORM.items() if k != "grant_type"})
    assert status == 400 and body["error"] == "invalid_request"


async def test_tenant_is_required(api: Api) -> None:
    status, body = await token_call(api, {k: v for k, v in FORM.items() if k != "tenant_id"})
    assert status == 400 and body["error"] == "invalid_request" and "tenant_id" in body["error_description"]


async def test_basic_auth_client_credentials(api: Api) -> None:
    basic = base64.b64encode(b"sandbox:sandbox-secret").decode()
    form = {"grant_type": "client_credentials", "tenant_id": "t"}
    status, body = await token_call(api, form, {"Authorization": f"Basic {basic}"})
    assert status == 200 and body["access_token"]


async def test_configured_clients(sandbox_with: Any) -> None:
    async with sandbox_with(clients={"importer": "s3cret"}) as api:
        assert (await token_call(api, FORM))[0] == 400
        status, _ = await token_call(api, {**FORM, "client_id": "importer", "client_secret": "s3cret"})
        assert status == 200


async def test_missing_and_wrong_tokens_are_401(api: Api) -> None:
    for token in (None, "not-a-token"):
        status, body, headers = await get_with(api, token)
        assert status == 401 and body["message"]
        assert "X-RateLimit-Limit" not in headers
        assert headers["WWW-Authenticate"].startswith("Bearer")
    async with api.session.get(api.url + "/v1/customer", headers={"Authorization": "Basic abc"}) as r:
        assert r.status == 401
    assert (await api.stats())["by_status"]["401"] == 3


async def test_tokens_expire(sandbox_with: Any) -> None:
    clock = FakeClock()
    async with sandbox_with(token_ttl=60, clock=clock) as api:
        status, body = await token_call(api, FORM)
        assert body["expires_in"] == 60
        token = body["access_token"]
        clock.advance(59)
        assert (await get_with(api, token))[0] == 200
        clock.advance(1)
        status, err, _ = await get_with(api, token)
        assert status == 401 and "expired" in err["message"]
        assert (await get_with(api, "sandbox-token"))[0] == 200  # the static token never expires


async def test_static_token_can_be_disabled(sandbox_with: Any) -> None:
    async with sandbox_with(static_token=None) as api:
        assert (await get_with(api, "sandbox-token"))[0] == 401
    async with sandbox_with(static_token="my-token") as api:
        assert (await get_with(api, "my-token"))[0] == 200


async def test_token_endpoint_needs_no_token_but_sandbox_routes_do(api: Api) -> None:
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(api.running.token_url, data=FORM) as r:
            assert r.status == 200
        for method, path in (("GET", "/sandbox/stats"), ("GET", "/sandbox/records/customer"),
                             ("POST", "/sandbox/reset")):
            async with anonymous.request(method, api.url + path) as r:
                assert r.status == 401, path
        async with anonymous.get(api.url + "/sandbox/stats", headers={"Authorization": "Bearer sandbox-token"}) as r:
            assert r.status == 200


async def test_token_endpoint_only_takes_post(api: Api) -> None:
    async with api.session.get(api.running.token_url) as r:
        assert r.status == 405
