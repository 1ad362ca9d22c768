"""An export's planned CSV rows are the long way's, byte for byte, with the same counts.

:class:`PlannedCsvWriter` writes a page by plans per record shape; whatever a plan cannot
settle goes through the flattener and ``CsvWriter`` record by record. Generated pages mix
what the API answers (sandbox- and DTO-shaped fields, nested objects, nulls, empty text,
lists) with what must go the long way (cells to quote, ``{"value": ...}`` wrappers, a
renamed DTO path onto a column the record fills, lines that are no list), under every
column choice and both CSV layouts; the file, the fields left out and the columns dropped
must come out as the long way writes them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.entities import entity
from importer.ledger.csvplans import PlannedCsvWriter
from importer.ledger.export import MONEY_COLUMNS, _header, number_columns
from importer.ledger.files import EXCEL, CsvStyle, CsvWriter, Sink
from importer.mapping.flatten import RecordFlattener

pytestmark = pytest.mark.one_profile  # no API involved

TEXT = st.sampled_from(["Faktura 1", "Rør og koblinger", "", "=cmd|' /C calc'!A0", "-5", "-x", "+1", "@a",
                        "'=quoted", "a,b", 'say "hi"', "two\nlines", "tab\tin", "semi;colon", "{braces}", "100%"])
AMOUNT = st.one_of(st.sampled_from([0.8, 950.0, -12.5, 0.0, -0.0, 12.345, 1e16, 0.1 + 0.2, 70368744177663.5]),
                   st.integers(-10**6, 10**6), st.floats(-1e9, 1e9, allow_nan=False), st.none(), st.just("n/a"))
QUANTITY = st.one_of(st.sampled_from([7.5, 1, 2.0, 1e-7]), st.none(), st.booleans())
PERIOD = st.sampled_from(["202002", "022020", "201220", 202002, None])


def _line(draw: st.DrawFn) -> Any:
    fields: dict[str, Any] = {
        "inventoryNumber": draw(st.sampled_from(["TIME", "MAT", "", None])),
        "description": draw(TEXT),
        "quantity": draw(QUANTITY),
        "unitPriceInCurrency": draw(AMOUNT),
        "vatCode": draw(st.sampled_from([{"id": "3"}, {"id": "1"}, None, {"value": {"id": "3"}}, {}])),
        "lineNumber": draw(st.integers(1, 3)),
        "amount": draw(AMOUNT),
        "operation": "Insert",
    }
    if draw(st.booleans()):
        fields["vatCodeId"] = draw(st.sampled_from(["3", "5"]))  # the sandbox's name, beside the DTO's
    return dict(draw(st.permutations(list(fields.items())))) if draw(st.integers(0, 5)) == 0 else fields


@st.composite
def invoices(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "referenceNumber": f"INV-{draw(st.integers(1, 9))}",
        "customer": draw(st.sampled_from([{"number": "10000", "name": "Kunde AS"}, {"number": "10001"}, None])),
        "documentDate": "2020-02-03T00:00:00",
        "invoiceText": draw(TEXT),
        "currencyId": draw(st.sampled_from(["NOK", "JPY", "BHD", None])),
        "postPeriod": draw(PERIOD),
        "createdDateTime": draw(st.sampled_from(["2026-12-05T11:14:32Z", "", None])),
        "detailTotal": draw(AMOUNT),
        "vatTotal": draw(AMOUNT),
        "amount": draw(AMOUNT),
        "balance": draw(AMOUNT),
        "isRotRutDeductible": draw(st.sampled_from([True, False, None])),
        "tags": draw(st.sampled_from([[], ["a"], None])),
        "invoiceLines": draw(st.one_of(st.lists(st.composite(_line)(), max_size=3), st.none(),
                                       st.just("none"), st.just({"value": []}))),
        "metadata": {"totalCount": 5},
    }
    if draw(st.integers(0, 4)) == 0:
        record["customerNumber"] = "10000"  # the sandbox's name, beside the DTO's customer.number
    if draw(st.integers(0, 4)) == 0:
        del record["documentDate"]
    return record


@st.composite
def customers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "number": str(draw(st.integers(10000, 10003))),
        "name": draw(TEXT),
        "customerClass": draw(st.sampled_from([{"id": "1", "description": "Norske"}, None])),
        "creditLimit": draw(AMOUNT),
        "mainAddress": draw(st.sampled_from([{"city": "Oslo", "countryId": "NO"}, {"city": "Bergen"}, None])),
        "status": "Active",
        "metadata": {"totalCount": 5},
    }


def _places(row: Mapping[str, Any]) -> int:
    return {"JPY": 0, "BHD": 3}.get(row.get("currencyId"), 2)  # type: ignore[arg-type]


def _both(name: str, pages: Sequence[list[dict[str, Any]]], columns: Sequence[str], style: CsvStyle,
          places: Callable[[Mapping[str, Any]], int], company: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(the long way's file, left out, dropped, rows) and the planned writer's, for the same pages."""
    ent = entity(name)
    numbers = number_columns(ent, columns)
    out, dropped, left, rows = io.BytesIO(), {}, {}, 0
    writer = CsvWriter(Sink(out), columns, style, dropped, numbers, MONEY_COLUMNS, places)
    flattener = RecordFlattener(ent, totals=True)
    for page in pages:
        for item in page:
            record = flattener.flatten(item)
            rows += writer.write_record(record.header, record.lines)
            for field in record.left_out:
                left[field] = left.get(field, 0) + 1
    writer.detach()
    planned_out, planned_dropped, planned_left, planned_rows = io.BytesIO(), {}, {}, 0
    planned = PlannedCsvWriter(Sink(planned_out), columns, style, planned_dropped, numbers, MONEY_COLUMNS, places,
                               RecordFlattener(ent, totals=True), planned_left, company=company)
    for page in pages:
        planned_rows += planned.write_items(page)[1]
    planned.detach()
    return ((out.getvalue(), left, dropped, rows),
            (planned_out.getvalue(), planned_left, planned_dropped, planned_rows))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages=st.lists(st.lists(invoices(), min_size=1, max_size=12), min_size=1, max_size=3),
       choice=st.sampled_from(["all", "seen", "some", "mixed"]), excel=st.booleans(), company=st.booleans())
def test_planned_invoice_rows_are_the_long_ways(pages: list[list[dict[str, Any]]], choice: str, excel: bool,
                                                company: bool) -> None:
    ent = entity("invoice")
    if choice == "seen":
        flattener = RecordFlattener(ent, totals=True)
        columns = _header(ent, [flattener.flatten(item) for item in pages[0]], "seen")
    elif choice == "some":  # the caller's columns, the header's before the lines'
        columns = ["referenceNumber", "amount", "currencyId", "postPeriod", "line.quantity", "line.vatCodeId"]
    elif choice == "mixed":  # a line's column among the header's: the long way throughout
        columns = ["line.description", "referenceNumber", "amount"]
    else:
        columns = _header(ent, [], "all")
    places = _places if company else (lambda row: 2)
    expected, got = _both("invoice", pages, columns, EXCEL if excel else CsvStyle(), places, company)
    assert got == expected


@settings(max_examples=25, deadline=None)
@given(pages=st.lists(st.lists(customers(), min_size=1, max_size=10), min_size=1, max_size=2))
def test_planned_customer_rows_are_the_long_ways(pages: list[list[dict[str, Any]]]) -> None:
    expected, got = _both("customer", pages, _header(entity("customer"), [], "all"), CsvStyle(),
                          lambda row: 2, False)
    assert got == expected


class _Counting(RecordFlattener):
    flattened = 0

    def flatten(self, record: Mapping[str, Any]) -> Any:
        self.flattened += 1
        return super().flatten(record)


def test_a_page_of_one_shape_is_planned_and_only_the_odd_record_goes_the_long_way() -> None:
    ent = entity("invoice")
    line = {"inventoryNumber": "TIME", "description": "Arbeid", "quantity": 7.5, "unitPriceInCurrency": 950.0,
            "vatCode": {"id": "3"}}
    page = [{"referenceNumber": f"INV-{n}", "customer": {"number": "10000"}, "invoiceText": f"Faktura {n}",
             "amount": 100.0 + n, "invoiceLines": [line, {**line, "quantity": 1}]} for n in range(500)]
    page[250] = {**page[250], "invoiceText": "a, b"}  # a cell to quote
    columns = _header(ent, [], "all")
    flattener = _Counting(ent, totals=True)
    out, left = io.BytesIO(), {}
    writer = PlannedCsvWriter(Sink(out), columns, CsvStyle(), {}, number_columns(ent, columns), MONEY_COLUMNS,
                              lambda row: 2, flattener, left, company=False)
    assert writer.write_items(page) == (500, 1000)
    writer.detach()
    assert flattener.flattened == 1
    text = out.getvalue().decode()
    assert text.count("\r\n") == 1001
    assert '"a, b"' in text and "INV-499," in text.splitlines()[-1]


def test_pages_of_other_shapes_and_field_orders_come_out_as_the_long_ways() -> None:
    """A page of one shape after a page of another, the same fields in other orders (the
    first record's and a later one's), types that split a page, and amounts of every kind."""
    line = {"inventoryNumber": "TIME", "description": "Arbeid", "quantity": 7.5, "unitPriceInCurrency": 950.0,
            "vatCode": {"id": "3"}, "lineNumber": 1, "amount": 7125.0}
    amounts = [8907.25, 12.5, 12.345, 100, -0.0, 1e16, 0.1 + 0.2, 0.0, -7.125, 1e-5]

    def invoice(n: int, amount: Any, **more: Any) -> dict[str, Any]:
        return {"referenceNumber": f"INV-{n}", "customer": {"number": "10000", "name": "Kunde AS"},
                "currencyId": "NOK", "postPeriod": "202002", "amount": amount, "balance": amount,
                "invoiceLines": [line, {**line, "quantity": 1, "lineNumber": 2}], **more}

    first = [invoice(n, amounts[n % len(amounts)]) for n in range(20)]
    reordered = [dict(reversed(list(item.items()))) for item in first]
    reordered[0]["customer"] = {"name": "Kunde AS", "number": "10001"}
    mixed = [invoice(n, amounts[n % len(amounts)], invoiceText="Faktura" if n % 3 else None) for n in range(20)]
    mixed[1] = dict(reversed(list(mixed[1].items())))  # the first of its type group, in another order
    mixed[7]["invoiceLines"] = [{**line, "vatCode": None, "description": "a;b"}]  # a cell Excel quotes
    columns = _header(entity("invoice"), [], "all")
    for style in (CsvStyle(), EXCEL):
        for places in (lambda row: 2, _places):
            expected, got = _both("invoice", [first, reordered, mixed, first], columns, style, places, True)
            assert got == expected
            assert b"INV-19" in got[0] and got[3] == 2 * 20 * 3 + 2 * 19 + 1
