"""``importer columns ENTITY``: each column's type, allowed values, format, range and need."""

from __future__ import annotations

import orjson

from importer.entities import ENTITIES
from importer.mapping.columns import column_details, describe_columns
from tests.support.runs import run_cli


def _by_name(entity: str) -> dict[str, dict]:
    return {info.name: info.to_dict() for info in describe_columns(ENTITIES[entity])}


def test_columns_carry_types_enums_formats_ranges_and_what_a_create_needs():
    customer = _by_name("customer")
    assert customer["status"]["enum"] == ["Active", "OnHold", "CreditHold", "Inactive", "OneTime"]
    assert customer["creditDaysPastDue"]["type"] == "integer"
    assert (customer["creditDaysPastDue"]["minimum"], customer["creditDaysPastDue"]["maximum"]) == (
        -2147483648, 2147483647)
    assert customer["creditLimit"]["type"] == "number" and customer["creditLimit"]["minimum"] is None
    assert customer["name"]["required"] and not customer["number"]["required"]  # numbers can be given out
    assert customer["number"]["key"] and not customer["name"]["key"]
    assert customer["mainAddress.countryId"]["type"] == "string"

    invoice = _by_name("invoice")
    assert invoice["financialPeriod"]["format"] == "YYYYMM"
    assert invoice["postPeriod"]["format"] == "MMYYYY"
    assert invoice["documentDate"]["type"] == "date" and invoice["documentDate"]["format"] == "date"
    assert invoice["customerNumber"]["required"] and invoice["referenceNumber"]["key"]
    assert invoice["line.quantity"]["line"] and not invoice["currencyId"]["line"]
    assert invoice["line.itemType"]["enum"] == ["Service", "MaterialCost", "OtherCost"]
    assert invoice["documentKey"]["note"] and "not sent" in invoice["documentKey"]["note"]

    letter = _by_name("dunning-letter")
    assert letter["customerNumber"]["required"] and letter["customerNumber"]["key"]
    assert letter["levelFrom"]["type"] == "integer"


def test_details_say_the_rules_in_words():
    infos = {i.name: i for i in describe_columns(ENTITIES["invoice"])}
    assert column_details(infos["financialPeriod"]) == "period YYYYMM"
    assert "one of Service, MaterialCost, OtherCost" in column_details(infos["line.itemType"])
    assert "from -2147483648 to 2147483647" in column_details(infos["line.lineNumber"])
    assert "ISO 8601" in column_details(infos["documentDate"])
    assert "key" in column_details(infos["referenceNumber"])


async def test_columns_json_is_a_list_of_objects_for_tools():
    code, out, err = await run_cli("columns", "customer", "--format", "json")
    assert code == 0, err
    data = orjson.loads(out)
    assert isinstance(data, list) and all(isinstance(item, dict) for item in data)
    status = next(item for item in data if item["name"] == "status")
    assert status["type"] == "string" and "CreditHold" in status["enum"]
    assert next(item for item in data if item["name"] == "name")["required"] is True
    assert {item["name"] for item in data} >= {"number", "mainAddress.countryId", "creditLimit"}


async def test_columns_piped_is_plain_aligned_text():
    code, out, err = await run_cli("columns", "invoice")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["column", "type", "required"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["financialPeriod"].split()[:2] == ["financialPeriod", "string"]
    assert rows["financialPeriod"].rstrip().endswith("period YYYYMM")
    assert rows["customerNumber"].split()[:3] == ["customerNumber", "string", "yes"]
    assert "one of Insert, Update, Delete" in rows["line.operation"]
    assert "─" not in out and "\x1b[" not in out  # no table drawing or colour in a pipe
    # Every column starts at the same place on each line.
    assert len({line.index(line.split()[1], len(line.split()[0])) for line in lines[:20]}) == 1


async def test_columns_on_a_terminal_is_a_table():
    code, out, err = await run_cli("columns", "customer", env={"FORCE_COLOR": "1", "COLUMNS": "160"})
    assert code == 0, err
    assert "customer columns" in out and "┃" in out  # rich's table, drawn for a terminal
    assert "CreditHold" in out
