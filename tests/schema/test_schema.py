import json
from pathlib import Path

import pytest

from importer.entities import ENTITIES
from importer.keys import decode_key, encode_key
from importer.schema import fields
from importer.schema.generate import OUTPUT, ROOTS, generate

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "visma-openapi" / "customer-ledger.openapi.json"


@pytest.mark.skipif(not OPENAPI.exists(), reason="the OpenAPI document is not beside this checkout")
def test_committed_tables_match_the_openapi_document():
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert generate(document) == OUTPUT.read_text(encoding="utf-8")


def test_wrappers_and_plain_fields():
    customer = fields("CustomerUpdateDto")
    assert customer["name"].wrapped and customer["name"].type == "string"
    assert not customer["overrideWithClassValues"].wrapped
    assert customer["mainAddress"].kind == "object" and customer["mainAddress"].ref == "AddressUpdateDto"
    assert customer["status"].enum == ("Active", "OnHold", "CreditHold", "Inactive", "OneTime")
    line = fields("CustomerInvoiceLinesUpdateDto")
    assert line["operation"].enum == ("Insert", "Update", "Delete") and not line["operation"].wrapped


def test_every_entity_names_real_fields():
    for entity in ENTITIES.values():
        table = fields(entity.schema)
        if entity.key_field:
            assert entity.key_field in table
        if entity.line_field:
            assert table[entity.line_field].kind == "array"


def test_b64_keys_round_trip():
    assert encode_key("10000") == "10000"
    assert encode_key(":/?#[]@&*+;") == "b64(Oi8_I1tdQCYqKzs)"
    for key in ("A/B", "Ærlig 1", "x?y#z", "a+b"):
        assert decode_key(encode_key(key)) == key


def test_integer_ranges_come_from_the_document_formats():
    customer = fields("CustomerUpdateDto")
    employees = customer["numberOfEmployees"]
    assert (employees.type, employees.minimum, employees.maximum) == ("integer", -(2**31), 2**31 - 1)
    assert fields("CreateDunningLetterActionDto")["levelFrom"].maximum == 2**31 - 1
    assert customer["creditLimit"].minimum is None and customer["name"].max_length is None
    assert not any(f.required for f in customer.values())  # the document lists no required fields


def test_the_generator_carries_limits_and_required_lists_deterministically():
    wrapper = {"type": "object", "properties": {"value": {"type": "integer", "format": "int32", "maximum": 500}}}
    document = {"info": {"title": "t", "version": "1"}, "components": {"schemas": {
        "CustomerUpdateDto": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "maxLength": 60},
            "count": {"$ref": "#/components/schemas/Wrapped"},
            "big": {"type": "integer", "format": "int64", "minimum": 0},
            "wide": {"type": "integer", "format": "int32", "minimum": -(10**12)},
            "amount": {"type": "number", "format": "double"},
        }},
        "Wrapped": wrapper,
    }}}
    for root in ROOTS[1:]:  # the generator starts from every request body
        document["components"]["schemas"][root] = {"type": "object", "properties": {}}
    text = generate(document)
    assert text == generate(json.loads(json.dumps(document)))  # same input, same file
    scope: dict = {}
    exec(compile(text, "_tables", "exec"), scope)
    table = scope["TABLES"]["CustomerUpdateDto"]
    assert table["name"] == ("scalar", "string", False, None, None, None, None, 60, True)
    assert table["count"] == ("scalar", "integer", True, None, None, -(2**31), 500)  # the narrower bound
    assert table["big"] == ("scalar", "integer", False, None, None, 0, 2**63 - 1)
    assert table["wide"] == ("scalar", "integer", False, None, None, -(2**31), 2**31 - 1)
    assert table["amount"] == ("scalar", "number", False, None, None)  # nothing set: the short form
