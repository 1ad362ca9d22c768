import json
from pathlib import Path

import pytest

from importer.entities import ENTITIES
from importer.keys import decode_key, encode_key
from importer.schema import fields
from importer.schema.generate import OUTPUT, generate

OPENAPI = Path(__file__).resolve().parents[2] / "shared" / "visma-openapi" / "customer-ledger.openapi.json"


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
