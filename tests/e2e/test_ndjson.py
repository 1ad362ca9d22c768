"""NDJSON is read exactly: numbers as the digits written, each key once, every value checked
for its JSON type, and "natural" JSON (plain values, a plain array of lines) mapped as a CSV
row would be. Each test runs the CLI against the sandbox and reads what the ledger holds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.sources import open_source
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, read_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)


def _write(path: Path, records: list[str]) -> Path:
    path.write_bytes(("\n".join(records) + "\n").encode())
    return path


async def _run(base: str, path: Path, entity: str, *args: str) -> tuple[int, str]:
    code, out, err = await run_cli("run", str(path), "--entity", entity, "--base-url", base, "--token", TOKEN,
                                   *args)
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out + err


async def _stored(base: str, entity: str) -> dict[str, dict[str, Any]]:
    records = await get_json(f"{base}/sandbox/records/{entity}")
    assert isinstance(records, list)
    key = "number" if entity == "customer" else "referenceNumber"
    return {r[key]: r for r in records}


def _errors(results: Path) -> dict[int, str | None]:
    return {line["records"][0]: line["error"] for line in read_lines(results) if line["outcome"] != "started"}


async def test_numbers_are_read_as_written_and_refused_where_a_double_cannot_hold_them(sandbox, tmp_path):
    path = _write(tmp_path / "customers.ndjson", [
        '{"number": "1", "name": "Precise", "creditLimit": 12345678901234.567}',
        '{"number": "2", "name": "Huge", "creditLimit": 100000000000000000001}',
        '{"number": "3", "name": "Plain", "creditLimit": 1234567.89}',
        '{"number": "4", "name": 12345678901234567890123, "creditLimit": 0.1}',
        '{"number": "5", "name": "Exponent", "creditLimit": 1.5e3}',
        '{"number": "6", "name": "Whole", "numberOfEmployees": 12.0, "creditLimit": 99999999999999.9}',
    ])
    code, _ = await _run(sandbox.url, path, "customer")
    assert code == 1
    results = tmp_path / "customers.ndjson.results.ndjson"
    assert_one_final_line_per_record(results, 6)
    errors = _errors(results)
    assert errors[1] == ("creditLimit: 12345678901234.567 has more than 15 significant digits, more than the API "
                         "keeps exactly; it is not rounded")
    assert errors[2] is not None and errors[2].startswith("creditLimit: 100000000000000000001 has more than 15")
    stored = await _stored(sandbox.url, "customer")
    assert set(stored) == {"3", "4", "5", "6"}  # nothing rounded reached the ledger
    assert stored["3"]["creditLimit"] == 1234567.89
    assert stored["4"]["name"] == "12345678901234567890123" and stored["4"]["creditLimit"] == 0.1
    assert stored["5"]["creditLimit"] == 1500
    assert stored["6"]["numberOfEmployees"] == 12 and stored["6"]["creditLimit"] == 99999999999999.9

    # The same value in a CSV cell is refused for the same reason.
    csv = tmp_path / "customers.csv"
    csv.write_text("number,name,creditLimit\n1,Precise,12345678901234.567\n", encoding="utf-8")
    code, _ = await _run(sandbox.url, csv, "customer", "--dry-run")
    [line] = read_lines(tmp_path / "customers.csv.dry-run.ndjson")
    assert line["outcome"] == "invalid" and "has more than 15 significant digits" in line["error"]


async def test_a_key_given_twice_is_refused_and_a_colon_in_text_is_not_one(sandbox, tmp_path):
    path = _write(tmp_path / "customers.ndjson", [
        '{"number": "1", "name": "First", "name": "Second"}',
        '{"number": "2", "name": "Opens 09:30", "mainAddress": {"city": "Oslo", "city": "Bergen"}}',
        '{"number": "3", "name": "Opens 09:30: late"}',
    ])
    before = path.read_bytes()
    code, _ = await _run(sandbox.url, path, "customer")
    assert code == 1
    results = tmp_path / "customers.ndjson.results.ndjson"
    assert_one_final_line_per_record(results, 3)
    errors = _errors(results)
    assert errors[1] == "line gives the key 'name' twice in one object; which one is meant is not known"
    assert errors[2] == "line gives the key 'city' twice in one object; which one is meant is not known"
    assert errors[3] is None
    stored = await _stored(sandbox.url, "customer")
    assert set(stored) == {"3"} and stored["3"]["name"] == "Opens 09:30: late"
    assert path.read_bytes() == before


async def test_a_value_of_the_wrong_json_type_is_an_invalid_record_never_a_crash(sandbox, tmp_path):
    records = [
        '{"number": true, "name": "Bool key"}',
        '{"number": [null], "name": "List key"}',
        '{"number": "3", "name": {"first": "Ola"}}',
        '{"number": "4", "name": "Number list", "creditLimit": [1]}',
        '{"number": "5", "name": "Bool amount", "creditLimit": false}',
        '{"number": {"value": "6"}, "name": {"value": 5}}',
        '{"number": {"value": "7"}, "name": "bare where a wrapper goes"}',
        '{"number": {"value": "8"}, "name": {"value": "Shaped"}, "creditLimit": {"value": "12.5"}}',
        '{"number": "9", "name": "Good after them all", "creditLimit": 10}',
        '{"number": {"value": "10"}, "name": {"value": "Shaped and good"}, "creditLimit": {"value": 2.5}}',
    ]
    path = _write(tmp_path / "customers.ndjson", records)
    code, _ = await _run(sandbox.url, path, "customer")
    assert code == 1
    results = tmp_path / "customers.ndjson.results.ndjson"
    assert_one_final_line_per_record(results, len(records))
    errors = _errors(results)
    assert errors[1] == "number: the field takes text, not a JSON boolean (true)"
    assert errors[2] == "number: the field takes one value, not a JSON array"
    assert errors[3] is not None and errors[3].startswith("'name.first' is not one of the columns of customer")
    assert errors[4] == "creditLimit: the field takes one value, not a JSON array"
    assert errors[5] == "creditLimit: the field takes a number, not a JSON boolean (false)"
    assert errors[6] == "name: the field takes text, not a JSON number (5)"
    assert errors[7] == ("name: the field takes {\"value\": ...} in a record in the API's shape, not "
                         "text ('bare where a wrapper goes')")
    assert errors[8] == "creditLimit: the field takes a number, not text ('12.5')"
    assert errors[9] is None and errors[10] is None
    stored = await _stored(sandbox.url, "customer")
    assert set(stored) == {"9", "10"}
    assert stored["9"]["creditLimit"] == 10 and stored["10"]["creditLimit"] == 2.5
    # The failed-records file holds the refused lines byte for byte, to fix and send again.
    failed = (tmp_path / "customers.failed.ndjson").read_bytes().splitlines()
    assert [orjson.loads(line)["error"] for line in failed] == [errors[n] for n in range(1, 9)]


async def test_natural_json_documents_are_mapped_and_the_ledger_holds_their_lines(sandbox, tmp_path):
    customers = _write(tmp_path / "customers.ndjson", [
        '{"number": "10000", "name": "Fjord AS", "mainAddress": {"addressLine1": "Kaia 1", "city": "Oslo"}}',
    ])
    code, _ = await _run(sandbox.url, customers, "customer")
    assert code == 0
    [customer] = (await _stored(sandbox.url, "customer")).values()
    assert customer["mainAddress"]["city"] == "Oslo" and customer["mainAddress"]["addressLine1"] == "Kaia 1"

    invoices = _write(tmp_path / "invoices.ndjson", [
        '{"customerNumber": "10000", "referenceNumber": "N-1", "documentDate": "2024-01-15", '
        '"invoiceLines": [{"description": "x", "quantity": 1, "unitPriceInCurrency": 5}, '
        '{"description": "y", "quantity": 2.5, "unitPriceInCurrency": 10.25}]}',
        '{"customerNumber": "10000", "referenceNumber": "N-2", "documentDate": "2024-01-16", '
        '"invoiceLines": [{"description": "z", "quantity": 1, "unitPriceInCurrency": 5, "colour": "red"}]}',
        '{"customerNumber": "10000", "referenceNumber": "N-3", "invoiceLines": [{"quantity": "many"}]}',
        '{"customerNumber": "10000", "referenceNumber": "N-4", "invoiceLines": {"quantity": 1}}',
    ])
    code, _ = await _run(sandbox.url, invoices, "invoice", "--dry-run")
    dry = {line["key"]: line for line in read_lines(tmp_path / "invoices.ndjson.dry-run.ndjson")}
    assert dry["N-1"]["outcome"] == "valid"
    assert dry["N-1"]["payload"]["invoiceLines"][1] == {
        "description": {"value": "y"}, "quantity": {"value": 2.5}, "unitPriceInCurrency": {"value": 10.25},
        "operation": "Insert"}
    assert dry["N-2"]["error"] == ("record 2: invoiceLines[0]: 'colour' is not one of the line fields of invoice; "
                                   "`importer columns invoice` lists them")
    assert dry["N-3"]["error"] == "record 3: invoiceLines[0].quantity: 'many' is not a number"
    assert dry["N-4"]["error"] == ("record 4: invoiceLines: the document's lines are an array of objects, "
                                   "not a JSON object")
    assert await _stored(sandbox.url, "invoice") == {}  # a dry run sends nothing

    code, _ = await _run(sandbox.url, invoices, "invoice")
    assert code == 1
    outcomes = {line["key"]: line["outcome"] for line in read_lines(tmp_path / "invoices.ndjson.results.ndjson")
                if line["outcome"] != "started"}
    assert outcomes == {"N-1": "created", "N-2": "invalid", "N-3": "invalid", "N-4": "invalid"}
    stored = await _stored(sandbox.url, "invoice")
    assert set(stored) == {"N-1"}
    lines = [(line["description"], line["quantity"], line["unitPriceInCurrency"])
             for line in stored["N-1"]["invoiceLines"]]
    assert lines == [("x", 1, 5), ("y", 2.5, 10.25)]
    assert stored["N-1"]["customerNumber"] == "10000" and stored["N-1"]["documentDate"].startswith("2024-01-15")


# -- the reader alone: every number as written, or kept exact -----------------------------------

numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: abs(d.adjusted()) < 40)
    .map(lambda d: format(d, "f")),
    st.tuples(st.integers(-999, 999), st.integers(-30, 30)).map(lambda t: f"{t[0]}e{t[1]}"),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(numbers, min_size=1, max_size=5))
def test_the_reader_gives_every_number_as_the_value_written(tmp_path, written):
    path = tmp_path / "numbers.ndjson"
    path.write_text("".join(f'{{"n": {text}, "in": {{"m": [{text}]}}}}\n' for text in written), encoding="utf-8")
    with open_source(path) as source:
        records = list(source)
    assert len(records) == len(written)
    for text, record in zip(written, records, strict=True):
        assert record.error is None
        for value in (record.data["n"], record.data["in"]["m"][0]):
            exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            assert exact == Decimal(text), (text, value)  # never rounded
            if isinstance(value, float):  # a float only where a double holds the value written
                assert len(Decimal(text).normalize().as_tuple().digits) <= 15
