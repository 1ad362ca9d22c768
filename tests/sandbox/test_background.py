"""The background API: 202, state polling (Started -> Finished), content, errors."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from importer.schema import read_fields
from tests.support.sandbox_api import Api, customer_body, w

BACKGROUND = {"erp-api-background": "none"}


async def wait_finished(api: Api, state_location: str, timeout: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            async with api.session.get(state_location, headers={"Authorization": "Bearer sandbox-token"}) as r:
                assert r.status == 200
                state = await r.json()
            if state["status"] != "Started":
                return state
            await asyncio.sleep(0.02)


async def test_post_in_background(sandbox_with: Any) -> None:
    async with sandbox_with(background_delay_ms=150) as api:
        status, accepted, headers = await api.call(
            "POST", "/v1/customer", json=customer_body("10000"), headers=BACKGROUND
        )
        assert status == 202 and headers["X-RateLimit-Remaining"] == "14999"
        assert accepted["stateLocation"] == f"{api.url}/v1/background/{accepted['id']}"
        status, state, _ = await api.call("GET", f"/v1/background/{accepted['id']}")
        assert status == 200
        assert state["status"] == "Started" and state["statusCode"] == 0 and "finishedUtc" not in state
        assert "startedUtc" not in state  # still waiting out its delay
        assert state["originalUri"] == f"{api.url}/v1/customer" and state["hasRequestContent"] is True
        assert (await api.stats())["records"]["customer"] == 0  # not run yet
        assert (await api.call("GET", f"/v1/background/{accepted['id']}/content"))[0] == 404
        state = await wait_finished(api, accepted["stateLocation"])
        assert state["status"] == "Finished" and state["statusCode"] == 201
        assert state["responseHeaders"]["Location"] == f"{api.url}/v1/customer/10000"
        assert state["hasResponseContent"] is False and "contentLocation" not in state
        assert state["receivedUtc"] < state["startedUtc"] <= state["finishedUtc"]  # 150 ms apart
        assert (await api.call("GET", "/v1/customer/10000"))[0] == 200


async def test_get_in_background_has_content(api: Api) -> None:
    await api.post_customer("10000")
    status, accepted, _ = await api.call("GET", "/v1/Customer/10000", headers=BACKGROUND)
    assert status == 202
    state = await wait_finished(api, accepted["stateLocation"])
    assert state["statusCode"] == 200 and state["hasResponseContent"] is True
    assert state["contentLocation"] == f"{api.url}/v1/background/{accepted['id']}/content"
    status, content, headers = await api.call("GET", f"/v1/background/{accepted['id']}/content")
    assert status == 200 and content["number"] == "10000"
    assert headers["Content-Type"].startswith("application/json")


async def test_failing_request_in_background(api: Api) -> None:
    status, accepted, _ = await api.call("POST", "/v1/customer", json={"nmae": w("x")}, headers=BACKGROUND)
    assert status == 202  # validation happens when it runs
    state = await wait_finished(api, accepted["stateLocation"])
    assert state["status"] == "Finished" and state["statusCode"] == 400
    _, content, _ = await api.call("GET", f"/v1/background/{accepted['id']}/content")
    assert content["ExceptionType"] == "IPPException" and "nmae" in content["ExceptionMessage"]


async def test_webhook_address_is_recorded(api: Api) -> None:
    headers = {"erp-api-background": "https://example.invalid/hook"}
    _, accepted, _ = await api.call("GET", "/v1/customer", headers=headers)
    state = await wait_finished(api, accepted["stateLocation"])
    assert state["webhookAddress"] == "https://example.invalid/hook" and state["statusCode"] == 200


async def test_actions_in_background(api: Api) -> None:
    await api.post_customer("10000")
    _, accepted, _ = await api.call(
        "POST", "/v1/customer/10000/action/createDunningLetter", json={"levelFrom": 1}, headers=BACKGROUND
    )
    state = await wait_finished(api, accepted["stateLocation"])
    assert state["statusCode"] == 200
    _, content, _ = await api.call("GET", f"/v1/background/{accepted['id']}/content")
    assert content["actionResult"] == "Done"


async def test_unknown_job_and_other_clients(api: Api) -> None:
    assert (await api.call("GET", "/v1/background/nope"))[0] == 404
    assert (await api.call("GET", "/v1/background/nope/content"))[0] == 404
    _, accepted, _ = await api.call("GET", "/v1/customer", headers=BACKGROUND)
    form = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret",
            "tenant_id": "t"}
    async with api.session.post(api.running.token_url, data=form) as r:
        token = (await r.json())["access_token"]
    status, _, _ = await api.call("GET", f"/v1/background/{accepted['id']}",
                                  headers={"Authorization": f"Bearer {token}"})
    assert status == 403


async def test_background_needs_a_token(api: Api) -> None:
    status, _, _ = await api.call("POST", "/v1/customer", json=customer_body("1"), headers=BACKGROUND,
                                  anonymous=True)
    assert status == 401


async def test_shutdown_cancels_queued_work(sandbox_with: Any) -> None:
    async with sandbox_with(background_delay_ms=60_000) as api:
        status, _, _ = await api.call("POST", "/v1/customer", json=customer_body("1"), headers=BACKGROUND)
        assert status == 202
        tasks = set(api.running.sandbox.jobs._tasks)
    # Leaving the block returned promptly: the queued job was cancelled, not awaited.
    assert len(tasks) == 1
    assert all(task.cancelled() for task in tasks)


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_state_is_the_documented_dto(sandbox_with: Any, profile: str) -> None:
    documented = read_fields("BackgroundRequestStateDto")
    async with sandbox_with(profile=profile, background_delay_ms=100) as api:
        _, accepted, _ = await api.call("POST", "/v1/customer", json=customer_body("1"), headers=BACKGROUND)
        assert set(accepted) == set(read_fields("BackgroundApiAcceptedDto"))
        _, waiting, _ = await api.call("GET", f"/v1/background/{accepted['id']}")
        finished = await wait_finished(api, accepted["stateLocation"])
        for state in (waiting, finished):
            # Every field is the document's; one without a value is left out (none is nullable).
            assert set(state) <= set(documented)
            assert {"id", "status", "statusCode", "receivedUtc", "webhookAddress", "originalUri",
                    "hasResponseContent", "hasRequestContent", "responseHeaders"} <= set(state)
            assert state["status"] in ("Started", "Finished", "Failed")
            assert isinstance(state["statusCode"], int) and isinstance(state["responseHeaders"], dict)
            assert datetime.fromisoformat(state["receivedUtc"]).tzinfo is not None
        assert (waiting["status"], waiting["statusCode"], waiting.get("startedUtc"), waiting.get("finishedUtc")) == (
            "Started", 0, None, None)
        assert waiting["hasResponseContent"] is False and waiting["webhookAddress"] == "none"
        assert (finished["status"], finished["statusCode"]) == ("Finished", 201)
        for name in ("startedUtc", "finishedUtc"):
            assert datetime.fromisoformat(finished[name]).tzinfo is not None


async def test_jobs_belong_to_the_company_too(api: Api) -> None:
    form = {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox-secret"}
    tokens = []
    for tenant in ("A", "B"):
        async with api.session.post(api.running.token_url, data={**form, "tenant_id": tenant}) as r:
            tokens.append({"Authorization": f"Bearer {(await r.json())['access_token']}"})
    _, accepted, _ = await api.call("GET", "/v1/customer", headers={**BACKGROUND, **tokens[0]})
    assert (await api.call("GET", f"/v1/background/{accepted['id']}", headers=tokens[0]))[0] == 200
    assert (await api.call("GET", f"/v1/background/{accepted['id']}", headers=tokens[1]))[0] == 403
