"""VAT the way the company works it out: each document's VAT, taxDetails and gross amount,
as reads answer them, equal to figures worked out by hand in each test.

The demo company (Norway: 25 % "3", 15 % "31", low rate "33" at 12 % until 2020-03-31, 6 %
from 2020-04-01 and 12 % again from 2021-10-01, 0 % "5", exempt "6" and export "52"; zone
"01" domestic, "02" foreign) and a variant with an inclusive VAT, a VAT computed once on
the document, and a zone whose category excludes a VAT.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from importer.company import Company
from importer.company.demo import demo_company
from importer.company.file import company_document, company_from_document

DAY = dt.date(2024, 6, 1)


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


def line(price: float, quantity: float = 1, **extra: Any) -> dict[str, Any]:
    return {"quantity": w(quantity), "unitPriceInCurrency": w(price), **{k: w(v) for k, v in extra.items()}}


def document(customer: str, date: str, lines: list[dict[str, Any]], line_field: str = "invoiceLines",
             **extra: Any) -> dict[str, Any]:
    return {"customerNumber": w(customer), "documentDate": w(date), line_field: lines,
            **{k: w(v) for k, v in extra.items()}}


def totals(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("detailTotal", "vatTotal", "vatTaxableTotal", "vatExemptTotal", "amount", "balance")}


def rows(doc: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    """taxDetails as {vat id: (rate, taxable, vat)}."""
    return {r["vatId"]["number"]: (r["vatRate"], r["taxableAmount"], r["vatAmount"]) for r in doc["taxDetails"]}


def variant() -> Company:
    """The demo company plus an inclusive VAT, a document-level VAT and a third zone."""
    doc = company_document(demo_company(DAY))

    def vat(vat_id: str, rate: float, zone: str, calculate_on: str = "ItemAmount") -> dict[str, Any]:
        return {"vatId": vat_id, "description": f"VAT {vat_id}", "type": "Sales", "calculateOn": calculate_on,
                "reverseVat": False, "statisticalVat": False, "pendingVat": False, "includeinVatTotal": True,
                "includeinVatExemptTotal": False, "notValidAfter": None,
                "schedules": [{"startDate": "2005-01-01T00:00:00", "vatRate": rate, "minTaxableAmt": 0.0,
                               "maxTaxableAmt": 0.0, "groupType": "Output"}],
                "categories": [], "zones": [{"id": zone}]}

    def category(cat_id: str, listed: list[str], exclude: bool = False) -> dict[str, Any]:
        return {"vatCategoryId": cat_id, "description": cat_id, "active": True, "excludeListedTaxes": exclude,
                "vatCategoryLines": [{"vatId": v} for v in listed]}

    doc["vats"] += [vat("INKL25", 25.0, "01", "ExtractFromItemAmount"), vat("DOK25", 25.0, "01", "DocumentAmount"),
                    vat("X1", 10.0, "03"), vat("X2", 5.0, "03")]
    doc["vatCategories"] += [category("INKL", ["INKL25"]), category("DOK", ["DOK25"]),
                             category("NOTX2", ["X2"], exclude=True), category("BOTH", ["X1", "X2"])]
    doc["vatZones"].append({"id": "03", "description": "Third zone", "defaultVatCategory": "BOTH"})
    return company_from_document(doc)


async def read(api: Any, path: str, key: str) -> dict[str, Any]:
    status, body, _ = await api.call("GET", f"{path}/{key}")
    assert status == 200, body
    return body


async def create(api: Any, path: str, key: str, body: dict[str, Any]) -> None:
    status, answer, headers = await api.call("POST", path, json={**body, "referenceNumber": w(key)})
    assert status == 201, answer
    assert headers["Location"].endswith(f"{path}/{key}")


async def customer(api: Any, number: str, cls: str = "1", **extra: Any) -> None:
    body = {"number": w(number), "name": w(f"Customer {number}"), "customerClassId": w(cls),
            **{k: w(v) for k, v in extra.items()}}
    status, answer, _ = await api.call("POST", "/v1/customer", json=body)
    assert status == 201, answer


async def test_mixed_categories_on_one_invoice(sandbox_with) -> None:
    async with sandbox_with(company=demo_company(DAY)) as api:
        await customer(api, "K1")
        await create(api, "/v1/customerinvoice", "F1", document("K1", "2020-05-01", [
            line(99.99, 3, vatCodeId="3"),  # 299.97, 25 %: 74.9925 -> 74.99
            line(12.50, 4, inventoryNumber="SYLT", discountPercent=10),  # 45.00, the item's "31": 6.75
            line(200, vatCodeId="33"),  # low rate on 2020-05-01 is 6 %: 12.00
            line(80),  # no category, no item: zone 01's default "3": 20.00
            line(100, vatCodeId="5"),  # zero-rated: 0.00, taxable
            line(50, vatCodeId="6"),  # outside the VAT act: exempt
        ]))
        doc = await read(api, "/v1/customerinvoice", "F1")
        assert totals(doc) == {"detailTotal": 774.97, "vatTotal": 113.74, "vatTaxableTotal": 724.97,
                               "vatExemptTotal": 50.0, "amount": 888.71, "balance": 888.71}
        assert doc["vatTotalInCurrency"] == 113.74 and doc["amountInCurrency"] == 888.71
        assert rows(doc) == {"3": (25.0, 379.97, 94.99), "31": (15.0, 45.0, 6.75), "33": (6.0, 200.0, 12.0),
                             "5": (0.0, 100.0, 0.0), "6": (0.0, 50.0, 0.0)}
        assert doc["taxDetails"][0]["vatId"] == {"number": "3", "description": "Utgående mva, høy sats"}
        status, listed, _ = await api.call("GET", "/v1/customerinvoice")
        assert status == 200 and [totals(d) for d in listed] == [totals(doc)]
        assert [rows(d) for d in listed] == [rows(doc)]


async def test_the_low_rate_follows_the_document_date(sandbox_with) -> None:
    async with sandbox_with(company=demo_company(DAY)) as api:
        await customer(api, "K1")
        expected = {"2020-03-31": (12.0, 120.0), "2020-04-01": (6.0, 60.0),
                    "2021-09-30": (6.0, 60.0), "2021-10-01": (12.0, 120.0)}
        for n, date in enumerate(expected, 1):
            body = document("K1", date, [line(1000, vatCodeId="33")], "lines")
            await create(api, "/v1/customerCreditNote", f"K{n}", body)
        for n, (date, (rate, vat)) in enumerate(expected.items(), 1):
            doc = await read(api, "/v1/customerCreditNote", f"K{n}")
            assert rows(doc) == {"33": (rate, 1000.0, vat)}, date
            assert (doc["vatTotal"], doc["amount"], doc["balance"]) == (vat, 1000 + vat, 1000 + vat), date


async def test_the_zone_decides_which_vats_apply(sandbox_with) -> None:
    lines = [line(500, 2, inventoryNumber="222"), line(300)]  # item in category "3"; no category
    async with sandbox_with(company=demo_company(DAY)) as api:
        await customer(api, "INN")  # class 1: zone 01
        await customer(api, "UTL", cls="2")  # class 2: zone 02
        await customer(api, "UTL2", vatZoneId="02")  # class 1, but its own zone 02
        await create(api, "/v1/customerDebitNote", "D1", document("INN", "2024-02-01", lines, "lines"))
        await create(api, "/v1/customerDebitNote", "D2", document("UTL", "2024-02-01", lines, "lines"))
        await create(api, "/v1/customerDebitNote", "D3", document("UTL2", "2024-02-01", lines, "lines"))
        await create(api, "/v1/customerDebitNote", "D4",
                     document("INN", "2024-02-01", lines, "lines", customerVatZoneId="02"))
        domestic = await read(api, "/v1/customerDebitNote", "D1")
        # 1000 and 300 (zone 01's default "3") at 25 %
        assert rows(domestic) == {"3": (25.0, 1300.0, 325.0)}
        assert (domestic["vatTotal"], domestic["amount"]) == (325.0, 1625.0)
        for key in ("D2", "D3", "D4"):
            foreign = await read(api, "/v1/customerDebitNote", key)
            # "3" is not levied in zone 02; the line without a category gets zone 02's export "52"
            assert rows(foreign) == {"52": (0.0, 300.0, 0.0)}, key
            assert totals(foreign) == {"detailTotal": 1300.0, "vatTotal": 0.0, "vatTaxableTotal": 300.0,
                                       "vatExemptTotal": 0.0, "amount": 1300.0, "balance": 1300.0}, key


async def test_inclusive_document_level_and_excluded_vats(sandbox_with) -> None:
    async with sandbox_with(company=variant()) as api:
        await customer(api, "K1")
        await customer(api, "K3", vatZoneId="03")
        await create(api, "/v1/customerinvoice", "F1", document("K1", "2024-03-01", [
            line(125, vatCodeId="INKL"),  # VAT inside: 125 x 25 / 125 = 25.00, taxable 100.00
            line(99.99, vatCodeId="INKL"),  # 19.998 -> 20.00, taxable 79.99
            *[line(0.02, vatCodeId="DOK") for _ in range(3)],  # once on 0.06: 0.015 -> 0.02
            *[line(0.02, vatCodeId="3") for _ in range(3)],  # per line: 0.005 -> 0.01, three times
        ]))
        doc = await read(api, "/v1/customerinvoice", "F1")
        assert rows(doc) == {"3": (25.0, 0.06, 0.03), "DOK25": (25.0, 0.06, 0.02), "INKL25": (25.0, 179.99, 45.0)}
        # gross: the lines (the inclusive VAT is inside them) plus the VAT added on top
        assert totals(doc) == {"detailTotal": 225.11, "vatTotal": 45.05, "vatTaxableTotal": 180.11,
                               "vatExemptTotal": 0.0, "amount": 225.16, "balance": 225.16}
        await create(api, "/v1/customerinvoice", "F3", document("K3", "2024-03-01", [
            line(200, vatCodeId="NOTX2"),  # zone 03's VATs except X2: X1 10 % = 20
            line(100, vatCodeId="BOTH"),  # X1 10 and X2 5
        ]))
        doc = await read(api, "/v1/customerinvoice", "F3")
        assert rows(doc) == {"X1": (10.0, 300.0, 30.0), "X2": (5.0, 100.0, 5.0)}
        assert (doc["vatTotal"], doc["amount"]) == (35.0, 335.0)


async def test_manual_vat_lines_sent_still_win(sandbox_with) -> None:
    async with sandbox_with(company=demo_company(DAY)) as api:
        await customer(api, "K1")
        body = document("K1", "2024-01-10", [line(100, vatCodeId="3")])
        body["taxDetailLines"] = [{"taxId": w("3"), "taxableAmount": w(100), "vatAmount": w(30)}]
        await create(api, "/v1/customerinvoice", "F1", body)
        doc = await read(api, "/v1/customerinvoice", "F1")
        assert (doc["detailTotal"], doc["vatTotal"], doc["amount"]) == (100.0, 30.0, 130.0)


async def test_without_a_company_nothing_is_added(sandbox_with) -> None:
    async with sandbox_with(company=None) as api:
        await customer(api, "K1")
        await create(api, "/v1/customerinvoice", "F1",
                     document("K1", "2020-05-01", [line(99.99, 3, vatCodeId="3"), line(80)]))
        doc = await read(api, "/v1/customerinvoice", "F1")
        assert (doc["detailTotal"], doc["vatTotal"], doc["amount"], doc["balance"]) == (379.97, 0.0, 379.97, 379.97)
        assert doc["taxDetails"] == []
