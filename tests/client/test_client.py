"""Client edge cases a real server can't easily be made to produce, with aioresponses."""

import re

import aiohttp
import pytest
from aioresponses import aioresponses

from importer.client import ApiClient, ClientCredentials, Pacer, RetryPolicy, StaticToken
from importer.errors import AuthError

BASE = "http://127.0.0.1:9"
TOKEN_URL = "http://127.0.0.1:9/connect/token"
FAST = RetryPolicy(max_attempts=3, base=0.001)


def limit_headers(remaining: int, reset: int = 10, limit: int = 100) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset)}


async def test_401_renews_the_token_once_and_retries():
    auth = ClientCredentials("cid", "s3cr3t-value", "tenant", token_url=TOKEN_URL)
    with aioresponses() as m:
        m.post(TOKEN_URL, payload={"access_token": "t1", "expires_in": 3600})
        m.post(TOKEN_URL, payload={"access_token": "t2", "expires_in": 3600})
        m.post(f"{BASE}/v1/customer", status=401, payload={"message": "expired"})
        m.post(f"{BASE}/v1/customer", status=201, headers={"Location": f"{BASE}/v1/customer/1"})
        async with ApiClient(BASE, auth, retry=FAST) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}")
        sent = [call for (method, url), calls in m.requests.items() if str(url).endswith("/v1/customer") for call in calls]
        tokens = [call.kwargs["headers"]["Authorization"] for call in sent]
    assert attempt.response.status == 201
    assert tokens == ["Bearer t1", "Bearer t2"]
    assert auth.calls == 2


async def test_a_static_token_is_not_renewed_on_401():
    with aioresponses() as m:
        m.post(f"{BASE}/v1/customer", status=401, payload={"message": "bad token"})
        async with ApiClient(BASE, StaticToken("abc"), retry=FAST) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}")
    assert attempt.response.status == 401
    assert attempt.response.error_text() == "bad token"


async def test_token_endpoint_errors_never_show_the_secret():
    auth = ClientCredentials("cid", "s3cr3t-value", token_url=TOKEN_URL)
    with aioresponses() as m:
        m.post(TOKEN_URL, status=400, payload={"error": "invalid_client"})
        async with aiohttp.ClientSession() as session:
            with pytest.raises(AuthError) as info:
                await auth.token(session)
    assert "invalid_client" in str(info.value)
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in repr(auth)


async def test_429_waits_for_retry_after_and_does_not_use_up_attempts():
    pacer = Pacer()
    with aioresponses() as m:
        for _ in range(4):
            m.post(f"{BASE}/v1/customer", status=429, headers={"Retry-After": "0"}, payload={"message": "slow down"})
        m.post(f"{BASE}/v1/customer", status=201, headers=limit_headers(50))
        async with ApiClient(BASE, StaticToken("t"), retry=FAST, pacer=pacer) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}")
            assert client.stats.throttled == 4
    assert attempt.response.status == 201 and attempt.attempts == 5


async def test_5xx_on_a_post_looks_up_before_sending_again():
    looked = []

    async def lookup():
        looked.append(1)
        return None  # not there: safe to send again

    with aioresponses() as m:
        m.post(f"{BASE}/v1/customer", status=502)
        m.post(f"{BASE}/v1/customer", status=201)
        async with ApiClient(BASE, StaticToken("t"), retry=FAST, timeout=0.2) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup)
    # A gateway's 502: the write may still be running, so it is looked up again after a wait.
    assert looked == [1, 1] and attempt.waited >= 0.19
    assert attempt.response.status == 201 and attempt.attempts == 2


async def test_a_reset_after_sending_that_went_through_is_found_not_resent():
    from importer.client.http import Response

    async def lookup():
        return Response(200, {}, b'{"number": "1"}')

    with aioresponses() as m:
        m.post(f"{BASE}/v1/customer", exception=aiohttp.ServerDisconnectedError())
        async with ApiClient(BASE, StaticToken("t"), retry=FAST) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup)
            calls = client.stats.calls
    assert attempt.found_by_lookup and attempt.response.status == 200
    assert calls == 1


async def test_an_ambiguous_write_without_lookup_is_not_repeated():
    with aioresponses() as m:
        m.post(re.compile(r".*/action/createDunningLetter"), exception=TimeoutError())
        async with ApiClient(BASE, StaticToken("t"), retry=FAST) as client:
            attempt = await client.request("POST", "/v1/customer/1/action/createDunningLetter", b"{}")
    assert attempt.response is None
    assert "outcome unknown" in attempt.error and attempt.attempts == 1


async def test_connection_refused_is_retried_then_reported():
    with aioresponses() as m:
        for _ in range(3):
            m.put(f"{BASE}/v1/customer/1", exception=aiohttp.ClientConnectionError("refused"))
        async with ApiClient(BASE, StaticToken("t"), retry=FAST) as client:
            attempt = await client.request("PUT", "/v1/customer/1", b"{}")
    assert attempt.response is None and attempt.attempts == 3
    assert "refused" in attempt.error


async def test_validation_errors_are_final_at_once():
    with aioresponses() as m:
        m.post(f"{BASE}/v1/customer", status=400, payload={
            "ExceptionType": "IPPException", "ExceptionMessage": "Customer 1 already exists",
            "ExceptionFaultCode": "12002", "ExceptionMessageID": "12002_x", "ExceptionDetails": ""})
        async with ApiClient(BASE, StaticToken("t"), retry=FAST) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}")
    assert attempt.attempts == 1
    assert attempt.response.error_text() == "Customer 1 already exists"


async def test_pacer_spends_the_window_then_waits_for_it_to_turn():
    pacer = Pacer()
    first = await pacer.acquire()  # the probe
    pacer.release(first, limit_headers(remaining=2, reset=1, limit=3), 201)
    a = await pacer.acquire()
    b = await pacer.acquire()
    import anyio

    with anyio.move_on_after(0.2) as scope:
        await pacer.acquire()  # the window is spent: this must wait
    assert scope.cancelled_caught
    pacer.release(a, limit_headers(remaining=1, reset=1, limit=3), 201)
    pacer.release(b, limit_headers(remaining=0, reset=1, limit=3), 201)
    with anyio.fail_after(3):
        await pacer.acquire()  # after the turn, a single probe may go



async def test_a_new_window_lets_one_probe_go_and_the_rest_follow_its_answer():
    import anyio

    pacer = Pacer()
    probe = await pacer.acquire()
    with anyio.move_on_after(0.1) as scope:
        await pacer.acquire()  # nothing is known of the window until the probe answers
    assert scope.cancelled_caught
    pacer.release(probe, limit_headers(remaining=1, reset=10), 201)
    with anyio.fail_after(1):
        await pacer.acquire()  # Remaining was 1: one more may go
    with anyio.move_on_after(0.1) as scope:
        await pacer.acquire()  # and that one is in flight, so the window is spent
    assert scope.cancelled_caught


async def test_answers_sent_before_a_429_do_not_reopen_the_window():
    import anyio

    pacer = Pacer()
    probe = await pacer.acquire()
    pacer.release(probe, limit_headers(remaining=3, reset=10), 201)
    early, throttled = await pacer.acquire(), await pacer.acquire()
    pacer.release(throttled, {"Retry-After": "0"}, 429)
    pacer.release(early, limit_headers(remaining=2, reset=10), 201)  # counted in the old window
    with anyio.fail_after(1):
        await pacer.acquire()  # the new window's probe
    with anyio.move_on_after(0.1) as scope:
        await pacer.acquire()  # waits for the probe's answer, not for the stale Remaining
    assert scope.cancelled_caught
