"""The token endpoint is checked like any other answer, and none of its answers leaks a secret or a traceback."""

from __future__ import annotations

import aiohttp
import pytest

from importer.client import ApiClient, ClientCredentials, RetryPolicy
from importer.errors import AuthError
from tests.support.hostile_server import (
    created,
    echo_secret,
    endless_body,
    error,
    hostile,
    html_page,
    raw_answer,
    redirect,
    sequence,
    token_answer,
)
from tests.support.runs import run_cli

SECRET = "s3cr3t/with+odd& chars"  # URL-encodes differently as form and as path
FAST = RetryPolicy(max_attempts=2, base=0.01, budget=10)


def credentials(url: str) -> ClientCredentials:
    return ClientCredentials("cid", SECRET, "tenant", token_url=f"{url}/connect/token")


async def refusal(answer) -> str:
    async with hostile({"POST /connect/token": answer}) as srv:
        auth = credentials(srv.url)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(AuthError) as info:
                await auth.token(session)
    message = str(info.value)
    assert f"token endpoint {srv.url}/connect/token" in message  # names the endpoint
    assert SECRET not in message and "s3cr3t" not in message
    return message


async def test_an_html_answer_is_no_token():
    message = await refusal(html_page())
    assert message.endswith("answered HTTP 200, but the answer is not JSON (text/html): is the token URL right?")


async def test_an_answer_without_an_access_token_is_no_token():
    assert (await refusal(token_answer({"token_type": "Bearer", "expires_in": 3600}))).endswith(
        "answered HTTP 200 without an access_token")
    assert (await refusal(token_answer({"access_token": "", "expires_in": 3600}))).endswith(
        "answered HTTP 200 without an access_token")


async def test_an_expires_in_that_is_no_number_is_refused():
    message = await refusal(token_answer({"access_token": "abcdefgh-token", "expires_in": "soon"}))
    assert message.endswith("answered an expires_in that is not a number of seconds: 'soon'")


async def test_a_body_over_the_cap_and_a_redirect_are_refused():
    assert "answered more than 64 KiB" in await refusal(endless_body())
    message = await refusal(redirect("https://login.example/sso"))
    assert "HTTP 302 (redirected to https://login.example/sso: is the token URL right?)" in message


async def test_an_error_description_is_shown_without_the_secret():
    message = await refusal(echo_secret())
    assert message.startswith("token endpoint") and "refused client 'cid': HTTP 400 (client_secret '***'" in message


async def test_an_error_description_echoing_the_url_encoded_secret_is_cleaned_too():
    from urllib.parse import quote_plus

    body = f'{{"error": "invalid_client", "error_description": "bad secret {quote_plus(SECRET)}"}}'.encode()
    message = await refusal(raw_answer(body, 401, "application/json"))
    assert message.endswith("HTTP 401 (bad secret ***)") and quote_plus(SECRET) not in message


async def test_a_missing_expires_in_lasts_an_hour_and_zero_is_not_a_fetch_per_request():
    for answer in ({"access_token": "token-without-expiry"}, {"access_token": "token-expiring-now", "expires_in": 0}):
        async with hostile({"POST /connect/token": token_answer(answer), "POST /v1/customer": created()}) as srv:
            auth = credentials(srv.url)
            async with ApiClient(srv.url, auth, retry=FAST) as client:
                for _ in range(20):
                    attempt = await client.request("POST", "/v1/customer", b"{}")
                    assert attempt.error is None
        assert auth.calls == 1, answer  # reused: at least 30 s, or the hour assumed
        assert srv.count("POST", "/v1/customer") == 20


async def test_a_failing_endpoint_is_not_asked_again_at_once():
    # Its own retries spent, the fetch has failed: the next requests are told so without a call.
    async with hostile({"POST /connect/token": error(503, "down")}) as srv:
        auth = ClientCredentials("cid", SECRET, "tenant", token_url=f"{srv.url}/connect/token", retry=FAST)
        async with aiohttp.ClientSession() as session:
            for _ in range(5):
                with pytest.raises(AuthError, match="HTTP 503 \\(down\\); gave up after 2 tries"):
                    await auth.token(session)
    assert auth.calls == 2 and srv.count() == 2


async def test_a_token_that_cannot_be_renewed_mid_run_halts_the_client():
    tokens = sequence(token_answer({"access_token": "first-token-value", "expires_in": 3600}),
                      html_page())
    async with hostile({"POST /connect/token": tokens,
                        "POST /v1/customer": sequence(created(), error(401, "expired"))}) as srv:
        auth = credentials(srv.url)
        async with ApiClient(srv.url, auth, retry=FAST) as client:
            assert (await client.request("POST", "/v1/customer", b"{}")).error is None
            renewal_failed = await client.request("POST", "/v1/customer", b"{}")
            after = await client.request("POST", "/v1/customer", b"{}")
    assert "is not JSON (text/html)" in renewal_failed.error and client.halted == renewal_failed.error
    assert after.not_sent and srv.count("POST", "/v1/customer") == 2 and auth.calls == 2


async def test_the_cli_shows_a_token_endpoint_failure_without_a_traceback_or_the_secret(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n", encoding="utf-8")
    async with hostile({"POST /connect/token": echo_secret()}) as srv:
        code, out, err = await run_cli(
            "run", str(path), "--entity", "customer", "--base-url", srv.url, "--token-url", f"{srv.url}/connect/token",
            env={"VISMA_CLIENT_ID": "cid", "VISMA_CLIENT_SECRET": SECRET, "VISMA_TENANT_ID": "t"},
        )
    assert code == 2 and "Traceback" not in err and SECRET not in err + out
    assert "client_secret '***' is not valid" in err
