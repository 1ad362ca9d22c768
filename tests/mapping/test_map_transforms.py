"""Maps that name their entity, unknown columns listed at once, period formats and rewrites."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import importer
from importer.errors import ConfigError
from importer.mapping import RecordMapper
from importer.mapping.header import UnknownColumnsError
from importer.mapping.mapfile import ColumnMap, MapError, parse_map, resolve_entity
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, final_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

INVOICE_MAP = r"""
    entity = "invoice"
    [columns]
    Nr = "referenceNumber"
    Kunde = "customerNumber"
    Dato = "documentDate"
    Periode = "financialPeriod"
    Bokf = "postPeriod"
    Konto = "line.accountNumber"
    Antall = "line.quantity"
    Pris = "line.unitPriceInCurrency"
    [formats]
    financialPeriod = { format = "M.YYYY" }
    postPeriod = { format = "MM.YYYY" }
    "line.accountNumber" = { rewrite = { pattern = '^(\d{4})-(\d{3})$', to = '\1\2' } }
"""
INVOICES = (
    "Nr;Kunde;Dato;Periode;Bokf;Konto;Antall;Pris\n"
    "5001;10000;2024-01-15;01.2024;02.2024;3000-100;1;100\n"
    "5002;10000;2024-01-16;1.2024;12.2024;3000-200;2;50\n"
    "5003;10000;2024-01-16;1.2024;12.2024;3000x200;2;50\n"
)


def cmap(text: str, entity: str | None = None) -> ColumnMap:
    return parse_map(textwrap.dedent(text), entity=entity, path="t.map.toml")


def problems(text: str, entity: str | None = None) -> str:
    with pytest.raises(MapError) as info:
        cmap(text, entity)
    return str(info.value)


def mapped(m: ColumnMap, rows: list[dict[str, str]]) -> list:
    """The works a run makes of these CSV rows, through the map and a RecordMapper."""
    bound = m.bind(list(rows[0]))
    mapper = RecordMapper(m.entity, options=bound.options, columns=bound.columns, check_required=False)
    return list(mapper.works(bound.map_records(SourceRecord(i, r) for i, r in enumerate(rows, 1))))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


# -- period formats -------------------------------------------------------------------------


def test_a_period_layout_becomes_each_columns_api_shape():
    m = cmap('entity = "invoice"\n[formats]\nfinancialPeriod = { format = "MM.YYYY" }\n'
             'postPeriod = { format = "MM.YYYY" }\n')
    [work] = mapped(m, [{"referenceNumber": "1", "financialPeriod": "01.2024", "postPeriod": " 03.2025 "}])
    assert work.error is None
    assert work.payload["financialPeriod"] == {"value": "202401"}  # YYYYMM
    assert work.payload["postPeriod"] == {"value": "032025"}  # MMYYYY


@pytest.mark.parametrize(("layout", "value", "api"), [
    ("YYYY-MM", "2024-07", "202407"), ("M/YYYY", "7/2024", "202407"), ("YYYY/M", "2024/3", "202403"),
    ("MMYYYY", "072024", "202407"), ("YYYY.M", "2024.11", "202411"),
])
def test_period_layouts_read_their_own_shape(layout, value, api):
    m = cmap(f'entity = "invoice"\n[formats]\nfinancialPeriod = {{ format = "{layout}" }}\n')
    [work] = mapped(m, [{"referenceNumber": "1", "financialPeriod": value}])
    assert work.payload["financialPeriod"] == {"value": api}


def test_a_value_outside_the_period_layout_is_an_invalid_record_naming_column_and_reason():
    m = cmap(INVOICE_MAP)
    base = {"Nr": "1", "Kunde": "10000", "Dato": "2024-01-01", "Periode": "1.2024", "Konto": "3000-100",
            "Antall": "1", "Pris": "1"}
    bad_month, wrong_shape = mapped(m, [{**base, "Bokf": "13.2024"}, {**base, "Nr": "2", "Bokf": "2024-01"}])
    assert bad_month.error == ("record 1: Bokf: '13.2024' is not a period in the format MM.YYYY: "
                               "month 13 is not 1-12 (mapped to postPeriod)")
    assert wrong_shape.error == "record 2: Bokf: '2024-01' is not a period in the format MM.YYYY (mapped to postPeriod)"


def test_bad_period_layouts_are_reported_when_loading():
    text = problems("""
        entity = "invoice"
        [formats]
        financialPeriod = { format = "MM.YY" }
        postPeriod = { format = "DD.MM.YYYY" }
        documentDate = { format = "MM.YYYY" }
        invoiceText = { format = "MM.YYYY" }
        "line.quantity" = { format = "YYYY" }
    """)
    assert "5 problems" in text
    assert "formats.financialPeriod.format: 'YY' in 'MM.YY' is not part of a period layout: write the year as YYYY" in text
    assert "formats.postPeriod.format: 'DD' in 'DD.MM.YYYY' is not part of a period layout" in text
    assert "formats.documentDate: format (a period layout) applies to period columns such as postPeriod; " \
           "for documentDate use date_format" in text
    assert "for invoiceText use rewrite" in text
    assert "formats.\"line.quantity\": format (a period layout) applies to period columns" in text


def test_a_period_layout_needs_year_and_month_once():
    assert "'MM.MM' needs the year (YYYY) and the month (MM or M) once each" in problems(
        'entity = "invoice"\n[formats]\nfinancialPeriod = { format = "MM.MM" }\n')


# -- rewrites -------------------------------------------------------------------------------


def test_a_rewrite_turns_a_pattern_into_its_replacement():
    m = cmap(r"""
        entity = "customer"
        [formats]
        number = { rewrite = { pattern = '^K-(?P<n>\d+)$', to = '\g<n>' } }
        corporateId = { rewrite = { pattern = '[ .-]', to = '' } }
    """)
    works = mapped(m, [{"number": "K-0042", "corporateId": "912 345.67-8"}])
    assert works[0].key == "0042"
    assert works[0].payload["corporateId"] == {"value": "912345678"}  # every match of the pattern


def test_rewrites_are_tried_in_order_and_unmatched_values_are_invalid():
    m = cmap(r"""
        entity = "customer"
        [formats]
        number = { rewrite = [{ pattern = '^KR-(\d+)$', to = 'K\1' }, { pattern = '^(\d+)$', to = 'K\1' }] }
    """)
    first, second, neither = mapped(m, [{"number": "KR-7"}, {"number": "8"}, {"number": "X9"}])
    assert (first.key, second.key) == ("K7", "K8") and neither.records == [3]
    assert neither.error == (
        r"number: 'X9' does not match the pattern '^KR-(\d+)$' or '^(\d+)$'; fix the value, "
        'add a pattern under [formats] number in t.map.toml, or set unmatched = "keep" there'
    )


def test_unmatched_keep_passes_other_values_through():
    m = cmap(r"""
        entity = "customer"
        [formats]
        name = { rewrite = { pattern = '^(.*), (AS|ASA)$', to = '\1 \2' }, unmatched = "keep" }
    """)
    works = mapped(m, [{"number": "1", "name": "Fjordkraft, AS"}, {"number": "2", "name": "Bakeriet"}])
    assert [w.payload["name"]["value"] for w in works] == ["Fjordkraft AS", "Bakeriet"]


def test_a_rewrite_applies_before_the_value_map_and_the_columns_checks():
    m = cmap(r"""
        entity = "customer"
        [formats]
        "mainAddress.countryId" = { rewrite = { pattern = '^(\w+) \(.*\)$', to = '\1' } }
        creditLimit = { rewrite = { pattern = '^NOK ', to = '' }, decimal_comma = true }
        [values."mainAddress.countryId"]
        Norge = "NO"
    """)
    good, bad = mapped(m, [{"number": "1", "mainAddress.countryId": "Norge (NO)", "creditLimit": "NOK 1 250,50"},
                           {"number": "2", "mainAddress.countryId": "Sverige (SE)", "creditLimit": "5"}])
    assert good.payload["mainAddress"]["value"]["countryId"] == {"value": "NO"}
    assert good.payload["creditLimit"] == {"value": 1250.5}
    # the value map sees the rewritten value, and refuses one it does not list
    assert bad.records == [2]
    assert bad.error.startswith("mainAddress.countryId: 'Sverige' is not in the value map")


def test_bad_rewrites_are_reported_when_loading():
    text = problems(r"""
        entity = "customer"
        [formats]
        number = { rewrite = { pattern = '^(\d+$', to = '\1' } }
        name = { rewrite = { pattern = '^(\d+)$', to = '\2' } }
        corporateId = { rewrite = { pattern = 'x' } }
        "mainAddress.city" = { rewrite = [] }
        "mainAddress.postalCode" = { rewrite = { pattern = 'x', to = 'y' }, unmatched = "drop" }
        "mainAddress.addressLine1" = { unmatched = "keep" }
        "mainAddress.addressLine2" = { rewrite = { pattern = '(?P<a>x)', to = '\g<b>' } }
    """)
    assert "7 problems" in text
    assert "formats.number.rewrite.pattern: not a regular expression: missing ), unterminated subpattern" in text
    assert r"formats.name.rewrite.to: '\2' cannot replace a match of '^(\d+)$': invalid group reference 2" in text
    assert "formats.corporateId.rewrite: expected { pattern" in text and "got a table with pattern" in text
    assert "formats.\"mainAddress.city\".rewrite: expected" in text and "got an empty list" in text
    assert "formats.\"mainAddress.postalCode\".unmatched: expected \"error\" or \"keep\", got 'drop'" in text
    assert "formats.\"mainAddress.addressLine1\".unmatched: says what to do with values no rewrite matches" in text
    assert "formats.\"mainAddress.addressLine2\".rewrite.to:" in text and "unknown group name 'b'" in text


def test_transforms_are_compiled_once_per_map(monkeypatch):
    """The per-record path calls compiled patterns only: re.compile is not called per record."""
    import re

    rows = [{"Nr": str(i), "Kunde": "1", "Dato": "2024-01-01", "Periode": "1.2024", "Bokf": "01.2024",
             "Konto": "3000-100", "Antall": "1", "Pris": "1"} for i in range(200)]
    bound = cmap(INVOICE_MAP).bind(list(rows[0]))
    mapper = RecordMapper(bound.entity, options=bound.options, columns=bound.columns, check_required=False)
    calls: list[str] = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(re, "sub", lambda *a, **k: calls.append(a[0]) or real(a[0]).sub(*a[1:], **k))
    works = list(mapper.works(bound.map_records(SourceRecord(i, r) for i, r in enumerate(rows, 1))))
    assert len(works) == 200 and all(w.error is None for w in works)
    assert works[-1].payload["invoiceLines"][0]["accountNumber"] == {"value": "3000100"}
    assert calls == []


async def test_period_formats_and_rewrites_reach_the_ledger(start_sandbox, tmp_path):
    # No company: the accounts the rewrite makes (3000100) are no demo company's; the point is the rewrite.
    async with start_sandbox(company=None) as sandbox:
        await importer.import_records([{"number": "10000", "name": "Kunde"}], entity="customer",
                                      base_url=sandbox.url, token=TOKEN)
        source = tmp_path / "fakturaer.csv"
        source.write_text(INVOICES, encoding="utf-8")
        summary = await importer.import_records(  # no entity: the map names it
            str(source), map=write(tmp_path, "f.map.toml", INVOICE_MAP), base_url=sandbox.url, token=TOKEN,
        )
        assert summary.entity == "invoice"
        assert (summary.outcomes["created"], summary.outcomes["invalid"]) == (2, 1)
        stored = sandbox.sandbox.store.records["invoice"]
        got = {k: (r["financialPeriod"], r["postPeriod"], r["invoiceLines"][0]["accountNumber"]) for k, r in stored.items()}
        assert got == {"5001": ("202401", "022024", "3000100"), "5002": ("202401", "122024", "3000200")}
        [invalid] = [line for line in final_lines(f"{source}.results.ndjson") if line["outcome"] == "invalid"]
        assert invalid["records"] == [3]
        assert invalid["error"].startswith("record 3: Konto: '3000x200' does not match the pattern")
        assert '[formats] "line.accountNumber" in f.map.toml' in invalid["error"]


# -- the entity a map names -----------------------------------------------------------------


def test_resolve_entity_takes_the_maps_and_refuses_a_contradiction(tmp_path):
    named = write(tmp_path, "named.map.toml", 'entity = "invoice"\n')
    unnamed = write(tmp_path, "unnamed.map.toml", '[columns]\nNr = "number"\n')
    assert resolve_entity(None, named) == "invoice"
    assert resolve_entity("invoice", named) == "invoice"
    assert resolve_entity("customer", unnamed) == "customer"
    with pytest.raises(MapError, match="the map is for 'invoice', but the run imports 'customer'"):
        resolve_entity("customer", named)
    with pytest.raises(MapError, match="entity: not set"):
        resolve_entity(None, unnamed)
    with pytest.raises(ConfigError, match="--entity is required"):
        resolve_entity(None, None)


async def test_run_takes_the_entity_from_the_map(tmp_path):
    source = write(tmp_path, "kunder.csv", "Kundenr;Navn\n1;Fjordkraft AS\n2;Bakeriet\n")
    mapfile = write(tmp_path, "kunder.map.toml", '[columns]\nKundenr = "number"\nNavn = "name"\n')
    code, _, err = await run_cli("run", source, "--map", mapfile, "--sandbox")
    assert code == 2 and "entity: not set" in err and "Traceback" not in err  # the map does not say yet
    Path(mapfile).write_text('entity = "customer"\n[columns]\nKundenr = "number"\nNavn = "name"\n')
    code, out, err = await run_cli("run", source, "--map", mapfile, "--sandbox", "--restart")
    assert code == 0, err
    assert [line["outcome"] for line in final_lines(f"{source}.results.ndjson")] == ["created", "created"]
    code, _, err = await run_cli("run", source, "--map", mapfile, "--entity", "invoice", "--sandbox")
    assert code == 2 and "Traceback" not in err
    assert ("the map is for 'customer', but the run imports 'invoice' (--entity invoice); "
            "use a map for invoice, or --entity customer") in err
    code, _, err = await run_cli("run", source, "--sandbox")
    assert code == 2 and "--entity is required (or a --map whose file names its entity" in err


# -- unknown columns, all at once -----------------------------------------------------------


async def test_unknown_columns_without_a_map_are_listed_at_once(sandbox, tmp_path):
    source = write(tmp_path, "kunder.csv", "number,Navn,name,Fax,creditLimt\n1,A,B,C,5\n")
    with pytest.raises(UnknownColumnsError) as info:
        await importer.import_records(source, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert info.value.columns == ["Navn", "Fax", "creditLimt"]
    assert info.value.suggestions == {"creditLimt": "creditLimit"}
    assert sandbox.sandbox.store.records["customer"] == {}  # nothing sent
    assert not (tmp_path / "kunder.csv.results.ndjson").exists()


async def test_unknown_columns_and_bad_bindings_come_in_one_error(sandbox, tmp_path):
    source = write(tmp_path, "kunder.csv", "Kundenr,Navn,Fax,Epost\n1,A,C,a@b.no\n")
    mapfile = write(tmp_path, "k.map.toml", """
        entity = "customer"
        [columns]
        Kundenr = "numbr"
        Navn = "name"
        Epost = "mainContact.emial"
    """)
    with pytest.raises(MapError) as info:
        await importer.import_records(source, map=mapfile, base_url=sandbox.url, token=TOKEN)
    found = info.value.problems
    assert len(found) == 3
    assert found[0] == "columns.Kundenr: 'numbr' is not a column of customer; did you mean 'number'?"
    assert found[1].startswith("columns.Epost: 'mainContact.emial' is not a column of customer")
    assert found[2].startswith("source column 'Fax' is not mapped")
    assert "importer map init INPUT --entity customer" in str(info.value)


async def test_the_cli_lists_every_unknown_column_with_the_way_out(tmp_path):
    source = write(tmp_path, "kunder.csv", "Kundenr;Navn;name;Adresse\n1;A;B;C\n")
    code, out, err = await run_cli("run", source, "--entity", "customer", "--sandbox")
    assert code == 2 and "Traceback" not in err and out == ""
    assert f"{source}: 3 columns are not columns of customer:\n  'Kundenr'\n  'Navn'\n  'Adresse'\n" in err
    assert "--map FILE.toml" in err and f"`importer map init {source} --entity customer`" in err
    assert not (tmp_path / "kunder.csv.results.ndjson").exists()


async def test_verify_and_export_take_the_entity_from_the_map(sandbox, tmp_path):
    source = write(tmp_path, "kunder.csv", "Kundenr;Navn\n1;Fjordkraft AS\n")
    mapfile = write(tmp_path, "kunder.map.toml", 'entity = "customer"\n[columns]\nKundenr = "number"\nNavn = "name"\n')
    assert (await importer.import_records(source, map=mapfile, base_url=sandbox.url, token=TOKEN)).ok
    connection = ("--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli("verify", source, "--map", mapfile, *connection)
    assert code == 0, err
    exported = tmp_path / "back.csv"
    code, out, err = await run_cli("export", "--map", mapfile, "-o", str(exported), *connection)
    assert code == 0, err
    assert exported.read_text(encoding="utf-8").splitlines()[:2] == ["Kundenr,Navn", "1,Fjordkraft AS"]


def test_one_public_table_of_period_layouts_serves_the_coercer_the_columns_and_the_maps():
    from importer.entities import ENTITIES
    from importer.mapping import coerce
    from importer.mapping.binding import period_layout
    from importer.mapping.columns import describe_columns

    assert "PERIOD_LAYOUTS" in coerce.__all__
    assert coerce.PERIOD_LAYOUTS == {"financialPeriod": "YYYYMM", "postPeriod": "MMYYYY"}
    invoice = ENTITIES["invoice"]
    shown = {c.name: c.format for c in describe_columns(invoice) if c.name in coerce.PERIOD_LAYOUTS}
    assert shown == coerce.PERIOD_LAYOUTS  # `importer columns` tells the layout the coercer checks
    assert {name: period_layout(invoice, name) for name in coerce.PERIOD_LAYOUTS} == coerce.PERIOD_LAYOUTS
    assert period_layout(invoice, "documentDate") is None


def test_a_record_the_map_cannot_read_keeps_its_key_in_the_results():
    from importer.entities import ENTITIES
    from importer.mapping import CoerceOptions

    cmap = parse_map('entity = "customer"\n[columns]\nNr = "number"\nNavn = "name"\nKreditt = "creditLimit"\n')
    bound = cmap.bind(["Nr", "Navn", "Kreditt"], CoerceOptions())
    mapper = RecordMapper(ENTITIES["customer"], options=bound.options, columns=bound.columns)
    bad = bound.map_record(SourceRecord(1, {"Nr": "20001", "Navn": "Fjell AS", "Kreditt": "mye"}))
    [work] = mapper.works([bad])
    assert work.payload is None and "Kreditt" in work.error
    assert work.key == "20001"  # so a plan holds this customer's documents back, naming it
