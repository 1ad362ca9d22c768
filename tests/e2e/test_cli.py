"""The CLI as a user runs it: a real subprocess against the sandbox on a loopback socket."""

import gzip
import json

import pytest

import importer
from tests.support.runs import (
    SAMPLES,
    TOKEN,
    assert_one_final_line_per_record,
    final_lines,
    get_json,
    read_lines,
    run_cli,
)

# The seed guide's example payloads (the invoice PUT with the document's `invoiceLines`),
# each with the CSV that must produce it. Order matters: the customer comes first.
GUIDE = [
    ("customer", "create",
     "name,number,overrideWithClassValues,customerClassId,mainAddress.addressLine1,mainAddress.postalCode,mainAddress.countryId\n"
     "NewCustomer,10000,true,1,TestRoad 13,0101,NO\n",
     {"name": {"value": "NewCustomer"}, "number": {"value": "10000"}, "overrideWithClassValues": True,
      "customerClassId": {"value": "1"}, "mainAddress": {"value": {"addressLine1": {"value": "TestRoad 13"},
      "postalCode": {"value": "0101"}, "countryId": {"value": "NO"}}}}),
    ("dunning-letter", "create",
     "customerNumber,dunningLetterDate,levelFrom,levelTo\n10000,2020-01-21T09:39:48.538Z,1,2\n",
     {"dunningLetterDate": "2020-01-21T09:39:48.538Z", "levelFrom": 1, "levelTo": 2}),
    ("customer", "update",
     "number,mainAddress.addressLine1,mainAddress.postalCode,mainAddress.countryId\n10000,TestRoad 50,0101,NO\n",
     {"mainAddress": {"value": {"addressLine1": {"value": "TestRoad 50"}, "postalCode": {"value": "0101"},
      "countryId": {"value": "NO"}}}}),
    ("credit-note", "create",
     "currencyId,externalReference,line.operation,line.inventoryNumber,line.quantity,line.unitPriceInCurrency,customerNumber,referenceNumber,documentDate,postPeriod,financialPeriod\n"
     "NOK,ExRef,Insert,6,1,1,10000,25698,2019-12-21,122019,201912\n",
     {"currencyId": {"value": "NOK"}, "externalReference": {"value": "ExRef"},
      "lines": [{"operation": "Insert", "inventoryNumber": {"value": "6"}, "quantity": {"value": 1},
                 "unitPriceInCurrency": {"value": 1}}],
      "customerNumber": {"value": "10000"}, "referenceNumber": {"value": "25698"},
      "documentDate": {"value": "2019-12-21"}, "postPeriod": {"value": "122019"},
      "financialPeriod": {"value": "201912"}}),
    ("credit-note", "update",
     "referenceNumber,line.operation,line.lineNumber,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
     "25698,Update,1,6,1,1\n",
     {"lines": [{"operation": "Update", "lineNumber": {"value": 1}, "inventoryNumber": {"value": "6"},
                 "quantity": {"value": 1}, "unitPriceInCurrency": {"value": 1}}]}),
    ("debit-note", "create",
     "line.operation,line.description,line.quantity,line.unitPriceInCurrency,line.uom,customerNumber,referenceNumber,documentDate,postPeriod,financialPeriod,invoiceText\n"
     "Insert,Test,2,2,STK,10000,000050,2020-01-16,012020,202001,DebitNote\n",
     {"lines": [{"operation": "Insert", "description": {"value": "Test"}, "quantity": {"value": 2},
                 "unitPriceInCurrency": {"value": 2}, "uom": {"value": "STK"}}],
      "customerNumber": {"value": "10000"}, "referenceNumber": {"value": "000050"},
      "documentDate": {"value": "2020-01-16"}, "postPeriod": {"value": "012020"},
      "financialPeriod": {"value": "202001"}, "invoiceText": {"value": "DebitNote"}}),
    ("debit-note", "update",
     "referenceNumber,line.operation,line.lineNumber,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
     "000050,Insert,1,6,1,1\n",
     {"lines": [{"operation": "Insert", "lineNumber": {"value": 1}, "inventoryNumber": {"value": "6"},
                 "quantity": {"value": 1}, "unitPriceInCurrency": {"value": 1}}]}),
    ("invoice", "create",
     "line.operation,line.inventoryNumber,line.quantity,line.uom,sendToAutoInvoice,referenceNumber,customerNumber,documentDate,invoiceText\n"
     "Insert,222,500,STK,true,156589,10000,2020-01-27,Payment for potatoes\n",
     {"invoiceLines": [{"operation": "Insert", "inventoryNumber": {"value": "222"},
                        "quantity": {"value": 500}, "uom": {"value": "STK"}}],
      "sendToAutoInvoice": {"value": True}, "referenceNumber": {"value": "156589"},
      "customerNumber": {"value": "10000"}, "documentDate": {"value": "2020-01-27"},
      "invoiceText": {"value": "Payment for potatoes"}}),
    ("invoice", "update",
     "referenceNumber,line.operation,line.lineNumber,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n"
     "156589,Insert,1,6,1,1\n",
     {"invoiceLines": [{"operation": "Insert", "lineNumber": {"value": 1}, "inventoryNumber": {"value": "6"},
                        "quantity": {"value": 1}, "unitPriceInCurrency": {"value": 1}}]}),
]


async def test_every_guide_example_is_produced_from_a_csv_row_and_accepted(sandbox, profile, tmp_path):
    expected_status = {"create": 201, "update": 204}
    for i, (entity, mode, csv_text, payload) in enumerate(GUIDE):
        path = tmp_path / f"{i}-{entity}-{mode}.csv"
        path.write_text(csv_text, encoding="utf-8")
        if profile == "standard":  # the payload a dry run shows does not depend on the API behind it
            # in-process (the CLI's own runs are the tests around): the mapping is the same
            summary = await importer.import_records(path, entity=entity, mode=mode, dry_run=True)
            assert summary.outcomes["valid"] == 1, summary.to_dict()
            [dry] = read_lines(f"{path}.dry-run.ndjson")
            if mode == "create" and entity not in ("customer", "dunning-letter") and "externalReference" not in payload:
                # a document created gets a reference of the importer's, to be found again by
                assert dry["payload"].pop("externalReference")["value"].startswith("imp-"), f"{entity} {mode}"
            if mode == "create" and "referenceNumber" in payload:
                # the file's own number, kept on an automatic series too (no company says otherwise)
                assert dry["payload"].pop("overrideNumberSeries") == {"value": True}, f"{entity} {mode}"
            assert dry["payload"] == payload, f"{entity} {mode}"
        summary = await importer.import_records(path, entity=entity, mode=mode, base_url=sandbox.url, token=TOKEN)
        assert summary.exit_code == 0, (entity, mode, summary.to_dict())
        [line] = final_lines(f"{path}.results.ndjson")
        status = 200 if entity == "dunning-letter" else expected_status[mode]
        assert line["http_status"] == status, line
    customer = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert customer[0]["mainAddress"]["addressLine1"] == "TestRoad 50"
    [invoice] = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert len(invoice["invoiceLines"]) == 2


# The live API queues a dunning letter and finishes it later: accepted, not confirmed.
DUNNING_DONE = {"standard": "done", "live": "queued"}


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_samples_import_cleanly_in_order(sandbox, profile, tmp_path):
    # (sample, entity, records in it); invoices and debit notes have multi-line documents
    steps = [("customers.csv", "customer", 6), ("customers-semicolon.csv", "customer", 3),
             ("invoices.csv", "invoice", 5), ("credit-notes.ndjson", "credit-note", 2),
             ("debit-notes.csv", "debit-note", 3), ("dunning-letters.csv", "dunning-letter", 2)]
    for name, entity, count in steps:
        results = tmp_path / f"{name}.results.ndjson"
        code, out, err = await run_cli(
            "run", str(SAMPLES / name), "--entity", entity, "--base-url", sandbox.url,
            "--token", TOKEN, "--results", str(results),
        )
        assert code == 0, (name, out, err)
        finals = assert_one_final_line_per_record(results, count)
        expected = DUNNING_DONE[profile] if entity == "dunning-letter" else "created"
        assert [line["outcome"] for line in finals] == [expected] * len(finals), (name, finals)
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert {entity: stats["records"].get(entity) for entity in
            ("customer", "invoice", "credit-note", "debit-note", "dunning-letter")} == {
        "customer": 9, "invoice": 3, "credit-note": 2, "debit-note": 2, "dunning-letter": 2}
    semicolon = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert semicolon["10010"]["creditLimit"] == 12500.0  # '12 500,00' with the ; delimiter
    assert semicolon["10010"]["name"] == "Østfold Trelast AS"


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_an_unknown_column_stops_before_anything_is_sent(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name,mainAdress.city\n1,A,Oslo\n")
    code, _, err = await run_cli("run", str(path), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 2
    assert "mainAdress.city" in err and "mainAddress.city" in err
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert stats["requests"] == 0


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_bad_values_are_invalid_and_the_rest_goes_in(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name,creditLimit\n1,A,100\n2,B,mye\n3,C,\n4,D,5\n")
    code, out, _ = await run_cli("run", str(path), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 4)
    by_record = {line["records"][0]: line for line in finals}
    assert by_record[2]["outcome"] == "invalid"
    assert "creditLimit" in by_record[2]["error"] and "mye" in by_record[2]["error"]
    assert [by_record[r]["outcome"] for r in (1, 3, 4)] == ["created"] * 3


async def test_api_errors_carry_the_api_text(sandbox, tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("referenceNumber,customerNumber,line.description\n1,nobody,x\n")
    code, _, _ = await run_cli("run", str(path), "--entity", "invoice", "--company", "none",  # the API's refusal
                               "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    [line] = final_lines(f"{path}.results.ndjson")
    assert line["outcome"] == "failed" and line["http_status"] == 400
    assert "nobody" in line["error"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_client_credentials_from_the_environment_and_no_secret_leaks(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n2,B\n")
    env = {"VISMA_CLIENT_ID": "sandbox", "VISMA_CLIENT_SECRET": "sandbox-secret",
           "VISMA_TENANT_ID": "t1", "VISMA_TOKEN_URL": sandbox.token_url, "VISMA_BASE_URL": sandbox.url}
    code, out, err = await run_cli("run", str(path), "--entity", "customer",
                                   "--summary-json", str(tmp_path / "s.json"), env=env)
    assert code == 0, err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["token_calls"] == 1 and summary["calls"] == 3
    results = (tmp_path / "c.csv.results.ndjson").read_text()
    for text in (out, err, results, json.dumps(summary)):
        assert "sandbox-secret" not in text
    bad = dict(env, VISMA_CLIENT_SECRET="wrong-secret-123")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--restart", env=bad)
    assert code == 2
    assert "wrong-secret-123" not in out + err and "refused" in err


async def test_missing_credentials_is_a_usage_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n")
    code, _, err = await run_cli("run", str(path), "--entity", "customer")
    assert code == 2 and "--token" in err


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_stdin_and_gzip_inputs(sandbox, tmp_path):
    body = b"number,name\n1,A\n2,B\n"
    code, _, err = await run_cli("run", "-", "--format", "csv", "--entity", "customer",
                                 "--results", str(tmp_path / "stdin.ndjson"), "--send-valid",  # read once
                                 "--base-url", sandbox.url, "--token", TOKEN, stdin=body)
    assert code == 0, err
    gz = tmp_path / "more.csv.gz"
    gz.write_bytes(gzip.compress(b"number,name\n3,C\n"))
    code, _, err = await run_cli("run", str(gz), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    assert len(await get_json(f"{sandbox.url}/sandbox/records/customer")) == 3


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_dry_run_sends_nothing_and_writes_every_payload(sandbox, tmp_path):
    code, _, err = await run_cli("run", str(SAMPLES / "invoices.csv"), "--entity", "invoice",
                                 "--dry-run", "--results", str(tmp_path / "dry.ndjson"),
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    lines = read_lines(tmp_path / "dry.ndjson")
    assert [line["records"] for line in lines] == [[1], [2, 3, 4], [5]]
    assert lines[1]["request"] == "POST /v2/customerinvoice"  # documents are created through the V2 create
    assert len(lines[1]["payload"]["invoiceLines"]) == 3
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == 0


async def test_auto_numbered_customers_get_their_number_in_the_results(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name\nUten Nummer AS\n")
    code, _, err = await run_cli("run", str(path), "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    [line] = final_lines(f"{path}.results.ndjson")
    assert line["key"] and line["location"].endswith("/" + line["key"])


def test_version_and_columns():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "importer", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("importer ")
    out = subprocess.run([sys.executable, "-m", "importer", "columns", "invoice"], capture_output=True, text=True)
    assert "line.quantity" in out.stdout.split()



async def test_the_embedded_sandbox_rehearses_the_live_profile(tmp_path):
    code, _, err = await run_cli("run", str(SAMPLES / "customers.csv"), "-e", "customer",
                                 "--sandbox-profile", "live", "--results", str(tmp_path / "r.ndjson"))
    assert code == 2 and "--sandbox-profile needs --sandbox" in err
    code, _, err = await run_cli("run", str(SAMPLES / "customers.csv"), "-e", "customer", "--sandbox",
                                 "--sandbox-profile", "live", "--results", str(tmp_path / "r.ndjson"))
    assert code == 0, err
    finals = [line for line in read_lines(tmp_path / "r.ndjson") if line["outcome"] != "started"]
    # The live profile's Location names another host; the key is still read from it.
    assert {line["outcome"] for line in finals} == {"created"}
    assert all(line["location"].startswith("http://erp-node-3.invalid/") for line in finals)


def test_short_options_keep_one_meaning_across_subcommands():
    # -o is always the command's main output file, -e the entity, -c the concurrency.
    from importer.cli import build_parser

    parser = build_parser()
    outputs = {
        ("run", "x.csv", "-e", "customer", "-o", "r.ndjson"): ("results", "r.ndjson"),
        ("export", "-e", "customer", "-o", "c.csv"): ("output", "c.csv"),
        ("verify", "x.csv", "-e", "customer", "-o", "v.ndjson"): ("report", "v.ndjson"),
        ("reconcile", "x.csv", "-e", "invoice", "-o", "t.csv"): ("csv", "t.csv"),
    }
    for argv, (dest, value) in outputs.items():
        args = parser.parse_args(list(argv))
        assert getattr(args, dest) == value, argv
        assert args.entity == argv[argv.index("-e") + 1]
