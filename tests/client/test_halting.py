"""Systemic failures halt the client, not each record: a wrong token or base URL costs a handful of calls."""

from __future__ import annotations

import time

import anyio
import pytest

import importer
from importer.client import ApiClient, ClientCredentials, RetryPolicy, StaticToken, proof
from importer.errors import ConfigError
from tests.support.hostile_server import (
    created,
    delayed,
    error,
    hostile,
    html_page,
    json_answer,
    redirect,
    sequence,
    token_answer,
    with_headers,
)

TOKEN = "hostile-test-token-0123456789"
FAST = RetryPolicy(max_attempts=1, base=0.01, budget=10)
REFUSED = "the API refused the token (HTTP 401): check --token / VISMA_TOKEN, or the client id, secret and tenant"


def client_for(url: str, retry: RetryPolicy = FAST, **options) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), retry=retry, **options)


async def many(client: ApiClient, count: int, method: str = "POST", path: str = "/v1/customer") -> list:
    attempts: list = []

    async def one() -> None:
        body = b"{}" if method != "GET" else None
        attempts.append(await client.request(method, path, body, proof=proof.created("number")))

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return attempts


async def test_a_refused_static_token_costs_one_call_whatever_the_concurrency():
    async with hostile({"* *": error(401, "Unauthorized")}) as srv:
        async with client_for(srv.url) as client:
            attempts = await many(client, 64)
    assert srv.count() == 1
    assert client.halted == REFUSED
    sent = [a for a in attempts if not a.not_sent]
    assert len(sent) == 1 and sent[0].response.status == 401 and sent[0].error == REFUSED
    assert all(a.error == REFUSED and a.attempts == 0 and a.response is None for a in attempts if a.not_sent)


async def test_credentials_refused_again_after_one_renewal_halt():
    async with hostile({
        "POST /connect/token": token_answer({"access_token": "issued-for-the-wrong-tenant", "expires_in": 3600}),
        "* /v1/*": error(401, "Unauthorized"),
    }) as srv:
        auth = ClientCredentials("cid", "client-secret-value", "tenant", token_url=f"{srv.url}/connect/token")
        async with ApiClient(srv.url, auth, retry=FAST) as client:
            attempts = await many(client, 32)
    assert srv.count("POST", "/v1/customer") == 2 and auth.calls == 2  # one renewal, then no more
    assert client.halted == REFUSED and sum(not a.not_sent for a in attempts) == 1


async def test_a_403_halts_and_names_scope_and_tenant_without_echoing_the_token():
    async with hostile({"* *": error(403, f"Forbidden for {TOKEN}")}) as srv:
        async with client_for(srv.url) as client:
            await many(client, 10, "GET", "/v1/customer/C1")
    assert srv.count() == 1
    assert client.halted.startswith("the API refused access (HTTP 403: Forbidden for ***)")
    assert "scope" in client.halted and "tenant" in client.halted and TOKEN not in client.halted


async def test_a_404_on_a_collection_halts_naming_the_base_url():
    async with hostile({"* *": error(404, "Not Found")}) as srv:
        async with client_for(srv.url) as client:
            by_key = await client.request("GET", "/v1/customer/C1")  # "not there": no halt, and no proof
            assert client.halted is None and by_key.response.status == 404 and by_key.error is None
            attempts = await many(client, 20)
    assert srv.count() == 2  # the key, then one POST: the other 19 waited and were never sent
    assert client.halted.startswith(f"the API has no such endpoint (HTTP 404 to POST {srv.url}/v1/customer)")
    assert "base URL" in client.halted and sum(a.not_sent for a in attempts) == 19


async def test_once_the_setup_is_proved_the_same_foreign_answer_to_five_writes_halts():
    async with hostile({"POST /v1/customer": redirect("/login"), "GET *": json_answer({})}) as srv:
        async with client_for(srv.url) as client:
            await client.request("GET", "/v1/customer/C1")  # proves the setup; reads are not watched
            attempts = [await client.request("POST", "/v1/customer", b"{}") for _ in range(8)]
    assert srv.count("POST") == 5
    assert [a.not_sent for a in attempts] == [False] * 5 + [True] * 3
    assert client.halted.startswith("the first 5 writes all ended the same way, which no record can cause "
                                    f"(HTTP 302: redirected to {srv.url}/login)")


async def test_the_same_refusal_of_the_records_to_every_write_halts_nothing():
    async with hostile({"POST /v1/customer": error(400, "Company not set"), "GET *": json_answer({})}) as srv:
        async with client_for(srv.url) as client:
            attempts = [await client.request("POST", "/v1/customer", b"{}") for _ in range(8)]
    assert srv.count("POST") == 8 and client.halted is None
    assert all(a.response.status == 400 and not a.not_sent for a in attempts)


async def test_html_answers_to_the_first_writes_halt_after_one_call():
    async with hostile({"* *": html_page()}) as srv:
        async with client_for(srv.url) as client:
            await many(client, 32)
    assert srv.count() == 1
    assert "the answer is not JSON (text/html)" in client.halted and "proxy" in client.halted


async def test_a_success_first_means_later_errors_are_the_records_own():
    answers = sequence(created(), *[html_page(400)] * 10)
    async with hostile({"POST /v1/customer": answers}) as srv:
        async with client_for(srv.url) as client:
            for _ in range(10):
                await client.request("POST", "/v1/customer", b"{}")
    assert srv.count("POST") == 10 and client.halted is None


async def test_different_foreign_answers_do_not_halt():
    # Once a different answer came, the watch is over: the first one coming back later is no pattern.
    answers = sequence(redirect("/login"), redirect("/sso"), *[redirect("/login")] * 8)
    async with hostile({"POST /v1/customer": answers, "GET *": json_answer({})}) as srv:
        async with client_for(srv.url) as client:
            await client.request("GET", "/v1/customer/C1")
            for _ in range(10):
                await client.request("POST", "/v1/customer", b"{}")
    assert srv.count("POST") == 10 and client.halted is None


async def test_one_request_at_a_time_until_an_answer_proves_the_setup():
    async with hostile({"POST /v1/customer": delayed(created(), 0.05)}) as srv:
        async with client_for(srv.url) as client:
            proving = [await client.request("POST", "/v1/customer", b"{}")]
            srv.max_in_flight = 0
            attempts = proving + await many(client, 16)
    assert all(a.error is None for a in attempts)
    assert srv.max_in_flight > 1  # once proved, the concurrency is back


async def test_before_any_proof_requests_go_one_by_one():
    async with hostile({"POST /v1/customer": delayed(error(400, "bad"), 0.05)}) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(5):
                await many(client, 2)
            first_max = srv.max_in_flight
    assert first_max == 1  # the second waited for the first's answer (a 400: the API is there)


async def test_5xx_and_silence_open_the_gate_after_three_tries():
    down = with_headers(error(503, "down"), {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "90",
                                             "X-RateLimit-Reset": "60"})
    async with hostile({"GET *": delayed(down, 0.05)}) as srv:
        async with client_for(srv.url) as client:
            attempts = await many(client, 12, "GET", "/v1/customer/C1")
    assert client.halted is None and srv.count() == 12  # each record meets its own retries
    assert all(a.response.status == 503 for a in attempts)
    assert srv.max_in_flight > 1  # no deadlock, no one-by-one forever

    async with ApiClient("http://127.0.0.1:9", StaticToken(TOKEN), retry=FAST) as client:  # nothing listens
        refused = await many(client, 12, "GET", "/v1/customer/C1")
    assert client.halted is None and all(a.error == "cannot connect to 127.0.0.1:9" for a in refused)


async def test_a_halt_wakes_a_request_sleeping_in_its_backoff():
    async with hostile({
        "GET /v1/customer/C0": json_answer({"number": "C0"}),
        "PUT /v1/customer/C1": with_headers(error(503, "busy"), {"Retry-After": "20"}),
        "POST /v1/customer": error(404, "Not Found"),
    }) as srv:
        async with client_for(srv.url, RetryPolicy(max_attempts=5, base=0.01, budget=60)) as client:
            await client.request("GET", "/v1/customer/C0")  # proves the setup: the gate opens
            started = time.monotonic()
            results = {}

            async def put() -> None:
                results["put"] = await client.request("PUT", "/v1/customer/C1", b"{}")

            async with anyio.create_task_group() as tg:
                tg.start_soon(put)
                await anyio.sleep(0.2)
                await client.request("POST", "/v1/customer", b"{}")  # a 404 on the collection: halt
    assert time.monotonic() - started < 2  # not the 20 s Retry-After
    assert results["put"].error == client.halted and results["put"].attempts == 1


def test_a_base_url_that_is_no_http_url_is_a_config_error():
    for url in ("ftp://api.example", "api.finance.visma.net", "http://"):
        with pytest.raises(ConfigError, match="not an http"):
            ApiClient(url)


# -- end to end: the importer over 500 records at concurrency 32 ---------------------------------------


def customers(count: int) -> list[dict]:
    return [{"number": str(n), "name": f"Kunde {n}"} for n in range(1, count + 1)]


@pytest.mark.parametrize("answer", ["401", "404", "html"])
async def test_a_wrong_token_base_url_or_proxy_costs_at_most_ten_calls(tmp_path, answer):
    behaviour = {"401": error(401, "Unauthorized"), "404": error(404, "Not Found"), "html": html_page()}[answer]
    async with hostile({"* *": behaviour}) as srv:
        with anyio.fail_after(30):
            summary = await importer.import_records(
                customers(500), entity="customer", base_url=srv.url, token=TOKEN, concurrency=32,
                results=str(tmp_path / "r.ndjson"),
            )
    assert srv.count() <= 10, srv.requests
    assert not summary.ok
