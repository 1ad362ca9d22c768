"""Outputs are checked before they are opened: a refused run leaves every file as it was.

Each test runs the CLI as a subprocess against the sandbox and compares the bytes of
every file involved before and after, and what the ledger holds. Also here: the notice
of a results file held by another process shows no secret in any form, and a
failed-records file the user edited is never overwritten.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.runs import TOKEN, final_lines, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

CUSTOMERS = "number,name\nF1,Fjord AS\nF2,Berg AS\n"


async def ledger_numbers(url: str) -> list[str]:
    return sorted(c["number"] for c in await get_json(f"{url}/sandbox/records/customer"))  # type: ignore[union-attr]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


async def test_a_results_path_that_is_not_a_results_file_is_left_byte_for_byte(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"call the bank on monday\nlast line without an end")  # a "torn" last line
    before, ledger = snapshot(tmp_path), await ledger_numbers(sandbox.url)
    code, _, err = await run_cli("run", str(source), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN, "--results", str(notes), "--resume")
    assert code == 2, err
    assert "notes.txt is not a results file" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before  # not cut, not emptied, no failed file, nothing new
    assert await ledger_numbers(sandbox.url) == ledger  # nothing sent


async def test_a_dry_run_never_empties_a_csv_nor_a_real_runs_results(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    master = tmp_path / "customers_master.csv"
    master.write_text("number,name\n" + "".join(f"M{n},Master {n}\n" for n in range(1000)), encoding="utf-8")
    code, _, err = await run_cli("run", str(source), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN)
    assert code == 0, err
    real = tmp_path / "c.csv.results.ndjson"
    assert sorted(n for line in final_lines(real) for n in line["records"]) == [1, 2]
    before = snapshot(tmp_path)
    for target, why in ((master, "is not a results file"), (real, "holds the outcomes of a real run")):
        code, _, err = await run_cli("run", str(source), "--entity", "customer", "--dry-run",
                                     "--results", str(target))
        assert code == 2, err
        assert f"{target.name} {why}" in err, err
        assert snapshot(tmp_path) == before
    assert "F1" in await ledger_numbers(sandbox.url)
    # A dry run's own file is its to start afresh.
    for _ in range(2):
        code, _, err = await run_cli("run", str(source), "--entity", "customer", "--dry-run")
        assert code == 0, err
        assert [line["outcome"] for line in final_lines(tmp_path / "c.csv.dry-run.ndjson")] == ["valid", "valid"]


async def test_no_output_may_be_the_map_or_the_config(sandbox, tmp_path):
    source = tmp_path / "kunder.csv"
    source.write_text("kundenr,navn\nK1,Kunde AS\n", encoding="utf-8")
    mapfile = tmp_path / "kunder.map.toml"
    mapfile.write_text('entity = "customer"\n\n[columns]\nkundenr = "number"\nnavn = "name"\n', encoding="utf-8")
    config = tmp_path / "importer.toml"
    config.write_text("concurrency = 2\n", encoding="utf-8")
    before, ledger = snapshot(tmp_path), await ledger_numbers(sandbox.url)
    cases = [(["--results", str(mapfile)], "--results", "--map"),
             (["--failed", str(mapfile)], "--failed", "--map"),
             (["--results", str(config)], "--results", "config"),
             (["--failed", "importer.toml"], "--failed", "config")]
    for flags, output, what in cases:
        code, _, err = await run_cli("run", str(source), "--map", str(mapfile), "--base-url", sandbox.url,
                                     "--token", TOKEN, *flags, cwd=str(tmp_path))
        assert code == 2, err
        assert f"{output} " in err and f"is the {what}" in err, err
        assert snapshot(tmp_path) == before
    assert await ledger_numbers(sandbox.url) == ledger


async def test_a_plan_step_may_not_write_over_the_plan_or_a_map(sandbox, tmp_path):
    (tmp_path / "a.csv").write_text("kundenr,navn\nP1,Plan AS\n", encoding="utf-8")
    (tmp_path / "a.map.toml").write_text('entity = "customer"\n\n[columns]\nkundenr = "number"\nnavn = "name"\n',
                                         encoding="utf-8")
    plan = tmp_path / "plan.toml"
    for output in ("plan.toml", "a.map.toml"):
        plan.write_text(f'[[step]]\nname = "kunder"\ninput = "a.csv"\nmap = "a.map.toml"\nresults = "{output}"\n',
                        encoding="utf-8")
        before = snapshot(tmp_path)
        code, _, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN)
        assert code == 2, err
        assert "results of step 'kunder'" in err and "an output may not overwrite an input" in err, err
        assert snapshot(tmp_path) == before
    assert "P1" not in await ledger_numbers(sandbox.url)


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(20)
"""


@pytest.mark.parametrize("profile", ["standard"])
async def test_the_lock_notice_shows_no_secret_in_any_form(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    results = tmp_path / "c.results.ndjson"
    secrets = {"flag": "s3cr3t-flag-value", "equals": "s3cr3t-equals-value", "client": "s3cr3t-client-value",
               "env": "s3cr3t-env-value"}
    script = tmp_path / "h.py"
    script.write_text(HOLDER, encoding="utf-8")
    holder = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(results), "--token", secrets["flag"], f"--token={secrets['equals']}",
        "--client-secret", secrets["client"], f"Bearer {secrets['env']}",
        stdout=asyncio.subprocess.PIPE, env={"VISMA_TOKEN": secrets["env"]},
    )
    try:
        assert (await asyncio.wait_for(holder.stdout.readline(), 10)) == b"held\n"  # type: ignore[union-attr]
        code, out, err = await run_cli("run", str(source), "--entity", "customer", "--base-url", sandbox.url,
                                       "--token", TOKEN, "--results", str(results), "-v")
    finally:
        holder.kill()
        await holder.wait()
    assert code == 2, err
    assert f"is in use by process {holder.pid}" in err and "--token ***" in err and "--token=***" in err, err
    for value in secrets.values():
        assert value not in out + err
    assert results.read_bytes() == b""  # the holder's empty file: nothing written
    assert "F1" not in await ledger_numbers(sandbox.url)


async def test_a_failed_records_file_the_user_edited_is_never_overwritten(sandbox, tmp_path):
    source = tmp_path / "kunder.csv"
    source.write_text("number,name\nE1,Edit AS\nE2,\nE3,Tre AS\n", encoding="utf-8")  # E2 has no name
    args = ("run", str(source), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli(*args)
    assert code == 1, err
    failed = tmp_path / "kunder.failed.csv"
    assert failed.read_text(encoding="utf-8").splitlines()[1].startswith("E2,,")
    edited = b"number,name\nE2,Rettet AS\n"  # fixed in place, as a user does
    failed.write_bytes(edited)
    code, out, err = await run_cli(*args, "--resume")
    assert code == 1, err
    assert failed.read_bytes() == edited  # left as the user made it
    second = tmp_path / "kunder.failed-2.csv"
    assert second.read_text(encoding="utf-8").splitlines()[1].startswith("E2,,")
    assert "kunder.failed-2.csv (fix and import this file)" in out
    assert "kunder.failed.csv was changed since the importer wrote it" in err
    # A third run writes its own file over the importer's -2, never over the user's.
    code, out, err = await run_cli(*args, "--resume")
    assert code == 1, err
    assert failed.read_bytes() == edited and "kunder.failed-2.csv" in out and not (tmp_path / "kunder.failed-3.csv").exists()
    # Fixed in the input: a run with nothing failed removes the importer's -2, never the user's file.
    source.write_text("number,name\nE1,Edit AS\nE2,Rettet AS\nE3,Tre AS\n", encoding="utf-8")
    code, out, err = await run_cli(*args, "--resume")
    assert code == 0, err
    assert failed.read_bytes() == edited and not second.exists()
    # Importing the user's fixed file too creates nothing twice: E2 is there already.
    code, out, err = await run_cli("run", str(failed), "--entity", "customer", "--base-url", sandbox.url,
                                   "--token", TOKEN)
    numbers = await ledger_numbers(sandbox.url)
    assert [n for n in numbers if n.startswith("E")] == ["E1", "E2", "E3"]


async def test_a_fleets_outputs_never_overwrite_its_inputs(sandbox, tmp_path):
    """--summary-json naming a company's input, or its secrets file: refused before any company runs."""
    data = tmp_path / "north"
    data.mkdir()
    (data / "customers.csv").write_text("number,name\nF1,Fjord\n", encoding="utf-8")
    secrets = tmp_path / "north.secrets.toml"
    secrets.write_text(f'token = "{TOKEN}"\n', encoding="utf-8")
    secrets.chmod(0o600)
    manifest = tmp_path / "bureau.toml"
    manifest.write_text(f'[defaults]\nbase_url = "{sandbox.url}"\n\n[[company]]\nname = "north"\n'
                        'secrets_file = "north.secrets.toml"\n\n[[company.step]]\nname = "customers"\n'
                        'input = "north/customers.csv"\nentity = "customer"\n', encoding="utf-8")
    for victim in (data / "customers.csv", secrets, manifest):
        before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
        code, out, err = await run_cli("fleet", str(manifest), "--summary-json", str(victim))
        assert code == 2, out + err
        assert "Traceback" not in err and TOKEN not in out + err
        assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []
