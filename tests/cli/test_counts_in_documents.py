"""The fleet's tables and verify's summary count as the plan table does: documents first, their
rows after them (``4 (6 rows)``), customers as they are.

Each test loads the samples into the sandbox in this process (a real loopback socket), checks
what the sandbox stores, then prints the tables of that real outcome.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import importer
from importer.cli.ledger import _print_verify
from importer.cli.plans import print_fleet
from importer.client import ApiClient, StaticToken
from importer.ledger.verify import verify_records
from importer.plans.progress import company_row
from tests.support.runs import SAMPLES, TOKEN, get_json
from tests.support.stored import stored_records

pytestmark = pytest.mark.one_profile

CUSTOMERS = (SAMPLES / "customers.csv").read_text(encoding="utf-8").count("\n") - 1
ROWS = (SAMPLES / "invoices.csv").read_text(encoding="utf-8").count("\n") - 1  # invoice rows


def _cells(text: str, first: str) -> list[str]:
    """The cells of the table line that starts with ``first``, parted by runs of spaces."""
    line = next(line for line in text.splitlines() if line.strip().startswith(first + " "))
    return re.split(r"\s{2,}", line.strip())


async def test_the_fleet_counts_documents_first(start_sandbox, tmp_path: Path) -> None:
    manifest = tmp_path / "one.toml"
    manifest.write_text(
        '[[company]]\nname = "acme"\ntenant_id = "t-acme"\ntoken_env = "UNSET_TOKEN"\n'
        f'[[company.step]]\nname = "customers"\ninput = "{SAMPLES / "customers.csv"}"\nentity = "customer"\n'
        f'[[company.step]]\nname = "invoices"\ninput = "{SAMPLES / "invoices.csv"}"\nentity = "invoice"\n',
        encoding="utf-8")
    async with start_sandbox() as sb:
        result = await importer.run_fleet(manifest, sandbox=sb.url, results_dir=tmp_path / "out")
        invoices = await get_json(f"{sb.url}/sandbox/records/invoice?tenant=t-acme")
        customers = await get_json(f"{sb.url}/sandbox/records/customer?tenant=t-acme")
    assert isinstance(invoices, list) and isinstance(customers, list)
    assert result.exit_code == 0 and len(customers) == CUSTOMERS
    documents = len({i["referenceNumber"] for i in invoices})
    assert documents == len(invoices)  # each once
    assert 1 < documents < ROWS  # a document of several rows among them
    units, rows = CUSTOMERS + documents, CUSTOMERS + ROWS
    (run,) = result.companies
    _, _, done, ok, failed, *_ = company_row(run)  # the live table's row, as it stands at the end
    assert (done, ok, failed) == (f"{units} ({rows} rows)", str(units), "")
    shown = io.StringIO()
    print_fleet(result, shown)
    table = shown.getvalue()
    assert _cells(table, "acme")[2:5] == ["2/2", f"{units} ({rows} rows)", str(units)], table
    assert _cells(table, "total")[1:4] == ["1/1 ok", f"{units} ({rows} rows)", str(units)], table


async def test_verify_counts_documents_first(sandbox, tmp_path: Path) -> None:
    for source, entity in ((SAMPLES / "customers.csv", "customer"), (SAMPLES / "invoices.csv", "invoice")):
        done = await importer.import_records(source, entity=entity, base_url=sandbox.url, token=TOKEN,
                                             results=tmp_path / f"{entity}.results.ndjson")
        assert done.ok, done.to_dict()
    documents = len(await stored_records(sandbox, "invoice"))
    async with ApiClient(sandbox.url, StaticToken(TOKEN)) as client:
        summary = await verify_records(client, SAMPLES / "invoices.csv", "invoice", tmp_path / "v.ndjson",
                                       strategy="get")
    assert summary.counts["ok"] == documents and summary.exit_code == 0
    shown = io.StringIO()
    _print_verify(summary, 5, shown)
    text = shown.getvalue()
    assert _cells(text, "ok") == ["ok", str(documents)], text
    assert _cells(text, "documents read") == ["documents read", f"{documents} ({ROWS} rows)"], text
    assert f"{summary.calls} (get, {summary.calls / documents:.2f} per document)" in text, text
    assert "records read" not in text, text
