"""Computed and looked-up columns of a map: what reaches the ledger, and every mistake found before reading."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importer
from importer.cli.columns import columns_command
from importer.mapping import RecordMapper
from importer.mapping.exprparse import ExprSyntaxError, parse
from importer.mapping.mapfile import MapError, load_map, parse_map
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, final_lines

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

INVOICE_MAP = """\
entity = "invoice"
[columns]
Nr = "referenceNumber"
Dato = "documentDate"
Antall = "line.quantity"
Pris = "line.unitPriceInCurrency"
[computed]
customerNumber = 'lookup("kunder", Kunde)'
documentDueDate = 'date(Dato) + Forfall'
"line.manualAmountInCurrency" = 'round([Pris] * Antall * (1 - Rabatt / 100), 2)'
"line.description" = 'join(" ", [Adresse 1], Husnr, if(Type = "B", "(bedrift)", ""))'
[formats]
decimal_comma = true
date_format = "%d.%m.%Y"
[lookups.kunder]
file = "kundenumre.csv"
key = "Gammelt nr"
value = "Nytt nr"
"""
INVOICES = (
    "Nr;Kunde;Dato;Forfall;Antall;Pris;Rabatt;Adresse 1;Husnr;Type\n"
    "5001;K-1;31.01.2024;30;3;1 234,50;10;Storgata;5;b\n"
    "5002; k-2 ;28.02.2024;14;2;99,90;0;;7 B;P\n"
    "5003;K-9;01.03.2024;30;1;10;0;Vei;1;P\n"
    "5004;K-1;01.03.2024;30;1;10;1O;Vei;1;P\n"
)
NUMBERS = "Gammelt nr;Nytt nr\nK-1;10001\nK-2;10002\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def mapped(text: str, rows: list[dict[str, str]], tmp_path: Path | None = None) -> list:
    """The works a run makes of these CSV rows through the map (a file in ``tmp_path`` when it has lookups)."""
    m = load_map(write(tmp_path, "m.map.toml", text)) if tmp_path else parse_map(textwrap.dedent(text), path="m.toml")
    bound = m.bind(list(rows[0]))
    mapper = RecordMapper(m.entity, options=bound.options, columns=bound.columns, check_required=False)
    return list(mapper.works(bound.map_records(SourceRecord(i, r) for i, r in enumerate(rows, 1))))


def computed(expression: str, row: dict[str, str], column: str = "accountReference", extra: str = "") -> object:
    """What ``expression`` gives ``column`` of a customer for one row (or the record's error)."""
    [work] = mapped(f'entity = "customer"\n{extra}\n[computed]\n"{column}" = \'{expression}\'\n',
                    [{"number": "1", **row}])
    if work.error is not None:
        return work.error
    value = work.payload.get(column.split(".")[0], {})
    for part in column.split(".")[1:]:
        value = value[part]
    return value.get("value") if isinstance(value, dict) else value


async def test_a_concatenation_an_amount_a_due_date_and_a_lookup_reach_the_ledger(start_sandbox, tmp_path):
    async with start_sandbox(company=None) as sandbox:
        await importer.import_records([{"number": "10001", "name": "A"}, {"number": "10002", "name": "B"}],
                                      entity="customer", base_url=sandbox.url, token=TOKEN)
        write(tmp_path, "kundenumre.csv", NUMBERS)
        source = write(tmp_path, "fakturaer.csv", INVOICES)
        summary = await importer.import_records(source, map=write(tmp_path, "f.map.toml", INVOICE_MAP),
                                                base_url=sandbox.url, token=TOKEN)
        assert (summary.outcomes["created"], summary.outcomes["invalid"]) == (2, 2)
        stored = sandbox.sandbox.store.records["invoice"]
        got = {}
        for key, r in stored.items():
            line = r["invoiceLines"][0]
            got[key] = (r["customerNumber"], r["documentDueDate"][:10], line["manualAmountInCurrency"],
                        line["description"])
        assert got == {
            "5001": ("10001", "2024-03-01", 3333.15, "Storgata 5 (bedrift)"),  # 3 × 1234.50 less 10 %
            "5002": ("10002", "2024-03-13", 199.8, "7 B"),  # the empty address left out; leap year
        }
        invalid = {line["records"][0]: line["error"] for line in final_lines(f"{source}.results.ndjson")
                   if line["outcome"] == "invalid"}
        assert invalid[3].startswith("record 3: Kunde: 'K-9' is not a key of the lookup table 'kunder' "
                                     "(kundenumre.csv, column 'Gammelt nr')")
        assert "[computed] customerNumber in f.map.toml" in invalid[3]
        assert invalid[4].startswith("record 4: Rabatt: '1O' is not a number")
        assert '[computed] "line.manualAmountInCurrency" in f.map.toml' in invalid[4]


@pytest.mark.parametrize(("expression", "reason", "caret"), [
    ("Beløp * (Antall", "expected ')' to close the ( opened at character 9, found the end", 15),
    ("Beløp ** 2", "expected a value, found '*'", 7),
    ("Adresse 1 & Husnr", "expected an operator or the end, found '1'", 8),
    ('"abc', "text begun with \" is not closed", 0),
    ("sum(Beløp)", "unknown function sum()", 0),
    ("if(Type = 1, 2)", "if() takes 3 arguments, not 2", 0),
    ('lookup("kunder", Kunde)', "no lookup table 'kunder': declare it as [lookups.kunder]", 7),
    ('date(Dato, "%d.%m") + 1', "'%d.%m' does not read back the dates it writes", 11),
    ("round(Beløp, 2.5)", "round()'s decimals are a whole number from 0 to 10", 13),
    ("a = b = c", "comparisons do not chain", 6),
    ("__import__('os')", "unknown function __import__()", 0),
])
def test_each_mistake_in_an_expression_names_file_key_and_place(expression, reason, caret):
    text = f'entity = "invoice"\n[computed]\n"line.manualAmountInCurrency" = "{expression.replace(chr(34), chr(92) + chr(34))}"\n'
    with pytest.raises(MapError) as info:
        parse_map(text, path="f.map.toml")
    message = str(info.value)
    head, shown, pointer = message.splitlines()
    assert head.startswith(f'f.map.toml: computed."line.manualAmountInCurrency": {reason}')
    assert head.endswith(f"(character {caret + 1})")
    assert shown.strip() == expression and pointer.index("^") - pointer.index(" " * 4) == 4 + caret


async def test_columns_and_tables_the_input_lacks_stop_the_run_before_anything_is_sent(sandbox, tmp_path):
    source = write(tmp_path, "k.csv", "Kundenr;Navn;Adresse 1\n1;A;Gate\n")
    mapfile = write(tmp_path, "k.map.toml", """\
        entity = "customer"
        [columns]
        Kundenr = "number"
        Navn = "name"
        [computed]
        "mainAddress.addressLine1" = 'join(" ", Adresse, Husnr)'
        """)
    with pytest.raises(MapError) as info:
        await importer.import_records(source, map=mapfile, base_url=sandbox.url, token=TOKEN)
    message = str(info.value)
    assert "computed.\"mainAddress.addressLine1\": the input has no column 'Adresse'; did you mean [Adresse 1]? " \
           "(character 11)" in message
    assert "join(\" \", Adresse, Husnr)\n" in message
    assert sandbox.sandbox.store.records["customer"] == {}  # nothing sent
    assert not Path(f"{source}.results.ndjson").exists()  # nothing read into a results file


def test_lookup_files_are_read_when_the_map_loads_and_their_mistakes_reported(tmp_path):
    base = 'entity = "customer"\n[computed]\nnumber = \'lookup("t", Nr)\'\n[lookups.t]\n'
    with pytest.raises(MapError) as info:
        load_map(write(tmp_path, "a.map.toml", base + 'file = "none.csv"\nkey = "a"\nvalue = "b"\n'))
    assert "lookups.t.file: input file not found" in str(info.value)
    write(tmp_path, "t.csv", "a;b\n1;x\n 1 ;y\n2;z\n2;z\n")
    with pytest.raises(MapError) as info:
        load_map(write(tmp_path, "b.map.toml", base + 'file = "t.csv"\nkey = "a"\nvalue = "c"\n'))
    assert "lookups.t: t.csv has no column 'c' (its columns: a, b)" in str(info.value)
    with pytest.raises(MapError) as info:
        load_map(write(tmp_path, "c.map.toml", base + 'file = "t.csv"\nkey = "a"\nvalue = "b"\n'))
    assert "t.csv gives two values for the key '1' (records 1 and 2)" in str(info.value)  # 2;z twice is harmless
    with pytest.raises(MapError) as info:
        load_map(write(tmp_path, "d.map.toml", base + 'fil = "t.csv"\n'))
    assert "lookups.t.fil: unknown key" in str(info.value)
    write(tmp_path, "t.dat", "a;b\n")
    with pytest.raises(MapError) as info:
        load_map(write(tmp_path, "e.map.toml", base + 'file = "t.dat"\nkey = "a"\nvalue = "b"\n'))
    assert "lookups.t.file: cannot tell the format of t.dat" in str(info.value) and ".xlsx" in str(info.value)
    write(tmp_path, "t.txt", "a;b\n1;x\n")
    cmap = load_map(write(tmp_path, "f.map.toml", base + 'file = "t.txt"\nformat = "csv"\nkey = "a"\nvalue = "b"\n'))
    assert cmap.lookups["t"].find(" 1 ") == "x"


def test_a_workbook_table_reads_its_first_sheet_as_a_person_sees_it(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["gammel", "ny"])
    sheet.append(["k1", 10001])
    sheet.append([2, 150])
    sheet.cell(row=3, column=2).number_format = "00000"  # stored 150, shown 00150: the zeros are the number
    book.save(tmp_path / "t.xlsx")
    text = ('entity = "customer"\n[columns]\nNavn = "name"\n[computed]\nnumber = \'lookup("t", Nr)\'\n'
            '[lookups.t]\nfile = "t.xlsx"\nkey = "gammel"\nvalue = "ny"\n')
    works = mapped(text, [{"Nr": "K1", "Navn": "A"}, {"Nr": "2", "Navn": "B"}], tmp_path)
    assert [w.payload["number"]["value"] for w in works] == ["10001", "00150"]


def test_an_ndjson_table_matches_keys_as_value_maps_do_and_a_default_covers_missing_keys(tmp_path):
    rows = [{"gammel": "k1", "ny": "10001"}, {"gammel": 2, "ny": "10002"}]
    (tmp_path / "t.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    text = ('entity = "customer"\n[columns]\nNavn = "name"\n[computed]\nnumber = \'lookup("t", Nr, "0")\'\n'
            '[lookups.t]\nfile = "t.ndjson"\nkey = "gammel"\nvalue = "ny"\n')
    works = mapped(text, [{"Nr": " K1 ", "Navn": "A"}, {"Nr": "2", "Navn": "B"}, {"Nr": "3", "Navn": "C"}], tmp_path)
    assert [w.payload["number"]["value"] for w in works] == ["10001", "10002", "0"]


@pytest.mark.parametrize(("expression", "row", "want"), [
    ("Pris * Antall", {"Pris": "0,1", "Antall": "3"}, "0.3"),  # decimals, exact: no 0.30000000000000004
    ("Pris * 2 + 1", {"Pris": "1 000,25"}, "2001.50"),  # the map's decimal comma, thousands spaced
    ("(Pris + 1) * 2 - Pris / 4", {"Pris": "2"}, "5.5"),
    ("-Pris", {"Pris": "(500,00)"}, "500.00"),  # an accounting negative
    ("Pris * Antall", {"Pris": "5", "Antall": " "}, None),  # empty in, empty out
    ("round(Pris / 3, 2)", {"Pris": "10"}, "3.33"),
    ("round(Pris, 0)", {"Pris": "2,5"}, "3"),  # half up, as invoices round
    ('concat(A, "-", B)', {"A": "x", "B": ""}, "x-"),
    ('join(", ", A, B, C)', {"A": " x ", "B": "", "C": "z"}, "x, z"),
    ("A & B", {"A": "1", "B": "2"}, "12"),
    ('if(Type = "b", "Bedrift", "Privat")', {"Type": " B "}, "Bedrift"),  # text compared as a person reads it
    ('if(Type != "B" and not empty(A), A, "-")', {"Type": "P", "A": ""}, "-"),
    ("if(Pris > 100 or Pris < 0, \"stor\", \"liten\")", {"Pris": "150"}, "stor"),
    ("if(Antall = 2, \"to\", \"annet\")", {"Antall": "2,0"}, "to"),  # numbers compared as numbers
    ("date(D) + 30", {"D": "31.01.2024"}, "2024-03-01"),
    ("date(D) - 1", {"D": "01.03.2024"}, "2024-02-29"),
    ("date(D) - date(E)", {"D": "01.03.2024", "E": "01.02.2024"}, "29"),
    ('date(D, "%Y%m%d") + N', {"D": "20241231", "N": "1"}, "2025-01-01"),
    ("if(date(D) < date(E), D, E)", {"D": "01.03.2024", "E": "01.02.2024"}, "01.02.2024"),
    ("trim([Adresse 1])", {"Adresse 1": "  Gate 1 "}, "Gate 1"),
])
def test_expressions_work_out_values(expression, row, want):
    got = computed(expression, row, extra='[formats]\ndecimal_comma = true\ndate_format = "%d.%m.%Y"')
    assert got == want


@pytest.mark.parametrize(("expression", "row", "error"), [
    ("Pris * 2", {"Pris": "12x"}, "Pris: '12x' is not a number"),
    ("Pris * 2", {"Pris": "1,5"}, "Pris: '1,5' is not a number written with a decimal point"),
    ("Pris / Antall", {"Pris": "1", "Antall": "0"}, "Antall: division by zero ('0')"),
    ("date(D) + N", {"D": "2024-01-01", "N": "1.5"}, "N: '1.5' is not a whole number of days"),
    ("date(D) + 1", {"D": "1.1.24"}, "D: '1.1.24' is not a date the API takes"),
    ("date(D) + date(D)", {"D": "2024-01-01"}, "accountReference: two dates cannot be added"),
])
def test_a_value_an_expression_cannot_use_makes_the_record_invalid_naming_the_column(expression, row, error):
    got = computed(expression, row)
    assert isinstance(got, str) and got.startswith(error)
    assert got.endswith("([computed] accountReference in m.toml)")
    assert "pass --" not in got  # the map's own switch is named instead


def test_typed_results_become_the_columns_api_values():
    assert computed("Grense * 1000", {"Grense": "2.5"}, column="creditLimit") == 2500.0
    assert computed('if(A = "x", 1, 0)', {"A": "x"}, column="creditDaysPastDue") == 1
    assert computed('if(A = "x", "OnHold", "Active")', {"A": "X"}, column="status") == "OnHold"
    got = computed("A & B", {"A": "On", "B": "Off"}, column="status")
    assert isinstance(got, str) and got.startswith("status: 'OnOff' is not one of Active, OnHold")


def test_columns_an_expression_reads_are_used_and_a_mapped_target_clashes():
    works = mapped('entity = "customer"\n[computed]\nname = \'join(" ", Fornavn, Etternavn)\'\n',
                   [{"number": "1", "Fornavn": "Kari", "Etternavn": "Nordmann"}])
    assert works[0].payload["name"] == {"value": "Kari Nordmann"}  # neither column is "unmapped"
    with pytest.raises(MapError, match="computed.name: source column 'Navn' maps to 'name' too"):
        parse_map('entity = "customer"\n[columns]\nNavn = "name"\n[computed]\nname = \'Fornavn\'\n'
                  ).bind(["number", "Navn", "Fornavn"])
    with pytest.raises(MapError, match="computed.name: is a constant too"):
        parse_map('entity = "customer"\n[constants]\nname = "X"\n[computed]\nname = \'Fornavn\'\n')


def test_ndjson_records_lacking_a_column_an_expression_reads_are_invalid():
    m = parse_map('entity = "customer"\n[computed]\nname = \'join(" ", Fornavn, Etternavn)\'\n', path="m.toml")
    bound = m.bind(None)
    good = bound.map_record(SourceRecord(1, {"number": "1", "Fornavn": "Kari", "Etternavn": "N"}))
    bad = bound.map_record(SourceRecord(2, {"number": "2", "Fornavn": "Ola"}))
    assert good.error is None and good.data["name"] == "Kari N"
    assert bad.error is not None and bad.error.startswith("computed.name: the input has no column 'Etternavn'")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab1 ."\'[]()&+-*/=<>!,_ø\\')) | st.characters(), max_size=40))
def test_any_text_parses_or_is_refused_with_a_place_in_it(text):
    try:
        parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.pos <= len(text)


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(ExprSyntaxError, match="nested too deeply"):
        parse("(" * 150 + "1" + ")" * 150)
    assert parse("-" * 50 + "1") is not None
    with pytest.raises(ExprSyntaxError, match="more than 400"):
        parse(" + ".join(["a"] * 5000))
    tree = parse(" + ".join(["a"] * 200))
    assert computed(" & ".join(["A"] * 150), {"A": "x"}) == "x" * 150 and tree is not None


def test_columns_tells_how_a_map_computes_a_column_without_breaking_one_column_a_line(capsys):
    assert columns_command(argparse.Namespace(entity="customer", company=None, format="text")) == 0
    out, err = capsys.readouterr()
    assert "[computed]" in err and "lookup(" in err and "[computed]" not in out
    assert any(line.startswith("creditLimit ") for line in out.splitlines())
