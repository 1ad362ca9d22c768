"""A ``--sandbox`` rehearsal killed with SIGKILL mid-run, then resumed: its ledger (kept beside
the results) ends holding every record once, and every record has one final results line.
Two resumes of one rehearsal at once: the second is refused, naming the first, and the
ledger is left whole."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from importer.schema import unwrap_value
from tests.support.runs import assert_one_final_line_per_record, get_json, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.one_profile]

CUSTOMERS, INVOICES = 4, 60
PLAN = """[defaults]
concurrency = 2
rate = 8
[[step]]
name = "customers"
input = "customers.csv"
entity = "customer"
[[step]]
name = "invoices"
input = "invoices.csv"
entity = "invoice"
"""


def _write(folder: Path) -> None:
    (folder / "customers.csv").write_text(
        "number,name\n" + "".join(f"K{i},Kunde {i}\n" for i in range(1, CUSTOMERS + 1)), encoding="utf-8")
    (folder / "invoices.csv").write_text(
        "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
        + "".join(f"F{i},K{i % CUSTOMERS + 1},2024-02-01,Vare {i},1,{100 + i}\n" for i in range(1, INVOICES + 1)),
        encoding="utf-8")
    (folder / "plan.toml").write_text(PLAN, encoding="utf-8")


async def _start(folder: Path, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", "plan", "plan.toml", "--sandbox", *args, cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _until_created(results: Path, count: int) -> None:
    for _ in range(1500):  # 30 s at most
        if results.exists() and results.read_bytes().count(b'"outcome":"created"') >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{results} never held {count} created records")


async def test_a_killed_rehearsal_resumes_to_each_record_once(start_sandbox, tmp_path: Path) -> None:
    _write(tmp_path)
    invoices = tmp_path / "invoices.csv.results.ndjson"
    killed = await _start(tmp_path)
    await _until_created(invoices, random.randint(5, 20))
    killed.kill()  # SIGKILL: nothing is flushed, nothing is printed
    await asyncio.wait_for(killed.communicate(), 30)
    done = invoices.read_bytes().count(b'"outcome":"created"')
    assert 0 < done < INVOICES

    # Resumed; a second resume of the same rehearsal, started while it runs, is refused.
    first = await _start(tmp_path, "--resume")
    await _until_created(invoices, done + 1)
    code, out, err = await run_cli("plan", "plan.toml", "--sandbox", "--resume", cwd=str(tmp_path), timeout=60)
    assert code != 0 and first.returncode is None, out + err
    assert f"process {first.pid}" in err and "one run at a time continues a rehearsal" in err, err
    out_b, err_b = await asyncio.wait_for(first.communicate(), 60)
    assert first.returncode == 0, (out_b + err_b).decode()

    lines = assert_one_final_line_per_record(invoices, INVOICES)
    assert {line["outcome"] for line in lines} == {"created"}
    assert_one_final_line_per_record(tmp_path / "customers.csv.results.ndjson", CUSTOMERS)
    state = tmp_path / "customers.csv.results.ndjson.sandbox.sqlite"
    async with start_sandbox(state_path=str(state)) as ledger:  # what the rehearsal's sandbox stored
        stored = await get_json(f"{ledger.url}/sandbox/records/invoice")
        customers = await get_json(f"{ledger.url}/sandbox/records/customer")
    assert isinstance(stored, list) and isinstance(customers, list)
    held = Counter(str(unwrap_value(d.get("customerRefNumber")) or unwrap_value(d["referenceNumber"]))
                   for d in stored)
    assert held == Counter({f"F{i}": 1 for i in range(1, INVOICES + 1)})  # each once: none lost, none twice
    assert len(customers) == CUSTOMERS
