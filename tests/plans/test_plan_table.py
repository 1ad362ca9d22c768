"""The plan table counts as a consultant does: documents first (their rows after them), the
totals over all runs of a step with this run's in brackets, and what a stop left undone.

Each test runs ``importer plan`` as a subprocess against the sandbox and checks what it stores.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from tests.support.runs import SAMPLES, TOKEN, get_json, run_cli

pytestmark = pytest.mark.one_profile


def _row(out: str, step: str) -> dict[str, str]:
    """The plan table's row of ``step``, by its column names."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    header = next(line for line in out.splitlines() if line.startswith("┃"))
    names = [cell.strip() for cell in header.split("┃")[1:-1]]
    found = [dict(zip(names, row)) for row in rows if row and row[0] == step]
    assert len(found) == 1, out
    return found[0]


async def test_an_invoice_step_counts_documents_first(sandbox, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(f'[[step]]\nname = "customers"\ninput = "{SAMPLES / "customers.csv"}"\nentity = "customer"\n'
                    f'[[step]]\nname = "invoices"\ninput = "{SAMPLES / "invoices.csv"}"\nentity = "invoice"\n')
    code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN,
                                   "--results-dir", str(tmp_path / "out"))
    assert code == 0, err
    rows = (SAMPLES / "invoices.csv").read_text(encoding="utf-8").count("\n") - 1
    stored = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    documents = len(stored)
    assert 1 < documents < rows  # a document of several rows among them
    invoices = _row(out, "invoices")
    assert invoices["read"] == f"{documents} ({rows} rows)", out
    assert invoices["ok"] == str(documents) and invoices["not processed"] == "0", out
    customers = _row(out, "customers")
    assert customers["read"] == customers["ok"] == str(len(await get_json(f"{sandbox.url}/sandbox/records/customer")))
    assert "report: " in out and f"{documents + int(customers['ok'])} created ({rows + int(customers['ok'])} rows)" \
        in out, out


async def test_after_a_stop_the_table_shows_what_is_left_and_a_resume_the_totals(start_sandbox, tmp_path):
    count = 120
    source = tmp_path / "customers.csv"
    source.write_text("number,name\n" + "".join(f"{i},Kunde {i}\n" for i in range(1, count + 1)), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text('[defaults]\nconcurrency = 2\n[[step]]\nname = "customers"\ninput = "customers.csv"\n'
                    'entity = "customer"\n')
    out_dir = tmp_path / "out"
    results = out_dir / "customers.csv.results.ndjson"
    async with start_sandbox(latency_ms=20) as sb:
        args = ("plan", str(plan), "--base-url", sb.url, "--results-dir", str(out_dir))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer", *args, "--token", TOKEN, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(200):  # until some customers are in, then Ctrl-C
            await asyncio.sleep(0.05)
            if results.exists() and results.read_bytes().count(b'"created"') >= 10:
                break
        proc.send_signal(signal.SIGINT)
        out_b, err_b = await asyncio.wait_for(proc.communicate(), 30)
        out, err = out_b.decode(), err_b.decode()
        assert proc.returncode == 130, err
        first = len(await get_json(f"{sb.url}/sandbox/records/customer"))
        stopped = _row(out, "customers")
        assert 0 < first < count, out
        assert stopped["ok"] == str(first), out
        assert stopped["not processed"] == str(count - first), out

        code, out, err = await run_cli(*args, "--resume", env={"VISMA_TOKEN": TOKEN})
        assert code == 0, err
        stored = await get_json(f"{sb.url}/sandbox/records/customer")
    assert sorted(int(c["number"]) for c in stored) == list(range(1, count + 1))
    resumed = _row(out, "customers")
    assert resumed["ok"] == f"{count} ({count - first})", out  # all runs, this run in brackets
    assert resumed["not processed"] == "0", out
    assert "this run's in brackets" in out, out
