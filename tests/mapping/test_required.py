"""Checks before sending: required fields, integer ranges, and the failed file's error column read back."""

from __future__ import annotations

import orjson
import pytest

import importer
from importer.entities import ENTITIES
from importer.mapping import CoerceOptions, RecordMapper
from importer.mapping.mapfile import parse_map
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, read_lines, run_cli


def records(*rows):
    return [SourceRecord(i, row) for i, row in enumerate(rows, 1)]


def works(entity: str, *rows, **kwargs):
    return list(RecordMapper(ENTITIES[entity], **kwargs).works(records(*rows)))


# -- required fields ---------------------------------------------------------------------


def test_a_customer_without_a_name_is_invalid_naming_the_field():
    ok, empty, blank = works("customer", {"number": "1", "name": "A"}, {"number": "2", "name": ""},
                             {"number": "3", "name": "  ", "creditLimit": "5"})
    assert ok.error is None and ok.payload["name"] == {"value": "A"}
    for work, record in ((empty, 2), (blank, 3)):
        assert work.payload is None
        assert work.error == f"record {record}: name: a value is required to create a customer"
    [missing] = works("customer", {"number": "4", "creditLimit": "5"})
    assert missing.error == "record 1: name: a value is required to create a customer"


def test_a_document_needs_its_customer_once_for_all_its_rows():
    first_row_only, nowhere = works(
        "invoice",
        {"referenceNumber": "1", "customerNumber": "10000", "line.description": "a"},
        {"referenceNumber": "1", "customerNumber": "", "line.description": "b"},
        {"referenceNumber": "2", "customerNumber": "", "line.description": "c"},
        {"referenceNumber": "2", "customerNumber": "", "line.description": "d"},
    )
    assert first_row_only.error is None and first_row_only.records == [1, 2]
    assert nowhere.payload is None and nowhere.records == [3, 4]
    assert nowhere.error == "record 3: customerNumber: a value is required to create an invoice"
    [note] = works("credit-note", {"documentKey": "k", "line.description": "x"})
    assert note.error == "record 1: customerNumber: a value is required to create a credit note"


def test_api_shaped_records_are_checked_too():
    named, unnamed, nulled = works("customer", {"number": {"value": "1"}, "name": {"value": "A"}},
                                   {"number": {"value": "2"}, "mainAddress": {"value": {}}},
                                   {"number": {"value": "3"}, "name": {"value": None}})
    assert named.error is None
    assert unnamed.error == "record 2: name: a value is required to create a customer"
    assert nulled.error == "record 3: name: a value is required to create a customer"


def test_an_update_needs_only_the_key():
    [work] = works("customer", {"number": "1", "creditLimit": "5"}, mode="update")
    assert work.error is None and work.payload == {"number": {"value": "1"}, "creditLimit": {"value": 5}}
    [doc] = works("invoice", {"referenceNumber": "1", "line.description": "a"}, mode="update")
    assert doc.error is None


def test_an_upsert_keeps_a_keyed_record_for_an_update_but_says_it_cannot_be_created():
    keyed, keyless = works("customer", {"number": "1", "creditLimit": "5"}, {"number": "", "creditLimit": "6"},
                           mode="upsert")
    assert keyed.error is None and keyed.payload is not None
    assert keyed.cannot_create == "record 1: name: a value is required to create a customer"
    assert keyless.payload is None and "name: a value is required" in keyless.error  # it can only be created
    [named] = works("customer", {"number": "1", "name": "A"}, mode="upsert")
    assert named.cannot_create is None


def test_the_check_can_be_left_out_for_records_that_are_not_sent():
    [work] = works("customer", {"number": "1", "creditLimit": "5"}, check_required=False)
    assert work.error is None and work.cannot_create is None


# -- integer ranges ----------------------------------------------------------------------


def test_an_int32_overflow_is_invalid_naming_the_column_and_the_range():
    ok, text, number, line = works(
        "customer",
        {"number": "1", "name": "A", "numberOfEmployees": "2147483647"},
        {"number": "2", "name": "B", "numberOfEmployees": "3000000000"},
        {"number": "3", "name": "C", "numberOfEmployees": 3_000_000_000},  # a JSON number
        {"number": "4", "name": "D", "numberOfEmployees": "-2147483649"},
    )
    assert ok.payload["numberOfEmployees"] == {"value": 2147483647}
    assert text.error == ("numberOfEmployees: '3000000000' is out of range: the field takes whole numbers "
                          "from -2147483648 to 2147483647")
    assert number.error.startswith("numberOfEmployees: 3000000000 is out of range")
    assert "from -2147483648 to 2147483647" in line.error
    [doc] = works("credit-note", {"referenceNumber": "1", "customerNumber": "1", "line.lineNumber": "9999999999"})
    assert doc.error.startswith("record 1: line.lineNumber: '9999999999' is out of range")
    [letter] = works("dunning-letter", {"customerNumber": "1", "levelFrom": "1", "levelTo": "1.000.000.000.000"},
                     options=CoerceOptions(decimal_comma=True))
    assert letter.error.startswith("levelTo: '1.000.000.000.000' is out of range")


# -- the failed file's error column --------------------------------------------------------


def test_an_error_key_is_ignored_in_flat_and_api_shaped_records():
    flat, shaped = works("customer", {"number": "1", "name": "A", "error": "record 1: was bad"},
                         {"number": {"value": "2"}, "name": {"value": "B"}, "error": "record 2: was bad"})
    assert flat.error is None and flat.payload == {"number": {"value": "1"}, "name": {"value": "A"}}
    assert shaped.error is None and shaped.payload == {"number": {"value": "2"}, "name": {"value": "B"}}


LEGACY_MAP = """
entity = "customer"
[columns]
"Kundenr" = "number"
"Navn" = "name"
"Kredittgrense" = "creditLimit"
[formats]
decimal_comma = true
"""


def test_a_map_drops_the_error_column_of_a_csv_header_and_of_ndjson_keys():
    m = parse_map(LEGACY_MAP, entity="customer", path="kunder.map.toml")
    bound = m.bind(["Kundenr", "Navn", "Kredittgrense", "error"])
    assert bound.columns == ["number", "name", "creditLimit"]
    row = bound.map_record(SourceRecord(1, {"Kundenr": "7", "Navn": "A", "Kredittgrense": "25.000", "error": "x"}))
    assert row.error is None and dict(row.data) == {"number": "7", "name": "A", "creditLimit": 25000}
    loose = m.bind(None).map_record(SourceRecord(1, {"Kundenr": "8", "Navn": "B", "error": "x"}))
    assert loose.error is None and "error" not in loose.data


async def test_a_failed_file_goes_back_in_through_the_same_map(sandbox, tmp_path):
    mapfile = tmp_path / "kunder.map.toml"
    mapfile.write_text(LEGACY_MAP, encoding="utf-8")
    failed = tmp_path / "kunder.failed.csv"  # the legacy layout plus the reason, as the importer writes it
    failed.write_text(
        "Kundenr;Navn;Kredittgrense;error\n"
        "30001;Fiksa AS;25.000;record 1: Kredittgrense: '25.000,0.0' is not a number\n"
        "30002;Rettet AS;1.250.000,00;record 2: name: a value is required to create a customer\n",
        encoding="utf-8",
    )
    summary = await importer.import_records(failed, entity="customer", map=str(mapfile),
                                            base_url=sandbox.url, token=TOKEN)
    assert summary.ok and summary.outcomes["created"] == 2
    failed_ndjson = tmp_path / "kunder.failed.ndjson"
    failed_ndjson.write_bytes(orjson.dumps({"Kundenr": "30003", "Navn": "Tredje", "Kredittgrense": "12 500,50",
                                            "error": "record 3: was refused"}) + b"\n")
    summary = await importer.import_records(failed_ndjson, entity="customer", map=str(mapfile),
                                            base_url=sandbox.url, token=TOKEN)
    assert summary.ok
    stored = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert {n: c["creditLimit"] for n, c in stored.items()} == {"30001": 25000, "30002": 1250000.0,
                                                                "30003": 12500.5}
    assert not any("error" in c for c in stored.values())


# -- end to end ------------------------------------------------------------------------------

SEMICOLON = (
    "number;name;creditLimit;numberOfEmployees\n"
    "1;Tjuefem AS;25.000;\n"
    "2;Million AS;1.250.000,00;12\n"
    "3;Parentes AS;(500,00);\n"
    "4;Minus etter AS;500,00-;\n"
    "5;Blandet AS;12,345.67;\n"
    "6;;100;\n"
    "7;Mange AS;1;3000000000\n"
)


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_semicolon_file_goes_in_read_one_way_and_the_rest_is_invalid(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text(SEMICOLON, encoding="utf-8")
    summary = tmp_path / "summary.json"
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--summary-json", str(summary),
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err  # the preflight does not refuse the run for what the file itself makes invalid
    assert "Traceback" not in out + err
    stored = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert {n: c["creditLimit"] for n, c in stored.items()} == {"1": 25000, "2": 1250000.0, "3": -500.0, "4": -500.0}
    finals = {line["records"][0]: line for line in assert_one_final_line_per_record(f"{path}.results.ndjson", 7)}
    assert [finals[r]["outcome"] for r in (5, 6, 7)] == ["invalid"] * 3
    assert finals[5]["error"].startswith("creditLimit: '12,345.67' is not a number written with a decimal comma")
    assert "--no-decimal-comma" in finals[5]["error"]
    assert finals[6]["error"] == "record 6: name: a value is required to create a customer"
    assert finals[7]["error"].startswith("numberOfEmployees: '3000000000' is out of range")
    read = orjson.loads(summary.read_bytes())["preflight_calls"]  # the company, read before the records
    assert read > 0
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == read + 4  # nothing invalid was sent


async def test_a_dry_run_refuses_the_same_records(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text(SEMICOLON, encoding="utf-8")
    summary = await importer.import_records(path, entity="customer", dry_run=True,
                                            base_url=sandbox.url, token=TOKEN)
    assert summary.outcomes["invalid"] == 3
    lines = {line["records"][0]: line for line in read_lines(f"{path}.dry-run.ndjson")
             if line["outcome"] != "started"}
    assert {r: lines[r]["payload"]["creditLimit"]["value"] for r in (1, 2, 3, 4)} == {
        1: 25000, 2: 1250000.0, 3: -500.0, 4: -500.0}
    assert [lines[r]["outcome"] for r in (5, 6, 7)] == ["invalid"] * 3
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []


@pytest.mark.parametrize("entity", ["customer", "invoice", "credit-note", "debit-note"])
def test_every_created_entity_names_what_it_requires(entity):
    [work] = works(entity, {"line.description": "x"} if entity != "customer" else {"creditLimit": "1"})
    assert work.payload is None and "a value is required to create" in work.error
