"""Open sales invoices of a SAF-T file, one by one with their lines (``--saft-documents invoices``).

The files are written here (the published examples carry no SourceDocuments): open, paid
and partly paid invoices, credit notes, and a customer whose open invoices do not add up
to its closing balance. The reader and the open-items book are tested on them directly; the
rest sends them to a real sandbox, through the Python API, the CLI and a plan.
"""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from importer.api import import_records
from importer.errors import ConfigError
from importer.options import ImportOptions
from importer.saft.model import SaftInvoice, SaftProblem, SaftSettlement
from importer.saft.reader import open_saft
from importer.saft.source import SaftSettings, SaftSource
from tests.support.runs import TOKEN, final_lines, get_json, run_cli
from tests.support.saft_files import InvoiceLine, InvoiceSpec, broken, write_saft

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

D = Decimal

# K00001: one open invoice with VAT and a line kept at its quantity, one paid in full.
# K00002: one partly paid invoice and an open credit note.
# K00003: one open invoice, but a closing balance that does not match it.
OPEN = InvoiceSpec("F1", "K00001", (InvoiceLine("Widget", D(2), D("100.00"), D("50.00")),
                                    InvoiceLine("Frakt", D(3), D("26.50"))))
PAID = InvoiceSpec("F2", "K00001", (InvoiceLine("Betalt", D(1), D("40.00"), D("10.00")),), paid=D("50.00"))
PART = InvoiceSpec("F3", "K00002", (InvoiceLine("Halvt", D(4), D("25.00"), D("25.00")),), paid=D("60.00"))
CREDIT = InvoiceSpec("K1", "K00002", (InvoiceLine("Retur", D(1), D("20.00"), D("5.00")),), credit=True)
ODD = InvoiceSpec("F4", "K00003", (InvoiceLine("Skjev", D(1), D("300.00")),))
INVOICES = (OPEN, PAID, PART, CREDIT, ODD)
CLOSING = {"K00001": OPEN.owed, "K00002": PART.owed + CREDIT.owed, "K00003": ODD.owed + 1}


def _write(path: Path, version: str = "1.10", invoices: tuple[InvoiceSpec, ...] = INVOICES,
           closing: dict[str, Decimal] | None = None) -> Path:
    write_saft(path, version=version, customers=3, invoices=invoices, closing=closing or CLOSING)
    return path


def _terms(path: Path) -> str:
    path.write_text('[values.creditTermsId]\n"30" = "30"\n', encoding="utf-8")
    return str(path)


def _total(document: dict) -> Decimal:
    return sum((Decimal(str(line["quantity"])) * Decimal(str(line["unitPriceInCurrency"]))
                for line in document.get("invoiceLines") or document.get("lines") or []), Decimal(0))


def _lines(document: dict) -> list[tuple[str, Decimal, Decimal]]:
    return [(line["description"], Decimal(str(line["quantity"])), Decimal(str(line["unitPriceInCurrency"])))
            for line in document.get("invoiceLines") or document.get("lines") or []]


async def _records(sandbox, entity: str) -> dict[str, dict]:
    found = await get_json(f"{sandbox.url}/sandbox/records/{entity}")
    assert isinstance(found, list)
    return {document["externalReference"]: document for document in found}


# -- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.10", "1.30"])
def test_the_reader_gives_invoices_and_their_settlements_only_when_asked(tmp_path, version):
    path = _write(tmp_path / "docs.xml", version)
    with open_saft(path) as file:
        assert not [e for e in file.events() if isinstance(e, SaftInvoice | SaftSettlement)]
        events = list(file.events(documents=True))
    invoices = {e.invoice_no: e for e in events if isinstance(e, SaftInvoice)}
    assert sorted(invoices) == ["F1", "F2", "F3", "F4", "K1"]
    first = invoices["F1"]
    assert first.customer_id == "K00001" and first.gross == D("329.50") and str(first.invoice_date) == "2024-02-05"
    assert [(x.description, x.quantity, x.unit_price, x.amount, x.tax) for x in first.lines] == [
        ("Widget", 2, D("100.00"), D("200.00"), D("50.00")), ("Frakt", 3, D("26.50"), D("79.50"), 0)]
    assert invoices["K1"].gross == D("-25.00") and invoices["K1"].lines[0].amount == D("-20.00")
    assert invoices["K1"].lines[0].tax == D("-5.00")
    settlements = [(e.invoice_no, e.customer_id, e.amount) for e in events if isinstance(e, SaftSettlement)]
    assert settlements == [("F2", "K00001", D("50.00")), ("F3", "K00002", D("60.00"))]  # the bank lines: none


def test_an_invoice_whose_lines_miss_its_gross_total_is_a_problem_naming_it(tmp_path):
    good = _write(tmp_path / "good.xml")
    bad = broken(good, tmp_path / "bad.xml", "<GrossTotal>329.50</GrossTotal>", "<GrossTotal>331.00</GrossTotal>")
    with open_saft(bad) as file:
        problems = [e for e in file.events(documents=True) if isinstance(e, SaftProblem)]
    [problem] = problems
    assert problem.element == "Invoice/DocumentTotals/GrossTotal" and problem.customer_id == "K00001"
    assert "invoice F1" in problem.message and "329.50" in problem.message and "331.00" in problem.message
    assert problem.line > 1


def test_a_credit_note_with_a_positive_total_and_debit_lines_is_still_a_credit_note(tmp_path):
    credit = InvoiceSpec("K9", "K00001", (InvoiceLine("Retur", D(1), D("80.00")),), credit=True,
                         negative_total=False)
    path = _write(tmp_path / "positive.xml", invoices=(credit,), closing={"K00001": D("-80.00")})
    source = SaftSource(path, SaftSettings("credit-note", documents="invoices"))
    [row] = list(source)
    assert row.error is None and row.data["documentKey"] == "SI-K9"
    assert row.data["line.unitPriceInCurrency"] == "80.00" and row.data["invoiceText"] == "Credit note K9"
    assert list(SaftSource(path, SaftSettings("invoice", documents="invoices"))) == []


# -- open, paid, partly paid ----------------------------------------------------------------------


def test_rows_are_the_open_invoices_with_their_lines_and_a_line_for_the_part_paid(tmp_path):
    path = _write(tmp_path / "docs.xml")
    rows = list(SaftSource(path, SaftSettings("invoice", documents="invoices")))
    by_key: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        by_key.setdefault(row.data["documentKey"], []).append(
            (row.data["line.description"], row.data["line.quantity"], row.data["line.unitPriceInCurrency"]))
    assert by_key == {
        "SI-F1": [("Widget (P1)", "1", "250.00"), ("Frakt (P2)", "3", "26.50")],  # with VAT: 1 at the amount
        "SI-F3": [("Halvt (P1)", "1", "125.00"), ("Paid by 2024-02-29", "1", "-60.00")],
        "SI-F4": [("Skjev (P1)", "1", "300.00")],
    }
    assert {row.data["documentKey"]: row.error is None for row in rows} == {"SI-F1": True, "SI-F3": True,
                                                                               "SI-F4": False}
    f4 = next(row for row in rows if row.data["documentKey"] == "SI-F4")
    assert f4.error is not None and "customer K00003" in f4.error and "add up to 300.00" in f4.error
    assert "closing balance is 301.00" in f4.error
    first = next(row for row in rows if row.data["documentKey"] == "SI-F1")
    assert (first.data["externalReference"], first.data["documentDate"], first.data["financialPeriod"]) == \
        ("SI-F1", "2024-02-05", "202402")
    allowed = list(SaftSource(path, SaftSettings("invoice", allow_unbalanced=True, documents="invoices")))
    assert all(row.error is None for row in allowed) and len(allowed) == len(rows)


def test_an_invoice_paid_twice_over_and_a_duplicate_number_are_told_not_sent(tmp_path):
    over = InvoiceSpec("F7", "K00001", (InvoiceLine("Dobbelt", D(1), D("100.00")),), paid=D("150.00"))
    again = InvoiceSpec("F1", "K00002", (InvoiceLine("Kopi", D(1), D("10.00")),))
    path = _write(tmp_path / "odd.xml", invoices=(OPEN, over, again),
                  closing={"K00001": OPEN.owed, "K00002": D(0), "K00003": D(0)})
    rows = list(SaftSource(path, SaftSettings("invoice", documents="invoices")))
    errors = [row.error for row in rows if not row.data]
    assert len(errors) == 2, errors
    assert any("invoice F1 is in the file twice" in (e or "") for e in errors)
    assert any("invoice F7" in (e or "") and "50.00 more than it asks" in (e or "") for e in errors)
    assert {row.data.get("documentKey") for row in rows if row.data} == {"SI-F1"}
    assert [row.data["line.description"] for row in rows if row.data] == ["Widget (P1)", "Frakt (P2)"]


def test_a_bad_value_only_the_documents_need_is_told_by_the_second_pass_once(tmp_path):
    # The first pass leaves a line's quantity unread: F1 counts towards K00001's check (which agrees),
    # and the pass that writes the documents tells F1's quantity; F2 and K00002's invoices still go.
    good = _write(tmp_path / "good.xml", closing={**CLOSING, "K00003": ODD.owed})
    bad = broken(good, tmp_path / "bad.xml", "<Quantity>2</Quantity>", "<Quantity>two</Quantity>")
    source = SaftSource(bad, SaftSettings("invoice", documents="invoices"))
    assert source.disagreements() == []
    rows = list(source)
    [problem] = [row.error for row in rows if not row.data]
    assert problem is not None and "Invoice/Line/Quantity" in problem and "invoice F1" in problem
    assert "customer K00001" in problem
    assert {row.data["documentKey"] for row in rows if row.data} == {"SI-F3", "SI-F4"}
    assert all(row.error is None for row in rows if row.data)
    with open_saft(bad) as file:  # read whole, the invoice is the same one problem
        [again] = [e for e in file.events(documents=True) if isinstance(e, SaftProblem)]
    assert again.element == "Invoice/Line/Quantity"


def test_invoices_and_their_lines_stream_through_with_flat_memory(tmp_path):
    def write(name: str, lines: int) -> Path:
        specs = tuple(InvoiceSpec(f"N{n}", f"K{n % 3 + 1:05d}",
                                  tuple(InvoiceLine(f"Vare {i}", D(1), D("10.00")) for i in range(lines)),
                                  paid=D("5.00") if n % 2 else D(0)) for n in range(200))
        owed: dict[str, Decimal] = {}
        for spec in specs:
            owed[spec.customer] = owed.get(spec.customer, D(0)) + spec.owed
        return _write(tmp_path / name, invoices=specs, closing=owed)

    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        try:
            rows = sum(1 for row in SaftSource(path, SaftSettings("invoice", documents="invoices")) if not row.error)
            return rows, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short_rows, short_peak = peak(write("short.xml", 1))
    long_rows, long_peak = peak(write("long.xml", 20))  # 20 times the lines: 4 000 of them
    assert (short_rows, long_rows) == (200 + 100, 200 * 20 + 100)  # every line, and the paid part's
    assert long_peak < short_peak * 1.5 + 256 * 1024, (short_peak, long_peak)


def test_the_option_is_checked():
    with pytest.raises(ConfigError, match="--saft-documents"):
        ImportOptions(entity="invoice", saft_documents="lines")


# -- into the ledger ------------------------------------------------------------------------------


async def test_the_ledger_holds_exactly_the_open_invoices_with_their_lines(sandbox, tmp_path):
    path = _write(tmp_path / "export.xml")
    customers = await import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN,
                                     map=_terms(tmp_path / "terms.map.toml"))
    assert customers.outcomes["created"] == 3, customers.outcomes
    invoices = await import_records(path, entity="invoice", base_url=sandbox.url, token=TOKEN,
                                    saft_documents="invoices")
    assert (invoices.outcomes["created"], invoices.outcomes["invalid"]) == (4, 1), invoices.outcomes  # rows
    credits = await import_records(path, entity="credit-note", base_url=sandbox.url, token=TOKEN,
                                   saft_documents="invoices")
    assert credits.outcomes["created"] == 1, credits.outcomes
    stored = await _records(sandbox, "invoice")
    assert sorted(stored) == ["SI-F1", "SI-F3"]  # F2 is paid, F4's customer does not add up
    assert _lines(stored["SI-F1"]) == [("Widget (P1)", 1, D("250.00")), ("Frakt (P2)", 3, D("26.50"))]
    assert _total(stored["SI-F1"]) == OPEN.owed and stored["SI-F1"]["customerNumber"] == "K00001"
    assert _total(stored["SI-F3"]) == PART.owed == D("65.00")
    [credit] = (await _records(sandbox, "credit-note")).values()
    assert credit["externalReference"] == "SI-K1" and _total(credit) == D("25.00")
    assert credit["customerNumber"] == "K00002"
    [held] = [line for line in final_lines(tmp_path / "export.xml.invoice.results.ndjson")
              if line["outcome"] == "invalid"]
    assert "K00003" in held["error"] and "301.00" in held["error"]


async def test_cli_reports_the_customer_that_does_not_add_up_and_sends_it_when_allowed(sandbox, tmp_path):
    path = _write(tmp_path / "export.xml")
    base = ("--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli("run", str(path), "-e", "customer", *base, "--map",
                                   _terms(tmp_path / "terms.map.toml"))
    assert code == 0, out + err
    code, out, err = await run_cli("run", str(path), "-e", "invoice", "--saft-documents", "invoices", *base)
    assert code == 1, out + err
    assert "customer K00003" in err and "open invoice(s)" in err and "closing balance is 301.00" in err
    assert "Traceback" not in err
    assert sorted(await _records(sandbox, "invoice")) == ["SI-F1", "SI-F3"]
    code, out, err = await run_cli("reconcile", str(path), "-e", "invoice", "--saft-documents", "invoices",
                                   *base, "--format", "json")
    figures = orjson.loads(out)
    rows = {row["customer"]: (row["sum_file"], row["sum_ledger"]) for row in figures["rows"]}
    assert code == 1 and rows["K00001"] == ("329.50", "329.50") and rows["K00002"] == ("65.00", "65.00"), out
    assert rows["K00003"][0] == "300.00" and rows["K00003"][1] in ("0", "0.00", None), out  # held: missing
    code, out, err = await run_cli("run", str(path), "-e", "invoice", "--saft-documents", "invoices", *base,
                                   "--saft-allow-unbalanced", "--resume")
    assert code == 0, out + err
    stored = await _records(sandbox, "invoice")
    assert sorted(stored) == ["SI-F1", "SI-F3", "SI-F4"] and _total(stored["SI-F4"]) == D("300.00")


async def test_a_plan_sends_customers_then_their_open_invoices(sandbox, tmp_path):
    _write(tmp_path / "export.xml", closing={**CLOSING, "K00003": ODD.owed})
    _terms(tmp_path / "terms.map.toml")
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\nname = "customers"\ninput = "export.xml"\nentity = "customer"\nmap = "terms.map.toml"\n'
                    '\n[[step]]\nname = "open invoices"\ninput = "export.xml"\nentity = "invoice"\n'
                    'saft_documents = "invoices"\n\n[[step]]\nname = "open credit notes"\ninput = "export.xml"\n'
                    'entity = "credit-note"\nsaft_documents = "invoices"\n', encoding="utf-8")
    code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, out + err
    assert len(await get_json(f"{sandbox.url}/sandbox/records/customer")) == 3  # type: ignore[arg-type]
    stored = await _records(sandbox, "invoice")
    assert {key: _total(doc) for key, doc in stored.items()} == {"SI-F1": OPEN.owed, "SI-F3": PART.owed,
                                                                  "SI-F4": ODD.owed}
    assert list(await _records(sandbox, "credit-note")) == ["SI-K1"]
