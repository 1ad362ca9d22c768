"""Every wait is bounded, sane and visible: garbage rate-limit headers, Retry-After in all its forms."""

from __future__ import annotations

import logging
import re
import time

import anyio

from importer.client import ApiClient, Pacer, RetryPolicy, StaticToken, limits, proof
from importer.progress import LiveProgress
from importer.sources import ByteCounter
from importer.summary import Summary
from tests.support.hostile_server import created, hostile, http_date, json_answer, sequence, throttled, with_headers

TOKEN = "hostile-test-token-0123456789"
FAST = RetryPolicy(max_attempts=3, base=0.01, budget=10)


def client_for(url: str, retry: RetryPolicy = FAST, **options) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), retry=retry, **options)


def warnings_about(caplog, header: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and header in r.getMessage()]


# -- reading the headers -------------------------------------------------------------------------


def test_retry_after_is_seconds_or_an_http_date_and_nothing_else():
    now = 1_700_000_000.0
    assert limits.retry_after_seconds("30", now) == 30
    assert limits.retry_after_seconds("1.5", now) == 1.5
    assert limits.retry_after_seconds("Tue, 14 Nov 2023 22:13:40 GMT", now) == 20.0
    assert limits.retry_after_seconds("Tue, 14 Nov 2023 22:13:00 GMT", now) == 0.0  # in the past
    for garbage in ("inf", "nan", "-5", "soon", "", "1e999"):
        assert limits.retry_after_seconds(garbage, now) is None, garbage


def test_header_counts_and_the_policy_window():
    assert limits.count("42") == 42 and limits.count("42.9") == 42 and limits.count(None) is None
    for garbage in ("-5", "lots", "inf", "nan"):
        assert limits.count(garbage) == limits.BAD, garbage
    assert limits.policy_window("100;w=3600") == 3600
    assert limits.policy_window("15000;w=3600, 500;w=60") == 3600
    assert limits.policy_window("100;w=2") == 2
    assert limits.policy_window("100") is None and limits.policy_window("100;w=-1") is None
    assert limits.epoch_reset(1_700_000_030, 3600, now_epoch=1_700_000_000.0) == 30
    assert limits.epoch_reset(10**12, 3600, now_epoch=1_700_000_000.0) is None


# -- over a socket ---------------------------------------------------------------------------------


async def test_a_huge_retry_after_waits_no_longer_than_the_window(caplog):
    caplog.set_level(logging.WARNING, "importer.client")
    answers = sequence(throttled("99999", X_RateLimit_Policy="5;w=1"), throttled("99999"), created())
    async with hostile({"POST /v1/customer": answers}) as srv:
        async with client_for(srv.url) as client:
            started = time.monotonic()
            with anyio.fail_after(6):
                attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
            elapsed = time.monotonic() - started
    assert attempt.error is None and srv.count("POST") == 3
    assert 1.8 <= elapsed < 4  # two waits, each the 1 s window, not 99999 s
    assert len(warnings_about(caplog, "Retry-After")) == 1  # once, not once per answer


async def test_an_http_date_retry_after_is_waited_for():
    async with hostile({"POST /v1/customer": sequence(throttled(http_date(2)), created())}) as srv:
        async with client_for(srv.url) as client:
            started = time.monotonic()
            with anyio.fail_after(6):
                attempt = await client.request("POST", "/v1/customer", b"{}")
            elapsed = time.monotonic() - started
    assert attempt.error is None and srv.count("POST") == 2
    assert 0.9 <= elapsed < 3.5  # the date, to its second; not "a second, over and over"


async def test_retry_after_inf_or_nonsense_is_ignored_without_a_traceback(caplog):
    caplog.set_level(logging.WARNING, "importer.client")
    answers = sequence(throttled("inf"), throttled("soon"), throttled("-3"), created())
    async with hostile({"POST /v1/customer": answers}) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(3):
                attempt = await client.request("POST", "/v1/customer", b"{}")
    assert attempt.error is None and srv.count("POST") == 4
    assert len(warnings_about(caplog, "Retry-After")) == 1


async def test_garbage_rate_limit_headers_are_ignored_with_one_warning_each(caplog):
    caplog.set_level(logging.WARNING, "importer.client")
    ok = created()
    routes = {
        "POST /v1/a": with_headers(ok, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "-5",
                                        "X-RateLimit-Reset": "10"}),
        "POST /v1/b": with_headers(ok, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                                        "X-RateLimit-Reset": "1e12"}),
        "POST /v1/c": with_headers(ok, {"X-RateLimit-Limit": "99999999999", "X-RateLimit-Remaining": "lots",
                                        "X-RateLimit-Reset": "10"}),
        "POST /v1/d": with_headers(ok, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "500",
                                        "X-RateLimit-Reset": "10"}),
    }
    async with hostile(routes) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(5):  # believed, any of these would hold the run for hours
                async with anyio.create_task_group() as tg:
                    for path in ("/v1/a", "/v1/b", "/v1/c", "/v1/d"):
                        for _ in range(10):
                            tg.start_soon(client.request, "POST", path, b"{}")
    assert srv.count("POST") == 40
    for header in ("X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit"):
        assert len(warnings_about(caplog, f"ignoring {header}")) == 1, header


async def test_a_reset_beyond_the_policy_window_is_not_believed():
    spent = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30",
             "X-RateLimit-Policy": "5;w=2"}
    async with hostile({"POST /v1/customer": with_headers(created(), spent)}) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(2):  # a believed Reset would wait 30 s after the first answer
                for _ in range(3):
                    await client.request("POST", "/v1/customer", b"{}")
    assert srv.count("POST") == 3


async def test_an_epoch_reset_is_waited_for_as_the_time_it_names():
    async def spent_until_next_second(request, server):
        response = await created()(request, server)
        response.headers.update({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": str(int(time.time()) + 2)})
        return response

    async with hostile({"POST /v1/customer": spent_until_next_second}) as srv:
        async with client_for(srv.url) as client:
            started = time.monotonic()
            await client.request("POST", "/v1/customer", b"{}")
            await client.request("POST", "/v1/customer", b"{}")  # waits for the epoch named
            elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3.5


async def test_a_permanent_429_backs_off_and_ends_within_the_budget():
    retry = RetryPolicy(max_attempts=3, base=0.05, budget=1.0)
    async with hostile({"POST /v1/customer": throttled("0")}) as srv:
        async with client_for(srv.url, retry) as client:
            started = time.monotonic()
            attempts = []

            async def send() -> None:
                attempts.append(await client.request("POST", "/v1/customer", b"{}"))

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for _ in range(32):
                        tg.start_soon(send)
            elapsed = time.monotonic() - started
    budget_spent = r"gave up after [\d.]+ s of retries: waiting more would pass the retry budget of 1 s; last: HTTP 429"
    # Each record spends its own budget and ends with the reason; a 429 may pass, so it halts nothing.
    assert len(attempts) == 32 and all(re.match(budget_spent, a.error) for a in attempts)
    assert client.halted is None
    # Without backoff, one request per round trip for a second would be thousands.
    assert srv.count("POST") < 32 * 9
    assert elapsed < 5


async def test_a_retry_after_past_the_budget_ends_the_record_at_once():
    retry = RetryPolicy(max_attempts=3, base=0.01, budget=2.0)
    async with hostile({"POST /v1/customer": throttled("60")}) as srv:
        async with client_for(srv.url, retry) as client:
            started = time.monotonic()
            attempt = await client.request("POST", "/v1/customer", b"{}")
    assert time.monotonic() - started < 1  # it does not sleep a minute to fail then
    assert attempt.error.startswith("gave up after 0.0 s of retries: waiting more would pass the retry budget of 2 s")
    assert srv.count("POST") == 1


async def test_a_5xx_retried_past_the_budget_says_so_and_an_ambiguous_write_is_unknown():
    retry = RetryPolicy(max_attempts=10, base=0.01, budget=0.5)
    async with hostile({"PUT /v1/customer/C1": with_headers(json_answer({"message": "busy"}, 503),
                                                            {"Retry-After": "0.3"})}) as srv:
        async with client_for(srv.url, retry) as client:
            attempt = await client.request("PUT", "/v1/customer/C1", b"{}")
    assert srv.count("PUT") == 2  # 0.3 s, then a second 0.3 s would pass the budget
    assert re.match(r"outcome unknown \(HTTP 503\); gave up after 0\.[345]\d* s of retries: waiting more would pass "
                    r"the retry budget of 0\.5 s; last: HTTP 503", attempt.error), attempt.error


# -- telling what the run waits for -------------------------------------------------------------------


async def test_the_pacer_tells_what_it_waits_for_and_until_when():
    pacer = Pacer()
    ticket = await pacer.acquire()
    pacer.release(ticket, {"Retry-After": "30"}, 429)
    reason, until = pacer.waiting
    assert reason == "429: Retry-After 30 s" and abs(until - (time.time() + 30)) < 1

    pacer = Pacer()
    probe = await pacer.acquire()
    pacer.release(probe, {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "20"}, 201)
    reason, until = pacer.waiting
    assert reason == "rate-limit window spent (3/3 calls)" and abs(until - (time.time() + 20)) < 1
    assert 19 < pacer.waiting_for <= 20


async def test_the_progress_line_shows_the_wait_and_counts_it_in_the_eta(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"x" * 1000)
    with open(path, "rb") as raw:
        raw.seek(500)  # half read
        summary = Summary("customer", "create", str(path), None)
        summary.started_at = time.monotonic() - 10  # 10 s for the first half
        summary.units = 1  # read so far, half the file: 2 in all, one window's allowance (none finished yet)
        async with ApiClient("http://127.0.0.1:9", StaticToken(TOKEN)) as client:
            ticket = await client.pacer.acquire()
            client.pacer.release(ticket, {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
                                          "X-RateLimit-Reset": "600"}, 201)
            line = LiveProgress(summary, ByteCounter(raw, 1000), client).line().plain  # whole, not fitted
    assert re.search(r"waiting until \d\d:\d\d:\d\d: rate-limit window spent \(3/3 calls\)", line), line
    assert re.search(r"ETA (10m00s|9m5\ds)", line), line  # the 600 s wait for the window
