"""Customer POST/PUT/GET: auto-numbering, duplicates, required name, partial merges."""

from __future__ import annotations

from tests.support.sandbox_api import GUIDE_CUSTOMER, Api, customer_body, w


async def test_post_then_get_answers_the_customer_dto(api: Api) -> None:
    status, body, headers = await api.call("POST", "/v1/customer", json=GUIDE_CUSTOMER)
    assert status == 201 and body is None
    assert headers["X-RateLimit-Limit"] == "15000"
    status, body, _ = await api.call("GET", "/v1/customer/10000")
    assert status == 200
    assert body["number"] == "10000"
    assert body["name"] == "NewCustomer"
    assert "overrideWithClassValues" not in body  # write-only: CustomerDto has no such field
    assert body["customerClass"] == {"id": "1"} and "customerClassId" not in body
    assert body["mainAddress"] == {"addressLine1": "TestRoad 13", "postalCode": "0101", "country": {"id": "NO"}}
    assert body["status"] == "Active"
    assert body["createdDateTime"].endswith("Z") and body["createdDateTime"] == body["lastModifiedDateTime"]
    # The store keeps the request's shape, as /sandbox/records shows.
    (stored,) = await api.records("customer")
    assert stored["customerClassId"] == "1" and stored["overrideWithClassValues"] is True


async def test_auto_numbering_skips_used_numbers(api: Api) -> None:
    assert await api.post_customer("000002") == 201
    locations = []
    for _ in range(3):
        status, _, headers = await api.call("POST", "/v1/customer", json=customer_body(None))
        assert status == 201
        locations.append(headers["Location"].rsplit("/", 1)[1])
    assert locations == ["000001", "000003", "000004"]
    status, body, _ = await api.call("GET", "/v1/customer/000003")
    assert status == 200 and body["number"] == "000003"


async def test_blank_number_is_auto_numbered(api: Api) -> None:
    status, _, headers = await api.call("POST", "/v1/customer", json=customer_body("  "))
    assert status == 201 and headers["Location"].endswith("/000001")


async def test_documents_and_customers_number_separately(api: Api) -> None:
    await api.call("POST", "/v1/customer", json=customer_body(None))
    doc = {"customerNumber": w("000001")}
    for path in ("/v1/customerinvoice", "/v1/customerCreditNote", "/v1/customerDebitNote"):
        status, _, headers = await api.call("POST", path, json=doc)
        assert status == 201 and headers["Location"].endswith("/000001"), path
    status, _, headers = await api.call("POST", "/v1/customerinvoice", json=doc)
    assert headers["Location"].endswith("/000002")


async def test_duplicate_number_is_refused_and_counted(api: Api) -> None:
    assert await api.post_customer("10000") == 201
    status, body, _ = await api.call("POST", "/v1/customer", json=customer_body("10000", name="Other"))
    assert status == 400
    assert body["ExceptionType"] == "IPPException" and "10000" in body["ExceptionMessage"]
    assert (await api.stats())["duplicates_refused"] == 1
    _, stored, _ = await api.call("GET", "/v1/customer/10000")
    assert stored["name"] == "Acme AS"


async def test_name_is_required(api: Api) -> None:
    status, body, _ = await api.call("POST", "/v1/customer", json={"number": w("1")})
    assert status == 400 and "name" in body["ExceptionMessage"]
    status, body, _ = await api.call("POST", "/v1/customer", json={"number": w("1"), "name": w(" ")})
    assert status == 400
    assert (await api.stats())["records"]["customer"] == 0


async def test_put_changes_only_sent_fields_and_merges_objects(api: Api) -> None:
    await api.call("POST", "/v1/customer", json=GUIDE_CUSTOMER)
    before = (await api.call("GET", "/v1/customer/10000"))[1]
    change = {"mainAddress": w({"addressLine1": w("TestRoad 50")}), "corporateId": w("moved")}
    status, body, _ = await api.call("PUT", "/v1/customer/10000", json=change)
    assert status == 204 and body is None
    _, after, _ = await api.call("GET", "/v1/customer/10000")
    assert after["mainAddress"] == {"addressLine1": "TestRoad 50", "postalCode": "0101", "country": {"id": "NO"}}
    assert after["corporateId"] == "moved"
    assert after["name"] == "NewCustomer"
    assert after["createdDateTime"] == before["createdDateTime"]
    assert after["lastModifiedDateTime"] >= before["lastModifiedDateTime"]


async def test_put_can_clear_a_field_with_null_value(api: Api) -> None:
    await api.post_customer("10000", corporateId=w("x"))
    assert (await api.call("PUT", "/v1/customer/10000", json={"corporateId": w(None)}))[0] == 204
    assert "corporateId" not in (await api.call("GET", "/v1/customer/10000"))[1]  # no value: left out


async def test_put_unknown_key_is_404(api: Api) -> None:
    status, body, _ = await api.call("PUT", "/v1/customer/nope", json={"note": w("x")})
    assert status == 404 and "message" in body


async def test_put_may_not_change_the_key(api: Api) -> None:
    await api.post_customer("10000")
    status, body, _ = await api.call("PUT", "/v1/customer/10000", json={"number": w("20000")})
    assert status == 400 and "number" in body["ExceptionMessage"]
    assert (await api.call("PUT", "/v1/customer/10000", json={"number": w("10000")}))[0] == 204
    assert (await api.call("GET", "/v1/customer/20000"))[0] == 404


async def test_put_may_not_empty_the_name(api: Api) -> None:
    await api.post_customer("10000")
    assert (await api.call("PUT", "/v1/customer/10000", json={"name": w("")}))[0] == 400


async def test_get_unknown_is_404(api: Api) -> None:
    status, body, _ = await api.call("GET", "/v1/customer/none")
    assert status == 404 and body["message"]


async def test_status_from_body_and_enum_spelling(api: Api) -> None:
    await api.post_customer("10000", status=w("onhold"))
    assert (await api.call("GET", "/v1/customer/10000"))[1]["status"] == "OnHold"
