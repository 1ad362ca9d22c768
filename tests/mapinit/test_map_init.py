"""``importer map init``: header matching, suggested formats and value maps, and skeletons that import."""

from __future__ import annotations

from pathlib import Path

import pytest

import importer
from importer.entities import ENTITIES
from importer.mapinit.skeleton import match_headers, render, suggest_map
from importer.mapinit.synonyms import _WRITTEN, HEADERS, normalise
from importer.mapping.mapfile import load_map
from tests.support.runs import SAMPLES, TOKEN, get_json, read_lines, run_cli

LEGACY = SAMPLES / "legacy"


def _matched(headers: list[str], entity: str) -> dict[str, str | None]:
    return {g.source: g.api for g in match_headers(headers, ENTITIES[entity])}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_names_fold_case_accents_spaces_and_punctuation():
    assert normalise("Beløp") == normalise("belop") == "belop"
    assert normalise("Kund-nr") == normalise("KUND NR") == normalise("kund_nr") == "kundnr"
    assert normalise("Förfallodatum") == "forfallodatum"
    assert normalise("Kreditgrænse") == "kreditgraense"
    assert normalise("Org.nr") == "orgnr"


def test_no_written_header_means_two_things():
    seen: dict[str, tuple[str, ...]] = {}
    for written, columns in _WRITTEN.items():
        for header in written:
            key = normalise(header)
            assert seen.setdefault(key, columns) == columns, f"{header!r} is listed twice"
    assert len(HEADERS) == len(seen)


def test_nordic_and_english_customer_headers():
    assert _matched(["Kundnummer", "Namn", "Adress", "Postnummer", "Ort", "Land", "Organisationsnummer",
                     "Moms", "E-mail", "Tlf", "Kreditgräns", "Valuta"], "customer") == {
        "Kundnummer": "number", "Namn": "name", "Adress": "mainAddress.addressLine1",
        "Postnummer": "mainAddress.postalCode", "Ort": "mainAddress.city", "Land": "mainAddress.countryId",
        "Organisationsnummer": "corporateId", "Moms": "vatRegistrationId", "E-mail": "mainContact.email",
        "Tlf": "mainContact.phone1", "Kreditgräns": "creditLimit", "Valuta": "currencyId",
    }
    assert _matched(["Customer No", "Name", "CVR", "E-post", "Credit limit", "Kredittgrænse", "By"],
                    "customer") == {
        "Customer No": "number", "Name": "name", "CVR": "corporateId", "E-post": "mainContact.email",
        "Credit limit": "creditLimit", "Kredittgrænse": None,  # creditLimit is taken by then
        "By": "mainAddress.city",
    }


def test_the_same_header_means_what_the_entity_has():
    assert _matched(["Kundenr", "MVA"], "customer") == {"Kundenr": "number", "MVA": "vatRegistrationId"}
    assert _matched(["Kundenr", "MVA"], "invoice") == {"Kundenr": "customerNumber", "MVA": "line.vatCodeId"}
    assert _matched(["Kundenr", "Dato"], "dunning-letter") == {"Kundenr": "customerNumber",
                                                             "Dato": "dunningLetterDate"}


def test_document_headers_in_danish_and_swedish():
    assert _matched(["Fakturanummer", "Kundenummer", "Dato", "Forfaldsdato", "Valuta", "Beløb", "Antal"],
                    "invoice") == {
        "Fakturanummer": "referenceNumber", "Kundenummer": "customerNumber", "Dato": "documentDate",
        "Forfaldsdato": "documentDueDate", "Valuta": "currencyId", "Beløb": "line.unitPriceInCurrency",
        "Antal": "line.quantity",
    }
    assert _matched(["Förfallodatum", "Belopp", "Datum"], "debit-note") == {
        "Förfallodatum": "documentDueDate", "Belopp": "line.unitPriceInCurrency", "Datum": "documentDate",
    }


def test_guesses_by_part_of_a_name_are_marked_to_check_and_the_rest_unmatched():
    guesses = {g.source: g for g in match_headers(["Leveringsdato", "Opprettet", "Selger", "number"],
                                                  ENTITIES["customer"])}
    assert guesses["number"].api == "number" and guesses["number"].sure
    assert guesses["Opprettet"].api is None
    assert guesses["Selger"].api is None and "not a column of customer" in guesses["Selger"].how
    part = match_headers(["Leveringsdato"], ENTITIES["invoice"])[0]
    assert (part.api, part.sure) == ("documentDate", False) and "part of the name" in part.how


def test_formats_come_from_the_files_own_values(tmp_path):
    path = _write(tmp_path, "kunder.csv", "Kundenr;Navn;Kredittgrense;Land;Status;Dato\n"
                  "1;Alfa AS;1 234,50;Norge;Aktiv;31.12.2024\n"
                  "2;Beta AB;10 000,00;Sverige;Sperret;01.02.2024\n"
                  "3;Gamma;500,00;Atlantis;Ukjent;15.06.2023\n")
    skeleton = suggest_map(path, ENTITIES["invoice"])
    assert skeleton.delimiter == ";" and skeleton.decimal_comma is None  # no number column of invoice
    skeleton = suggest_map(path, ENTITIES["customer"])
    assert skeleton.decimal_comma is True
    assert skeleton.unmatched_dates == {"Dato": "%d.%m.%Y"}  # customers have no document date
    values = {v.api: v for v in skeleton.values}
    assert values["mainAddress.countryId"].mapped == {"Norge": "NO", "Sverige": "SE"}
    assert values["mainAddress.countryId"].todo == ["Atlantis"]
    assert values["status"].mapped == {"Aktiv": "Active", "Sperret": "OnHold"}
    assert values["status"].todo == ["Ukjent"]
    text = render(skeleton, "kunder.map.toml")
    assert "decimal_comma = true" in text and '# date_format = "%d.%m.%Y"' in text
    assert '# Atlantis = ""' in text and "TODO" in text
    (tmp_path / "kunder.map.toml").write_text(text, encoding="utf-8")
    cmap = load_map(tmp_path / "kunder.map.toml", "customer")
    assert cmap.decimal_comma is True and cmap.values["status"].table["aktiv"] == "Active"

    invoices = _write(tmp_path, "inv.csv", "Fakturanr,Kundenr,Fakturadato,Forfall,Antall,Pris\n"
                      "7,1,31/12/2024,2025-01-30,2,1250.50\n7,1,,,1,99.90\n8,2,15/01/2025,2025-02-14,3,10\n")
    skeleton = suggest_map(invoices, ENTITIES["invoice"])
    assert skeleton.decimal_comma is False
    assert skeleton.date_format == "%d/%m/%Y"
    assert skeleton.date_columns == {"documentDueDate": "iso"}  # this column writes ISO dates
    text = render(skeleton)
    assert 'date_format = "%d/%m/%Y"' in text and 'documentDueDate = { date_format = "iso" }' in text


def test_ambiguous_dates_and_numbers_are_left_to_decide(tmp_path):
    path = _write(tmp_path, "inv.csv", "Fakturanr;Kundenr;Dato;Pris\n1;1;01/02/2024;1.250\n2;1;03/04/2024;2.500\n")
    skeleton = suggest_map(path, ENTITIES["invoice"])
    todos = " ".join(skeleton.todos)
    assert "'%m/%d/%Y'" in todos  # the days are all 12 or less: either layout reads them
    assert "read both ways" in todos and skeleton.decimal_comma is True  # ;-file: the run's default
    assert skeleton.todo_count == 2


def test_required_columns_missing_from_the_file_are_todo(tmp_path):
    path = _write(tmp_path, "inv.csv", "Fakturanr,Tekst\n1,a\n")
    skeleton = suggest_map(path, ENTITIES["invoice"])
    assert skeleton.missing_required == ["customerNumber"]
    assert '# customerNumber = ""' in render(skeleton) and skeleton.todo_count == 1


@pytest.mark.parametrize(("source", "entity"), [(LEGACY / "kunder.csv", "customer"),
                                                (LEGACY / "fakturaer.csv", "invoice")])
def test_the_skeleton_of_a_legacy_sample_loads_and_binds_its_header(source, entity, tmp_path):
    skeleton = suggest_map(source, ENTITIES[entity])
    out = tmp_path / "map.toml"
    out.write_text(render(skeleton, str(out)), encoding="utf-8")
    cmap = load_map(out, entity)
    header = source.read_text(encoding="utf-8").splitlines()[0].split(";")
    bound = cmap.bind(header)  # raises MapError for any column neither mapped nor ignored
    assert bound.missing == ()


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_map_init_skeletons_import_the_legacy_samples(start_sandbox, tmp_path):
    """The skeletons as written, no line edited, import every legacy record into the sandbox.

    A sandbox without a company: a skeleton passes references as written (terms '30 dager',
    VAT '25'), which a company refuses until a value map names its own ids.
    """
    async with start_sandbox(company=None) as sandbox:
        maps = {}
        for source, entity in ((LEGACY / "kunder.csv", "customer"), (LEGACY / "fakturaer.csv", "invoice")):
            out = tmp_path / f"{source.stem}.map.toml"
            code, stdout, err = await run_cli("map", "init", str(source), "--entity", entity, "-o", str(out))
            assert code == 0, err
            assert stdout == "" and f"wrote {out}" in err and "Traceback" not in err
            maps[entity] = out
        assert 'ignore = ["Opprettet", "Selger"]' in maps["customer"].read_text(encoding="utf-8")
        for source, entity in ((LEGACY / "kunder.csv", "customer"), (LEGACY / "fakturaer.csv", "invoice")):
            results = tmp_path / f"{source.stem}.results.ndjson"
            summary = await importer.import_records(source, entity=entity, base_url=sandbox.url, token=TOKEN,
                                                    map=str(maps[entity]), results=str(results))
            assert summary.outcomes["created"] == summary.records == 8, summary.to_dict()
            assert {line["outcome"] for line in read_lines(results) if line["outcome"] != "started"} == {"created"}
        customers = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
        assert len(customers) == 8
        # The suggested value maps turned names into codes; the decimal comma read 1.250.000,00.
        assert {c["mainAddress"]["countryId"] for c in customers.values()} == {"NO", "SE", "DK"}
        assert customers["20006"]["status"] == "CreditHold" and customers["20005"]["status"] == "OnHold"
        assert customers["20003"]["creditLimit"] == 1250000
        invoices = {i["referenceNumber"]: i for i in await get_json(f"{sandbox.url}/sandbox/records/invoice")}
        assert sorted(invoices) == ["310045", "310046", "310047", "310048"]
        assert invoices["310045"]["documentDate"].startswith("2020-02-03")  # 03.02.2020, read as %d.%m.%Y
        assert len(invoices["310045"]["invoiceLines"]) == 3


async def test_cli_writes_to_stdout_refuses_to_overwrite_and_names_bad_input(tmp_path):
    code, out, err = await run_cli("map", "init", str(LEGACY / "kunder.csv"), "-e", "customer")
    assert code == 0, err
    assert out.startswith("# kunder.csv → customer") and 'Kundenr = "number"' in out
    assert "13 of 15 columns matched" in err

    target = tmp_path / "kunder.map.toml"
    target.write_text("# my edits\n", encoding="utf-8")
    code, _, err = await run_cli("map", "init", str(LEGACY / "kunder.csv"), "-e", "customer", "-o", str(target))
    assert code == 2 and "exists; pass --force" in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "# my edits\n"
    code, _, err = await run_cli("map", "init", str(LEGACY / "kunder.csv"), "-e", "customer", "-o", str(target),
                                 "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("# kunder.csv")

    code, _, err = await run_cli("map", "init", str(tmp_path / "nope.csv"), "-e", "customer")
    assert code == 2 and "input file not found" in err and "Traceback" not in err


def test_the_skeleton_shows_computed_and_looked_up_columns_that_load_once_uncommented(tmp_path):
    path = _write(tmp_path, "kunder.csv", "Kundenr;Navn;Adresse 1;Husnr;Kredittgrense\n1;Alfa AS;Gata;5;1 234,50\n")
    text = render(suggest_map(path, ENTITIES["customer"]), "kunder.map.toml")
    examples = text.split("# [computed]", 1)[1].split("\n\n", 1)[0]
    assert "'join(\" \", Husnr, Kundenr)'" in examples  # the file's own names: the unmatched one first
    assert "# [lookups.numbers]" in examples and "'lookup(\"numbers\", Husnr)'" in examples
    uncommented = text.replace("# [computed]", "[computed]").replace("# [lookups.", "[lookups.")
    uncommented = "\n".join(line[2:] if line.startswith("# ") and ("= '" in line or line[2:].startswith(
        ("file =", "key =", "value ="))) else line for line in uncommented.splitlines())
    (tmp_path / "numbers.csv").write_text("old;new\n5;10005\n", encoding="utf-8")
    (tmp_path / "kunder.map.toml").write_text(uncommented, encoding="utf-8")
    cmap = load_map(tmp_path / "kunder.map.toml", "customer")
    assert len(cmap.computed) == 4 and "round(Husnr * Kundenr, 2)" in examples and cmap.lookups["numbers"].find("5") == "10005"
    cmap.bind(["Kundenr", "Navn", "Adresse 1", "Husnr", "Kredittgrense"])  # every name it reads is in the file
