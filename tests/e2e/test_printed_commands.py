"""Every command the importer prints runs as printed: a ``--sandbox`` rehearsal stopped by
Ctrl-C prints ``… --sandbox --resume``, and that command, run as a user would paste it,
continues the same ledger (kept beside the results), which ends holding every record once."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest

from tests.support.runs import assert_one_final_line_per_record, get_json, run_cli

pytestmark = pytest.mark.e2e

COUNT = 150
_PRINTED = re.compile(r"^\s*importer (?!:)(\S.*)$", re.MULTILINE)


def printed_commands(*outputs: str) -> list[list[str]]:
    """The ``importer …`` command lines in a command's outputs, split as a shell would."""
    return [shlex.split(m.group(1)) for text in outputs for m in _PRINTED.finditer(text)]


async def stopped(args: list[str], results: Path, cwd: Path) -> tuple[int, str, str]:
    """Run ``importer ARGS`` until some records are created, then Ctrl-C it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    for _ in range(300):
        await asyncio.sleep(0.02)
        if results.exists() and results.read_bytes().count(b'"created"') >= 5:
            break
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("command", ["run", "plan"])
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
