"""The live profile's transport quirks, each against a real sandbox, and their absence in standard."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import orjson
import pytest

from importer.keys import encode_key
from importer.sandbox.quirks import LOCATION_BASE
from tests.support.sandbox_api import Api, FakeClock, customer_body, w

BACKGROUND = {"erp-api-background": "none"}


async def raw_call(api: Api, method: str, path: str, **kw: Any) -> tuple[int, str, bytes]:
    """(status, Content-Type or "", raw body)."""
    async with api.request(method, path, **kw) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.read()


def shape_of(content_type: str, body: bytes) -> str:
    """Which reported error shape a body has; fails the test on anything else."""
    if not body:
        return "empty"
    if content_type.startswith("text/plain"):
        return "text"
    assert content_type.startswith("application/json"), content_type
    data = orjson.loads(body)
    if data.get("ExceptionType") == "IPPException":
        assert set(data) == {"ExceptionType", "ExceptionMessage", "ExceptionFaultCode",
                             "ExceptionMessageID", "ExceptionDetails"}
        return "ipp"
    if "Message" in data:
        assert set(data) == {"Message"}
        return "Message"
    assert set(data) == {"message"}, data
    return "vismaid" if data["message"].startswith("VismaId: ") else "message"


def text_of(body: bytes) -> str:
    return body.decode()


async def invalid_posts(api: Api, count: int) -> list[tuple[int, str, bytes]]:
    """``count`` different invalid customers (an unknown field each), answered in order."""
    return [await raw_call(api, "POST", "/v1/customer", json={"name": w("x"), f"bogus{i}": w(1)})
            for i in range(count)]


async def test_live_errors_come_in_every_shape_and_keep_their_reason(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live", seed=7) as api:
        posts = await invalid_posts(api, 40)
        for i, (status, content_type, body) in enumerate(posts):
            assert status in (400, 500)
            assert f"bogus{i}" in text_of(body), "a validation error keeps its message"
        post_shapes = Counter(shape_of(ct, body) for _, ct, body in posts)
        assert set(post_shapes) == {"ipp", "vismaid", "Message", "text"}  # never empty: the text is the reason
        missing = [await raw_call(api, "GET", f"/v1/customer/none{i}") for i in range(40)]
        assert {status for status, _, _ in missing} == {404}
        get_shapes = Counter(shape_of(ct, body) for _, ct, body in missing)
        assert set(get_shapes) == {"ipp", "vismaid", "Message", "text", "empty"}
        for _, content_type, body in missing:
            if body:
                assert "none" in text_of(body)
        unauthorised = [await raw_call(api, "GET", "/v1/customer", anonymous=True) for _ in range(20)]
        assert {status for status, _, _ in unauthorised} == {401}
        assert len({shape_of(ct, body) for _, ct, body in unauthorised}) >= 3


async def test_standard_errors_keep_the_documented_shapes(api: Api) -> None:
    posts = await invalid_posts(api, 20)
    assert {status for status, _, _ in posts} == {400}
    assert {shape_of(ct, body) for _, ct, body in posts} == {"ipp"}
    missing = [await raw_call(api, "GET", f"/v1/customer/none{i}") for i in range(10)]
    assert {shape_of(ct, body) for _, ct, body in missing} == {"message"}


async def test_live_shapes_follow_the_seed(sandbox_with: Any) -> None:
    runs = []
    for seed in (11, 11, 12):
        async with sandbox_with(profile="live", seed=seed) as api:
            answers = await invalid_posts(api, 24)
            runs.append([(status, shape_of(ct, body)) for status, ct, body in answers])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


async def test_live_post_failures_answer_400_or_500_with_the_message(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live", seed=3) as api:
        statuses = Counter(status for status, _, _ in await invalid_posts(api, 60))
        assert statuses[500] >= 5 and statuses[400] >= 30 and set(statuses) == {400, 500}
        assert await api.post_customer("10000") == 201
        # A PUT that fails keeps its 400; only POSTs may turn into 500.
        puts = [await raw_call(api, "PUT", "/v1/customer/10000", json={f"bogus{i}": w(1)}) for i in range(30)]
        assert {status for status, _, _ in puts} == {400}
        stats = await api.stats()
        assert stats["records"]["customer"] == 1
        assert stats["by_status"]["500"] == statuses[500]


async def test_live_location_names_another_host(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live") as api:
        for key in ("10000", "A/B ?#&+;"):
            status, _, headers = await api.call("POST", "/v1/customer", json=customer_body(key))
            assert status == 201
            location = headers["Location"]
            assert location == f"{LOCATION_BASE}/v1/customer/{encode_key(key)}"
            assert not location.startswith(api.url)
        # The key in the last path segment still finds the record here.
        status, body, _ = await api.call("GET", f"/v1/customer/{location.rsplit('/', 1)[1]}")
        assert status == 200 and body["number"] == "A/B ?#&+;"


async def test_standard_location_is_the_host_called(api: Api) -> None:
    _, _, headers = await api.call("POST", "/v1/customer", json=customer_body("10000"))
    assert headers["Location"] == f"{api.url}/v1/customer/10000"


async def test_live_refuses_the_same_failed_write_a_third_time(sandbox_with: Any) -> None:
    clock = FakeClock()
    async with sandbox_with(profile="live", clock=clock) as api:
        bad = {"name": w("x"), "bogus": w(1)}
        first = await raw_call(api, "POST", "/v1/customer", json=bad)
        clock.advance(100)
        second = await raw_call(api, "POST", "/v1/customer", json=bad)
        assert first[0] in (400, 500) and second[0] in (400, 500)
        clock.advance(50)
        status, _, headers = await api.call("POST", "/v1/customer", json=bad)
        assert status == 429 and headers["Retry-After"] == "150"  # the first failure leaves at t=300
        assert "X-RateLimit-Remaining" in headers
        # Another body, or the same body to another path, is a different request.
        other = await raw_call(api, "POST", "/v1/customer", json={**bad, "note": w("n")})
        assert other[0] in (400, 500)
        assert (await raw_call(api, "POST", "/v1/customercreditnote", json=bad))[0] in (400, 500)
        clock.advance(150)  # the first failure is five minutes old: one more try is allowed
        assert (await raw_call(api, "POST", "/v1/customer", json=bad))[0] in (400, 500)
        assert (await raw_call(api, "POST", "/v1/customer", json=bad))[0] == 429
        stats = await api.stats()
        assert stats["throttled"] == 2 and stats["records"]["customer"] == 0
        # A write that succeeds is never refused, however often it is repeated.
        assert await api.post_customer("10000") == 201
        puts = [(await api.call("PUT", "/v1/customer/10000", json={"note": w("n")}))[0] for _ in range(4)]
        assert puts == [204, 204, 204, 204]
        assert await api.reset() == 204  # reset forgets the failures
        assert (await raw_call(api, "POST", "/v1/customer", json=bad))[0] in (400, 500)


async def test_standard_never_refuses_a_repeated_failure(api: Api) -> None:
    bad = {"name": w("x"), "bogus": w(1)}
    statuses = [(await raw_call(api, "POST", "/v1/customer", json=bad))[0] for _ in range(4)]
    assert statuses == [400, 400, 400, 400]


async def test_injected_faults_do_not_count_as_repeated_failures(sandbox_with: Any) -> None:
    async with sandbox_with(profile="live", fault_rate=1.0, faults=("503",)) as api:
        statuses = [(await raw_call(api, "POST", "/v1/customer", json=customer_body("1")))[0] for _ in range(4)]
        assert statuses == [503, 503, 503, 503]


async def wait_finished(api: Api, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            status, state, _ = await api.call("GET", f"/v1/background/{job_id}")
            assert status == 200
            if state["status"] != "Started":
                return state
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_background_error_content_in_each_profile(sandbox_with: Any, profile: str) -> None:
    async with sandbox_with(profile=profile, background_delay_ms=0, seed=5) as api:
        seen = set()
        for i in range(12):
            status, accepted, _ = await api.call("GET", f"/v1/customer/none{i}", headers=BACKGROUND)
            assert status == 202
            state = await wait_finished(api, accepted["id"])
            assert state["status"] == "Finished" and state["statusCode"] == 404
            if not state["hasResponseContent"]:
                seen.add("empty")
                continue
            status, content_type, body = await raw_call(api, "GET", f"/v1/background/{accepted['id']}/content")
            assert status == 200 and content_type == state["responseHeaders"]["Content-Type"]
            assert f"none{i}" in text_of(body)
            seen.add(shape_of(content_type, body))
        assert seen == ({"message"} if profile == "standard" else {"ipp", "vismaid", "Message", "text", "empty"})
