"""List GETs: filters, date conditions, expand flags, pagination and its metadata."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.sandbox_api import Api, w


async def listed(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    status, body, _ = await api.call("GET", path, params=params)
    assert status == 200, body
    return body


def numbers(items: list[dict[str, Any]], key: str = "number") -> list[str]:
    return [item[key] for item in items]


async def test_customers_list_with_metadata(api: Api) -> None:
    for i in range(3):
        await api.post_customer(f"C{i}", name=f"Name {i}")
    items = await listed(api, "/v1/customer")
    assert numbers(items) == ["C0", "C1", "C2"]
    assert all(item["metadata"] == {"totalCount": 3, "maxPageSize": 1000} for item in items)


async def test_empty_list(api: Api) -> None:
    assert await listed(api, "/v1/customerinvoice") == []


async def test_customer_filters(api: Api) -> None:
    await api.post_customer("C1", name="Alpha", status=w("Active"), corporateId=w("999"))
    await api.post_customer("C2", name="Beta", status=w("OnHold"),
                            mainContact=w({"email": w("b@example.com"), "phone1": w("123")}))
    assert numbers(await listed(api, "/v1/customer", name="Beta")) == ["C2"]
    assert numbers(await listed(api, "/v1/customer", status="onhold")) == ["C2"]
    assert numbers(await listed(api, "/v1/customer", corporateId="999")) == ["C1"]
    assert numbers(await listed(api, "/v1/customer", email="b@example.com")) == ["C2"]
    assert numbers(await listed(api, "/v1/customer", phone="123")) == ["C2"]
    assert numbers(await listed(api, "/v1/customer", name="Alpha", status="OnHold")) == []
    assert numbers(await listed(api, "/v1/customer", unknownParameter="x")) == ["C1", "C2"]


async def test_document_filters(api: Api) -> None:
    await api.post_customer("10000")
    await api.post_customer("20000")
    docs = [
        ("I1", "10000", "202001", "P1", "X1"),
        ("I2", "20000", "202002", "P1", "X2"),
        ("I3", "10000", "202002", "P2", "X3"),
    ]
    for ref, customer, period, project, ext in docs:
        body = {"referenceNumber": w(ref), "customerNumber": w(customer), "financialPeriod": w(period),
                "project": w(project), "externalReference": w(ext), "branchNumber": w("1")}
        assert (await api.call("POST", "/v1/customerinvoice", json=body))[0] == 201
    await api.call("POST", "/v1/customerinvoice/I3/action/release")
    path = "/v1/customerinvoice"
    refs = lambda items: numbers(items, "referenceNumber")  # noqa: E731
    assert refs(await listed(api, path, financialPeriod="202002")) == ["I2", "I3"]
    assert refs(await listed(api, path, customer="10000")) == ["I1", "I3"]
    assert refs(await listed(api, path, project="P1")) == ["I1", "I2"]
    assert refs(await listed(api, path, externalReference="X2")) == ["I2"]
    assert refs(await listed(api, path, status="open")) == ["I3"]
    assert refs(await listed(api, path, status="Balanced", customer="10000")) == ["I1"]
    assert refs(await listed(api, path, released="1")) == ["I3"]
    assert refs(await listed(api, path, branch="1")) == ["I1", "I2", "I3"]
    items = await listed(api, path, financialPeriod="202002")
    assert all(item["metadata"]["totalCount"] == 2 for item in items)


async def test_date_filters(api: Api) -> None:
    await api.post_customer("C1")
    await asyncio.sleep(0.02)
    _, first, _ = await api.call("GET", "/v1/customer/C1")
    await api.post_customer("C2")
    stamp = first["lastModifiedDateTime"]  # 2024-05-01T12:00:00.123Z
    spaced = stamp.replace("T", " ").rstrip("Z")  # yyyy-MM-dd HH:mm:ss.FFF
    cases = {">": ["C2"], ">=": ["C1", "C2"], "<": [], "<=": ["C1"]}
    for condition, expected in cases.items():
        items = await listed(api, "/v1/customer", lastModifiedDateTime=spaced,
                             lastModifiedDateTimeCondition=condition)
        assert numbers(items) == expected, condition
    for text in (stamp, spaced):  # C1 was created at the stamp, C2 after it
        items = await listed(api, "/v1/customer", createdDateTime=text, createdDateTimeCondition=">")
        assert numbers(items) == ["C2"], text
    for text in (stamp, stamp[:19], spaced[:19], stamp[:10]):  # truncated: both at or after it
        items = await listed(api, "/v1/customer", createdDateTime=text, createdDateTimeCondition=">=")
        assert numbers(items) == ["C1", "C2"], text
    items = await listed(api, "/v1/customer", lastModifiedDateTime="2000-01-01", lastModifiedDateTimeCondition="<")
    assert items == []


async def test_document_date_filter(api: Api) -> None:
    await api.post_customer("10000")
    for ref, date in (("I1", "2020-01-14"), ("I2", "2020-01-15T10:00:00"), ("I3", "2020-02-01")):
        body = {"referenceNumber": w(ref), "customerNumber": w("10000"), "documentDate": w(date)}
        await api.call("POST", "/v1/customerinvoice", json=body)
    items = await listed(api, "/v1/customerinvoice", documentDate="2020-01-15", documentDateCondition=">=")
    assert numbers(items, "referenceNumber") == ["I2", "I3"]


@pytest.mark.parametrize(("params", "named"), [
    ({"lastModifiedDateTime": "14.01.2020", "lastModifiedDateTimeCondition": ">="}, "lastModifiedDateTime"),
    ({"lastModifiedDateTime": "2020-01-14", "lastModifiedDateTimeCondition": "=="}, "lastModifiedDateTimeCondition"),
    ({"lastModifiedDateTime": "2020-01-14"}, "lastModifiedDateTimeCondition"),
    ({"createdDateTimeCondition": ">"}, "createdDateTime"),
    ({"createdDateTime": "2020-02-30", "createdDateTimeCondition": ">"}, "createdDateTime"),
    ({"status": "Sleeping"}, "status"),
    ({"pageNumber": "0"}, "pageNumber"),
    ({"pageSize": "many"}, "pageSize"),
])
async def test_bad_customer_filters(api: Api, params: dict[str, str], named: str) -> None:
    status, err, _ = await api.call("GET", "/v1/customer", params=params)
    assert status == 400 and f"'{named}'" in err["ExceptionMessage"]


@pytest.mark.parametrize(("params", "named"), [
    ({"status": "Paid"}, "status"),
    ({"financialPeriod": "012020"}, "financialPeriod"),
    ({"released": "yes"}, "released"),
    ({"expandAttachments": "maybe"}, "expandAttachments"),
    ({"expandApplications": "maybe"}, "expandApplications"),
    ({"expandInvoiceAddress": "2"}, "expandInvoiceAddress"),
    ({"documentDate": "soon", "documentDateCondition": ">"}, "documentDate"),
])
async def test_bad_document_filters(api: Api, params: dict[str, str], named: str) -> None:
    status, err, _ = await api.call("GET", "/v1/customerCreditNote", params=params)
    assert status == 400 and f"'{named}'" in err["ExceptionMessage"]


async def test_pagination(sandbox_with: Any) -> None:
    async with sandbox_with(max_page_size=4) as api:
        for i in range(10):
            await api.post_customer(f"C{i:02d}")
        pages = [numbers(await listed(api, "/v1/customer", pageNumber=n, pageSize=3)) for n in (1, 2, 3, 4, 5)]
        assert pages == [["C00", "C01", "C02"], ["C03", "C04", "C05"], ["C06", "C07", "C08"], ["C09"], []]
        # Larger requests are limited to the max page size, which metadata reports.
        items = await listed(api, "/v1/customer", pageSize=100)
        assert numbers(items) == ["C00", "C01", "C02", "C03"]
        assert items[0]["metadata"] == {"totalCount": 10, "maxPageSize": 4}
        assert numbers(await listed(api, "/v1/customer", pageNumber=3)) == ["C08", "C09"]


async def test_expand_flags(api: Api) -> None:
    await api.post_customer("10000")
    tax = [{"taxId": w("VAT"), "vatAmount": w(25)}]
    await api.call("POST", "/v1/customerinvoice",
                   json={"referenceNumber": w("I1"), "customerNumber": w("10000"), "taxDetailLines": tax})
    await api.call("POST", "/v1/customerCreditNote",
                   json={"referenceNumber": w("N1"), "customerNumber": w("10000"), "taxDetails": tax})
    for path, field in (("/v1/customerinvoice", "taxDetailLines"), ("/v1/customerCreditNote", "taxDetails")):
        (item,) = await listed(api, path)
        assert item["attachments"] == [] and item["taxDetails"] == [{"taxId": "VAT", "vatAmount": 25}]
        assert item["vatTotal"] == 25  # worked out from the tax details, expanded or not
        (item,) = await listed(api, path, expandAttachments="false", expandTaxDetails="False")
        assert "attachments" not in item and "taxDetails" not in item and field not in item
        assert item["vatTotal"] == 25
        _, single, _ = await api.call("GET", f"{path}/{item['referenceNumber']}", params={"expandTaxDetails": "0"})
        assert "taxDetails" not in single and single["attachments"] == []


async def test_expand_flags_of_groups_lists_leave_out(api: Api) -> None:
    """Applications, dunning information and the invoice address: in a list only when asked for."""
    await api.post_customer("10000")
    address = w({"city": w("Oslo"), "countryId": w("NO")})
    await api.call("POST", "/v1/customerinvoice",
                   json={"referenceNumber": w("I1"), "customerNumber": w("10000"), "billingAddress": address})
    await api.call("POST", "/v1/customerDebitNote",
                   json={"referenceNumber": w("D1"), "customerNumber": w("10000"), "invoiceAddress": address})
    groups = {"applications", "dunningLetterDate", "dunningLetterLevel", "invoiceAddress"}
    for path in ("/v1/customerinvoice", "/v1/customerDebitNote"):
        (item,) = await listed(api, path)
        assert not groups & set(item), path
        (item,) = await listed(api, path, expandApplications="true", expandDunningInformation="1",
                               expandInvoiceAddress="True")
        assert item["applications"] == [] and item["dunningLetterLevel"] == 0
        assert "dunningLetterDate" not in item  # no letter yet, so no date: left out, not null
        assert item["invoiceAddress"] == {"city": "Oslo", "country": {"id": "NO"}}
        (only,) = await listed(api, path, expandInvoiceAddress="true")
        assert "invoiceAddress" in only and "applications" not in only and "dunningLetterLevel" not in only
        # A GET by key takes no such flags: it answers every group.
        _, single, _ = await api.call("GET", f"{path}/{item['referenceNumber']}")
        assert groups - {"dunningLetterDate"} <= set(single)
        _, single, _ = await api.call("GET", f"{path}/{item['referenceNumber']}", params={"expandInvoiceAddress": "0"})
        assert "invoiceAddress" not in single
