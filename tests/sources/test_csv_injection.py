"""No live formulas in a CSV the importer writes: the failed-records file and ``export``.

A cell that a spreadsheet would run (``=``, ``+``, ``@``, TAB, CR, ``-`` before a non-number)
is written with a leading quote, and the CSV reader takes it off again, so both files still
import as the values they came from.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importer
from importer.client import ApiClient, StaticToken
from importer.ledger.export import export_records
from importer.load.failed import FailedRecords
from importer.sources.base import SourceRecord
from importer.sources.cells import neutralise, restore
from tests.support.runs import TOKEN, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

# What Excel and LibreOffice start a formula with (see importer.sources.cells).
LIVE = re.compile(r"[=+@\t\r]|-(?![\d.,\s']*\d[\d.,\s']*\Z)")

NAMES = {
    "1": "=cmd|' /C calc'!A0",
    "2": "@SUM(A1:A9)",
    "3": "+47 22 00 00 00",
    "4": "-lots",
    "5": "-12,5 kroner",  # not a plain number: a spreadsheet may take it as "=-12,5 kroner"
    "6": "'=quoted already",
    "8": "-1 250,50",  # a plain number: left as it is
    "9": "-1+cmd|' /C calc'!A0",
    "7": "Ærlig AS",
}
WRITTEN = {
    "1": "'=cmd|' /C calc'!A0",
    "2": "'@SUM(A1:A9)",
    "3": "'+47 22 00 00 00",
    "4": "'-lots",
    "5": "'-12,5 kroner",
    "6": "''=quoted already",
    "8": "-1 250,50",
    "9": "'-1+cmd|' /C calc'!A0",
    "7": "Ærlig AS",
}


def is_live(cell: str) -> bool:
    return bool(LIVE.match(cell))


# -- the failed-records file -----------------------------------------------------------------


def test_a_formula_row_and_a_formula_error_are_written_inert(tmp_path):
    failed = FailedRecords(tmp_path / "f.csv", columns=["number", "name", "creditLimit"])
    row = {"number": "2", "name": '=HYPERLINK("http://x")', "creditLimit": "mye"}
    failed.add([SourceRecord(2, row, raw=b'2,"=HYPERLINK(""http://x"")",mye\n')], "=1+2 is not a number")
    failed.add([SourceRecord(3, {"number": "3", "name": "Ok", "creditLimit": "x"}, raw=b"3,Ok,x\n")], "@once")
    failed.close()
    written = (tmp_path / "f.csv").read_bytes()
    assert written == (
        b"number,name,creditLimit,error\n"
        b'2,"\'=HYPERLINK(""http://x"")",mye,\'=1+2 is not a number\n'
        b"3,Ok,x,'@once\n"  # an inert row keeps its bytes; only the error cell is quoted
    )
    rows = list(csv.reader(io.StringIO(written.decode(), newline="")))
    assert not any(is_live(cell) for row in rows for cell in row)
    assert [restore(cell) for cell in rows[1]] == ["2", '=HYPERLINK("http://x")', "mye", "=1+2 is not a number"]


cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, min_size=1, max_size=4), cells, st.booleans())
def test_every_cell_written_is_inert_and_reads_back_as_it_was(values, error, keep_raw):
    columns = [f"c{i}" for i in range(len(values))]
    raw = None
    if keep_raw:  # the row as a CSV file would hold it
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(values)
        raw = out.getvalue().encode()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "f.csv"
        failed = FailedRecords(path, columns=columns, line_end=b"\r\n")
        failed.add([SourceRecord(1, dict(zip(columns, values)), raw=raw)], error)
        failed.close()
        [header, row] = list(csv.reader(io.StringIO(path.read_bytes().decode(), newline="")))
    assert header == columns + ["error"]
    assert not any(is_live(cell) for cell in row)
    assert [restore(cell) for cell in row] == values + [error]


async def test_a_fixed_failed_file_imports_the_formula_text_as_it_was(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text('number,name,creditLimit\n1,"=HYPERLINK(""http://x"")",mye\n', encoding="utf-8")
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    failed = tmp_path / "kunder.failed.csv"
    assert b"'=HYPERLINK" in failed.read_bytes()
    failed.write_bytes(failed.read_bytes().replace(b",mye,", b",250,"))  # the user's fix
    code, _, err = await run_cli("run", str(failed), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    [stored] = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert stored["name"] == '=HYPERLINK("http://x")' and stored["creditLimit"] == 250


# -- export ----------------------------------------------------------------------------------


async def _export_customers(url: str, out: Path) -> None:
    records = [{"number": n, "name": name} for n, name in NAMES.items()]
    loaded = await importer.import_records(records, entity="customer", base_url=url, token=TOKEN)
    assert loaded.ok, loaded.to_dict()
    async with ApiClient(url, StaticToken(TOKEN)) as client:
        summary = await export_records(client, "customer", out)
    assert summary.ok and summary.records == len(NAMES)


async def test_export_writes_formula_names_inert(sandbox, tmp_path):
    out = tmp_path / "customers.csv"
    await _export_customers(sandbox.url, out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {row["number"]: row["name"] for row in rows} == WRITTEN
    assert not any(is_live(cell) for row in rows for cell in row.values())
    assert {row["number"]: restore(row["name"]) for row in rows} == NAMES


async def test_an_export_imports_again_as_the_names_it_held(start_sandbox, tmp_path):
    out = tmp_path / "customers.csv"
    async with start_sandbox() as source:
        await _export_customers(source.url, out)
    async with start_sandbox() as target:
        code, _, err = await run_cli("run", str(out), "--entity", "customer", "--base-url", target.url, "--token", TOKEN)
        assert code == 0, err
        stored = await get_json(f"{target.url}/sandbox/records/customer")
    assert {c["number"]: c["name"] for c in stored} == NAMES


def test_neutralise_and_restore_are_inverse_on_the_names():
    for name, written in zip(NAMES.values(), WRITTEN.values(), strict=True):
        assert neutralise(name) == written and restore(written) == name
