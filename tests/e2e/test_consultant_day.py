"""The consultant's day, replayed: a cp1252 legacy export with Norwegian headers → ``map init``
→ only the TODO values filled in → ``plan --sandbox`` → Ctrl-C → the resume it prints → ``report``.

Every ``importer …`` command the outputs print is run as printed, from where the consultant
typed the first; the rehearsal's ledger (kept beside the first step's results) then holds every
customer and every invoice once, each invoice with its own lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.legacy_export import CHOSEN, customer_rows, fill_map_file, invoice_rows, write_export
from tests.support.printed import printed_commands, stopped
from tests.support.runs import assert_one_final_line_per_record, final_lines, get_json, run_cli

pytestmark = pytest.mark.one_profile  # the embedded sandbox of --sandbox is the standard one

CUSTOMERS, INVOICES = 300, 150
PLAN = """\
[defaults]
rate = 100   # the company's allowance, calls a second

[[step]]
name = "customers"
input = "kunder.csv"
map = "kunder.map.toml"

[[step]]
name = "invoices"
input = "fakturaer.csv"
map = "fakturaer.map.toml"
"""


async def _runs_as_printed(commands: list[list[str]], cwd: Path) -> list[list[str]]:
    """Run each printed command as a consultant pastes it; the commands those print in turn."""
    more: list[list[str]] = []
    for argv in commands:
        code, out, err = await run_cli(*argv, cwd=str(cwd), timeout=60)
        assert code == 0, (argv, out, err)
        assert "Traceback" not in out + err
        more += printed_commands(out, err)
    return more


async def test_the_rehearsal_from_legacy_export_to_report_runs_as_printed(start_sandbox, tmp_path: Path) -> None:
    write_export(tmp_path, CUSTOMERS, INVOICES)
    printed: list[list[str]] = []
    for name, entity in (("kunder", "customer"), ("fakturaer", "invoice")):
        code, out, err = await run_cli("map", "init", f"{name}.csv", "-e", entity, "--encoding", "cp1252",
                                       "-o", f"{name}.map.toml", cwd=str(tmp_path))
        assert code == 0, err
        printed += printed_commands(out, err)
        fill_map_file(tmp_path / f"{name}.map.toml", CHOSEN)  # the one hand edit: the TODO values
    assert [argv[:2] for argv in printed] == [["run", "kunder.csv"], ["run", "fakturaer.csv"]], printed
    assert not await _runs_as_printed(printed, tmp_path)  # the dry runs map init proposes

    (tmp_path / "migration.toml").write_text(PLAN, encoding="utf-8")
    invoices = tmp_path / "fakturaer.csv.results.ndjson"
    code, out, err = await stopped(["plan", "migration.toml", "--sandbox"], invoices, tmp_path)  # Ctrl-C
    assert code == 130, out + err
    sent = [line for line in final_lines(invoices) if line["outcome"] == "created"]
    assert 0 < len(sent) < INVOICES, out  # stopped among the invoices
    resume = printed_commands(out, err)
    assert resume == [["plan", "migration.toml", "--sandbox", "--resume"]], out + err
    assert not await _runs_as_printed(resume, tmp_path)  # done: nothing more to type

    code, out, err = await run_cli("report", "kunder.csv.results.ndjson", str(invoices), cwd=str(tmp_path))
    assert code == 0, err
    assert not await _runs_as_printed(printed_commands(out, err), tmp_path)

    assert_one_final_line_per_record(tmp_path / "kunder.csv.results.ndjson", CUSTOMERS)
    rows = invoice_rows(INVOICES, CUSTOMERS)
    assert {line["outcome"] for line in assert_one_final_line_per_record(invoices, len(rows))} == {"created"}
    state = tmp_path / "kunder.csv.results.ndjson.sandbox.sqlite"
    async with start_sandbox(state_path=str(state)) as ledger:  # what the rehearsal's sandbox stored
        customers = await get_json(f"{ledger.url}/sandbox/records/customer")
        stored = await get_json(f"{ledger.url}/sandbox/records/invoice")
    assert sorted(c["number"] for c in customers) == sorted(r["Kundenr"] for r in customer_rows(CUSTOMERS))
    assert sorted(i["referenceNumber"] for i in stored) == sorted({r["Fakturanr"] for r in rows})  # each once
    lines: dict[str, list[str]] = {}
    for r in rows:
        lines.setdefault(r["Fakturanr"], []).append(r["Tekst"])
    assert {i["referenceNumber"]: [line["description"] for line in i["invoiceLines"]] for i in stored} == lines
