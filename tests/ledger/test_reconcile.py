"""reconcile: control totals of a file against the sandbox's ledger, after an import with known totals.

Every expected figure below is worked out by hand from the files, so a change in how the
amounts are computed (rounding, discounts, manual amounts, VAT) or matched shows here.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.entities import entity
from importer.errors import ConfigError, RecordError
from importer.ledger.amounts import document_amount, line_amount
from importer.ledger.reconcile import Reconciliation, reconcile_totals
from importer.ledger.sign_off import CSV_COLUMNS, write_csv
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

CUSTOMERS = """\
number,name,currencyId,creditLimit
10000,Fjord AS,NOK,50000.50
10001,Ærlig Rørlegger,NOK,25000
10002,Berlin GmbH,EUR,12000.25
"""

# INV-1  NOK 10000: 500 × 12.5 = 6250.00; 3 × 3.333 = 9.999 -> 10.00             = 6260.00
# INV-2  NOK 10001: 7.5 × 950 less 10 % = 6412.50; 2340.80 less 40.80 = 2300.00   = 8712.50
# INV-3  EUR 10002: 120 × 39.9 = 4788.00; manual 99.99 (not 1 × 500)              = 4887.99
# INV-4  EUR 10000: 2 × 1000 less 2.5 % = 1950.00                                  = 1950.00
# K-1    NOK 10001, auto-numbered: 1 × 0.125 -> 0.13 (half up); 10 × 15 = 150.00  = 150.13
INVOICES = """\
referenceNumber,documentKey,customerNumber,currencyId,line.description,line.quantity,line.unitPriceInCurrency,line.discountPercent,line.discountAmountInCurrency,line.manualAmountInCurrency
INV-1,,10000,NOK,Poteter,500,12.5,,,
INV-1,,10000,NOK,Løk,3,3.333,,,
INV-2,,10001,NOK,Arbeid,7.5,950,10,,
INV-2,,10001,NOK,Rør,1,2340.80,,40.80,
INV-3,,10002,EUR,Syltetøy,120,39.9,,,
INV-3,,10002,EUR,Frakt,1,500,,,99.99
INV-4,,10000,EUR,Lisens,2,1000,2.5,,
,K-1,10001,NOK,Skruer,1,0.125,,,
,K-1,10001,NOK,Muttere,10,15,,,
"""

# (currency, customer) -> count in the file, in the ledger, sum in the file, in the ledger
AGREED = {
    ("EUR", "10000"): (1, 1, "1950.00", "1950.00"),
    ("EUR", "10002"): (1, 1, "4887.99", "4887.99"),
    ("NOK", "10000"): (1, 1, "6260.00", "6260.00"),
    ("NOK", "10001"): (2, 2, "8862.63", "8862.63"),
}
AGREED_TOTALS = {"EUR": (2, 2, "6837.99", "6837.99"), "NOK": (3, 3, "15122.63", "15122.63")}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def _import(sb, path: Path, name: str, **options) -> None:
    done = await importer.import_records(path, entity=name, base_url=sb.url, token=TOKEN, **options)
    assert done.ok, done.to_dict()


async def _load(sb, tmp_path: Path) -> Path:
    """Customers and invoices into the sandbox; the invoice file's path."""
    await _import(sb, _write(tmp_path / "customers.csv", CUSTOMERS), "customer")
    invoices = _write(tmp_path / "invoices.csv", INVOICES)
    await _import(sb, invoices, "invoice")
    return invoices


async def _reconcile(sb, path: Path, name: str, **kwargs) -> Reconciliation:
    async with ApiClient(sb.url, StaticToken(TOKEN)) as client:
        return await reconcile_totals(client, path, name, **kwargs)


def _figures(result: Reconciliation) -> dict[tuple[str, str], tuple[int, int, str, str]]:
    return {(c, k): (f.count_file, f.count_ledger, str(f.sum_file.quantize(Decimal("0.01"))),
                     str(f.sum_ledger.quantize(Decimal("0.01"))))
            for c, k, f in result.sorted_rows()}


def _totals(result: Reconciliation) -> dict[str, tuple[int, int, str, str]]:
    return {c: (f.count_file, f.count_ledger, str(f.sum_file.quantize(Decimal("0.01"))),
                str(f.sum_ledger.quantize(Decimal("0.01"))))
            for c, f in result.totals().items()}


# -- amounts, as the ledger works them out --------------------------------------------------


def test_line_amounts_follow_the_ledger_rules() -> None:
    wrap = lambda **kw: {k: {"value": v} for k, v in kw.items()}  # noqa: E731 - the payload's shape
    assert line_amount(wrap(quantity=3, unitPriceInCurrency=3.333)) == Decimal("10.00")
    assert line_amount(wrap(quantity=1, unitPriceInCurrency=0.125)) == Decimal("0.13")  # half up, not even
    assert line_amount(wrap(quantity=7.5, unitPriceInCurrency=950, discountPercent=10)) == Decimal("6412.50")
    # the discount amount wins over the percent, and a manual amount over both
    assert line_amount(wrap(quantity=2, unitPriceInCurrency=100, discountPercent=50,
                            discountAmountInCurrency=10)) == Decimal("190.00")
    assert line_amount(wrap(quantity=2, unitPriceInCurrency=100, manualAmountInCurrency=12.345)) == Decimal("12.35")
    assert line_amount(wrap(unitPriceInCurrency=100)) == Decimal("0.00")  # no quantity: 0, as the ledger takes it
    with pytest.raises(RecordError, match=r"line\.quantity: 'ten' is not a number"):
        line_amount({"quantity": {"value": "ten"}})


def test_vat_counts_only_where_the_file_carries_it() -> None:
    invoice = entity("invoice")
    lines = [{"quantity": {"value": 2}, "unitPriceInCurrency": {"value": 50}}]
    assert document_amount(invoice, {"invoiceLines": lines}) == Decimal("100.00")
    taxed = {"invoiceLines": lines, "taxDetailLines": [{"taxId": {"value": "3"}, "vatAmount": {"value": 25}}]}
    assert document_amount(invoice, taxed) == Decimal("125.00")
    # credit notes call the same array taxDetails
    note = {"lines": lines, "taxDetails": [{"vatAmount": {"value": 12.5}}]}
    assert document_amount(entity("credit-note"), note) == Decimal("112.50")


# -- against the sandbox --------------------------------------------------------------------


async def test_figures_agree_after_an_import(sandbox, tmp_path: Path) -> None:
    invoices = await _load(sandbox, tmp_path)
    before = sandbox.sandbox.stats.requests
    result = await _reconcile(sandbox, invoices, "invoice")
    assert _figures(result) == AGREED
    assert _totals(result) == AGREED_TOTALS
    assert result.ok and result.exit_code == 0, result.to_dict()
    assert result.records == 9 and result.missing == [] and result.invalid_count == 0
    # one listing, paged: 1 page with metadata, and at most one more (empty) page without
    assert 1 <= result.calls <= 2
    assert sandbox.sandbox.stats.requests - before == result.calls  # the sandbox saw no GET by key


async def test_a_changed_document_shows_its_difference(sandbox, tmp_path: Path) -> None:
    invoices = await _load(sandbox, tmp_path)
    # INV-2's first line: 8 instead of 7.5 hours, still less 10 %: 6840.00, 427.50 more
    change = _write(tmp_path / "change.csv",  # states its operation: line 2 stays as it is
                    "referenceNumber,line.operation,line.lineNumber,line.quantity\nINV-2,Update,1,8\n")
    await _import(sandbox, change, "invoice", mode="update")
    result = await _reconcile(sandbox, invoices, "invoice")
    figures = _figures(result)
    assert figures[("NOK", "10001")] == (2, 2, "8862.63", "9290.13")
    assert result.rows[("NOK", "10001")].difference == Decimal("427.50")
    assert not result.rows[("NOK", "10001")].agrees
    assert {k: v for k, v in figures.items() if k != ("NOK", "10001")} == {
        k: v for k, v in AGREED.items() if k != ("NOK", "10001")}
    nok = result.totals()["NOK"]
    assert (nok.count_file, nok.count_ledger, nok.difference) == (3, 3, Decimal("427.50"))
    assert result.totals()["EUR"].agrees
    assert result.exit_code == 1


async def test_documents_missing_from_the_ledger_count_with_their_amount(sandbox, tmp_path: Path) -> None:
    await _load(sandbox, tmp_path)
    # The same file with one keyed and one auto-numbered document more, never imported. It lies
    # elsewhere; the import's results file tells the externalReference K-1 was given.
    later = INVOICES + "INV-5,,10002,EUR,Kurs,1,300,,,\n,K-2,10000,NOK,Bolter,2,25,,,\n"
    result = await _reconcile(sandbox, _write(tmp_path / "later" / "invoices.csv", later), "invoice",
                              results=tmp_path / "invoices.csv.results.ndjson")
    figures = _figures(result)
    assert figures[("EUR", "10002")] == (2, 1, "5187.99", "4887.99")
    assert figures[("NOK", "10000")] == (2, 1, "6310.00", "6260.00")
    assert figures[("NOK", "10001")] == AGREED[("NOK", "10001")]  # K-1 found by its reference
    assert result.rows[("EUR", "10002")].missing == 1
    assert result.rows[("EUR", "10002")].difference == Decimal("-300.00")
    assert result.rows[("NOK", "10000")].difference == Decimal("-50.00")
    assert sorted((m["key"], m["amount"]) for m in result.missing) == [
        ("INV-5", "300.00"), ("invoices:K-2", "50.00")]
    assert result.totals()["EUR"].missing_sum == Decimal("300.00")
    assert result.exit_code == 1


async def test_a_document_booked_to_another_customer_shows_on_both_rows(sandbox, tmp_path: Path) -> None:
    await _load(sandbox, tmp_path)
    # The file says INV-4 is 10002's; the ledger holds it as 10000's.
    moved = INVOICES.replace("INV-4,,10000,EUR", "INV-4,,10002,EUR")
    result = await _reconcile(sandbox, _write(tmp_path / "m" / "invoices.csv", moved), "invoice")
    figures = _figures(result)
    assert figures[("EUR", "10000")] == (0, 1, "0.00", "1950.00")
    assert figures[("EUR", "10002")] == (2, 1, "6837.99", "4887.99")
    assert result.totals()["EUR"].agrees  # the currency's total cannot see it; the rows do
    assert result.exit_code == 1


async def test_an_auto_numbered_document_booked_twice_is_counted_twice(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(max_page_size=1) as sb:  # one document a page: the twin comes later
        await _import(sb, _write(tmp_path / "customers.csv", CUSTOMERS), "customer")
        header, *rows = INVOICES.splitlines()
        # K-1 alone, with an externalReference of the file's own; its results go elsewhere, so the
        # reconciliation matches it by that reference, as it would a file imported by another tool
        keyless = _write(tmp_path / "keyless.csv", "\n".join(
            [header + ",externalReference", *(row + ",ORDER-77" for row in rows[-2:])]) + "\n")
        results = tmp_path / "elsewhere.ndjson"
        await _import(sb, keyless, "invoice", results=str(results))
        result = await _reconcile(sb, keyless, "invoice")
        assert _figures(result) == {("NOK", "10001"): (1, 1, "150.13", "150.13")} and result.ok
        await _import(sb, keyless, "invoice", results=str(results), restart=True)  # starts over: books it again
        result = await _reconcile(sb, keyless, "invoice")
        assert _figures(result) == {("NOK", "10001"): (1, 2, "150.13", "300.26")}
        assert len(result.problems) == 1 and "ORDER-77" in result.problems[0]
        assert result.exit_code == 1


async def test_documents_are_matched_by_the_key_the_ledger_gave_them(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox() as sb:
        await _import(sb, _write(tmp_path / "customers.csv", CUSTOMERS), "customer")
        header, *rows = INVOICES.splitlines()
        keyless = _write(tmp_path / "keyless.csv", "\n".join([header, *rows[-2:]]) + "\n")  # K-1 alone
        await _import(sb, keyless, "invoice")
        # a second import of the same file elsewhere books another document with a reference of its own
        again = _write(tmp_path / "next" / "keyless.csv", keyless.read_text(encoding="utf-8"))
        await _import(sb, again, "invoice")
        for path in (keyless, again):  # each file's results name its own document: no twin, no mix-up
            result = await _reconcile(sb, path, "invoice")
            assert _figures(result) == {("NOK", "10001"): (1, 1, "150.13", "150.13")} and result.ok
        keys = {final_lines(Path(f"{p}.results.ndjson"))[0]["key"] for p in (keyless, again)}
        assert len(keys) == 2  # two documents in the ledger, one per import


async def test_the_listing_stops_once_every_key_is_found(start_sandbox, tmp_path: Path) -> None:
    async with start_sandbox(max_page_size=1) as sb:
        await _load(sb, tmp_path)
        header, *rows = INVOICES.splitlines()
        first = _write(tmp_path / "first.csv", "\n".join([header, *rows[:2]]) + "\n")  # INV-1, listed first
        result = await _reconcile(sb, first, "invoice")
        assert _figures(result) == {("NOK", "10000"): AGREED[("NOK", "10000")]}
        assert result.calls == 1  # not the five pages the ledger has


async def test_customers_credit_limits(sandbox, tmp_path: Path) -> None:
    customers = _write(tmp_path / "customers.csv", CUSTOMERS)
    await _import(sandbox, customers, "customer")
    result = await _reconcile(sandbox, customers, "customer")
    assert _figures(result) == {("EUR", ""): (1, 1, "12000.25", "12000.25"),
                                ("NOK", ""): (2, 2, "75000.50", "75000.50")}
    assert result.exit_code == 0
    raised = _write(tmp_path / "raise.csv", "number,creditLimit\n10001,30000\n")
    await _import(sandbox, raised, "customer", mode="update")
    result = await _reconcile(sandbox, customers, "customer")
    assert _figures(result)[("NOK", "")] == (2, 2, "75000.50", "80000.50")
    assert result.rows[("NOK", "")].difference == Decimal("5000.00")
    assert result.rows[("EUR", "")].agrees and result.exit_code == 1


async def test_csv_has_a_row_per_currency_and_customer_and_the_totals(sandbox, tmp_path: Path) -> None:
    invoices = await _load(sandbox, tmp_path)
    change = _write(tmp_path / "change.csv",  # states its operation: line 2 stays as it is
                    "referenceNumber,line.operation,line.lineNumber,line.quantity\nINV-2,Update,1,8\n")
    await _import(sandbox, change, "invoice", mode="update")
    out = tmp_path / "totals.csv"
    write_csv(await _reconcile(sandbox, invoices, "invoice"), out)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with open(out, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == list(CSV_COLUMNS)
        rows = [row[1:] for row in reader if row[0] == "invoice"]
    assert rows == [
        ["customer", "EUR", "10000", "1", "1", "0", "1950.00", "1950.00", "0.00", "true"],
        ["customer", "EUR", "10002", "1", "1", "0", "4887.99", "4887.99", "0.00", "true"],
        ["total", "EUR", "", "2", "2", "0", "6837.99", "6837.99", "0.00", "true"],
        ["customer", "NOK", "10000", "1", "1", "0", "6260.00", "6260.00", "0.00", "true"],
        ["customer", "NOK", "10001", "2", "2", "0", "8862.63", "9290.13", "427.50", "false"],
        ["total", "NOK", "", "3", "3", "0", "15122.63", "15550.13", "427.50", "false"],
    ]


async def test_a_record_that_cannot_be_read_is_named_and_fails_the_check(sandbox, tmp_path: Path) -> None:
    await _load(sandbox, tmp_path)
    bad = INVOICES + "INV-9,,10000,NOK,Feil,ti,5,,,\n"
    result = await _reconcile(sandbox, _write(tmp_path / "b" / "invoices.csv", bad), "invoice",
                              results=tmp_path / "invoices.csv.results.ndjson")
    assert _figures(result) == AGREED  # the readable ones still agree
    assert result.invalid_count == 1 and result.exit_code == 1
    error = result.invalid[0]["error"]
    assert "record 10" in error and "line.quantity" in error


async def test_dunning_letters_have_no_totals(sandbox, tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "customerNumber,levelFrom\n10000,1\n")
    with pytest.raises(ConfigError, match="actions"):
        await _reconcile(sandbox, path, "dunning-letter")


# -- the command line -----------------------------------------------------------------------


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_cli_table_csv_json_and_exit_codes(sandbox, tmp_path: Path) -> None:
    invoices = await _load(sandbox, tmp_path)
    conn = ("--base-url", sandbox.url, "--token", TOKEN)
    out = tmp_path / "totals.csv"
    code, stdout, stderr = await run_cli("reconcile", str(invoices), "-e", "invoice", "--csv", str(out), *conn)
    assert code == 0, stderr
    assert "reconcile invoice" in stdout and "15,122.63" in stdout and "the file and the ledger agree" in stdout
    assert "DIFFERS" not in stdout and TOKEN not in stdout + stderr
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("invoice,customer,EUR,10000,1,1,0,1950.00")

    change = _write(tmp_path / "change.csv",  # states its operation: line 2 stays as it is
                    "referenceNumber,line.operation,line.lineNumber,line.quantity\nINV-2,Update,1,8\n")
    await _import(sandbox, change, "invoice", mode="update")
    code, stdout, stderr = await run_cli("reconcile", str(invoices), "-e", "invoice", *conn)
    assert code == 1, stderr
    assert "DIFFERS" in stdout and "+427.50" in stdout and "DO NOT agree" in stdout
    assert "Traceback" not in stderr

    code, stdout, stderr = await run_cli("reconcile", str(invoices), "-e", "invoice", "--format", "json", *conn)
    assert code == 1, stderr
    data = json.loads(stdout)
    totals = {t["currency"]: t for t in data["totals"]}
    assert totals["NOK"]["difference"] == "427.50" and totals["EUR"]["agrees"] is True
    assert data["difference_is"] == "ledger - file" and data["exit_code"] == 1


@pytest.mark.parametrize("profile", ["standard"])  # nothing is sent: one profile tells it all
async def test_cli_refuses_before_any_call(sandbox, tmp_path: Path) -> None:
    invoices = _write(tmp_path / "invoices.csv", INVOICES)
    conn = ("--base-url", sandbox.url, "--token", TOKEN)
    before = sandbox.sandbox.stats.requests
    code, _, stderr = await run_cli("reconcile", str(invoices), "-e", "invoice", "--csv", str(invoices), *conn)
    assert code == 2 and "--csv" in stderr and "Traceback" not in stderr
    code, _, stderr = await run_cli("reconcile", str(invoices), "-e", "dunning-letter", *conn)
    assert code == 2
    code, _, stderr = await run_cli("reconcile", str(_write(tmp_path / "x.csv", "referenceNumber,colour\n1,red\n")),
                                    "-e", "invoice", *conn)
    assert code == 2 and "colour" in stderr and "Traceback" not in stderr
    assert sandbox.sandbox.stats.requests == before  # not even a list call


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_cli_takes_the_entity_from_the_map(sandbox, tmp_path: Path) -> None:
    legacy = _write(tmp_path / "kunder.csv", "Kundenr;Navn;Valuta;Kreditt\n20000;Fjell AS;NOK;1 500,50\n"
                                              "20001;Dal AB;SEK;200\n")
    cmap = _write(tmp_path / "kunder.map.toml", 'entity = "customer"\n[columns]\nKundenr = "number"\n'
                                                'Navn = "name"\nValuta = "currencyId"\nKreditt = "creditLimit"\n')
    await _import(sandbox, legacy, "customer", map=str(cmap))
    conn = ("--base-url", sandbox.url, "--token", TOKEN)
    code, stdout, stderr = await run_cli("reconcile", str(legacy), "--map", str(cmap), "--format", "json", *conn)
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["entity"] == "customer"
    assert {t["currency"]: (t["sum_file"], t["sum_ledger"]) for t in data["totals"]} == {
        "NOK": ("1500.50", "1500.50"), "SEK": ("200.00", "200.00")}
    code, _, stderr = await run_cli("reconcile", str(legacy), *conn)  # neither --entity nor a map
    assert code == 2 and "--entity is required" in stderr and "Traceback" not in stderr


async def test_a_company_that_adds_vat_still_agrees_with_a_file_without_vat(start_sandbox, tmp_path: Path) -> None:
    """The demo company adds 25 % to a class-1 customer's lines: the CSV's line totals are
    compared with the ledger's line totals (detailTotal), not with its amount after VAT."""
    from importer.company.demo import demo_company

    async with start_sandbox(company=demo_company()) as sb:
        await _import(sb, _write(tmp_path / "c.csv", "number,name,customerClassId\n20000,Moms AS,1\n"), "customer")
        invoices = _write(tmp_path / "i.csv", "referenceNumber,customerNumber,currencyId,line.description,"
                          "line.quantity,line.unitPriceInCurrency\nV-1,20000,NOK,Arbeid,4,250\n")
        await _import(sb, invoices, "invoice")
        listed = await get_json(f"{sb.url}/v1/customerinvoice")
        assert isinstance(listed, list) and len(listed) == 1
        # what the ledger holds: 1000.00 + 25 % = 1250.00
        assert (listed[0]["detailTotal"], listed[0]["vatTotal"], listed[0]["amount"]) == (1000.0, 250.0, 1250.0)
        result = await _reconcile(sb, invoices, "invoice")
        assert _totals(result) == {"NOK": (1, 1, "1000.00", "1000.00")} and result.exit_code == 0


def test_the_ledger_amount_before_and_after_vat() -> None:
    from importer.ledger.amounts import ledger_amount

    listed = {"amount": 1250.0, "detailTotal": 1000.0, "vatTotal": 250.0}
    assert ledger_amount(listed) == Decimal("1250.0")
    assert ledger_amount(listed, with_vat=False) == Decimal("1000.0")
    assert ledger_amount({"amount": 1250.0, "vatTotal": 250.0}, with_vat=False) == Decimal("1000.0")
    assert ledger_amount({"detailTotal": 1000.0, "vatTotal": 250.0}) == Decimal("1250.0")
    assert ledger_amount({"vatTotal": 250.0}, with_vat=False) is None
