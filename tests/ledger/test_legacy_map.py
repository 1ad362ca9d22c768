"""``export --map`` and ``verify --map``: the legacy layout of samples/legacy, there and back."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.ledger.export import export_records
from importer.ledger.legacy import LegacyLayout
from importer.ledger.verify import verify_records
from importer.mapping.flatten import WRITE_ONLY, FlatRecord
from importer.mapping.mapfile import parse_map
from tests.support.runs import SAMPLES, TOKEN, get_json, read_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

LEGACY = SAMPLES / "legacy"
CUSTOMERS = (LEGACY / "kunder.csv", LEGACY / "kunder.map.toml")
INVOICES = (LEGACY / "fakturaer.csv", LEGACY / "fakturaer.map.toml")
_SYSTEM = ("createdDateTime", "lastModifiedDateTime")


async def _import(url: str, source: Path, entity: str, map_path: Path, tmp_path: Path) -> None:
    results = tmp_path / f"{source.name}.{url.rsplit(':', 1)[-1]}.results.ndjson"
    done = await importer.import_records(source, entity=entity, base_url=url, token=TOKEN, map=str(map_path),
                                         results=str(results))
    assert done.ok, done.to_dict()


async def _stored(url: str, entity: str) -> dict[str, dict[str, Any]]:
    """The stored records by key, less the sandbox's own timestamps and what no read answers."""
    key = ENTITIES[entity].key_field
    skip = {*_SYSTEM, *WRITE_ONLY[entity]}
    rows = await get_json(f"{url}/sandbox/records/{entity}")
    return {r[key]: {k: v for k, v in r.items() if k not in skip and not _own_reference(k, v)}  # type: ignore[union-attr]
            for r in rows}


def _own_reference(field: str, value: Any) -> bool:
    """The externalReference the importer gives a document that has none (one per import)."""
    return field == "externalReference" and isinstance(value, str) and value.startswith("imp-")


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=";")
        return list(reader.fieldnames or []), list(reader)


async def test_an_export_in_the_legacy_layout_imports_as_the_same_records(start_sandbox, tmp_path):
    async with start_sandbox() as source, start_sandbox() as fresh:
        await _import(source.url, *CUSTOMERS[:1], "customer", CUSTOMERS[1], tmp_path)
        await _import(source.url, *INVOICES[:1], "invoice", INVOICES[1], tmp_path)
        async with ApiClient(source.url, StaticToken(TOKEN)) as client:
            customers = await export_records(client, "customer", tmp_path / "kunder.csv", map=CUSTOMERS[1])
            invoices = await export_records(client, "invoice", tmp_path / "fakturaer.csv", map=INVOICES[1])
        assert customers.ok and invoices.ok and (customers.records, invoices.rows) == (8, 8)
        await _import(fresh.url, tmp_path / "kunder.csv", "customer", CUSTOMERS[1], tmp_path)
        await _import(fresh.url, tmp_path / "fakturaer.csv", "invoice", INVOICES[1], tmp_path)
        for entity in ("customer", "invoice"):
            assert await _stored(fresh.url, entity) == await _stored(source.url, entity), entity

    header, rows = _rows(tmp_path / "kunder.csv")
    legacy_header, _ = _rows(CUSTOMERS[0])
    # The map's columns in its order; the ignored ones (Opprettet, Selger) have no API field.
    assert header == [c for c in legacy_header if c not in ("Opprettet", "Selger")]
    first = rows[0]
    assert (first["Land"], first["Status"], first["Betalingsbet."]) == ("Norge", "Aktiv", "30 dager")
    assert first["Kredittgrense"] == "150000,0"  # decimal comma, as the map reads it
    assert [r["Land"] for r in rows].count("Norge") == 6  # Noreg, NORGE and norge came in; Norge goes out
    assert customers.map == str(CUSTOMERS[1]) and customers.unmapped == {}
    # The map's constant comes back on re-import; the export says it left it out.
    assert customers.left_out["customerClassId"] == 8

    header, rows = _rows(tmp_path / "fakturaer.csv")
    assert header[:3] == ["Fakturanr", "Kundenr", "Fakturadato"]
    assert (rows[0]["Fakturadato"], rows[0]["Antall"], rows[0]["Enhet"], rows[0]["MVA"]) == (
        "03.02.2020", "7,5", "time", "25")
    assert rows[3]["Tekst"] == "Overført fra gammelt system"  # the map's default, now data
    assert {"currencyId", "sendToAutoInvoice"} <= set(invoices.left_out)  # constants
    assert invoices.params["expandInvoiceAddress"] == "false"  # the map binds no address column


async def test_verify_reads_a_legacy_file_through_its_map(start_sandbox, tmp_path):
    changed = tmp_path / "kunder-endret.csv"
    changed.write_text(CUSTOMERS[0].read_text(encoding="utf-8").replace(";Bergen;", ";Stavanger;"),
                       encoding="utf-8")
    async with start_sandbox() as sb:
        await _import(sb.url, *CUSTOMERS[:1], "customer", CUSTOMERS[1], tmp_path)
        await _import(sb.url, *INVOICES[:1], "invoice", INVOICES[1], tmp_path)
        async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
            same = await verify_records(client, CUSTOMERS[0], "customer", tmp_path / "c.ndjson", map=CUSTOMERS[1])
            lines = await verify_records(client, INVOICES[0], "invoice", None, map=INVOICES[1], strategy="list")
            other = await verify_records(client, changed, "customer", tmp_path / "e.ndjson", map=CUSTOMERS[1])
            with pytest.raises(ConfigError, match="Opprettet"):  # unmapped legacy column: no call
                await verify_records(client, CUSTOMERS[0], "customer", None,
                                     map=parse_map('entity = "customer"\n[columns]\nKundenr = "number"\n'))
            with pytest.raises(ConfigError, match="maps invoice records"):
                await verify_records(client, CUSTOMERS[0], "customer", None,
                                     map=parse_map('entity = "invoice"\n', entity="invoice"))
    assert same.ok and same.counts["ok"] == 8 and same.map == str(CUSTOMERS[1])
    assert same.unchecked == {"overrideWithClassValues": 8}  # a constant no read answers
    assert lines.ok and lines.counts["ok"] == 4  # dd.mm.yyyy, decimal commas, VAT rates mapped
    assert other.counts["different"] == 1 and other.exit_code == 1
    [different] = [line for line in read_lines(tmp_path / "e.ndjson") if line["status"] != "ok"]
    assert different["differences"] == [{"field": "mainAddress.city", "expected": "Stavanger", "actual": "Bergen"}]


def _layout(text: str, delimiter: str = ";") -> LegacyLayout:
    return LegacyLayout(parse_map(text, entity="customer"), delimiter)


def test_value_maps_invert_to_the_first_listed_source_value():
    layout = _layout('''
[columns]
Nr = "number"
Land = "mainAddress.countryId"
Status = "status"
"Vilkår" = "creditTermsId"
Grense = "creditLimit"
[values."mainAddress.countryId"]
Noreg = "NO"
Norge = "NO"
[values.status]
Aktiv = "Active"
[values.creditTermsId]
Kontant = "KONTANT"
"30" = "30D"
"*" = "*"
''', delimiter=",")
    record = FlatRecord("1", {"number": "1", "mainAddress.countryId": "NO", "status": "active",
                              "creditTermsId": "60", "creditLimit": 12.5}, None)
    assert list(layout.rows(record)) == [
        {"Nr": "1", "Land": "Noreg", "Status": "Aktiv", "Vilkår": "60", "Grense": "12.5"},  # "," file: a point
    ]
    assert next(layout.rows(FlatRecord("1", {"creditTermsId": "30D"}, None))) == {"Vilkår": "30"}
    assert layout.unmapped == {}
    # A value the strict map has no source for is written, but counted: a re-import would refuse it.
    list(layout.rows(FlatRecord("2", {"number": "2", "status": "OnHold"}, None)))
    assert layout.unmapped == {"Status": 1}
    # Under "*" = "*", a value that reads as another value's source is unmappable too:
    # "30" would come back as "30D".
    list(layout.rows(FlatRecord("3", {"number": "3", "creditTermsId": "30"}, None)))
    assert layout.unmapped == {"Status": 1, "Vilkår": 1}


def test_one_legacy_column_feeding_two_api_columns_is_written_from_the_first():
    layout = _layout('''
[columns]
Nr = "number"
"E-post" = ["mainContact.email", "invoiceContact.email"]
[constants]
customerClassId = "1"
[formats]
date_format = "%d.%m.%Y"
''')
    same = FlatRecord("1", {"number": "1", "mainContact.email": "a@b.no", "invoiceContact.email": "a@b.no",
                            "customerClassId": "1", "name": "X"}, None)
    differs = FlatRecord("2", {"number": "2", "mainContact.email": "a@b.no", "invoiceContact.email": "c@d.no"}, None)
    assert list(layout.rows(same)) == [{"Nr": "1", "E-post": "a@b.no"}]
    assert layout.left_out(same) == ["customerClassId", "name"]  # a constant, an unbound column
    assert layout.left_out(differs) == ["invoiceContact.email"]  # its own value cannot travel
    assert layout.api_columns == ["invoiceContact.email", "mainContact.email", "number"]


def test_a_map_without_the_key_column_writes_it_under_its_api_name():
    layout = _layout('[columns]\nNavn = "name"\n')
    assert layout.header == ["number", "Navn"]


async def test_export_and_verify_map_from_the_command_line(start_sandbox, tmp_path):
    async with start_sandbox() as sb, start_sandbox() as fresh:
        auth = ["--base-url", sb.url, "--token", TOKEN]
        code, _, err = await run_cli("run", str(CUSTOMERS[0]), "--entity", "customer", "--map", str(CUSTOMERS[1]),
                                     "--results", str(tmp_path / "r.ndjson"), *auth)
        assert code == 0, err
        code, out, err = await run_cli("verify", str(CUSTOMERS[0]), "--entity", "customer", "--map", str(CUSTOMERS[1]),
                                       "--report", str(tmp_path / "v.ndjson"), *auth)
        assert code == 0, (out, err)
        code, out, err = await run_cli("export", "--entity", "customer", "--map", str(CUSTOMERS[1]),
                                       "-o", str(tmp_path / "kunder.csv"), *auth)
        assert code == 0, err
        assert "customerClassId" in out  # the summary names what the map computes itself
        assert (tmp_path / "kunder.csv").read_text(encoding="utf-8").startswith("Kundenr;Navn;")
        code, _, err = await run_cli("run", str(tmp_path / "kunder.csv"), "--entity", "customer",
                                     "--map", str(CUSTOMERS[1]), "--base-url", fresh.url, "--token", TOKEN)
        assert code == 0, err
        assert await _stored(fresh.url, "customer") == await _stored(sb.url, "customer")
        code, _, err = await run_cli("export", "--entity", "customer", "--map", str(CUSTOMERS[1]),
                                     "--all-columns", "--format", "csv", *auth)
        assert code == 2 and "--map" in err and "Traceback" not in err


PERIOD_INVOICES = """\
Fakturanr;Kundenr;Periode;Bokf.periode;Beskrivelse;Antall;Pris
910001;20001;01.2024;3/2024;Service;7,5;950,00
910002;20001;11.2023;12/2023;Rør;2;89,90
"""
PERIOD_MAP = """\
entity = "invoice"

[columns]
"Fakturanr" = "referenceNumber"
"Kundenr" = "customerNumber"
"Periode" = "financialPeriod"
"Bokf.periode" = "postPeriod"
"Beskrivelse" = "line.description"
"Antall" = "line.quantity"
"Pris" = "line.unitPriceInCurrency"

[formats]
decimal_comma = true
financialPeriod = { format = "MM.YYYY" }
postPeriod = { format = "M/YYYY" }
"""


async def test_period_formats_are_written_back_in_the_legacy_layout(start_sandbox, tmp_path):
    legacy, cmap = tmp_path / "perioder.csv", tmp_path / "perioder.map.toml"
    legacy.write_text(PERIOD_INVOICES, encoding="utf-8")
    cmap.write_text(PERIOD_MAP, encoding="utf-8")
    async with start_sandbox() as source, start_sandbox() as fresh:
        for sb in (source, fresh):
            await _import(sb.url, *CUSTOMERS[:1], "customer", CUSTOMERS[1], tmp_path)
        await _import(source.url, legacy, "invoice", cmap, tmp_path)
        exported = tmp_path / "export" / "perioder.csv"
        exported.parent.mkdir()
        async with ApiClient(source.url, StaticToken(TOKEN)) as client:
            summary = await export_records(client, "invoice", exported, map=cmap)
        assert summary.ok and summary.unmapped == {}
        await _import(fresh.url, exported, "invoice", cmap, tmp_path)
        assert await _stored(fresh.url, "invoice") == await _stored(source.url, "invoice")
        stored = await _stored(source.url, "invoice")
    assert (stored["910001"]["financialPeriod"], stored["910001"]["postPeriod"]) == ("202401", "032024")
    _, rows = _rows(exported)
    assert [(r["Periode"], r["Bokf.periode"]) for r in rows] == [("01.2024", "3/2024"), ("11.2023", "12/2023")]


def test_a_rewritten_column_is_not_written_back_but_named_as_left_out():
    layout = _layout('''
[columns]
Nr = "number"
"Org.nr" = "corporateId"
Navn = "name"
[formats]
corporateId = { rewrite = { pattern = '^NO ?', to = '' }, unmatched = "keep" }
''')
    # "NO 923609016" and "923609016" both came in as 923609016: which was written is lost
    assert layout.header == ["Nr", "Navn"]
    assert "corporateId" in layout.api_columns  # asked for, so that left_out can see it
    record = FlatRecord("1", {"number": "1", "name": "Fjord AS", "corporateId": "923609016"}, None)
    assert list(layout.rows(record)) == [{"Nr": "1", "Navn": "Fjord AS"}]
    assert layout.left_out(record) == ["corporateId"]
