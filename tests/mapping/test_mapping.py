import pytest

from importer.entities import ENTITIES
from importer.errors import UnknownColumnError
from importer.mapping import CoerceOptions, RecordMapper, valid_columns
from importer.sources.base import SourceRecord


def records(*rows):
    return [SourceRecord(i, row) for i, row in enumerate(rows, 1)]


def test_guide_customer_payload_from_a_flat_row():
    mapper = RecordMapper(ENTITIES["customer"])
    [work] = mapper.works(records({
        "name": "NewCustomer", "number": "10000", "overrideWithClassValues": "true",
        "customerClassId": "1", "mainAddress.addressLine1": "TestRoad 13",
        "mainAddress.postalCode": "0101", "mainAddress.countryId": "NO",
    }))
    assert work.error is None
    assert work.key == "10000"
    assert work.payload == {
        "name": {"value": "NewCustomer"}, "number": {"value": "10000"},
        "overrideWithClassValues": True, "customerClassId": {"value": "1"},
        "mainAddress": {"value": {
            "addressLine1": {"value": "TestRoad 13"}, "postalCode": {"value": "0101"},
            "countryId": {"value": "NO"},
        }},
    }


def test_empty_cells_are_omitted():
    mapper = RecordMapper(ENTITIES["customer"])
    [work] = mapper.works(records({"number": "1", "name": "A", "creditLimit": "", "note": "  "}))
    assert work.payload == {"number": {"value": "1"}, "name": {"value": "A"}}


def test_unknown_column_is_a_config_error_with_a_suggestion():
    with pytest.raises(UnknownColumnError) as info:
        RecordMapper(ENTITIES["customer"], columns=["number", "mainAdress.city"])
    assert info.value.column == "mainAdress.city"
    assert info.value.suggestion == "mainAddress.city"


def test_consecutive_rows_with_one_reference_form_one_invoice():
    mapper = RecordMapper(ENTITIES["invoice"])
    works = list(mapper.works(records(
        {"referenceNumber": "1", "customerNumber": "10000", "line.inventoryNumber": "A", "line.quantity": "2"},
        {"referenceNumber": "1", "customerNumber": "", "line.inventoryNumber": "B", "line.quantity": "3"},
        {"referenceNumber": "2", "customerNumber": "10000", "line.inventoryNumber": "C", "line.quantity": "1"},
    )))
    assert [w.records for w in works] == [[1, 2], [3]]
    lines = works[0].payload["invoiceLines"]
    assert [line["inventoryNumber"]["value"] for line in lines] == ["A", "B"]
    assert all(line["operation"] == "Insert" for line in lines)


def test_notes_use_lines_and_document_key_groups_auto_numbered_documents():
    mapper = RecordMapper(ENTITIES["credit-note"])
    works = list(mapper.works(records(
        {"documentKey": "k1", "customerNumber": "1", "line.description": "a"},
        {"documentKey": "k1", "customerNumber": "1", "line.description": "b"},
        {"documentKey": "k2", "customerNumber": "1", "line.description": "c"},
    )))
    assert [w.records for w in works] == [[1, 2], [3]]
    assert "documentKey" not in works[0].payload
    assert len(works[0].payload["lines"]) == 2
    assert works[0].key is None and works[0].group == "k1"


def test_header_fields_that_disagree_make_the_document_invalid():
    mapper = RecordMapper(ENTITIES["invoice"])
    [work] = mapper.works(records(
        {"referenceNumber": "1", "customerNumber": "10000", "line.description": "a"},
        {"referenceNumber": "1", "customerNumber": "10001", "line.description": "b"},
    ))
    assert work.records == [1, 2]
    assert work.payload is None
    assert "customerNumber" in work.error and "record 2" in work.error


def test_a_bad_value_names_record_and_column_and_the_file_goes_on():
    mapper = RecordMapper(ENTITIES["invoice"])
    works = list(mapper.works(records(
        {"referenceNumber": "1", "customerNumber": "1", "line.quantity": "mange"},
        {"referenceNumber": "1", "customerNumber": "1", "line.quantity": "1"},
        {"referenceNumber": "2", "customerNumber": "1", "line.quantity": "1"},
    )))
    assert works[0].records == [1, 2]
    assert works[0].error.startswith("record 1: line.quantity: 'mange' is not a number")
    assert works[1].error is None and works[1].records == [3]


def test_update_mode_needs_the_key():
    mapper = RecordMapper(ENTITIES["customer"], mode="update")
    [work] = mapper.works(records({"number": "", "name": "x"}))
    assert "number" in work.error and "--mode update" in work.error


def test_dunning_letter_takes_the_customer_from_its_column():
    mapper = RecordMapper(ENTITIES["dunning-letter"], columns=["customerNumber", "dunningLetterDate", "levelFrom", "levelTo"])
    [work] = mapper.works(records({
        "customerNumber": "10000", "dunningLetterDate": "2020-01-21T09:39:48.538Z",
        "levelFrom": "1", "levelTo": "2",
    }))
    assert work.key == "10000"
    assert work.payload == {"dunningLetterDate": "2020-01-21T09:39:48.538Z", "levelFrom": 1, "levelTo": 2}


def test_api_shaped_ndjson_passes_through_and_is_checked():
    mapper = RecordMapper(ENTITIES["credit-note"])
    shaped = {"customerNumber": {"value": "1"}, "referenceNumber": {"value": "9"},
              "lines": [{"inventoryNumber": {"value": "6"}}]}
    bad = {"customerNumber": {"value": "1"}, "bogus": {"value": 1}}
    works = list(mapper.works(records(shaped, bad)))
    assert works[0].key == "9" and works[0].payload["lines"][0]["operation"] == "Insert"
    assert "bogus" in works[1].error


def test_decimal_comma_option_reaches_the_payload():
    mapper = RecordMapper(ENTITIES["customer"], options=CoerceOptions(decimal_comma=True))
    [work] = mapper.works(records({"number": "1", "name": "x", "creditLimit": "12 500,50"}))
    assert work.payload["creditLimit"] == {"value": 12500.5}


def test_valid_columns_lists_nested_and_line_fields():
    names = valid_columns(ENTITIES["invoice"])
    assert "billingAddress.city" in names
    assert "line.unitPriceInCurrency" in names
    assert "documentKey" in names


def test_a_nested_object_comes_with_its_first_filled_cell_and_not_at_all_when_empty():
    columns = ["mainAddress.city", "number", "name", "mainAddress.postalCode", "mainContact.email"]
    mapper = RecordMapper(ENTITIES["customer"], columns=columns)
    first, second = mapper.works(records(
        {"mainAddress.city": "", "number": "1", "name": "A", "mainAddress.postalCode": "0155", "mainContact.email": " "},
        {"mainAddress.city": "Oslo", "number": "2", "name": "B", "mainAddress.postalCode": "", "mainContact.email": ""},
    ))
    assert list(first.payload) == ["number", "name", "mainAddress"]
    assert first.payload["mainAddress"] == {"value": {"postalCode": {"value": "0155"}}}
    assert list(second.payload) == ["mainAddress", "number", "name"]
    assert second.payload["mainAddress"] == {"value": {"city": {"value": "Oslo"}}}


def test_python_values_are_taken_as_they_are_and_none_leaves_the_field_out():
    mapper = RecordMapper(ENTITIES["customer"])
    [work] = mapper.works(records({
        "number": 7, "name": "A", "creditLimit": 1500.5, "overrideWithClassValues": False, "note": None,
    }))
    assert work.key == "7"
    assert work.payload == {
        "number": {"value": "7"}, "name": {"value": "A"}, "creditLimit": {"value": 1500.5},
        "overrideWithClassValues": False,
    }


def test_a_record_in_the_api_shape_under_flat_names_passes_through():
    mapper = RecordMapper(ENTITIES["customer"])
    [work] = mapper.works(records({"number": {"value": "5"}, "name": {"value": "A"}}))
    assert work.error is None and work.key == "5"
    assert work.payload == {"number": {"value": "5"}, "name": {"value": "A"}}


def test_a_bad_line_value_names_the_record_and_the_dotted_column():
    mapper = RecordMapper(ENTITIES["invoice"])
    [work] = mapper.works(records({"referenceNumber": "1", "customerNumber": "1", "line.quantity": "two"}))
    assert work.payload is None
    assert work.error == "record 1: line.quantity: 'two' is not a number"


def test_with_a_header_a_json_object_in_a_cell_is_an_error_not_a_shape():
    mapper = RecordMapper(ENTITIES["customer"], columns=["number", "name"])
    [work] = mapper.works(records({"number": "1", "name": {"value": "A"}}))
    assert work.payload is None
    assert work.error == "name: the field takes text, not a JSON object"


def test_an_api_shaped_record_names_all_its_unknown_fields_at_once():
    mapper = RecordMapper(ENTITIES["customer"])
    shaped = {"number": {"value": "1"}, "name": {"value": "A"}, "nmae": {"value": "B"},
              "mainAdress": {"value": {}}, "colour": {"value": "red"}}
    [work] = mapper.works(records(shaped))
    assert work.key == "1" and work.payload is None
    assert "3 keys are not fields of customer" in work.error
    assert "'nmae' (did you mean 'name'?)" in work.error
    assert "'mainAdress' (did you mean 'mainAddress'?)" in work.error and "'colour'" in work.error


def test_a_flat_ndjson_record_names_all_its_unknown_columns_at_once():
    mapper = RecordMapper(ENTITIES["customer"])
    [one, two] = mapper.works(records(
        {"number": "1", "name": "A", "mainAddress.cty": "Oslo", "colour": "red"},
        {"number": "2", "name": "B", "colour": "blue"},
    ))
    assert "2 keys are not columns of customer" in one.error
    assert "'mainAddress.cty' (did you mean 'mainAddress.city'?)" in one.error and "'colour'" in one.error
    assert "--map" in one.error
    assert two.error.startswith("'colour' is not one of the columns of customer")
