"""``importer verify`` on a terminal: counts per status, then the first differences as a table.

The command runs as a subprocess against the sandbox on a loopback socket (both profiles);
the full detail stays in the NDJSON report, and ``--summary-json`` keeps a JSON path for tools.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import importer
from importer.ledger.differences import first_differences
from tests.support.runs import TOKEN, read_lines, run_cli

LOADED = """\
number,name,creditLimit,mainAddress.city
10000,Fjord AS,50000,Oslo
10001,Bryggen Bakeri,25000,Bergen
10002,Tromsø Taxi,1000,Tromsø
"""

# What the file says now: two fields changed (one to text a terminal would take as markup),
# a customer the ledger never got, one unchanged.
CHANGED = """\
number,name,creditLimit,mainAddress.city
10000,Fjord AS,50000,Oslo
10001,[bold]Bryggen[/bold],25000.5,Bergen
10002,Tromsø Taxi,1000,Tromsø
10003,Ny Kunde,0,Bodø
"""


def _cells(line: str) -> list[str]:
    """A table line's cells: between rules when it has them, else parted by runs of spaces."""
    if re.search("[│┃]", line):
        return [cell.strip() for cell in re.split("[│┃]", line)[1:-1]]
    return re.split(r"\s{2,}", line.strip())


def _row(text: str, *cells: str) -> bool:
    """Whether a line of the output holds ``cells`` side by side, each a cell of its own."""
    want = list(cells)
    for line in text.splitlines():
        have = _cells(line)
        if any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1)):
            return True
    return False


async def _loaded(sandbox, tmp_path: Path) -> tuple[Path, list[str]]:
    loaded = tmp_path / "customers.csv"
    loaded.write_text(LOADED, encoding="utf-8")
    done = await importer.import_records(loaded, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert done.ok, done.to_dict()
    changed = tmp_path / "changed.csv"
    changed.write_text(CHANGED, encoding="utf-8")
    return changed, ["--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_verify_prints_counts_then_the_differences(sandbox, tmp_path):
    changed, args = await _loaded(sandbox, tmp_path)
    report = tmp_path / "v.ndjson"
    code, out, err = await run_cli("verify", str(changed), *args, "--report", str(report))
    assert code == 1, (out, err)
    assert "Traceback" not in out + err and TOKEN not in out + err
    # The counts, a status a row.
    assert _row(out, "ok", "2") and _row(out, "different", "1") and _row(out, "missing", "1")
    assert not re.search(r"\binvalid\b", out)  # a status no record has is left out
    assert str(report) in out
    # The first differences: record, field, what the file says, what the ledger holds.
    assert _row(out, "record", "field", "file", "ledger")
    assert _row(out, "10001 (record 2)", "name", "[bold]Bryggen[/bold]", "Bryggen Bakeri")  # markup shown as text
    assert _row(out, "10001 (record 2)", "creditLimit", "25000.5", "25000")
    assert _row(out, "10003 (record 4)", "", "(the record)", "missing")
    assert "first 3 of 3 differences" in out
    # The full detail is in the report on disk.
    lines = {line["key"]: line for line in read_lines(report)}
    assert {d["field"] for d in lines["10001"]["differences"]} == {"name", "creditLimit"}
    assert lines["10003"]["status"] == "missing"


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_verify_lists_only_the_first_and_says_where_the_rest_are(sandbox, tmp_path):
    changed, args = await _loaded(sandbox, tmp_path)
    report = tmp_path / "v.ndjson"
    code, out, err = await run_cli("verify", str(changed), *args, "--report", str(report), "--show", "1")
    assert code == 1, (out, err)
    assert "first 1 of 3 differences" in out
    assert _row(out, "10001 (record 2)", "name", "[bold]Bryggen[/bold]", "Bryggen Bakeri")
    assert "creditLimit" not in out and "(the record)" not in out
    assert f"2 more in {report}" in out


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_verify_summary_json_is_for_tools(sandbox, tmp_path):
    changed, args = await _loaded(sandbox, tmp_path)
    report = tmp_path / "v.ndjson"
    code, out, err = await run_cli("verify", str(changed), *args, "--report", str(report), "--summary-json", "-")
    assert code == 1, (out, err)
    summary = json.loads(out)  # stdout holds the JSON alone
    assert summary["counts"] == {"ok": 2, "missing": 1, "different": 1, "invalid": 0, "error": 0}
    assert summary["report"] == str(report) and summary["exit_code"] == 1
    assert _row(err, "different", "1") and "first 3 of 3 differences" in err  # the table: stderr
    # To a file, with the table on stdout; a clean verify lists no differences.
    saved = tmp_path / "summary.json"
    code, out, err = await run_cli("verify", str(tmp_path / "customers.csv"), *args,
                                   "--report", str(tmp_path / "clean.ndjson"), "--summary-json", str(saved))
    assert code == 0, (out, err)
    assert json.loads(saved.read_text())["counts"]["ok"] == 3
    assert _row(out, "ok", "3") and "differences" not in out
    # It never overwrites the input.
    code, out, err = await run_cli("verify", str(changed), *args, "--summary-json", str(changed))
    assert code == 2 and "Traceback" not in err and changed.read_text(encoding="utf-8") == CHANGED


def test_first_differences_rows_from_a_report(tmp_path):
    report = tmp_path / "r.ndjson"
    report.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in (
        {"key": "A", "records": [1], "status": "ok"},
        {"key": "INV-2", "records": [2, 3, 4], "status": "different", "differences": [
            {"field": "lines", "expected": 3, "actual": 2},
            {"field": "quantity", "line": 2, "expected": 7.5, "actual": None}]},
        {"key": None, "records": [5], "status": "invalid", "error": "record 5: no referenceNumber"},
        {"key": "INV-9", "records": [6], "status": "error", "error": "HTTP 500: boom"},
    )))
    rows, total = first_differences(report, 10)
    assert total == 4
    assert rows == [
        ("INV-2 (records 2-4)", "lines", "3", "2"),
        ("INV-2 (records 2-4)", "line 2: quantity", "7.5", "(empty)"),
        ("- (record 5)", "", "record 5: no referenceNumber", "not looked up"),
        ("INV-9 (record 6)", "", "", "HTTP 500: boom"),
    ]
    assert first_differences(report, 1) == (rows[:1], 4)
