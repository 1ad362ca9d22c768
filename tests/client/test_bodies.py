"""Answers are bounded: an endless, huge, inflating or stalled body fails its request, memory stays flat."""

from __future__ import annotations

import time
import tracemalloc

import anyio

from importer.client import ApiClient, RetryPolicy, StaticToken, proof
from tests.support.hostile_server import endless_body, gzip_bomb, hostile, huge_body, json_answer, stalled_body

TOKEN = "hostile-test-token-0123456789"
FAST = RetryPolicy(max_attempts=2, base=0.01, budget=10)
CAP = 256 * 1024


def client_for(url: str, **options) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), retry=FAST, **options)


async def test_an_endless_body_to_a_read_is_an_error_and_memory_stays_flat():
    async with hostile({"GET /v1/customer/C1": endless_body()}) as srv:
        async with client_for(srv.url, max_body=CAP) as client:
            tracemalloc.start()
            try:
                with anyio.fail_after(5):
                    attempt = await client.request("GET", "/v1/customer/C1")
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert attempt.error == "the answer exceeded 256 KiB"
    assert attempt.response.status == 200 and attempt.response.body == b""
    assert srv.count("GET") == 1  # not retried: it would only come back as long
    assert peak < 8 * CAP  # the cap plus the stream's buffers, not the endless body


async def test_an_endless_body_to_a_write_leaves_its_outcome_unknown():
    async with hostile({"POST /v1/customer": endless_body(status=201)}) as srv:
        async with client_for(srv.url, max_body=CAP) as client:
            with anyio.fail_after(5):
                attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.error == "outcome unknown: the answer exceeded 256 KiB; not sent again, to avoid a duplicate"
    assert srv.count("POST") == 1


async def test_the_default_cap_is_4_mib_framed_or_chunked():
    async with hostile({
        "GET /v1/customer/big": huge_body(5 * 1024 * 1024, framed=True),
        "GET /v1/customer/chunked": huge_body(5 * 1024 * 1024, framed=False),
        "GET /v1/customer/fits": huge_body(3 * 1024 * 1024, framed=False),
    }) as srv:
        async with client_for(srv.url) as client:
            framed = await client.request("GET", "/v1/customer/big")
            chunked = await client.request("GET", "/v1/customer/chunked")
            fits = await client.request("GET", "/v1/customer/fits")
    assert framed.error == chunked.error == "the answer exceeded 4 MiB"
    assert fits.error is None and len(fits.response.body) == 3 * 1024 * 1024


async def test_a_small_gzip_body_that_inflates_past_the_cap_is_stopped():
    async with hostile({"GET /v1/customer/C1": gzip_bomb(20 * CAP)}) as srv:
        async with client_for(srv.url, max_body=CAP) as client:
            attempt = await client.request("GET", "/v1/customer/C1")
    assert attempt.error == "the answer exceeded 256 KiB"


async def test_a_body_that_stalls_times_out_on_the_read_timeout():
    async with hostile({"GET /v1/customer/C1": stalled_body(5)}) as srv:
        async with client_for(srv.url, read_timeout=0.3, timeout=30) as client:
            started = time.monotonic()
            attempt = await client.request("GET", "/v1/customer/C1")
            elapsed = time.monotonic() - started
    assert attempt.response is None and attempt.error == "timed out waiting for the API"
    assert srv.count("GET") == 2 and elapsed < 2  # two tries of 0.3 s, not 30 s each


async def test_ordinary_bodies_still_come_whole():
    items = [{"number": str(n), "name": "x" * 100} for n in range(2000)]
    async with hostile({"GET /v1/customer": json_answer(items)}) as srv:
        async with client_for(srv.url, max_body=CAP * 4) as client:
            attempt = await client.request("GET", "/v1/customer", params={"pageNumber": "1"})
    assert attempt.error is None and attempt.response.json() == items
