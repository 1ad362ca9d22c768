"""Paths, keys and methods: case-insensitive routing, b64 keys, Location, 404/405."""

from __future__ import annotations

from importer.keys import encode_key
from tests.support.sandbox_api import Api, customer_body, w


async def test_paths_are_case_insensitive(api: Api) -> None:
    status, _, headers = await api.call("POST", "/V1/CUSTOMER", json=customer_body("10000"))
    assert status == 201
    for path in ("/v1/customer/10000", "/v1/Customer/10000", "/V1/cUsToMeR/10000"):
        status, body, _ = await api.call("GET", path)
        assert status == 200 and body["number"] == "10000"


async def test_document_collections_accept_any_case(api: Api) -> None:
    await api.post_customer("10000")
    doc = {"customerNumber": w("10000"), "referenceNumber": w("INV1")}
    assert (await api.call("POST", "/v1/CustomerInvoice", json=doc))[0] == 201
    assert (await api.call("GET", "/v1/customerinvoice/INV1"))[0] == 200
    assert (await api.call("GET", "/V1/CUSTOMERINVOICE/INV1"))[0] == 200
    doc["referenceNumber"] = w("CN1")
    assert (await api.call("POST", "/v1/customercreditnote", json=doc))[0] == 201
    assert (await api.call("GET", "/v1/customerCreditNote/CN1"))[0] == 200


async def test_keys_are_case_sensitive(api: Api) -> None:
    await api.post_customer("abc")
    assert (await api.call("GET", "/v1/customer/abc"))[0] == 200
    assert (await api.call("GET", "/v1/customer/ABC"))[0] == 404


async def test_location_header_is_absolute(api: Api) -> None:
    status, body, headers = await api.call("POST", "/v1/customer", json=customer_body("10000"))
    assert status == 201 and body is None
    assert headers["Location"] == f"{api.url}/v1/customer/10000"


async def test_location_b64_encodes_unsafe_keys(api: Api) -> None:
    key = "A/B ?#&+;"
    status, _, headers = await api.call("POST", "/v1/customer", json=customer_body(key))
    assert status == 201
    assert headers["Location"] == f"{api.url}/v1/customer/{encode_key(key)}"
    assert "b64(" in headers["Location"]
    # The Location can be followed as is.
    async with api.session.get(headers["Location"], headers={"Authorization": "Bearer sandbox-token"}) as r:
        assert r.status == 200
        assert (await r.json())["number"] == key


async def test_b64_keys_on_get_put_and_actions(api: Api) -> None:
    key = ":/?#[]@&*+;"
    await api.post_customer(key)
    path = f"/v1/customer/{encode_key(key)}"
    assert (await api.call("PUT", path, json={"corporateId": w("hello")}))[0] == 204
    status, body, _ = await api.call("GET", path)
    assert status == 200 and body["number"] == key and body["corporateId"] == "hello"
    status, body, _ = await api.call("POST", f"{path}/action/createDunningLetter", json={"levelFrom": 1})
    assert status == 200 and body["actionResult"] == "Done"


async def test_percent_encoded_key(api: Api) -> None:
    await api.post_customer("A B")
    status, body, _ = await api.call("GET", "/v1/customer/A%20B")
    assert status == 200 and body["number"] == "A B"


async def test_invalid_b64_key_is_refused(api: Api) -> None:
    status, body, _ = await api.call("GET", "/v1/customer/b64(A)")
    assert status == 400 and body["ExceptionType"] == "IPPException"


async def test_unknown_paths_answer_404_message(api: Api) -> None:
    for path in ("/v1/nothing", "/v1/customer/1/2", "/v1/customer/1/action/fly", "/elsewhere"):
        status, body, _ = await api.call("GET", path)
        assert status == 404, path
        assert "message" in body


async def test_wrong_methods_answer_405(api: Api) -> None:
    await api.post_customer("10000")
    assert (await api.call("DELETE", "/v1/customer/10000"))[0] == 405
    assert (await api.call("PUT", "/v1/customer", json={}))[0] == 405
    assert (await api.call("POST", "/v1/customer/10000", json={}))[0] == 405
    assert (await api.call("GET", "/v1/customer/10000/action/createDunningLetter"))[0] == 405


async def test_trailing_slash_on_collection(api: Api) -> None:
    await api.post_customer("10000")
    status, body, _ = await api.call("GET", "/v1/customer/")
    assert status == 200 and [c["number"] for c in body] == ["10000"]
