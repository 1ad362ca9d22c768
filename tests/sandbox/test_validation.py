"""Strict request validation against the generated tables, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.sandbox_api import Api, customer_body, w


async def refused(api: Api, path: str, body: Any, *, raw: bytes | None = None) -> str:
    """POST and expect a 400 IPPException; return its message."""
    kw: dict[str, Any] = {"data": raw, "headers": {"Content-Type": "application/json"}} if raw is not None else {"json": body}
    status, err, _ = await api.call("POST", path, **kw)
    assert status == 400, err
    assert err["ExceptionType"] == "IPPException"
    assert err["ExceptionFaultCode"] == "12002"
    assert err["ExceptionMessageID"].startswith("12002_")
    assert err["ExceptionDetails"] == ""
    return err["ExceptionMessage"]


@pytest.mark.parametrize(("extra", "field"), [
    ({"nmae": w("x")}, "nmae"),
    ({"mainAddress": w({"zip": w("0101")})}, "mainAddress.zip"),
    ({"attributeLines": [{"attributeId": w("A")}, {"bogus": w(1)}]}, "attributeLines[1].bogus"),
])
async def test_unknown_fields_are_named(api: Api, extra: dict[str, Any], field: str) -> None:
    message = await refused(api, "/v1/customer", customer_body("1", **extra))
    assert f"'{field}'" in message


@pytest.mark.parametrize(("extra", "field"), [
    ({"creditLimit": w("lots")}, "creditLimit"),  # string where a number is expected
    ({"numberOfEmployees": w(2.5)}, "numberOfEmployees"),  # not an integer
    ({"printInvoices": w("yes")}, "printInvoices"),  # not a boolean
    ({"note": w(12)}, "note"),  # number where a string is expected
    ({"mainAddress": w({"postalCode": w(101)})}, "mainAddress.postalCode"),
    ({"mainAddress": w("Road 1")}, "mainAddress"),
    ({"attributeLines": {"attributeId": w("A")}}, "attributeLines"),
])
async def test_wrong_types_are_named(api: Api, extra: dict[str, Any], field: str) -> None:
    message = await refused(api, "/v1/customer", customer_body("1", **extra))
    assert f"'{field}'" in message


async def test_wrapped_field_sent_bare(api: Api) -> None:
    message = await refused(api, "/v1/customer", {"name": "Acme"})
    assert "'name'" in message and '{"value"' in message
    message = await refused(api, "/v1/customer", customer_body("1", mainAddress={"postalCode": w("1")}))
    assert "'mainAddress.postalCode'" not in message and "'mainAddress'" in message


async def test_wrapper_with_extra_keys(api: Api) -> None:
    message = await refused(api, "/v1/customer", {"name": {"value": "x", "other": 1}})
    assert "'name'" in message


async def test_unwrapped_field_sent_wrapped(api: Api) -> None:
    message = await refused(api, "/v1/customer", customer_body("1", overrideWithClassValues=w(True)))
    assert "'overrideWithClassValues'" in message and "not wrapped" in message


async def test_unwrapped_object_sent_wrapped(api: Api) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "rotRutDetails": w({"type": w("Rot")})}
    message = await refused(api, "/v1/customerinvoice", body)
    assert "'rotRutDetails'" in message and "not wrapped" in message


async def test_line_operation_is_unwrapped(api: Api) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "invoiceLines": [{"operation": w("Insert")}]}
    message = await refused(api, "/v1/customerinvoice", body)
    assert "'invoiceLines[0].operation'" in message


async def test_bad_enum_value(api: Api) -> None:
    message = await refused(api, "/v1/customer", customer_body("1", status=w("Sleeping")))
    assert "'status'" in message and "Active" in message
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "invoiceLines": [{"operation": "Insert"}, {"operation": "Upsert"}]}
    assert "'invoiceLines[1].operation'" in await refused(api, "/v1/customerinvoice", body)


async def test_nested_line_paths(api: Api) -> None:
    await api.post_customer("10000")
    lines = [{"quantity": w(1)}, {"quantity": w(1)}, {"quantity": w("three")}]
    message = await refused(api, "/v1/customerinvoice", {"customerNumber": w("10000"), "invoiceLines": lines})
    assert "'invoiceLines[2].quantity'" in message
    lines = [{"subaccount": [{"segmentId": 1, "segmentValue": 5}]}]
    message = await refused(api, "/v1/customerinvoice", {"customerNumber": w("10000"), "invoiceLines": lines})
    assert "'invoiceLines[0].subaccount[0].segmentValue'" in message


@pytest.mark.parametrize("value", ["2024-13-01", "31.01.2024", "2024-01-31T25:00:00", "tomorrow", 20240131])
async def test_bad_dates(api: Api, value: Any) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "documentDate": w(value)}
    assert "'documentDate'" in await refused(api, "/v1/customerinvoice", body)


@pytest.mark.parametrize("value", [
    "2024-01-31", "2024-01-31T10:20:30", "2024-01-31T10:20:30Z", "2024-01-31T10:20:30.1234567",
    "2024-01-31T10:20:30.538+01:00", "2024-01-31T10:20",
])
async def test_good_dates(api: Api, value: str) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "documentDate": w(value)}
    status, _, _ = await api.call("POST", "/v1/customerinvoice", json=body)
    assert status == 201


async def test_uuid_fields(api: Api) -> None:
    await api.post_customer("10000")
    body = {"customerNumber": w("10000"), "directDebitMandateId": w("not-a-uuid")}
    assert "'directDebitMandateId'" in await refused(api, "/v1/customerinvoice", body)
    body["directDebitMandateId"] = w("2ddece9b-a89b-4f5a-a251-2cf14837bb2d")
    assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201


async def test_integers_accept_whole_floats(api: Api) -> None:
    assert await api.post_customer("1", numberOfEmployees=w(12.0)) == 201
    assert (await api.call("GET", "/v1/customer/1"))[1]["numberOfEmployees"] == 12


async def test_booleans_are_not_numbers(api: Api) -> None:
    assert "'creditLimit'" in await refused(api, "/v1/customer", customer_body("1", creditLimit=w(True)))


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"null"])
async def test_body_must_be_a_json_object(api: Api, raw: bytes) -> None:
    await refused(api, "/v1/customer", None, raw=raw)


async def test_put_is_validated_too(api: Api) -> None:
    await api.post_customer("10000")
    status, err, _ = await api.call("PUT", "/v1/customer/10000", json={"mainAddress": w({"city": 5})})
    assert status == 400 and "'mainAddress.city'" in err["ExceptionMessage"]


async def test_null_field_counts_as_not_sent(api: Api) -> None:
    assert await api.post_customer("1", note=None) == 201
    assert "note" not in (await api.call("GET", "/v1/customer/1"))[1]


async def test_refused_requests_store_nothing(api: Api) -> None:
    await refused(api, "/v1/customer", customer_body("1", nmae=w("x")))
    assert (await api.stats())["records"]["customer"] == 0


async def test_integers_outside_the_documents_int32_range_are_refused(sandbox):
    import aiohttp

    headers = {"Authorization": "Bearer sandbox-token", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        body = {"number": {"value": "C1"}, "name": {"value": "A"}, "numberOfEmployees": {"value": 3_000_000_000}}
        async with session.post(f"{sandbox.url}/v1/customer", json=body, headers=headers) as resp:
            assert resp.status == 400
            assert "from -2147483648 to 2147483647" in await resp.text()
        body["numberOfEmployees"] = {"value": 2_147_483_647}
        async with session.post(f"{sandbox.url}/v1/customer", json=body, headers=headers) as resp:
            assert resp.status == 201


@pytest.mark.parametrize(("path", "extra", "field"), [
    ("/v1/customer", {"creditLimit": w(None)}, "creditLimit"),  # DtoValueOfDecimal
    ("/v1/customer", {"printInvoices": w(None)}, "printInvoices"),  # DtoValueOfBoolean
    ("/v1/customer", {"status": w(None)}, "status"),  # an enum
    ("/v1/customerinvoice", {"documentDate": w(None)}, "documentDate"),  # DtoValueOfDateTime
    ("/v1/customerinvoice", {"salesPersonID": w(None)}, "salesPersonID"),  # DtoValueOfInt32
    ("/v1/customerinvoice", {"invoiceLines": [{"quantity": w(None)}]}, "invoiceLines[0].quantity"),
])
async def test_null_is_refused_where_the_wrapper_cannot_hold_it(
    api: Api, path: str, extra: dict[str, Any], field: str,
) -> None:
    await api.post_customer("10000")
    body = customer_body("1", **extra) if path == "/v1/customer" else {"customerNumber": w("10000"), **extra}
    message = await refused(api, path, body)
    assert message.startswith(f"'{field}' cannot be null:")
    status, err, _ = await api.call("PUT", "/v1/customer/10000", json={"creditLimit": w(None)})
    assert status == 400 and "'creditLimit' cannot be null" in err["ExceptionMessage"]


async def test_null_clears_strings_objects_and_nullable_values(api: Api) -> None:
    await api.post_customer("10000", corporateId=w("C"), numberOfEmployees=w(5),
                            mainAddress=w({"city": w("Oslo")}))
    clear = {"corporateId": w(None), "numberOfEmployees": w(None), "mainAddress": w(None)}  # NullableOfInt32
    assert (await api.call("PUT", "/v1/customer/10000", json=clear))[0] == 204
    (stored,) = await api.records("customer")
    assert stored["corporateId"] is None and stored["numberOfEmployees"] is None and stored["mainAddress"] is None


async def test_int32_range_still_enforced_for_nullable_integers(api: Api) -> None:
    message = await refused(api, "/v1/customer", customer_body("1", numberOfEmployees=w(3_000_000_000)))
    assert "'numberOfEmployees'" in message and "2147483647" in message
