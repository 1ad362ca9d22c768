"""``map init`` fills the map: a value map listing every legacy value of each column that names
the company's records, headers of VAT rates, dunning levels, line text and applied-to invoices in
four languages, text that differs by line on the line, defaults as API values, and the file's
encoding in the map, which the run then reads the file in."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.mapinit.skeleton import match_headers, suggest_map, write_skeleton
from importer.mapping.mapfile import MapError, input_encoding, load_map, map_encoding
from importer.sources import SourceOptions
from tests.support.legacy_export import fill_todos, write_export
from tests.support.runs import SAMPLES, final_lines, run_cli


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _values(skeleton, api: str):
    return next(v for v in skeleton.values if v.api == api)


def test_reference_columns_list_every_value_without_a_company(tmp_path):
    source = _write(tmp_path, "kunder.csv", "Kundenr;Navn;Betalingsbetingelse;Kundeklasse;Valuta\n"
                    "1;A;30 dager netto;Innenlands;NOK\n2;B;Kontant;Utland;NKR\n3;C;14 dager;Innenlands;kr\n")
    skeleton = suggest_map(source, ENTITIES["customer"])
    terms = _values(skeleton, "creditTermsId")
    assert terms.todo == ["30 dager netto", "Kontant", "14 dager"]  # every distinct value, as first written
    assert "30 days" in terms.notes["30 dager netto"] and "0-day" in terms.notes["Kontant"]
    assert _values(skeleton, "customerClassId").todo == ["Innenlands", "Utland"]
    currency = _values(skeleton, "currencyId")
    assert currency.mapped == {"NKR": "NOK"} and currency.todo == ["kr"]  # NOK is the API's code already


def test_the_sample_customer_register_gets_a_credit_terms_map():
    sample = SAMPLES / "legacy" / "kunder.csv"
    with sample.open(encoding="utf-8", newline="") as f:
        terms = {row["Betalingsbet."] for row in csv.DictReader(f, delimiter=";")} - {""}
    _, text = write_skeleton(str(sample), ENTITIES["customer"], None)
    section = text.split('[values."creditTermsId"]', 1)[1].split("\n[", 1)[0]
    todo = [line for line in section.splitlines() if "# TODO" in line]
    assert {line.split(" = ")[0].removeprefix("# ").strip('"') for line in todo} == terms  # every one listed


@pytest.mark.parametrize(("header", "entity", "api"), [
    ("MVA-sats", "invoice", "line.vatCodeId"), ("Momssats", "invoice", "line.vatCodeId"),
    ("Moms", "invoice", "line.vatCodeId"), ("VAT rate", "credit-note", "line.vatCodeId"),
    ("Fra nivå", "dunning-letter", "levelFrom"), ("Til nivå", "dunning-letter", "levelTo"),
    ("Från nivå", "dunning-letter", "levelFrom"), ("Till nivå", "dunning-letter", "levelTo"),
    ("Fra niveau", "dunning-letter", "levelFrom"), ("To level", "dunning-letter", "levelTo"),
    ("Beskrivelse", "invoice", "line.description"), ("Linjetekst", "invoice", "line.description"),
    ("Radtext", "debit-note", "line.description"), ("Line description", "invoice", "line.description"),
])
def test_migration_headers_in_four_languages(header, entity, api):
    [guess] = match_headers([header], ENTITIES[entity])
    assert guess.api == api, guess


@pytest.mark.parametrize("header", ["Gjelder faktura", "Gäller faktura", "Vedrører faktura", "Applies to invoice"])
def test_the_invoice_a_credit_note_applies_to_is_not_its_number(header):
    guesses = {g.source: g for g in match_headers(["Kreditnotanr", header], ENTITIES["credit-note"])}
    assert guesses["Kreditnotanr"].api == "referenceNumber"
    assert guesses[header].api is None
    assert "applies to" in guesses[header].how and "referenceNumber" not in guesses[header].how


def test_text_that_differs_within_a_document_goes_to_the_line(tmp_path):
    source = _write(tmp_path, "f.csv", "Fakturanr;Kundenr;Tekst;Varenr;Antall;Pris\n"
                    "1;10;Arbeid;SERV;1;100\n1;10;Kjøring;KJØR;1;50\n2;10;Mel;MEL25;2;30\n")
    guesses = {g.source: g for g in suggest_map(source, ENTITIES["invoice"]).guesses}
    assert guesses["Tekst"].api == "line.description"
    assert "differs within document 1" in guesses["Tekst"].how


def test_text_on_a_documents_first_row_only_stays_the_documents(tmp_path):
    source = _write(tmp_path, "f.csv", "Fakturanr;Kundenr;Tekst;Beskrivelse;Antall;Pris\n"
                    "1;10;Januar;Arbeid;1;100\n1;10;;Kjøring;1;50\n2;10;Februar;Mel;2;30\n")
    guesses = {g.source: g.api for g in suggest_map(source, ENTITIES["invoice"]).guesses}
    assert guesses == {"Fakturanr": "referenceNumber", "Kundenr": "customerNumber", "Tekst": "invoiceText",
                       "Beskrivelse": "line.description", "Antall": "line.quantity",
                       "Pris": "line.unitPriceInCurrency"}


def test_with_the_line_text_taken_a_differing_text_goes_to_the_line_note(tmp_path):
    source = _write(tmp_path, "f.csv", "Fakturanr;Kundenr;Beskrivelse;Tekst;Antall\n"
                    "1;10;Arbeid;a;1\n1;10;Kjøring;b;1\n")
    guesses = {g.source: g.api for g in suggest_map(source, ENTITIES["invoice"]).guesses}
    assert guesses["Beskrivelse"] == "line.description" and guesses["Tekst"] == "line.note"


def test_a_default_is_proposed_as_the_api_value(tmp_path):
    source = _write(tmp_path, "k.csv", "Kundenr;Navn;Land\n1;A;Norge\n2;B;Norge\n3;C;\n4;D;Sverige\n"
                    "5;E;NORGE\n6;F;norge\n")
    skeleton, text = write_skeleton(str(source), ENTITIES["customer"], None)
    assert skeleton.defaults["mainAddress.countryId"] == ("NO", "Land")
    assert '# "mainAddress.countryId" = "NO"' in text and "Norge\"" not in text.split("[defaults]")[1].split("[")[0]


def test_the_encoding_map_init_read_goes_into_the_map(tmp_path):
    source = _write(tmp_path, "k.csv", "Kundenr;Navn\n1;Rør og Varme AS\n", encoding="cp1252")
    out = tmp_path / "k.map.toml"
    write_skeleton(str(source), ENTITIES["customer"], str(out), options=SourceOptions(encoding="cp1252"))
    assert load_map(out).encoding == "cp1252"
    assert map_encoding(out) == "cp1252"
    assert input_encoding("latin-1", out) == "latin-1"  # the run's --encoding wins
    assert input_encoding(None, None) is None


@pytest.mark.parametrize(("value", "reason"), [('"klingon"', "unknown encoding 'klingon'"),
                                               ('"utf-16"', "not supported"), ("12", "expected the name")])
def test_a_wrong_encoding_in_a_map_is_named(tmp_path, value, reason):
    path = _write(tmp_path, "m.toml", f'entity = "customer"\nencoding = {value}\n')
    with pytest.raises(MapError) as caught:
        map_encoding(path)
    assert "encoding" in str(caught.value) and reason in str(caught.value)
    with pytest.raises(ConfigError, match="encoding"):
        load_map(path)


async def test_run_reads_the_file_in_the_maps_encoding(tmp_path):
    kunder, _ = write_export(tmp_path)
    out = tmp_path / "kunder.map.toml"
    code, _, err = await run_cli("map", "init", str(kunder), "-e", "customer", "--encoding", "cp1252", "-o", str(out))
    assert code == 0, err
    out.write_text(fill_todos(out.read_text(encoding="utf-8"), {"creditTermsId": {
        "30 dager netto": "30", "14 dager netto": "14", "Kontant": "KONTANT"}}), encoding="utf-8")
    results = tmp_path / "dry.ndjson"
    code, _, err = await run_cli("run", str(kunder), "--map", str(out), "--dry-run", "--results", str(results))
    assert code == 0, err
    finals = final_lines(results)
    assert len(finals) == 30 and {line["outcome"] for line in finals} == {"valid"}
    without = tmp_path / "plain.map.toml"
    without.write_text(out.read_text(encoding="utf-8").replace('encoding = "cp1252"', ""), encoding="utf-8")
    code, _, err = await run_cli("run", str(kunder), "--map", str(without), "--dry-run")
    assert code != 0 and "is not UTF-8" in err and "--encoding cp1252" in err  # what the key spares


def test_a_document_field_with_no_place_on_the_line_stays_marked_to_check(tmp_path):
    source = _write(tmp_path, "f.csv", "Fakturanr;Kundenr;Fakturadato;Antall\n1;10;03.02.2024;1\n1;10;04.02.2024;1\n")
    [date] = [g for g in suggest_map(source, ENTITIES["invoice"]).guesses if g.source == "Fakturadato"]
    assert date.api == "documentDate" and not date.sure and "differs within document 1" in date.how
