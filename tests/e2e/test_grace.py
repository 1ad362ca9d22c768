"""``--grace SECONDS`` under SIGTERM, as a scheduler sends it: the requests in flight get that long to
finish, the run writes its last lines and exits 130; what the ledger holds is what the results say."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.runs import TOKEN, get_json, read_lines

pytestmark = pytest.mark.one_profile  # the stop is the importer's own

LATENCY = 2.0  # seconds the sandbox takes over every request
CONCURRENCY = 4


async def _terminated(path: Path, results: Path, url: str, grace: str) -> tuple[int, float, list[dict], str]:
    """Run the CLI on ``path``; SIGTERM once requests are in flight. (exit code, seconds from the
    signal to the exit, the results file's lines, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", "run", str(path), "--entity", "customer", "--base-url", url,
        "--token", TOKEN, "--results", str(results), "--concurrency", str(CONCURRENCY), "--company", "none",
        "--grace", grace, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env)
    for _ in range(1000):  # the first requests written ahead and sent
        if results.exists() and sum(b'"started"' in line for line in results.read_bytes().splitlines()) >= 1:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # ... and on the wire, the sandbox sitting on them
    proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, time.monotonic() - signalled, read_lines(results), err.decode()


def _finals(lines: list[dict]) -> tuple[set[int], Counter[int], dict[int, dict]]:
    started = {r for line in lines if line["outcome"] == "started" for r in line["records"]}
    finals = [line for line in lines if line["outcome"] != "started"]
    count = Counter(r for line in finals for r in line["records"])
    return started, count, {r: line for line in finals for r in line["records"]}


async def test_sigterm_lets_requests_in_flight_finish_within_grace_and_cuts_them_at_it(start_sandbox, tmp_path):
    count = 12
    long_grace, short_grace = tmp_path / "a.csv", tmp_path / "b.csv"
    long_grace.write_text("number,name\n" + "".join(f"{n},A {n}\n" for n in range(1, count + 1)), encoding="utf-8")
    short_grace.write_text("number,name\n" + "".join(f"{n},B {n}\n" for n in range(101, 101 + count)),
                           encoding="utf-8")
    async with start_sandbox(latency_ms=LATENCY * 1000) as sandbox:
        # A grace longer than the answers take: every request sent is answered, and recorded.
        code, took, lines, err = await _terminated(long_grace, tmp_path / "a.ndjson", sandbox.url, "8")
        assert code == 130, err
        assert took < 8, took  # within the grace (the answers came after about LATENCY - 0.3 s)
        started, finals, by_record = _finals(lines)
        assert started and set(finals) == started and set(finals.values()) == {1}  # one final line each
        assert len(started) < count  # the rest were left for --resume
        assert {line["outcome"] for line in by_record.values()} == {"created"}
        stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
        assert sorted(int(c["number"]) for c in stored) == sorted(  # type: ignore[union-attr]
            int(by_record[r]["key"].split(":")[-1]) for r in started)

        # A grace shorter than the answers take: the run does not wait for them past it; the records
        # it cut keep their started line alone, which a --resume looks up before sending anything.
        code, took, lines, err = await _terminated(short_grace, tmp_path / "b.ndjson", sandbox.url, "0.2")
        assert code == 130, err
        assert took < LATENCY, took  # the answers were still on their way
        started, finals, by_record = _finals(lines)
        assert started and not finals, by_record
        assert "--resume" in err
