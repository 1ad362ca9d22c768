"""The write-ahead promise, with started lines written together: no request before its line.

The server here reads the results file from disk each time a record reaches it, and
notes every record whose latest line is not its ``started`` line. A kill -9 at that
instant would leave a record the API has that ``--resume`` cannot know was sent.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiohttp import web

import importer
from importer.errors import ResultsWriteError
from importer.load.results import ResultsWriter, started_line
from tests.support.runs import TOKEN, read_lines, run_cli


@dataclass
class CheckingServer:
    """A customer API on a loopback port that checks the results file on every write it takes."""

    results: Path
    refuse: Callable[[str], bool] = lambda number: False  # numbers answered 400
    status: int = 0  # when set, every write is answered this, with no record made
    delay: float = 0.0  # seconds before each answer
    url: str = ""
    arrived: list[str] = field(default_factory=list)  # record numbers, in the order they came
    without_line: list[str] = field(default_factory=list)  # ... of those that came before their line
    created: set[str] = field(default_factory=set)

    def _latest(self) -> dict[str, dict]:
        latest: dict[str, dict] = {}
        # Whole lines only: the importer, in another process, may be writing the next one.
        for raw in self.results.read_bytes().split(b"\n")[:-1]:
            line = orjson.loads(raw)
            latest[line["identity"]] = line
        return latest

    def _check(self, number: str) -> None:
        latest = self._latest()
        self.arrived.append(number)
        line = latest.get(f"key:{number}")
        if line is None or line["outcome"] != "started" or line["api"] != self.url:
            self.without_line.append(number)

    async def post(self, request: web.Request) -> web.Response:
        number = orjson.loads(await request.read())["number"]["value"]
        self._check(number)
        return await self._answer(number, 201)

    async def put(self, request: web.Request) -> web.Response:
        number = request.match_info["key"]
        self._check(number)
        return await self._answer(number, 204)

    async def _answer(self, number: str, ok: int) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status:
            return web.json_response({"message": "refused"}, status=self.status)
        if self.refuse(number):
            return web.json_response({"message": f"customer {number} is refused"}, status=400)
        self.created.add(number)
        if ok == 204:
            return web.Response(status=204)
        return web.Response(status=201, headers={"Location": f"{self.url}/v1/customer/{number}"})


@asynccontextmanager
async def checking_server(results: Path, **settings) -> AsyncIterator[CheckingServer]:
    server = CheckingServer(results, **settings)
    app = web.Application()
    app.router.add_post("/v1/customer", server.post)
    app.router.add_put("/v1/customer/{key}", server.put)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


def customers_csv(path: Path, count: int) -> Path:
    path.write_text("number,name\n" + "".join(f"{i},Kunde {i}\n" for i in range(1, count + 1)), encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["create", "update"])
async def test_no_record_reaches_the_api_before_its_started_line(tmp_path, mode):
    count = 150
    source = customers_csv(tmp_path / "c.csv", count)
    results = tmp_path / "c.results.ndjson"
    async with checking_server(results) as server:
        code, out, err = await run_cli(
            "run", str(source), "--entity", "customer", "--mode", mode, "--base-url", server.url,
            "--token", TOKEN, "--results", str(results), "--concurrency", "16")
    assert code == 0, err
    assert sorted(server.arrived, key=int) == [str(i) for i in range(1, count + 1)]
    assert server.without_line == []
    lines = read_lines(results)
    assert sum(line["outcome"] == "started" for line in lines) == count
    assert {line["action"] for line in lines} == {mode}


async def test_the_started_lines_of_queued_records_go_out_together(tmp_path, monkeypatch):
    import importer.load.results

    count, concurrency = 200, 16
    source = customers_csv(tmp_path / "c.csv", count)
    results = tmp_path / "c.results.ndjson"
    real_write = os.write
    started_per_write: list[int] = []  # started lines in each write to the results file

    def counting(fd: int, data: bytes) -> int:
        started_per_write.append(bytes(data).count(b'"outcome":"started"'))
        return real_write(fd, data)

    monkeypatch.setattr(importer.load.results.os, "write", counting)
    async with checking_server(results) as server:
        summary = await importer.import_records(source, entity="customer", base_url=server.url, token=TOKEN,
                                                results=str(results), concurrency=concurrency)
    assert summary.ok and summary.outcomes["created"] == count
    assert server.without_line == [] and len(server.arrived) == count
    assert sum(started_per_write) == count
    writes = [n for n in started_per_write if n]
    assert len(writes) <= count // 4, writes  # not a write per record: a batch a worker's turn
    assert max(writes) > concurrency  # those waiting in the queue as well as those about to go


async def test_a_resume_sends_what_failed_after_its_started_line_too(tmp_path):
    count = 120
    source = customers_csv(tmp_path / "c.csv", count)
    results = tmp_path / "c.results.ndjson"
    async with checking_server(results, refuse=lambda number: int(number) % 7 == 0) as server:
        first = await importer.import_records(source, entity="customer", base_url=server.url, token=TOKEN,
                                              results=str(results), concurrency=8)
        refused = {str(i) for i in range(7, count + 1, 7)}
        assert first.outcomes["failed"] == len(refused)
        server.refuse = lambda number: False
        server.arrived.clear()
        again = await importer.import_records(source, entity="customer", base_url=server.url, token=TOKEN,
                                              results=str(results), concurrency=8, resume=True, retry_failed=True)
    assert again.ok and again.outcomes["created"] == len(refused)
    assert set(server.arrived) == refused  # earlier lines name them: each goes with a line of its own
    assert server.without_line == []
    assert server.created == {str(i) for i in range(1, count + 1)}


async def test_lines_written_ahead_of_records_never_sent_are_taken_back(tmp_path):
    count = 60
    source = customers_csv(tmp_path / "c.csv", count)
    results = tmp_path / "c.results.ndjson"
    async with checking_server(results, status=401) as server:  # a refused token halts the run
        summary = await importer.import_records(source, entity="customer", base_url=server.url, token=TOKEN,
                                                results=str(results), concurrency=8)
    assert summary.halted and server.arrived == ["1"] and server.without_line == []
    lines = read_lines(results)
    taken_back = {line["key"] for line in lines if line["outcome"] == "unsent"}
    never_sent = {line["key"] for line in lines if line["outcome"] == "started"} - {"1"}
    # The first write held the lines of all the records queued (eight), not only the workers' own.
    assert len(never_sent) >= 8 and taken_back == never_sent
    assert summary.not_processed == count - 1
    # Nothing is left in flight, so a resume sends them all without looking any of them up.
    state = importer.read_results(results)
    assert state.count("started") == 0 and len(state) == 1 and state.get("key:1").state == "failed"


async def test_after_ctrl_c_every_record_with_a_started_line_was_sent_and_none_other(tmp_path):
    count = 400
    source = customers_csv(tmp_path / "c.csv", count)
    results = tmp_path / "c.results.ndjson"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    async with checking_server(results, delay=0.02) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer", "run", str(source), "--entity", "customer", "--base-url", server.url,
            "--token", TOKEN, "--results", str(results), "--concurrency", "8",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env)
        for _ in range(600):
            if len(server.arrived) >= 40 or proc.returncode is not None:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130, err.decode()
    assert 40 <= len(server.arrived) < count and server.without_line == []
    lines = read_lines(results)
    started = {line["key"] for line in lines if line["outcome"] == "started"}
    finished = {line["key"] for line in lines if line["outcome"] in ("created", "failed")}
    # Lines written ahead for queued records count as in flight: those records went out too.
    assert started == finished == set(server.arrived)
    assert not any(line["outcome"] == "unsent" for line in lines)


def test_several_started_lines_go_in_one_write_all_of_them_or_none(tmp_path, monkeypatch):
    import importer.load.results

    path = tmp_path / "r.ndjson"
    writer = ResultsWriter(path)
    writes: list[bytes] = []
    real_write = os.write

    def recording(fd: int, data: bytes) -> int:
        if fd == writer._fd:
            writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(importer.load.results.os, "write", recording)
    batch = [started_line([n], "customer", f"key:{n}", f"f{n}", str(n), "create", "http://x") for n in (1, 2, 3)]
    writer.write_many(batch)
    assert len(writes) == 1 and read_lines(path) == batch
    good = path.read_bytes()

    def half_then_full(fd: int, data: bytes) -> int:
        if fd == writer._fd:
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(importer.load.results.os, "write", half_then_full)
    with pytest.raises(ResultsWriteError, match="the disk is full"):
        writer.write_many([started_line([n], "customer", f"key:{n}", "f", str(n), "create", None) for n in (4, 5)])
    monkeypatch.undo()
    assert path.read_bytes() == good  # not one of the lines that failed is left, not even half of one
    writer.close()
