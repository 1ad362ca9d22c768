"""Background jobs: polling is bounded, statuses read as documented, locations followed on the API's host only."""

from __future__ import annotations

import time

import anyio

from importer.client import ApiClient, RetryPolicy, StaticToken, proof
from importer.client.http import Response
from tests.support.hostile_server import background_accepted, created, hostile, job_state, json_answer, sequence

TOKEN = "hostile-test-token-0123456789"
FAST = RetryPolicy(max_attempts=2, base=0.01, budget=10)


def client_for(url: str, **options) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), retry=FAST, **options)


async def create_in_background(client: ApiClient, lookup=None):
    return await client.request("POST", "/v1/customer", b"{}", background=True, lookup=lookup,
                                proof=proof.created("number"))


async def test_an_unknown_status_counts_as_running_until_the_time_bound():
    async with hostile({"POST /v1/customer": background_accepted("J1"),
                        "GET /v1/background/J1": job_state("Pending")}) as srv:
        async with client_for(srv.url, background_timeout=1.0) as client:
            started = time.monotonic()
            with anyio.fail_after(5):
                attempt = await create_in_background(client)
            elapsed = time.monotonic() - started
    assert attempt.error == ("outcome unknown: background job J1 still Pending after 1 s; "
                             "not sent again, to avoid a duplicate")
    assert srv.count("POST") == 1 and 2 <= srv.count("GET", "/v1/background/J1") <= 6
    assert 0.9 <= elapsed < 2


async def test_polling_is_bounded_in_count_too_and_a_lookup_may_still_find_it():
    async def lookup() -> Response | None:
        return Response(200, {}, b'{"number": "C1"}')

    async with hostile({"POST /v1/customer": background_accepted("J2"),
                        "GET /v1/background/J2": job_state("Started")}) as srv:
        async with client_for(srv.url, background_timeout=300, background_polls=3) as client:
            with anyio.fail_after(5):
                attempt = await create_in_background(client, lookup)
    assert srv.count("GET", "/v1/background/J2") == 3
    assert attempt.found_by_lookup and attempt.error is None


async def test_a_job_still_running_and_not_found_is_not_sent_again():
    async def lookup() -> Response | None:
        return None

    async with hostile({"POST /v1/customer": background_accepted("J3"),
                        "GET /v1/background/J3": job_state("Started")}) as srv:
        async with client_for(srv.url, background_timeout=0.5) as client:
            attempt = await create_in_background(client, lookup)
    assert srv.count("POST") == 1  # it may still run: a second send could make a duplicate
    assert attempt.error.startswith("outcome unknown: background job J3 still Started after")


async def test_a_finished_job_is_the_answer_with_its_status_headers_and_content():
    async with hostile({
        "POST /v1/customer": background_accepted("J4", "relative"),
        "GET /v1/background/J4": sequence(
            job_state("Started"),
            job_state("Finished", 201, responseHeaders={"Location": "https://api/v1/customer/C9"},
                      hasResponseContent=True, contentLocation="content/J4"),
        ),
        "GET /v1/background/content/J4": json_answer({"number": "C9"}),
    }) as srv:
        async with client_for(srv.url) as client:
            attempt = await create_in_background(client)
    assert attempt.error is None and attempt.response.status == 201
    assert attempt.response.location == "https://api/v1/customer/C9"
    assert attempt.response.json() == {"number": "C9"}  # contentLocation, relative, followed as given
    assert srv.count("GET", "/v1/background/content/J4") == 1


async def test_a_job_that_failed_is_a_server_error_with_its_message():
    async with hostile({"POST /v1/customer": background_accepted("J5"),
                        "GET /v1/background/J5": job_state("Failed", None, errorMessage="it broke")}) as srv:
        async with client_for(srv.url) as client:
            attempt = await create_in_background(client)
    assert attempt.response.status == 500 and "it broke" in attempt.response.error_text()
    assert attempt.error.startswith("outcome unknown (HTTP 500)")  # a 500 to a POST, without a lookup


async def test_a_finished_job_without_a_status_code_is_unknown():
    async with hostile({"POST /v1/customer": background_accepted("J6"),
                        "GET /v1/background/J6": job_state("Finished", None)}) as srv:
        async with client_for(srv.url) as client:
            attempt = await create_in_background(client)
    assert attempt.error.startswith("outcome unknown: background job J6 finished without a status code")


async def test_locations_on_another_host_are_not_followed_and_get_no_token():
    async with hostile({"* *": job_state("Finished", 500)}, host="localhost") as elsewhere:
        async with hostile({
            "POST /v1/customer": background_accepted("J7", f"{elsewhere.url}/v1/background/J7"),
            "GET /v1/background/J7": job_state("Finished", 201, responseHeaders={"Location": "/v1/customer/C7"},
                                               contentLocation=f"{elsewhere.url}/v1/background/J7/content"),
        }) as srv:
            async with client_for(srv.url) as client:
                attempt = await create_in_background(client)
    assert elsewhere.count() == 0  # neither the state nor the content: the token stays home
    assert attempt.error is None and attempt.response.status == 201
    assert srv.count("GET", "/v1/background/J7") == 1  # the standard path on the API's host instead


async def test_an_unreadable_state_leaves_the_outcome_unknown():
    async with hostile({"POST /v1/customer": background_accepted("J8"),
                        "GET /v1/background/J8": json_answer({"message": "gone"}, 404)}) as srv:
        async with client_for(srv.url, background_timeout=1.0) as client:
            attempt = await create_in_background(client)
    assert attempt.error.startswith("outcome unknown: background job J8: its state could not be read (HTTP 404), ")
    assert srv.count("POST") == 1 and srv.count("GET", "/v1/background/J8") >= 3  # read again, not resent
    assert client.halted is None  # a job's 404 is not a wrong base URL


async def test_a_background_create_on_the_sandbox_is_proved(sandbox):
    async with ApiClient(sandbox.url, StaticToken("sandbox-token"), retry=FAST) as client:
        attempt = await client.request("POST", "/v1/customer", b'{"number": {"value": "B1"}, "name": {"value": "x"}}',
                                       background=True, proof=proof.created("number"))
    assert attempt.error is None and attempt.response.status == 201
    assert attempt.response.location.endswith("/v1/customer/B1")


async def test_created_answers_still_work_without_background():
    async with hostile({"POST /v1/customer": created("C1")}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.error is None
