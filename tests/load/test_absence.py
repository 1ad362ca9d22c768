"""Absence is proved, not assumed: a write whose answer was lost is waited for before it is sent again.

The sandbox's ``slow`` fault holds a write longer than the client's timeout and then
commits it; the small servers here hold a create forever, drop a 202 after queueing the
job, or fail reads of a job's state. Every test asserts what the ledger holds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import anyio
import orjson
from aiohttp import web

import importer
from importer.client import ApiClient, RetryPolicy, StaticToken
from importer.client.http import LookupUnavailable
from tests.support.hostile_server import HostileServer, hostile
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, run_cli

TIMEOUT = 0.6  # the client's timeout, and so the wait before a second lookup
SLOW_MS = 900  # the sandbox holds a slow write this long: past the timeout, within the wait


async def settled_ledger(url: str, entity: str) -> list[dict[str, Any]]:
    """What the sandbox holds once every write still held by a slow fault has landed."""
    await anyio.sleep(SLOW_MS / 1000 + 0.1)
    return await get_json(f"{url}/sandbox/records/{entity}")  # type: ignore[return-value]


def customers(count: int) -> list[dict[str, str]]:
    return [{"number": f"K{n}", "name": f"Kunde {n} AS"} for n in range(1, count + 1)]


def assert_waited_lines(finals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines that state a wait: each waited at least the client's timeout, and was found by it."""
    waited = [line for line in finals if line.get("waited")]
    assert waited, "no record met a slow write: the fault did not happen"
    for line in waited:
        assert line["waited"] >= TIMEOUT * 0.95 and line["recovered"] and line["outcome"] == "created", line
    return waited


# -- the sandbox holds writes past the client's timeout, then commits them ------------------------


async def test_slow_keyed_customers_are_waited_for_and_created_once(start_sandbox, tmp_path):
    results = tmp_path / "c.ndjson"
    async with start_sandbox(fault_rate=0.35, faults=("slow",), slow_ms=SLOW_MS, seed=5) as sb:
        summary = await importer.import_records(
            customers(12), entity="customer", base_url=sb.url, token=TOKEN, concurrency=6,
            timeout=TIMEOUT, retry_base=0.01, results=str(results),
        )
        stored = Counter(c["number"] for c in await settled_ledger(sb.url, "customer"))
        stats = await get_json(f"{sb.url}/sandbox/stats")
    assert stats["faults"]["slow"] > 0
    assert stored == Counter(f"K{n}" for n in range(1, 13))  # every customer, once
    finals = assert_one_final_line_per_record(results, 12)
    assert stats["duplicates_refused"] == 0  # nothing was sent again while it could still land
    assert summary.outcomes["created"] == 12, Counter(line["outcome"] for line in finals)
    assert_waited_lines(finals)


async def test_slow_auto_numbered_invoices_are_found_by_reference_after_the_wait(start_sandbox, tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("documentKey,customerNumber,line.description,line.quantity\n"
                    + "".join(f"d{i},10000,Linje,1\n" for i in range(1, 11)), encoding="utf-8")
    async with start_sandbox(fault_rate=0.35, faults=("slow",), slow_ms=SLOW_MS, seed=11) as sb:
        await importer.import_records([{"number": "10000", "name": "Kunde"}], entity="customer",
                                      base_url=sb.url, token=TOKEN, timeout=TIMEOUT,
                                      results=str(tmp_path / "c.ndjson"))
        summary = await importer.import_records(path, entity="invoice", base_url=sb.url, token=TOKEN,
                                                concurrency=5, timeout=TIMEOUT, retry_base=0.01)
        invoices = await settled_ledger(sb.url, "invoice")
    references = Counter(invoice["externalReference"] for invoice in invoices)
    assert len(invoices) == 10 and len(references) == 10 and max(references.values()) == 1  # no duplicate
    finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 10)
    assert summary.outcomes["created"] == 10, Counter(line["outcome"] for line in finals)
    waited = assert_waited_lines(finals)
    numbers = {invoice["referenceNumber"] for invoice in invoices}
    assert all(line["key"] in numbers for line in waited)  # found by its reference: the number it got


async def test_background_requests_whose_202_is_lost_are_not_sent_again(start_sandbox, tmp_path):
    # A slow fault holds the POST past the timeout, then queues the job: the 202 goes nowhere.
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"B{n},Kunde {n}\n" for n in range(1, 9)), encoding="utf-8")
    async with start_sandbox(fault_rate=0.4, faults=("slow",), slow_ms=SLOW_MS, seed=2) as sb:
        code, _, err = await run_cli("run", str(path), "--entity", "customer", "--base-url", sb.url,
                                     "--token", TOKEN, "--background", "--timeout", str(TIMEOUT), timeout=30)
        stored = Counter(c["number"] for c in await settled_ledger(sb.url, "customer"))
        stats = await get_json(f"{sb.url}/sandbox/stats")
    assert code == 0, err
    assert stats["faults"]["slow"] > 0
    assert stored == Counter(f"B{n}" for n in range(1, 9))
    assert stats["duplicates_refused"] == 0  # no second job was queued for a record already queued
    finals = assert_one_final_line_per_record(f"{path}.results.ndjson", 8)
    assert all(line["outcome"] == "created" for line in finals), [line["error"] for line in finals]
    assert_waited_lines(finals)


# -- a ledger of the test's own ----------------------------------------------------------------------


class Ledger:
    """Customers by number, kept by the server's routes; background jobs run after ``job_delay``."""

    def __init__(self, *, job_delay: float = 0.0, unreadable: int = 0) -> None:
        self.customers: dict[str, list[dict[str, Any]]] = {}  # every copy stored, to see duplicates
        self.job_delay = job_delay
        self.unreadable = unreadable  # reads of each job's state that fail before it can be read
        self.jobs: dict[str, dict[str, Any]] = {}
        self.reads: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()

    def store(self, record: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        number = record["number"]["value"]
        if number in self.customers:
            return 400, {"message": f"Customer '{number}' already exists (number must be unique)."}
        copy = {key: value["value"] for key, value in record.items()}
        self.customers.setdefault(number, []).append(copy)
        return 201, copy

    def routes(self, post: Any) -> dict[str, Any]:
        return {"POST /v1/customer": post, "GET /v1/customer/*": self.get_customer,
                "GET /v1/background/*": self.job_state}

    async def get_customer(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        copies = self.customers.get(request.match_info["tail"].rsplit("/", 1)[-1])
        if not copies:
            return web.json_response({"message": "not found"}, status=404)
        return web.json_response(copies[0])

    async def queue(self, request: web.Request) -> dict[str, Any]:
        """Take the request as a background job: it runs after ``job_delay``."""
        job = {"id": f"J{len(self.jobs) + 1}", "status": "Started", "statusCode": 0}
        self.jobs[job["id"]] = job
        record = orjson.loads(await request.read())

        async def run() -> None:
            await asyncio.sleep(self.job_delay)
            status, body = self.store(record)
            job.update(status="Finished", statusCode=status, content=body)

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return {"id": job["id"], "stateLocation": f"/v1/background/{job['id']}"}

    async def job_state(self, request: web.Request, server: HostileServer) -> web.StreamResponse:
        parts = request.rel_url.path.split("/")
        job = self.jobs[parts[3]]
        if len(parts) == 5:  # .../content
            return web.json_response(job["content"])
        self.reads[job["id"]] += 1
        if self.reads[job["id"]] <= self.unreadable:  # lost on the way: first a 404, then a dropped answer
            if self.reads[job["id"]] % 2:
                return web.json_response({"message": "No background operation state was found."}, status=404)
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        state = {key: value for key, value in job.items() if key != "content"}
        if "content" in job:
            state["contentLocation"] = f"/v1/background/{job['id']}/content"
        return web.json_response(state)


def client_for(url: str, *, timeout: float = TIMEOUT) -> ApiClient:
    return ApiClient(url, StaticToken(TOKEN), timeout=timeout, retry=RetryPolicy(max_attempts=4, base=0.01, budget=20),
                     background_timeout=5, background_polls=40)


async def test_a_server_that_never_commits_ends_unknown_after_the_bound_and_gets_no_third_send(tmp_path):
    ledger = Ledger()

    async def hold_forever(request: web.Request, server: HostileServer) -> web.StreamResponse:
        await asyncio.sleep(30)  # never answers, never stores
        return web.Response(status=500)

    results = tmp_path / "r.ndjson"
    async with hostile(ledger.routes(hold_forever)) as srv:
        started = time.monotonic()
        with anyio.fail_after(10):
            await importer.import_records(customers(1), entity="customer", base_url=srv.url, token=TOKEN,
                                          timeout=0.3, retry_base=0.01, results=str(results))
        elapsed = time.monotonic() - started
        posts = srv.count("POST", "/v1/customer")
    assert posts == 2 and ledger.customers == {}  # sent once more after a proved absence, never a third time
    [line] = assert_one_final_line_per_record(results, 1)
    assert line["outcome"] == "failed" and line["unknown"] is True and line["key"] == "K1"
    assert "not sent again after 2 sends" in line["error"] and "timed out" in line["error"], line["error"]
    assert 0.55 <= line["waited"] < 1.5  # two waits of the 0.3 s timeout
    assert elapsed < 5


async def test_a_lost_202_is_followed_by_a_lookup_after_the_wait_not_a_second_job():
    ledger = Ledger(job_delay=0.3)  # the job lands after the lookup made at once

    async def queue_then_drop(request: web.Request, server: HostileServer) -> web.StreamResponse:
        await ledger.queue(request)
        assert request.transport is not None
        request.transport.close()  # the job is queued; its 202 never arrives
        return web.Response(status=202)

    body = orjson.dumps({"number": {"value": "K1"}, "name": {"value": "Kunde 1 AS"}})
    async with hostile(ledger.routes(queue_then_drop)) as srv:
        async with client_for(srv.url) as client:
            lookup = _by_key(client, "K1")
            attempt = await client.request("POST", "/v1/customer", body, lookup=lookup, background=True)
    assert [copy["number"] for copy in ledger.customers["K1"]] == ["K1"] and len(ledger.jobs) == 1
    assert attempt.found_by_lookup and attempt.error is None and attempt.attempts == 1
    assert attempt.waited >= TIMEOUT * 0.95


async def test_failed_reads_of_a_job_state_are_read_again_and_the_job_is_not_resent(tmp_path):
    ledger = Ledger(job_delay=0.2, unreadable=2)  # a 404, then a dropped answer, then the state

    async def queue(request: web.Request, server: HostileServer) -> web.StreamResponse:
        return web.json_response(await ledger.queue(request), status=202)

    results = tmp_path / "r.ndjson"
    async with hostile(ledger.routes(queue)) as srv:
        await importer.import_records(customers(3), entity="customer", base_url=srv.url, token=TOKEN,
                                      timeout=TIMEOUT, retry_base=0.01, background=True, results=str(results))
    assert {number: len(copies) for number, copies in ledger.customers.items()} == {"K1": 1, "K2": 1, "K3": 1}
    assert len(ledger.jobs) == 3 and srv.count("POST") == 3  # one job each: followed, never sent again
    finals = assert_one_final_line_per_record(results, 3)
    assert all(line["outcome"] == "created" and not line["recovered"] for line in finals), finals
    assert all(ledger.reads[job] >= 3 for job in ledger.jobs)


async def test_a_duplicate_refusal_after_a_lost_answer_is_the_earlier_send_gone_through():
    ledger = Ledger(job_delay=1.0)  # the first job lands only after the wait: the record is sent again

    async def queue_first_then_answer(request: web.Request, server: HostileServer) -> web.StreamResponse:
        answer = await ledger.queue(request)
        if len(ledger.jobs) == 1:
            assert request.transport is not None
            request.transport.close()  # the first 202 is lost
        return web.json_response(answer, status=202)

    body = orjson.dumps({"number": {"value": "K7"}, "name": {"value": "Kunde 7 AS"}})
    async with hostile(ledger.routes(queue_first_then_answer)) as srv:
        async with client_for(srv.url, timeout=0.3) as client:
            attempt = await client.request("POST", "/v1/customer", body, lookup=_by_key(client, "K7"),
                                           background=True)
    assert len(ledger.customers["K7"]) == 1 and len(ledger.jobs) == 2
    assert ledger.jobs["J2"]["statusCode"] == 400  # the second job was refused: "already exists"
    assert attempt.found_by_lookup and attempt.error is None  # ... and that is the first gone through


async def test_a_halt_ends_the_wait_at_once():
    ledger = Ledger()
    ledger.customers["K0"] = [{"number": "K0", "name": "There"}]

    async def hold_forever(request: web.Request, server: HostileServer) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(status=500)

    async def refuse_token(request: web.Request, server: HostileServer) -> web.StreamResponse:
        return web.json_response({"message": "token expired"}, status=401)

    routes = {"POST /v1/salesorder": refuse_token, **ledger.routes(hold_forever)}
    body = orjson.dumps({"number": {"value": "K1"}, "name": {"value": "Kunde 1 AS"}})
    async with hostile(routes) as srv:
        async with client_for(srv.url, timeout=1.0) as client:
            await client.request("GET", "/v1/customer/K0")  # proves the token and base URL: the gate opens
            ended: list[float] = []

            async def create() -> None:
                attempt = await client.request("POST", "/v1/customer", body, lookup=_by_key(client, "K1"))
                ended.append(time.monotonic())
                assert attempt.error is not None and "outcome unknown" in attempt.error
                assert "client stopped" in attempt.error, attempt.error

            async with anyio.create_task_group() as tg:
                tg.start_soon(create)
                await anyio.sleep(1.3)  # the create timed out and waits for it to land
                halted_at = time.monotonic()
                await client.request("POST", "/v1/salesorder", b"{}")  # a refused token halts the client
        posts = srv.count("POST", "/v1/customer")
    assert client.halted is not None and ended and ended[0] - halted_at < 0.3
    assert posts == 1 and "K1" not in ledger.customers


def _by_key(client: ApiClient, key: str) -> Any:
    """A lookup by key, as the pipeline's: found (200), not there (404), or could not tell."""

    async def lookup() -> Any:
        attempt = await client.request("GET", f"/v1/customer/{key}")
        status = attempt.response.status if attempt.response is not None else None
        if status not in (200, 404):
            raise LookupUnavailable(f"could not check whether it exists ({attempt.error or status})")
        return attempt.response if status == 200 else None

    return lookup

