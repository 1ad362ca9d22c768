"""Transient is not systemic: what may pass is retried, what is the records' own fails them alone.

A token endpoint down for a moment (at the first fetch, at a renewal) costs no
record; invoices the API refuses for their own data (a customer that is not
there) fail, and neither the run nor any resume stops for them; an answer no
record can cause (a refused token, a sign-in page) still stops the run after one
call. Each test asks the sandbox's ledger what it holds.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from importer.client import ApiClient, ClientCredentials, RetryPolicy, StaticToken
from importer.errors import AuthError
from importer.plans.plan import load_plan, run_plan
from importer.sandbox import SandboxConfig, serve
from importer.schema import unwrap_value
from tests.support.hostile_server import (
    Behaviour,
    HostileServer,
    echo_secret,
    error,
    hostile,
    html_page,
    sequence,
    token_answer,
)
from tests.support.runs import TOKEN, final_lines, get_json, read_lines, run_cli

SECRET = "sandbox-secret"  # the sandbox's own client, asked for through a flaky front
CREDENTIALS = {"VISMA_CLIENT_ID": "sandbox", "VISMA_CLIENT_SECRET": SECRET, "VISMA_TENANT_ID": "sandbox"}
INVOICE_HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
FAST = RetryPolicy(max_attempts=3, base=0.01, budget=5)


def flaky_token_endpoint(token_url: str, down_at: set[int]) -> Behaviour:
    """The sandbox's token endpoint behind a front answering 503 to the fetches numbered in ``down_at``."""
    fetches = {"n": 0}

    async def answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        fetches["n"] += 1
        if fetches["n"] in down_at:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        form = dict(await request.post())
        async with aiohttp.ClientSession() as session, session.post(token_url, data=form) as upstream:
            return web.Response(status=upstream.status, body=await upstream.read(),
                                content_type="application/json")

    return answer


async def records(url: str, entity: str) -> list[dict]:
    return await get_json(f"{url}/sandbox/records/{entity}")  # type: ignore[return-value]


def no_secret_in(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and "Traceback" not in text


# -- the token endpoint: down for a moment -------------------------------------------------------


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_token_endpoint_down_at_the_first_fetch_and_at_a_renewal_costs_no_record(start_sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"C{i},Kunde {i}\n" for i in range(1, 41)), encoding="utf-8")
    # Tokens live 1 s and each request takes 60 ms: at concurrency 2 the run outlives a few tokens.
    async with start_sandbox(token_ttl=1, latency_ms=60) as sb, hostile(
            {"POST /connect/token": flaky_token_endpoint(sb.token_url, down_at={1, 3})}) as front:
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sb.url,
                                       "--token-url", f"{front.url}/connect/token", "--concurrency", "2",
                                       env=CREDENTIALS)
        stored = Counter(c["number"] for c in await records(sb.url, "customer"))
        stats = await get_json(f"{sb.url}/sandbox/stats")
    assert code == 0, out + err
    assert front.count("POST", "/connect/token") >= 4  # 503, token, 503 at the renewal, token
    assert stats["by_status"].get("401", 0) >= 1  # a token lapsed, and was renewed, during the run
    assert stored == Counter({f"C{i}": 1 for i in range(1, 41)})
    outcomes = Counter(line["outcome"] for line in final_lines(tmp_path / "c.csv.results.ndjson"))
    assert outcomes == Counter({"created": 40})
    no_secret_in(out, err)


async def test_a_token_endpoint_that_stays_down_is_given_up_in_bounds_naming_the_last_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\nC1,En\nC2,To\n", encoding="utf-8")
    async with serve(SandboxConfig(seed=1)) as sb, hostile({"POST /connect/token": echo_secret(503)}) as front:
        started = time.monotonic()
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sb.url,
                                       "--token-url", f"{front.url}/connect/token", "--max-attempts", "3",
                                       env=CREDENTIALS)
        elapsed = time.monotonic() - started
        assert await records(sb.url, "customer") == []
    assert code == 2, out + err
    assert front.count() == 3 and elapsed < 15  # three tries, backing off, then the run stops
    assert "answered HTTP 503 (client_secret '***' is not valid for this client); gave up after 3 tries" in err
    no_secret_in(out, err)


async def test_a_retry_after_is_honoured_and_one_past_the_budget_is_not_waited_for():
    async with hostile({"POST /connect/token": sequence(
            error(429, "slow down", {"Retry-After": "0.4"}),
            token_answer({"access_token": "a-token-worth-waiting-for", "expires_in": 3600}))}) as srv:
        auth = ClientCredentials("cid", SECRET, "t", token_url=f"{srv.url}/connect/token", retry=FAST)
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            assert await auth.token(session) == "a-token-worth-waiting-for"
            assert time.monotonic() - started >= 0.4
    assert auth.calls == 2

    async with hostile({"POST /connect/token": error(503, "maintenance", {"Retry-After": "3600"})}) as srv:
        auth = ClientCredentials("cid", SECRET, "t", token_url=f"{srv.url}/connect/token", retry=FAST)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(AuthError) as info:
                await auth.token(session)
    assert auth.calls == 1 and "HTTP 503 (maintenance); gave up after 1 try" in str(info.value)
    assert "budget of 5 s" in str(info.value) and SECRET not in str(info.value)


async def test_refused_credentials_and_an_unreachable_endpoint_end_as_they_should():
    async with hostile({"POST /connect/token": echo_secret(401)}) as srv:
        auth = ClientCredentials("cid", SECRET, "t", token_url=f"{srv.url}/connect/token", retry=FAST)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(AuthError, match="refused client 'cid': HTTP 401") as info:
                await auth.token(session)
    assert auth.calls == 1 and SECRET not in str(info.value)  # a refusal is final at once

    auth = ClientCredentials("cid", SECRET, "t", token_url="http://127.0.0.1:9/connect/token", retry=FAST)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(AuthError, match="unreachable: ClientConnectorError; gave up after 3 tries"):
            await auth.token(session)
    assert auth.calls == 3


# -- refusals of the records' own data ------------------------------------------------------------


def invoices(tmp_path, bad: int, good: int) -> str:
    path = tmp_path / "i.csv"
    rows = [f"B{n},GONE,2024-01-01,bad,1,100\n" for n in range(1, bad + 1)]
    rows += [f"G{n},C1,2024-01-01,good,1,100\n" for n in range(1, good + 1)]
    path.write_text(INVOICE_HEADER + "".join(rows), encoding="utf-8")
    return str(path)


async def test_invoices_of_a_missing_customer_fail_alone_and_no_resume_halts(tmp_path):
    # The standard profile: the live one refuses the same failed write a third time within
    # five minutes with a 429, which a --retry-failed straight after would wait out. The API's
    # own refusal is what is tested: the preflight, which would refuse these invoices before a
    # call (tests/e2e/test_preflight.py), is told to check nothing.
    path = invoices(tmp_path, bad=12, good=18)
    results = f"{path}.results.ndjson"
    (tmp_path / "c.csv").write_text("number,name\nC1,En\n", encoding="utf-8")
    async with serve(SandboxConfig(seed=1)) as sb:
        run = ("run", "--entity", "invoice", "--base-url", sb.url, "--token", TOKEN, "--concurrency", "4",
               "--company", "none")
        code, out, err = await run_cli(run[0], str(tmp_path / "c.csv"), "--entity", "customer", *run[3:])
        assert code == 0, out + err

        code, out, err = await run_cli(run[0], path, *run[1:])
        held = sorted(unwrap_value(i["referenceNumber"]) for i in await records(sb.url, "invoice"))
        assert code == 1 and "stopped" not in err, out + err
        assert held == sorted(f"G{n}" for n in range(1, 19))
        finals = {x["key"]: x for x in final_lines(results)}
        assert sorted(finals) == sorted([f"B{n}" for n in range(1, 13)] + [f"G{n}" for n in range(1, 19)])
        for n in range(1, 13):
            assert finals[f"B{n}"]["outcome"] == "failed" and "customer 'GONE' does not exist" in finals[f"B{n}"]["error"]

        # Sent again as they are: the same twelve refusals first, and still no halt.
        before = (await get_json(f"{sb.url}/sandbox/stats"))["requests"]
        code, out, err = await run_cli(run[0], path, *run[1:], "--resume", "--retry-failed")
        assert code == 1 and "stopped" not in err, out + err
        assert (await get_json(f"{sb.url}/sandbox/stats"))["requests"] - before == 12
        tries = Counter((x["key"], x["outcome"]) for x in final_lines(results))
        assert tries == Counter({**{(f"B{n}", "failed"): 2 for n in range(1, 13)},
                                 **{(f"G{n}", "created"): 1 for n in range(1, 19)}})

        # The customer made: the next resume sends the twelve, and the ledger holds all thirty once.
        (tmp_path / "gone.csv").write_text("number,name\nGONE,Kommer tilbake\n", encoding="utf-8")
        code, out, err = await run_cli(run[0], str(tmp_path / "gone.csv"), "--entity", "customer", *run[3:])
        assert code == 0, out + err
        code, out, err = await run_cli(run[0], path, *run[1:], "--resume", "--retry-failed")
        assert code == 0, out + err
        held = Counter(unwrap_value(i["referenceNumber"]) for i in await records(sb.url, "invoice"))
    assert held == Counter({**{f"B{n}": 1 for n in range(1, 13)}, **{f"G{n}": 1 for n in range(1, 19)}})


async def test_a_plan_whose_first_invoices_lack_their_customer_goes_on(tmp_path):
    (tmp_path / "customers.csv").write_text("number,name,numberOfEmployees\nC1,En,\nC2,To,mange\n",
                                            encoding="utf-8")
    rows = [f"X{n},GONE,2024-01-01,x,1,100\n" for n in range(1, 7)]  # not in the plan, not in the API
    rows += [f"W{n},C2,2024-01-01,w,1,100\n" for n in range(1, 3)]  # its customer's row was invalid
    rows += [f"G{n},C1,2024-01-01,g,1,100\n" for n in range(1, 11)]
    (tmp_path / "invoices.csv").write_text(INVOICE_HEADER + "".join(rows), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\nname = "customers"\ninput = "customers.csv"\nentity = "customer"\n\n'
                    '[[step]]\nname = "invoices"\ninput = "invoices.csv"\nentity = "invoice"\n', encoding="utf-8")
    async with serve(SandboxConfig(seed=1)) as sb:
        [(_, customers), (_, documents)] = await run_plan(load_plan(str(plan)),
                                                          overrides={"base_url": sb.url, "token": TOKEN})
        held = sorted(unwrap_value(i["referenceNumber"]) for i in await records(sb.url, "invoice"))
    assert not customers.halted and not documents.halted
    assert documents.outcomes["failed"] == 6 and documents.outcomes["skipped"] == 2
    assert documents.outcomes["created"] == 10 and documents.not_processed == 0
    assert held == sorted(f"G{n}" for n in range(1, 11))


# -- what no record can cause still stops the run after one call ----------------------------------


def customers_file(tmp_path, count: int) -> str:
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"C{i},Kunde {i}\n" for i in range(1, count + 1)), encoding="utf-8")
    return str(path)


async def test_a_refused_token_still_stops_the_run_after_one_call(tmp_path):
    path = customers_file(tmp_path, 100)
    async with serve(SandboxConfig(seed=1)) as sb:
        code, out, err = await run_cli("run", path, "--entity", "customer", "--base-url", sb.url,
                                       "--token", "not-the-sandbox-token", "--concurrency", "16")
        stats = await get_json(f"{sb.url}/sandbox/stats")
        assert await records(sb.url, "customer") == []
    # The one call is the first read of the company (the preflight's): refused as a write would be.
    assert code == 2 and "refused the token (HTTP 401)" in err, out + err
    assert stats["requests"] == 1 and stats["by_status"] == {"401": 1}
    assert "not-the-sandbox-token" not in out + err
    assert not os.path.exists(f"{path}.results.ndjson") and not os.path.exists(f"{path}.results.ndjson.company.json")


async def test_a_sign_in_page_in_front_of_the_api_stops_the_run_at_the_company_read(tmp_path):
    path = customers_file(tmp_path, 100)
    async with hostile({"* *": html_page()}) as proxy:
        started = time.monotonic()
        code, out, err = await run_cli("run", path, "--entity", "customer", "--base-url", proxy.url,
                                       "--token", TOKEN, "--concurrency", "16")
        elapsed = time.monotonic() - started
    assert code == 2, out + err
    assert proxy.count() == 1 and proxy.count("GET", "/v1/creditTerm") == 1 and elapsed < 10  # not tried again
    assert "the first read of the company (creditTerms" in err and "sign-in page" in err, err
    assert "sent unchecked" not in err and "Traceback" not in err
    assert not os.path.exists(f"{path}.results.ndjson")  # nothing sent, no outcome: the same run starts clean


async def test_a_sign_in_page_in_front_of_the_api_stops_the_run_after_one_write(tmp_path):
    path = customers_file(tmp_path, 100)
    async with hostile({"* *": html_page()}) as proxy:
        code, out, err = await run_cli("run", path, "--entity", "customer", "--base-url", proxy.url,
                                       "--token", TOKEN, "--concurrency", "16", "--company", "none")
    assert code == 2, out + err
    assert proxy.count("POST", "/v1/customer") == 1 and proxy.count() <= 2  # the create and its lookup
    assert "sign-in page" in err and "Traceback" not in err
    lines = read_lines(tmp_path / "c.csv.results.ndjson")
    assert [x["records"] for x in lines if x["outcome"] == "failed"] == [[1]]


async def test_the_same_500_to_every_write_halts_nothing_but_a_503_outlasting_five_writes_does():
    retry = RetryPolicy(max_attempts=2, base=0.01, budget=5)
    refused = error(500, "'customerNumber': customer 'GONE' does not exist.")  # the live API's 400, as a 500
    async with hostile({"PUT /v1/customer/*": refused, "POST /v1/customer": error(503, "Service Unavailable")}) as srv:
        async with ApiClient(srv.url, StaticToken(TOKEN), retry=retry) as client:
            for n in range(8):
                assert (await client.request("PUT", f"/v1/customer/C{n}", b"{}")).response.status == 500
            assert client.halted is None and srv.count("PUT") == 16  # each retried once, none halts
        async with ApiClient(srv.url, StaticToken(TOKEN), retry=retry) as client:
            attempts = [await client.request("POST", "/v1/customer", b"{}") for _ in range(8)]
    assert srv.count("POST") == 5  # five writes, each sent once (a 503 to a create is not sent blind)
    assert [a.not_sent for a in attempts] == [False] * 5 + [True] * 3
    assert client.halted.startswith("the first 5 writes all ended the same way, which no record can cause "
                                    "(HTTP 503: Service Unavailable)") and "API down" in client.halted
