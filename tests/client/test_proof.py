"""A success is proved: answers that only look like one are ambiguous, never ``created``."""

from __future__ import annotations

import anyio
import orjson

from importer.client import ApiClient, RetryPolicy, StaticToken, proof
from importer.client.http import LookupUnavailable, Response
from tests.support.hostile_server import (
    SIGN_IN_PAGE,
    created,
    error,
    hostile,
    html_page,
    json_answer,
    no_content,
    raw_answer,
    redirect,
    sequence,
)

TOKEN = "hostile-test-token-0123456789"
FAST = RetryPolicy(max_attempts=3, base=0.01, budget=10)


def client_for(url: str, **options) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), retry=FAST, **options)


# -- the proofs themselves ---------------------------------------------------------------------


def test_created_needs_201_a_json_or_empty_body_and_a_record_named():
    check = proof.created("number")
    assert check(Response(201, {"Location": "https://api/v1/customer/C1"}, b"")) is None
    assert check(Response(201, {}, b'{"number": {"value": "C7"}}')) is None
    assert check(Response(201, {}, b'{"number": "C7"}')) is None
    assert check(Response(200, {"Location": "https://api/v1/customer/C1"}, b"")) == "HTTP 200 where 201 was expected"
    assert check(Response(201, {}, b"")) == "no Location header or key naming the record"
    assert check(Response(201, {}, b'{"number": {"value": ""}}')) == "no Location header or key naming the record"
    assert check(Response(201, {"Location": "/"}, b"")) == "no Location header or key naming the record"
    html = Response(201, {"Content-Type": "text/html", "Location": "https://api/v1/customer/C1"}, SIGN_IN_PAGE)
    assert check(html) == "the answer is not JSON (text/html)"
    assert check(Response(302, {"Location": "https://login.example/sso"}, b"")) == (
        "redirected to https://login.example/sso")


def test_updated_is_the_documented_204_and_action_a_json_200():
    assert proof.updated()(Response(204, {}, b"")) is None
    assert proof.updated()(Response(200, {}, b"{}")) == "HTTP 200 where 204 was expected"
    assert proof.action()(Response(200, {}, b'{"actionResult": "Done"}')) is None
    assert proof.action()(Response(200, {}, b"")) is None
    assert proof.action()(Response(200, {"Content-Type": "text/html"}, SIGN_IN_PAGE)) == (
        "the answer is not JSON (text/html)")
    assert proof.action()(Response(201, {}, b"{}")) == "HTTP 201 where 200 was expected"


def test_a_response_tells_json_from_anything_else():
    assert Response(200, {}, b'{"a": 1}').is_json
    assert Response(200, {}, b"null").is_json and Response(200, {}, b"null").json() is None
    assert not Response(200, {}, b"").is_json and Response(200, {}, b"").not_json_reason() is None
    page = Response(200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE)
    assert not page.is_json and page.json() is None
    assert page.not_json_reason() == "the answer is not JSON (text/html)"


# -- over a socket -------------------------------------------------------------------------------


async def test_an_html_sign_in_page_to_a_post_is_not_a_create():
    async with hostile({"POST /v1/customer": html_page()}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.error == ("outcome unknown: the answer is not JSON (text/html); "
                             "not sent again, to avoid a duplicate")
    assert srv.count("POST") == 1  # no lookup, so not sent again
    assert attempt.url == f"{srv.url}/v1/customer"


async def test_a_redirect_to_a_login_page_is_not_followed_and_not_a_create():
    async with hostile({"POST /v1/customer": redirect("/login"), "GET /login": html_page()}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.error.startswith(f"outcome unknown: redirected to {srv.url}/login")
    assert attempt.response.status == 302
    assert srv.count("GET", "/login") == 0  # never followed


async def test_an_unproved_answer_is_looked_up_and_found():
    looked = []

    async def lookup() -> Response | None:
        looked.append(1)
        return Response(200, {}, b'{"number": "C1"}')

    async with hostile({"POST /v1/customer": json_answer({"ok": True}, 200)}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup,
                                           proof=proof.created("number"))
    assert attempt.found_by_lookup and attempt.error is None and looked == [1]
    assert srv.count("POST") == 1


async def test_an_unproved_answer_is_sent_again_at_most_once():
    lookups = []

    async def lookup() -> Response | None:
        lookups.append(1)
        return None  # not there

    async with hostile({"POST /v1/customer": html_page()}) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(5):
                attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup,
                                               proof=proof.created("number"))
    assert srv.count("POST") == 2 and len(lookups) == 2
    assert attempt.error == ("the answer is not JSON (text/html), twice; the record is not there, "
                             "so it is not sent a third time")
    assert attempt.attempts == 2


async def test_a_lookup_that_cannot_tell_leaves_the_outcome_unknown():
    async def lookup() -> Response | None:
        raise LookupUnavailable("could not check whether it exists (HTTP 200, the answer is not JSON)")

    async with hostile({"POST /v1/customer": created(location=False)}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup,
                                           proof=proof.created("number"))
    assert attempt.error.startswith("outcome unknown: no Location header or key naming the record; could not check")
    assert srv.count("POST") == 1


async def test_proved_answers_pass_and_a_key_in_the_body_will_do():
    async with hostile({
        "POST /v1/customer": created("C1"),
        "POST /v1/customerinvoice": created(location=False, body={"referenceNumber": {"value": "000123"}}),
        "PUT /v1/customer/C1": no_content(),
        "POST /v1/customer/C1/action/createDunningLetter": json_answer({"actionResult": "Done"}),
    }) as srv:
        async with client_for(srv.url) as client:
            made = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
            invoice = await client.request("POST", "/v1/customerinvoice", b"{}",
                                           proof=proof.created("referenceNumber"))
            put = await client.request("PUT", "/v1/customer/C1", b"{}", proof=proof.updated())
            action = await client.request("POST", "/v1/customer/C1/action/createDunningLetter", b"{}",
                                          proof=proof.action())
    for attempt in (made, invoice, put, action):
        assert attempt.error is None and attempt.attempts == 1, attempt
    assert made.response.location == f"{srv.url}/v1/customer/C1"


async def test_a_put_answered_200_is_sent_once_more_then_unknown():
    async with hostile({"PUT /v1/customer/C1": json_answer({}, 200)}) as srv:
        async with client_for(srv.url) as client:
            with anyio.fail_after(5):
                attempt = await client.request("PUT", "/v1/customer/C1", b"{}", proof=proof.updated())
    assert srv.count("PUT") == 2  # idempotent: a second send does no harm, a third is pointless
    assert attempt.error.startswith("outcome unknown: HTTP 200 where 204 was expected")


async def test_a_read_that_is_not_json_or_redirects_is_an_error_not_data():
    async with hostile({
        "GET /v1/customer/C1": html_page(),
        "GET /v1/customer/C2": redirect("https://login.example/sso"),
        "GET /v1/customer/C3": raw_answer(b"", 200),
    }) as srv:
        async with client_for(srv.url) as client:
            page = await client.request("GET", "/v1/customer/C1")
            moved = await client.request("GET", "/v1/customer/C2")
            empty = await client.request("GET", "/v1/customer/C3")
    assert page.error == "the answer is not JSON (text/html)" and page.response.status == 200
    assert moved.error == "redirected to https://login.example/sso"
    assert empty.error is None  # nothing to mistake for data; the caller reads json() as None
    assert srv.count("GET") == 3  # none of them retried


async def test_the_attempt_names_the_whole_url_it_went_to():
    async with hostile({"GET /v1/customerinvoice": json_answer([])}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("GET", "/v1/customerinvoice", params={"externalReference": "a b"})
    assert attempt.url == f"{srv.url}/v1/customerinvoice?externalReference=a+b"


async def test_a_202_to_a_plain_write_is_never_sent_again():
    async def lookup() -> Response | None:
        return None

    async with hostile({"POST /v1/customer": json_answer({"id": "J1"}, 202)}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", lookup=lookup,
                                           proof=proof.created("number"))
    assert srv.count("POST") == 1
    assert attempt.error.startswith("outcome unknown: HTTP 202: queued by the API, not done")


async def test_an_error_body_that_echoes_the_token_is_cleaned():
    echo = orjson.dumps({"message": f"token {TOKEN} is not valid for company 1"})
    async with hostile({"POST /v1/customer": sequence(created("C0"), raw_answer(echo, 400, "application/json"))}) as srv:
        async with client_for(srv.url) as client:
            await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.response.status == 400
    assert TOKEN not in attempt.response.error_text() and "***" in attempt.response.error_text()


async def test_a_redirect_that_echoes_the_token_is_cleaned():
    async with hostile({"POST /v1/customer": redirect(f"https://sso.example/?bearer={TOKEN}")}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.error.startswith("outcome unknown: redirected to https://sso.example/?bearer=***;")
    assert TOKEN not in attempt.error


async def test_errors_stay_errors_and_are_final():
    async with hostile({"POST /v1/customer": error(409, "Customer C1 already exists")}) as srv:
        async with client_for(srv.url) as client:
            attempt = await client.request("POST", "/v1/customer", b"{}", proof=proof.created("number"))
    assert attempt.response.status == 409 and attempt.error is None and attempt.attempts == 1


async def test_a_list_page_that_is_a_sign_in_page_fails_the_listing_clearly():
    import pytest

    from importer.client.pages import ListError, list_pages
    from importer.entities import ENTITIES

    async with hostile({"GET /v1/customer": html_page()}) as srv:
        async with client_for(srv.url) as client:
            with pytest.raises(ListError, match=r"^page 1: the answer is not JSON \(text/html\)$"):
                async for _ in list_pages(client, ENTITIES["customer"], {}):
                    pass
