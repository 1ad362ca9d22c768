"""``export --excel``: files a spreadsheet opens right, and the importer reads back unaided.

Against the sandbox on a loopback socket, both profiles: records go in, come out with
``--excel`` (BOM, ``;``, decimal comma in number columns only, CRLF), and go into a fresh
sandbox from that file with no flags, where they must be stored as they were.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

import importer
from importer.client import ApiClient, StaticToken
from importer.errors import ConfigError
from importer.ledger.export import export_records
from importer.ledger.files import EXCEL, CsvStyle, CsvWriter, Sink, number_cell
from tests.support.runs import TOKEN, run_cli
from tests.support.stored import stored_records

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

# A text cell that reads like a number (addressLine1 "12.5") must keep its point; a name that
# a spreadsheet would run as a formula must be made inert and come back as it was.
CUSTOMERS = """\
number,name,creditLimit,mainAddress.addressLine1,mainAddress.city,mainAddress.countryId
10000,Fjord AS,1234.5,12.5,Oslo,NO
10001,"Ærlig; Rørlegger, AS",25000,Bryggen 3,Bergen,NO
10002,=SUM(A1:A9),0.1,"Gata 1, 2. etg",Tromsø,NO
"""

INVOICES = """\
referenceNumber,customerNumber,documentDate,financialPeriod,invoiceText,currencyId,line.inventoryNumber,line.description,line.quantity,line.unitPriceInCurrency
INV-1,10000,2020-01-27,202001,Poteter,NOK,222,Poteter,500,12.5
INV-2,10001,2020-02-03,202002,"Rør; februar, del 2",NOK,TIME,Arbeid,7.5,950
INV-2,10001,2020-02-03,202002,"Rør; februar, del 2",NOK,MAT,Rør og koblinger,1,2340.75
"""

_SYSTEM = ("createdDateTime", "lastModifiedDateTime")  # what each sandbox writes itself


_stored = stored_records


async def _load(sb: Any, path: Path, entity: str) -> None:
    done = await importer.import_records(path, entity=entity, base_url=sb.url, token=TOKEN,
                                         results=str(path) + f".{sb.url.rsplit(':', 1)[-1]}.results.ndjson")
    assert done.ok, done.to_dict()


def _rows(data: bytes) -> list[list[str]]:
    """The CSV as a spreadsheet in a ;-locale reads it."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_excel_export_round_trips_through_a_fresh_sandbox(sandbox, start_sandbox, tmp_path):
    customers_in, invoices_in = tmp_path / "customers.csv", tmp_path / "invoices.csv"
    customers_in.write_text(CUSTOMERS, encoding="utf-8")
    invoices_in.write_text(INVOICES, encoding="utf-8")
    await _load(sandbox, customers_in, "customer")
    await _load(sandbox, invoices_in, "invoice")

    # Customers through the command line, as a consultant would; invoices through the library.
    customers_out, invoices_out = tmp_path / "customers.xl.csv", tmp_path / "invoices.xl.csv"
    code, out, err = await run_cli("export", "--entity", "customer", "--excel", "-o", str(customers_out),
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, (out, err)
    # The summary names its columns and counts as text a person reads, not as JSON.
    assert re.search(r"^ *columns +number, creditLimit, ", out, re.M) and re.search(r"^ *excel +yes", out, re.M)
    assert '["' not in out and TOKEN not in out + err
    async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
        summary = await export_records(client, "invoice", invoices_out, excel=True)
    assert summary.ok and summary.excel and summary.format == "csv" and summary.rows == 3

    for path in (customers_out, invoices_out):
        data = path.read_bytes()
        assert data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8):]
        assert body.count(b"\r\n") == body.count(b"\n") > 0  # every line end is CRLF
        assert b";" in body.splitlines()[0] and b"," not in body.splitlines()[0]

    header, *rows = _rows(customers_out.read_bytes())
    by_number = {row[header.index("number")]: dict(zip(header, row)) for row in rows}
    assert by_number["10000"]["creditLimit"] == "1234,50"  # an amount: decimal comma, two decimals
    assert by_number["10000"]["mainAddress.addressLine1"] == "12.5"  # text: as it is
    assert by_number["10001"]["name"] == "Ærlig; Rørlegger, AS"
    assert by_number["10002"]["creditLimit"] == "0,10"
    assert by_number["10002"]["name"] == "'=SUM(A1:A9)"  # inert in a spreadsheet
    assert by_number["10002"]["mainAddress.addressLine1"] == "Gata 1, 2. etg"
    assert b"1234,50" in customers_out.read_bytes()

    header, *rows = _rows(invoices_out.read_bytes())
    lines = [dict(zip(header, row)) for row in rows]
    assert [line["line.unitPriceInCurrency"] for line in lines] == ["12,50", "950,00", "2340,75"]
    assert [line["line.quantity"] for line in lines] == ["500", "7,5", "1"]
    assert [line["referenceNumber"] for line in lines] == ["INV-1", "INV-2", "INV-2"]
    assert lines[1]["financialPeriod"] == "202002"  # a period is text, not a number

    # Back in with no flags at all: BOM, ';', decimal comma and CRLF are the readers' defaults.
    async with start_sandbox() as fresh:
        code, out, err = await run_cli("run", str(customers_out), "--entity", "customer",
                                       "--base-url", fresh.url, "--token", TOKEN)
        assert code == 0, (out, err)
        done = await importer.import_records(invoices_out, entity="invoice", base_url=fresh.url, token=TOKEN)
        assert done.ok and done.sent_units == 2, done.to_dict()
        for entity in ("customer", "invoice"):
            assert await _stored(fresh, entity) == await _stored(sandbox, entity)
        assert (await _stored(fresh, "customer"))["10002"]["name"] == "=SUM(A1:A9)"


def test_numbers_never_take_an_exponent_and_keep_their_digits():
    assert number_cell(1234.5, True) == "1234,5" and number_cell(1234.5, False) == "1234.5"
    assert number_cell(1e16, True) == "10000000000000000"  # str() would say 1e+16, which no import reads
    assert number_cell(1e-05, True) == "0,00001"
    assert number_cell(-0.1, True) == "-0,1" and number_cell(7, True) == "7"
    assert number_cell(0.1 + 0.2, False) == repr(0.1 + 0.2)  # the double's own shortest digits


def test_excel_writer_leaves_text_and_undeclared_columns_alone(tmp_path):
    sink = Sink(tmp_path / "x.csv")
    writer = CsvWriter(sink, ["key", "amount", "note"], EXCEL, {}, numbers={"amount"})
    writer.write([{"key": 1.5, "amount": -1234.5, "note": 2.5}, {"key": "a", "amount": "kept 1.5", "note": True}])
    writer.detach()
    sink.close(True)
    data = (tmp_path / "x.csv").read_bytes()
    assert data == "\ufeffkey;amount;note\r\n1.5;-1234,5;2.5\r\na;kept 1.5;true\r\n".encode()
    plain = CsvStyle()
    assert (plain.delimiter, plain.decimal_comma, plain.bom) == (",", False, False)


async def test_excel_refuses_what_it_cannot_write(sandbox, tmp_path):
    async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
        with pytest.raises(ConfigError, match="--excel writes CSV"):
            await export_records(client, "customer", tmp_path / "c.ndjson", excel=True)
        with pytest.raises(ConfigError, match="leave out --delimiter"):
            await export_records(client, "customer", tmp_path / "c.csv", excel=True, delimiter=",")
        assert client.stats.calls == 0  # refused before any call
    assert not list(tmp_path.iterdir())


async def test_report_tables_as_excel_csv(sandbox, tmp_path):
    from importer.report.build import build_report

    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS + "10003,Kunde Fire,mange,Gate 4,Bodø,NO\n", encoding="utf-8")  # invalid
    results = tmp_path / "customers.results.ndjson"
    done = await importer.import_records(source, entity="customer", base_url=sandbox.url, token=TOKEN,
                                         results=str(results))
    assert done.outcomes["invalid"] == 1 and done.succeeded == 3
    out = tmp_path / "report.csv"
    code, stdout, err = await run_cli("report", str(results), "--csv", str(out), "--excel")
    assert code == 0, (stdout, err)
    assert f"csv: {out}" in stdout and f"csv: {tmp_path / 'report.reasons.csv'}" in stdout

    expected = build_report([results]).groups[0].to_dict()
    for path in (out, tmp_path / "report.reasons.csv"):
        data = path.read_bytes()
        assert data.startswith(codecs.BOM_UTF8) and data.count(b"\r\n") == data.count(b"\n") > 1
    header, row = _rows(out.read_bytes())
    step = dict(zip(header, row))
    assert (step["entity"], step["records"], step["created"], step["invalid"]) == ("customer", "4", "3", "1")
    assert step["calls_per_record"] == number_cell(expected["calls_per_record"], True)
    assert "," in step["p50_ms"] and "." not in step["p50_ms"]  # a latency in ms has decimals
    header, row = _rows((tmp_path / "report.reasons.csv").read_bytes())
    reason = dict(zip(header, row))
    assert reason["records"] == "1" and "creditLimit" in reason["reason"] and "10003" in reason["examples"]

    # --excel without --csv is a mistake, said so without a traceback.
    code, stdout, err = await run_cli("report", str(results), "--excel")
    assert code == 2 and "--csv" in err and "Traceback" not in err


async def test_an_export_to_stdout_with_json_logs_writes_only_json_on_stderr(sandbox, tmp_path):
    import json

    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    await _load(sandbox, source, "customer")
    auth = ("--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli("export", "--entity", "customer", "--excel", "-o", "-",
                                   "--log-format", "json", "-v", *auth)
    assert code == 0, err
    assert out.startswith("\ufeffnumber;")  # the data alone on stdout
    lines = [json.loads(line) for line in err.splitlines()]  # every stderr line is a JSON object
    [finished] = [line for line in lines if line.get("event") == "export finished"]
    assert (finished["entity"], finished["records"], finished["excel"]) == ("customer", 3, True)
    assert "creditLimit" in finished["columns"] and finished["message"].startswith("export customer finished")
    assert TOKEN not in err
    # With text logs the same summary is a table on stderr.
    code, out, err = await run_cli("export", "--entity", "customer", "--format", "csv", "-o", "-", *auth)
    assert code == 0, err
    assert "export customer" in err and "records" in err and not err.lstrip().startswith("{")
