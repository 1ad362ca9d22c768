"""A release is done when the ledger shows the document released: after a kill -9 in the middle
of a ``--release`` run, and after a release whose answer never came, the resume ends every
document ``done``, released once, never ``failed: already released``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from tests.support.ledger_proxy import Proxy, proxied
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, get_json, run_cli

COUNT = 8
INVOICES = "referenceNumber,customerNumber,line.inventoryNumber,line.quantity,line.unitPriceInCurrency\n" + "".join(
    f"INV-{i},10000,222,{i},10\n" for i in range(1, COUNT + 1))


def _a_release_answered(method: str, path: str, status: int) -> bool:
    return method == "POST" and path.endswith("/action/release") and status == 200


async def _setup(base: str, tmp_path: Path) -> Path:
    (tmp_path / "customers.csv").write_text("number,name\n10000,Fjord AS\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(tmp_path / "customers.csv"), "--entity", "customer",
                                   "--base-url", base, "--token", TOKEN)
    assert code == 0, (out, err)
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    return path


def _args(path: Path, proxy: Proxy, *more: str) -> list[str]:
    return ["run", str(path), "--entity", "invoice", "--base-url", proxy.url, "--token", TOKEN, "--release",
            "-c", "4", *more]


async def _assert_released_once(sandbox: Any, proxy: Proxy) -> None:
    """Every invoice released in the ledger, by exactly one release the sandbox took."""
    stored = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    for _ in range(50):  # live: a queued release finishes a moment later
        if all(r["status"] == "Open" for r in stored):
            break
        await asyncio.sleep(0.05)
        stored = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert sorted(r["referenceNumber"] for r in stored) == sorted(f"INV-{i}" for i in range(1, COUNT + 1))
    assert {r["status"] for r in stored} == {"Open"}, stored
    for i in range(1, COUNT + 1):
        assert proxy.server.count("POST", f"/v1/customerinvoice/INV-{i}/action/release") == 1, i
    assert sandbox.sandbox.stats.by_status.get(400, 0) == 0  # no release refused as "already released"


def _assert_all_done(results: Path) -> list[dict[str, Any]]:
    """The last word on each record: created (or its release sent alone), released."""
    last = {record: line for line in final_lines(results) for record in line["records"]}
    assert sorted(last) == list(range(1, COUNT + 1))
    lines = list({id(line): line for line in last.values()}.values())
    for line in lines:
        assert line["outcome"] in ("created", "done"), line
        assert line["release"]["outcome"] == "done", line
        assert "already released" not in (line["release"].get("error") or ""), line
    return lines


async def test_a_kill_9_during_a_release_run_then_resume_releases_each_document_once(sandbox, tmp_path):
    path = await _setup(sandbox.url, tmp_path)
    results = Path(f"{path}.results.ndjson")
    async with proxied(sandbox.url, hold=_a_release_answered) as proxy:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer", *_args(path, proxy),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            # Four documents created and released in the ledger, the releases' answers not yet heard.
            await proxy.wait_held(4)
        finally:
            proc.kill()
            await proc.wait()
        proxy.hold = None
        proxy.let_go()
        assert proc.returncode == -9
        killed = [line for line in map(bytes.decode, results.read_bytes().splitlines()) if '"started"' not in line]
        assert len(killed) < COUNT  # the kill left records without their final line

        code, out, err = await run_cli(*_args(path, proxy, "--resume"))
        assert code == 0, (out, err)
        lines = _assert_all_done(results)
        found = [line for line in lines if line.get("recovered")]
        assert len(found) == 4, lines  # found released in the ledger: not released again
        assert all(line["release"].get("already_released") for line in found), found
        await _assert_released_once(sandbox, proxy)


async def test_a_release_whose_answer_was_lost_is_done_once_the_ledger_shows_it(sandbox, tmp_path):
    path = await _setup(sandbox.url, tmp_path)
    results = Path(f"{path}.results.ndjson")
    async with proxied(sandbox.url, hold=_a_release_answered) as proxy:
        proxy.let_go()  # every release answer is cut off as it leaves: the release went through unheard
        code, out, err = await run_cli(*_args(path, proxy))
        assert "Traceback" not in err, err
        proxy.hold = None
        first = assert_one_final_line_per_record(results, COUNT)
        # The ledger is read when the answer is lost: released (standard) is done; a release the
        # live API still has queued is not done yet, and says what the ledger showed.
        for line in first:
            release = line["release"]
            assert release["outcome"] == "done" or "the document's status is Balanced" in release["error"], line
        if code != 0:
            await asyncio.sleep(0.3)  # the queued releases finish
            code, out, err = await run_cli(*_args(path, proxy, "--resume", "--retry-failed"))
            assert code == 0, (out, err)
        _assert_all_done(results)
        await _assert_released_once(sandbox, proxy)
