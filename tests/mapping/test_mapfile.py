"""Mapping files (--map FILE.toml): loading, checking, mapping records, the shipped samples."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from importer.entities import ENTITIES
from importer.errors import ConfigError, RecordError
from importer.mapping import CoerceOptions, RecordMapper
from importer.mapping.mapfile import ColumnMap, MapError, MappedRow, load_map, parse_map
from importer.sources import open_source
from importer.sources.base import SourceRecord

LEGACY = Path(__file__).resolve().parents[2] / "samples" / "legacy"


def cmap(text: str, entity: str | None = "customer", path: str = "test.map.toml") -> ColumnMap:
    return parse_map(textwrap.dedent(text), entity=entity, path=path)


def problems(text: str, entity: str | None = "customer") -> str:
    with pytest.raises(MapError) as info:
        cmap(text, entity)
    return str(info.value)


def run(m: ColumnMap, rows: list[dict], columns: list[str] | None = None, options: CoerceOptions | None = None,
        mode: str = "create", check_required: bool = False):
    """Rows through the map and a RecordMapper, as the run does. The rows here are partial
    records that show one mapping rule each, so the fields a create requires (see
    test_required.py) are not asked for unless ``check_required``."""
    if columns is None and rows:
        columns = list(rows[0])
    bound = m.bind(columns, options)
    mapper = RecordMapper(m.entity, mode=mode, options=bound.options, columns=bound.columns,
                          check_required=check_required)
    records = [SourceRecord(i, row) for i, row in enumerate(rows, 1)]
    return list(mapper.works(bound.map_records(records)))


def one(m: ColumnMap, row: dict, **kwargs):
    [work] = run(m, [row], **kwargs)
    return work


BASIC = """
    entity = "customer"
    [columns]
    "Kundenr" = "number"
    "Navn" = "name"
    "Land" = "mainAddress.countryId"
"""


# -- columns ------------------------------------------------------------------------------


def test_renames_and_passes_api_columns_through():
    m = cmap(BASIC)
    work = one(m, {"Kundenr": "10", "Navn": "Ola", "Land": "NO", "note": "already an API column"})
    assert work.error is None
    assert work.key == "10"
    assert work.payload == {
        "number": {"value": "10"}, "name": {"value": "Ola"},
        "mainAddress": {"value": {"countryId": {"value": "NO"}}}, "note": {"value": "already an API column"},
    }


def test_header_is_the_api_columns_in_a_fixed_order():
    m = cmap(BASIC + '\n[constants]\ncustomerClassId = "1"\n[defaults]\ncurrencyId = "NOK"\n')
    assert m.header(["Navn", "Kundenr", "note"]) == ["name", "number", "note", "customerClassId", "currencyId"]
    bound = m.bind(["Navn", "Kundenr"])
    assert bound.missing == ("Land",)  # a mapped column the input lacks is fine
    assert bound.options == CoerceOptions()
    row = bound.apply({"Navn": "A", "Kundenr": "1"})
    assert list(row) == bound.columns  # the same keys every record: one compiled plan


def test_one_source_column_to_several_api_columns():
    m = cmap('[columns]\n"E-post" = ["mainContact.email", "invoiceContact.email"]\n')
    work = one(m, {"E-post": "a@b.no"})
    assert work.payload["mainContact"] == {"value": {"email": {"value": "a@b.no"}}}
    assert work.payload["invoiceContact"] == {"value": {"email": {"value": "a@b.no"}}}


def test_ignore_three_ways():
    m = cmap("""
        ignore = ["Opprettet"]
        [columns]
        "Kundenr" = "number"
        "Fax" = false
        ignore = ["Selger"]  # below [columns], where TOML puts it: still the ignore list
    """)
    assert m.ignore == {"Opprettet", "Fax", "Selger"}
    work = one(m, {"Kundenr": "1", "Opprettet": "01.01.2001", "Fax": "x", "Selger": "KJH"})
    assert work.payload == {"number": {"value": "1"}}


def test_an_ignored_column_is_dropped_even_when_named_like_an_api_column():
    m = cmap('ignore = ["number"]\n[columns]\n"Kundenr" = "number"\n')
    assert one(m, {"Kundenr": "1", "number": "9"}).payload == {"number": {"value": "1"}}


def test_unmapped_source_column_is_a_config_error_naming_it_and_the_closest_names():
    m = cmap(BASIC + '"Kredittgrense" = "creditLimit"\n', path="kunder.map.toml")
    with pytest.raises(MapError) as info:
        m.bind(["Kundenr", "Navn", "Kredittgrence", "Selger", "mainAdress.city"])
    text = str(info.value)
    assert isinstance(info.value, ConfigError)
    assert text.startswith("kunder.map.toml: 3 problems:")
    assert "source column 'Kredittgrence' is not mapped (is it the map's 'Kredittgrense'?)" in text
    assert "source column 'Selger' is not mapped: map it under [columns]" in text
    assert "or list it in ignore = [...]" in text
    assert "'mainAdress.city' is not mapped (closest API column: 'mainAddress.city')" in text


def test_unmapped_ignore_drops_unknown_columns_but_keeps_api_columns():
    m = cmap('unmapped = "ignore"\n[columns]\n"Kundenr" = "number"\n')
    work = one(m, {"Kundenr": "1", "Selger": "KJH", "name": "A"})
    assert work.payload == {"number": {"value": "1"}, "name": {"value": "A"}}


def test_two_source_columns_on_one_api_column_is_an_error():
    m = cmap(BASIC)
    with pytest.raises(MapError, match="source columns 'name' and 'Navn' both map to 'name'"):
        m.bind(["name", "Navn"])


# -- constants and defaults -------------------------------------------------------------


def test_constants_are_sent_on_every_record_typed():
    m = cmap(BASIC + """
        [constants]
        customerClassId = 1
        overrideWithClassValues = true
        creditLimit = 5000
        mainAddress.county = "Viken"   # a dotted key reads as the API column
    """)
    assert m.constants == {"customerClassId": "1", "overrideWithClassValues": True, "creditLimit": 5000,
                           "mainAddress.county": "Viken"}
    works = run(m, [{"Kundenr": "1", "Navn": "A", "Land": "NO"}, {"Kundenr": "2", "Navn": "B", "Land": ""}])
    for work in works:
        assert work.payload["customerClassId"] == {"value": "1"}
        assert work.payload["overrideWithClassValues"] is True
        assert work.payload["creditLimit"] == {"value": 5000}
        assert work.payload["mainAddress"]["value"]["county"] == {"value": "Viken"}


def test_a_constant_and_a_source_column_on_one_api_column_is_an_error():
    m = cmap('[constants]\ncustomerClassId = "1"\n')
    with pytest.raises(MapError) as info:
        m.bind(["number", "customerClassId"])
    assert "[constants] sets 'customerClassId' on every record, but source column 'customerClassId'" in str(info.value)
    assert "ignore" in str(info.value) and "[defaults]" in str(info.value)


def test_constants_and_defaults_are_checked_when_loading():
    text = problems("""
        [constants]
        creditLimit = "lots"
        status = "Aktiv"
        number = "1"
        customerClasId = "1"
        [defaults]
        note = ""
    """)
    assert "constants.creditLimit: 'lots' is not a number" in text
    assert "constants.status: 'Aktiv' is not one of Active, OnHold" in text
    assert "constants.number: number names each record" in text
    assert "constants.customerClasId: 'customerClasId' is not a column of customer; did you mean 'customerClassId'?" in text
    assert "defaults.note: an empty value" in text


def test_toml_dates_are_iso_constants():
    m = cmap("[constants]\ndocumentDate = 2020-01-31\n", entity="invoice")
    assert m.constants == {"documentDate": "2020-01-31"}


def test_defaults_fill_empty_cells_and_missing_columns():
    m = cmap(BASIC + '"Valuta" = "currencyId"\n[defaults]\ncurrencyId = "NOK"\nnote = "migrated"\n')
    works = run(m, [
        {"Kundenr": "1", "Navn": "A", "Land": "NO", "Valuta": "SEK"},
        {"Kundenr": "2", "Navn": "B", "Land": "NO", "Valuta": "  "},
    ])
    assert works[0].payload["currencyId"] == {"value": "SEK"}
    assert works[1].payload["currencyId"] == {"value": "NOK"}
    assert works[0].payload["note"] == works[1].payload["note"] == {"value": "migrated"}


def test_document_defaults_fill_the_first_row_of_each_document_only():
    m = cmap("""
        [columns]
        Fakturanr = "referenceNumber"
        Tekst = "invoiceText"
        Antall = "line.quantity"
        Enhet = "line.uom"
        [defaults]
        invoiceText = "Migrert"
        "line.uom" = "STK"
    """, entity="invoice")
    works = run(m, [
        {"Fakturanr": "1", "Tekst": "Januar", "Antall": "1", "Enhet": ""},
        {"Fakturanr": "1", "Tekst": "", "Antall": "2", "Enhet": "TIME"},
        {"Fakturanr": "2", "Tekst": "", "Antall": "3", "Enhet": ""},
        {"Fakturanr": "2", "Tekst": "", "Antall": "4", "Enhet": ""},
    ])
    assert [w.error for w in works] == [None, None]
    assert works[0].payload["invoiceText"] == {"value": "Januar"}  # not in conflict with the default
    assert works[1].payload["invoiceText"] == {"value": "Migrert"}
    assert [line["uom"]["value"] for w in works for line in w.payload["invoiceLines"]] == ["STK", "TIME", "STK", "STK"]


# -- formats ------------------------------------------------------------------------------


def test_map_wide_decimal_comma_and_date_format():
    m = cmap("""
        [columns]
        Kredittgrense = "creditLimit"
        Dager = "creditDaysPastDue"
        [formats]
        decimal_comma = true
        date_format = "%d.%m.%Y"
    """)
    work = one(m, {"number": "1", "Kredittgrense": "1 234,50", "Dager": "30"})
    assert work.payload["creditLimit"] == {"value": 1234.5}
    assert work.payload["creditDaysPastDue"] == {"value": 30}
    assert one(m, {"number": "1", "Kredittgrense": "1.250.000,00"}).payload["creditLimit"] == {"value": 1250000.0}
    inv = cmap("[formats]\ndecimal_comma = true\ndate_format = \"%d.%m.%Y\"\n", entity="invoice")
    work = one(inv, {"referenceNumber": "1", "documentDate": "27.01.2020", "line.quantity": "7,5"})
    assert work.payload["documentDate"] == {"value": "2020-01-27"}
    assert work.payload["invoiceLines"][0]["quantity"] == {"value": 7.5}


def test_per_column_formats_override_the_map_and_the_run():
    m = cmap("""
        [formats]
        date_format = "%d.%m.%Y"
        decimal_comma = true
        documentDueDate = { date_format = "%Y%m%d" }
        origInvoiceDate = { date_format = "iso" }
        line.quantity = { decimal_comma = false }   # dotted key: the line column
    """, entity="invoice")
    work = one(m, {
        "referenceNumber": "1", "documentDate": "27.01.2020", "documentDueDate": "20200226",
        "origInvoiceDate": "2019-12-31", "line.quantity": "1.5", "line.unitPriceInCurrency": "12,50",
    })
    assert work.error is None
    assert work.payload["documentDate"] == {"value": "2020-01-27"}
    assert work.payload["documentDueDate"] == {"value": "2020-02-26"}
    assert work.payload["origInvoiceDate"] == {"value": "2019-12-31"}
    line = work.payload["invoiceLines"][0]
    assert line["quantity"] == {"value": 1.5} and line["unitPriceInCurrency"] == {"value": 12.5}


def test_columns_without_a_format_in_the_map_take_the_runs():
    m = cmap("[columns]\nKredittgrense = \"creditLimit\"\n")
    row = {"number": "1", "Kredittgrense": "12,50"}
    assert one(m, row, options=CoerceOptions(decimal_comma=True)).payload["creditLimit"] == {"value": 12.5}
    work = one(m, row)
    assert work.error.startswith("Kredittgrense: '12,50' is not a number written with a decimal point")
    assert work.error.endswith("if ',' marks the decimals, set decimal_comma = true under [formats] in "
                               "test.map.toml (mapped to creditLimit)")
    inv = cmap("[columns]\nDato = \"documentDate\"\n", entity="invoice")
    assert one(inv, {"referenceNumber": "1", "Dato": "31.01.2020"},
               options=CoerceOptions(date_format="%d.%m.%Y")).payload["documentDate"] == {"value": "2020-01-31"}


def test_a_bad_value_names_the_source_column():
    m = cmap("[columns]\nDato = \"documentDate\"\n[formats]\ndate_format = \"%d.%m.%Y\"\n", entity="invoice")
    work = one(m, {"referenceNumber": "1", "Dato": "2020-01-31"})
    assert work.payload is None
    assert work.error == "record 1: Dato: '2020-01-31' does not match the date format '%d.%m.%Y' (mapped to documentDate)"


def test_bad_format_specs_are_config_errors():
    text = problems("""
        [formats]
        decimal_comma = "yes"
        date_format = "dd.mm.yyyy"
        name = { decimal_comma = true }
        creditLimit = { date_format = "%d.%m.%Y" }
        status = { decimal = true }
        creditLimt = { decimal_comma = true }
        number = "x"
    """)
    assert "formats.decimal_comma: expected true or false, got 'yes'" in text
    assert "formats.date_format: 'dd.mm.yyyy' is not a strptime layout (directives start with %); " \
           "did you mean '%d.%m.%Y'?" in text
    assert "formats.name: decimal_comma applies to number columns; name is a text column" in text
    assert "formats.creditLimit: date_format applies to date columns; creditLimit is a number column" in text
    assert "formats.status: unknown option 'decimal'" in text
    assert "formats.creditLimt: 'creditLimt' is not a column of customer; did you mean 'creditLimit'?" in text
    assert "formats.number: expected { decimal_comma = true }" in text


# -- value maps ---------------------------------------------------------------------------


COUNTRIES = BASIC + """
    [values."mainAddress.countryId"]
    Norge = "NO"
    Sverige = "SE"
"""


def test_value_maps_match_regardless_of_case_and_spaces():
    m = cmap(COUNTRIES)
    works = run(m, [{"Kundenr": "1", "Navn": "A", "Land": " norge "},
                    {"Kundenr": "2", "Navn": "B", "Land": "SVERIGE"},
                    {"Kundenr": "3", "Navn": "C", "Land": ""}])
    assert [w.payload.get("mainAddress") for w in works] == [
        {"value": {"countryId": {"value": "NO"}}}, {"value": {"countryId": {"value": "SE"}}}, None,
    ]


def test_value_maps_are_strict_by_default():
    m = cmap(COUNTRIES, path="kunder.map.toml")
    work = one(m, {"Kundenr": "1", "Navn": "A", "Land": "Tyskland"})
    assert work.payload is None
    assert work.error == (
        "Land: 'Tyskland' is not in the value map [values.\"mainAddress.countryId\"] in kunder.map.toml "
        "(it has Norge, Sverige); add it there, or add \"*\" = \"*\" to keep other values as they are"
    )


def test_star_keeps_other_values_or_replaces_them():
    keep = cmap(COUNTRIES + '"*" = "*"\n')
    assert one(keep, {"Kundenr": "1", "Navn": "A", "Land": "DK"}).payload["mainAddress"] == \
        {"value": {"countryId": {"value": "DK"}}}
    other = cmap(COUNTRIES + '"*" = "ZZ"\n')
    assert one(other, {"Kundenr": "1", "Navn": "A", "Land": "Tyskland"}).payload["mainAddress"] == \
        {"value": {"countryId": {"value": "ZZ"}}}


def test_kept_values_still_take_the_columns_format_and_checks():
    m = cmap("""
        [columns]
        Status = "status"
        Grense = "creditLimit"
        [formats]
        decimal_comma = true
        [values.status]
        aktiv = "Active"
        "*" = "*"
        [values.creditLimit]
        ubegrenset = 99999999
        "*" = "*"
    """)
    assert one(m, {"number": "1", "Status": "onhold", "Grense": "1 000,5"}).payload == {
        "number": {"value": "1"}, "status": {"value": "OnHold"}, "creditLimit": {"value": 1000.5}}
    assert one(m, {"number": "1", "Status": "Aktiv", "Grense": "Ubegrenset"}).payload["creditLimit"] == \
        {"value": 99999999}
    assert one(m, {"number": "1", "Status": "sovende", "Grense": ""}).error == \
        "Status: 'sovende' is not one of Active, OnHold, CreditHold, Inactive, OneTime (mapped to status)"


def test_an_empty_replacement_empties_the_cell_for_defaults():
    m = cmap(COUNTRIES + '"Ukjent" = ""\n[defaults]\n"mainAddress.countryId" = "NO"\n')
    assert one(m, {"Kundenr": "1", "Navn": "A", "Land": "ukjent"}).payload["mainAddress"] == \
        {"value": {"countryId": {"value": "NO"}}}


def test_value_maps_on_booleans_and_dotted_table_names():
    m = cmap("""
        [columns]
        Purres = "printDunningLetters"
        [values.printDunningLetters]
        X = true
        "-" = false
        [values.mainAddress.countryId]   # unquoted: TOML nests it, the map reads it back
        Norge = "NO"
    """)
    assert set(m.values) == {"printDunningLetters", "mainAddress.countryId"}
    assert one(m, {"number": "1", "Purres": "x"}).payload["printDunningLetters"] == {"value": True}
    assert one(m, {"number": "1", "Purres": "-"}).payload["printDunningLetters"] == {"value": False}


def test_bad_value_maps_are_config_errors():
    text = problems("""
        [values.status]
        Aktiv = "Aktive"
        aktiv = "Active"
        "" = "Active"
        [values.mainAddress.countryid]
        Norge = "NO"
    """)
    assert "values.status.Aktiv: 'Aktive' is not one of Active, OnHold" in text
    assert "values.status.aktiv: listed twice" in text
    assert 'values.status."": an empty source value never matches' in text
    assert "values.\"mainAddress.countryid\": 'mainAddress.countryid' is not a column of customer; " \
           "did you mean 'mainAddress.countryId'?" in text


# -- checking the map itself --------------------------------------------------------------


def test_unknown_api_column_in_columns_suggests_the_closest():
    text = problems('[columns]\n"Land" = "mainAdress.countryId"\n"Navn" = "Name"\n')
    assert "test.map.toml: 2 problems:" in text
    assert "columns.Land: 'mainAdress.countryId' is not a column of customer; " \
           "did you mean 'mainAddress.countryId'?" in text
    assert "columns.Navn: 'Name' is not a column of customer; did you mean 'name'?" in text


def test_swapped_column_mapping_gets_a_hint():
    text = problems('[columns]\nnumber = "Kundenr"\n')
    assert "columns.number: 'Kundenr' is not a column of customer; [columns] reads " \
           "\"source column\" = \"API column\": are they swapped?" in text


def test_bad_values_in_columns_and_top_level_keys():
    text = problems("""
        colums = 1
        unmapped = "drop"
        [columns]
        "Kundenr" = 7
        "Navn" = ""
        entity = "customer"
    """)
    assert "colums: unknown key; did you mean 'columns'?" in text
    assert "unmapped: expected \"error\" or \"ignore\", got 'drop'" in text
    assert "columns.Kundenr: expected an API column name, a list of them, or false to drop the column, got 7" in text
    assert "columns.Navn: an empty API column name" in text
    assert "columns.entity: expected an API column name" not in text  # a string: an API column...
    assert "columns.entity: 'customer' is not a column of customer" in text


def test_a_column_both_mapped_and_ignored_is_an_error():
    assert "columns.Navn: is also in ignore" in problems('ignore = ["Navn"]\n[columns]\nNavn = "name"\n')


def test_bad_toml_names_the_file_and_line():
    with pytest.raises(MapError) as info:
        cmap('[columns]\n"Kundenr" = number\n', path="kunder.map.toml")
    assert str(info.value).startswith("kunder.map.toml: not valid TOML: ")
    assert "line 2" in str(info.value)


def test_entity_must_be_known_and_agree_with_the_run():
    assert cmap(BASIC, entity=None).entity is ENTITIES["customer"]
    with pytest.raises(MapError, match="the map is for 'customer', but the run imports 'invoice'"):
        cmap(BASIC, entity="invoice")
    with pytest.raises(MapError, match="entity: not set"):
        cmap('[columns]\nKundenr = "number"\n', entity=None)
    with pytest.raises(MapError, match=r"entity is under \[columns\]: top-level keys must come before"):
        cmap('[columns]\nKundenr = "number"\nentity = "customer"\n', entity=None)
    with pytest.raises(MapError, match="unknown entity 'customers'; did you mean 'customer'"):
        cmap('entity = "customers"\n', entity=None)


def test_load_map_reads_a_file(tmp_path):
    path = tmp_path / "kunder.map.toml"
    path.write_text(BASIC, encoding="utf-8")
    m = load_map(path, "customer")
    assert m.path == str(path) and m.name == "kunder.map.toml"
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_map(tmp_path / "nope.toml", "customer")
    path.write_bytes(b'[columns]\n"Navn" = "name"\n"\xd8" = "note"\n')
    with pytest.raises(MapError, match="not UTF-8"):
        load_map(path, "customer")


# -- records: NDJSON, errors, documents -----------------------------------------------------


def test_ndjson_keys_are_checked_per_record():
    m = cmap(COUNTRIES)
    bound = m.bind(None)
    assert bound.columns is None
    mapper = RecordMapper(m.entity, options=bound.options)
    records = [
        SourceRecord(1, {"Kundenr": "1", "Navn": "A", "Land": "Norge"}),
        SourceRecord(2, {"Kundenr": "2", "Selger": "KJH"}),
        SourceRecord(3, {"Kundenr": 3, "Navn": "C", "creditLimit": 100}),  # JSON values, other keys
        SourceRecord(4, {"Kundenr": "4", "Navn": "D", "Land": "Norge"}),
    ]
    works = list(mapper.works(bound.map_records(records)))
    assert [w.error for w in works][0] is None
    assert works[1].payload is None
    assert works[1].error.startswith("source column 'Selger' is not mapped")
    assert works[2].payload == {"number": {"value": "3"}, "name": {"value": "C"}, "creditLimit": {"value": 100}}
    assert works[3].error is None


def test_api_shaped_ndjson_records_are_not_mapped():
    m = cmap(BASIC)
    record = m.bind(None).map_record(SourceRecord(1, {"number": "1", "mainAddress": {"value": {}}}))
    assert record.error.startswith("the record is in the API's nested shape; test.map.toml maps flat records")


def test_reader_errors_pass_through_and_rows_keep_their_source():
    m = cmap(BASIC)
    bound = m.bind(["Kundenr", "Navn", "Land"])
    bad = bound.map_record(SourceRecord(7, {"Kundenr": "1"}, "row has 1 fields, the header has 3"))
    assert bad.error == "row has 1 fields, the header has 3" and bad.number == 7
    good = bound.map_record(SourceRecord(8, {"Kundenr": "1", "Navn": "A", "Land": "NO"}))
    assert isinstance(good.data, MappedRow)
    assert good.data.source == {"Kundenr": "1", "Navn": "A", "Land": "NO"}
    with pytest.raises(RecordError) as info:
        m.bind(None).apply({"Kundenr": "1", "Navn": "A", "Fax": "1"})
    assert "'Fax' is not mapped" in str(info.value)


def test_a_bad_row_invalidates_its_whole_document_without_splitting_it():
    m = cmap("""
        [columns]
        Fakturanr = "referenceNumber"
        Kundenr = "customerNumber"
        Antall = "line.quantity"
        MVA = "line.vatCodeId"
        [values."line.vatCodeId"]
        "25" = "3"
    """, entity="invoice")
    works = run(m, [
        {"Fakturanr": "1", "Kundenr": "10", "Antall": "1", "MVA": "25"},
        {"Fakturanr": "1", "Kundenr": "10", "Antall": "1", "MVA": "26"},
        {"Fakturanr": "1", "Kundenr": "10", "Antall": "x", "MVA": "25"},
        {"Fakturanr": "2", "Kundenr": "10", "Antall": "1", "MVA": "25"},
    ])
    assert [w.records for w in works] == [[1, 2, 3], [4]]
    assert works[0].payload is None and works[0].key == "1"
    assert works[0].error.startswith("record 2: MVA: '26' is not in the value map [values.\"line.vatCodeId\"]")
    assert works[1].error is None
    assert [r.data.source for r in works[0].rows][1] == {"Fakturanr": "1", "Kundenr": "10", "Antall": "1", "MVA": "26"}


def test_document_key_column_groups_auto_numbered_documents():
    m = cmap('[columns]\nBilag = "documentKey"\nKunde = "customerNumber"\nBelop = "line.unitPriceInCurrency"\n'
             "[formats]\ndecimal_comma = true\n", entity="credit-note")
    works = run(m, [{"Bilag": "A", "Kunde": "1", "Belop": "1,5"}, {"Bilag": "A", "Kunde": "", "Belop": "2"}])
    assert len(works) == 1 and works[0].group == "A"
    assert [line["unitPriceInCurrency"]["value"] for line in works[0].payload["lines"]] == [1.5, 2]


# -- the shipped samples ------------------------------------------------------------------------


def mapped_sample(csv: str, mapfile: str, entity: str):
    m = load_map(LEGACY / mapfile, entity)
    with open_source(LEGACY / csv) as source:
        assert source.delimiter == ";"
        bound = m.bind(source.columns, CoerceOptions(decimal_comma=True))  # as the run would for ';'
        assert bound.missing == ()
        mapper = RecordMapper(m.entity, options=bound.options, columns=bound.columns)
        rows = [bound.map_record(r) for r in source]
    works = list(mapper.works(rows))
    return rows, works


def test_legacy_customers_sample_maps_cleanly():
    rows, works = mapped_sample("kunder.csv", "kunder.map.toml", "customer")
    assert len(works) == 8 and [w.error for w in works] == [None] * 8
    by_number = {w.key: w.payload for w in works}
    first = by_number["20001"]
    assert first["name"] == {"value": "Fjordkraft Rør & Varme AS"}
    assert first["mainAddress"]["value"]["countryId"] == {"value": "NO"}
    assert first["mainAddress"]["value"]["postalCode"] == {"value": "5013"}
    assert first["creditLimit"] == {"value": 150000.0}
    assert first["customerClassId"] == {"value": "1"} and first["overrideWithClassValues"] is True
    assert first["invoiceContact"] == {"value": {"email": {"value": "faktura@fjordror.no"}}}
    assert first["creditTermsId"] == {"value": "30"} and first["status"] == {"value": "Active"}
    assert by_number["20003"]["creditLimit"] == {"value": 1250000.0}
    assert by_number["20004"]["mainAddress"]["value"]["countryId"] == {"value": "SE"}
    assert by_number["20004"]["currencyId"] == {"value": "SEK"}
    assert by_number["20005"]["currencyId"] == {"value": "NOK"}  # a default for the empty cell
    assert by_number["20005"]["status"] == {"value": "OnHold"}
    assert by_number["20006"]["status"] == {"value": "CreditHold"}
    assert by_number["20008"]["mainAddress"]["value"]["countryId"] == {"value": "NO"}  # "NORGE"
    assert all("Opprettet" not in str(p) and "Selger" not in str(p) for p in by_number.values())


def test_legacy_invoices_sample_maps_cleanly():
    rows, works = mapped_sample("fakturaer.csv", "fakturaer.map.toml", "invoice")
    assert [w.error for w in works] == [None] * 4
    assert [w.records for w in works] == [[1, 2, 3], [4, 5], [6], [7, 8]]
    first = works[0].payload
    assert first["referenceNumber"] == {"value": "310045"}
    assert first["customerNumber"] == {"value": "20001"}
    assert first["documentDate"] == {"value": "2020-02-03"}
    assert first["documentDueDate"] == {"value": "2020-03-04"}
    assert first["currencyId"] == {"value": "NOK"} and first["sendToAutoInvoice"] == {"value": False}
    assert first["invoiceText"] == {"value": "Service januar"}
    lines = first["invoiceLines"]
    assert [(ln["quantity"]["value"], ln["unitPriceInCurrency"]["value"], ln["uom"]["value"], ln["vatCodeId"]["value"])
            for ln in lines] == [(7.5, 950.0, "TIME", "3"), (12, 89.9, "M", "3"), (1, 450.0, "STK", "3")]
    assert lines[1]["discountPercent"] == {"value": 10}
    assert works[1].payload["invoiceText"] == {"value": "Overført fra gammelt system"}
    assert works[1].payload["invoiceLines"][0]["vatCodeId"] == {"value": "31"}
    assert works[2].payload["invoiceLines"][0]["quantity"] == {"value": 1200}
    assert works[3].payload["invoiceLines"][1]["vatCodeId"] == {"value": "5"}
    # the invoice customers are in the customer sample
    customers, _ = mapped_sample("kunder.csv", "kunder.map.toml", "customer")
    numbers = {r.data["number"] for r in customers}
    assert {w.payload["customerNumber"]["value"] for w in works} <= numbers


async def test_legacy_samples_are_accepted_by_the_sandbox(sandbox):
    import importer
    from tests.support.runs import TOKEN

    for csv, mapfile, entity, count in (("kunder.csv", "kunder.map.toml", "customer", 8),
                                        ("fakturaer.csv", "fakturaer.map.toml", "invoice", 8)):
        rows, _ = mapped_sample(csv, mapfile, entity)
        errors: list[str] = []
        summary = await importer.import_records(
            [dict(r.data) for r in rows], entity=entity, base_url=sandbox.url, token=TOKEN,
            on_outcome=lambda line: errors.append(line.get("error")) if line.get("error") else None,
        )
        assert errors == []
        assert summary.outcomes["created"] == count


def test_line_constants_go_on_every_line_and_dunning_letters_map_too():
    m = cmap('[columns]\nF = "referenceNumber"\nA = "line.quantity"\n[constants]\n"line.uom" = "STK"\n',
             entity="invoice")
    [work] = run(m, [{"F": "1", "A": "2"}, {"F": "1", "A": "3"}])
    assert [line["uom"] for line in work.payload["invoiceLines"]] == [{"value": "STK"}] * 2
    d = cmap('[columns]\nKunde = "customerNumber"\nDato = "dunningLetterDate"\n'
             '[formats]\ndate_format = "%d.%m.%Y"\n[constants]\nlevelFrom = 1\nlevelTo = 3\n', entity="dunning-letter")
    work = one(d, {"Kunde": "10000", "Dato": "21.01.2020"})
    assert work.key == "10000"
    assert work.payload == {"dunningLetterDate": "2020-01-21", "levelFrom": 1, "levelTo": 3}


def test_unusable_date_formats_are_config_errors():
    assert "formats.date_format: '%d.%Q' is not a usable strptime layout" in problems(
        '[formats]\ndate_format = "%d.%Q"\n')
