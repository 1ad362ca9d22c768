"""Every command the importer prints runs as printed: a ``--sandbox`` rehearsal stopped by
Ctrl-C prints ``… --sandbox --resume``, and that command, run as a user would paste it,
continues the same ledger (kept beside the results), which ends holding every record once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.printed import printed_commands, stopped
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, get_json, run_cli

pytestmark = pytest.mark.e2e

COUNT = 150


@pytest.mark.parametrize("command", ["run", "plan"])
@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_stopped_sandbox_rehearsal_resumes_as_printed(command, start_sandbox, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("number,name\n" + "".join(f"{i},Kunde {i}\n" for i in range(1, COUNT + 1)), encoding="utf-8")
    results = tmp_path / "customers.csv.results.ndjson"
    if command == "plan":
        plan = tmp_path / "plan.toml"
        plan.write_text('[defaults]\nconcurrency = 1\nrate = 60\n[[step]]\nname = "customers"\ninput = "customers.csv"\nentity = "customer"\n')
        args = ["plan", "plan.toml", "--sandbox"]
    else:
        args = ["run", "customers.csv", "--entity", "customer", "--sandbox", "--rate", "60", "-c", "1"]
    code, out, err = await stopped(args, results, tmp_path)
    assert code == 130, err
    done_before = results.read_bytes().count(b'"created"')
    assert 0 < done_before < COUNT
    commands = printed_commands(out, err)
    assert commands and all("--resume" in c and "--sandbox" in c for c in commands), err

    for again in commands:  # as printed, from where the user typed the first one
        code, out, err = await run_cli(*again, cwd=str(tmp_path), timeout=60)
        assert code == 0, err
        assert not printed_commands(out, err), out + err  # done: nothing more to type

    lines = assert_one_final_line_per_record(results, COUNT)
    assert {line["outcome"] for line in lines} == {"created"}
    state = Path(f"{results}.sandbox.sqlite")
    async with start_sandbox(state_path=str(state)) as ledger:  # what the rehearsal's sandbox stored
        stored = await get_json(f"{ledger.url}/sandbox/records/customer")
    numbers = sorted(int(r["number"]) for r in stored)
    assert numbers == list(range(1, COUNT + 1))  # every record once: none lost, none sent twice


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_run_that_leaves_records_says_how_and_the_printed_retry_runs(sandbox, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("number,name,creditLimit\n1,Kunde 1,10\n2,Kunde 2,20\n", encoding="utf-8")
    connection = ("--base-url", sandbox.url, "--token", TOKEN)
    code, _, err = await run_cli("run", str(first), "--entity", "customer", *connection)
    assert code == 0, err
    again = tmp_path / "again.csv"  # 1 and 2 again (the API refuses them), two bad amounts, one new
    again.write_text("number,name,creditLimit\n1,Kunde 1,10\n2,Kunde 2,20\n3,Kunde 3,\"12,5x\"\n4,Kunde 4,x2\n"
                     "5,Kunde 5,50\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(again), "--entity", "customer", *connection)
    assert code == 1, err
    assert "API errors (sent, and the API refused or did not answer), 2 records:" in out, out
    assert "input errors (not sent: fix the file), 2 records:" in out, out
    assert "'…'" not in out and "(and 1 more)" in out, out
    assert "2 records failed at the API" in err and "2 records were not sent" in err, err
    assert TOKEN not in out + err
    commands = printed_commands(out, err)
    assert len(commands) == 1 and commands[0][-2:] == ["--resume", "--retry-failed"], err
    results = tmp_path / "again.csv.results.ndjson"
    before = {line["key"]: line for line in final_lines(results)}

    code, out, err = await run_cli(*commands[0], "--token", TOKEN)  # the token, as the hint says
    assert code == 1, err  # the API still refuses them: said again, nothing else sent
    after = {line["key"]: line for line in final_lines(results)}
    assert after["1"] != before["1"] and after["2"] != before["2"]  # sent again, and refused again
    # refused again, or (the live profile's lookup) found in the ledger: settled either way
    assert {after["1"]["outcome"], after["2"]["outcome"]} <= {"failed", "created"}
    assert {k: after[k]["outcome"] for k in ("3", "4", "5")} == {"3": "invalid", "4": "invalid", "5": "created"}
    assert after["5"] == before["5"]  # done: left alone
    stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert sorted(r["number"] for r in stored) == ["1", "2", "5"]  # each once; the invalid ones never sent
