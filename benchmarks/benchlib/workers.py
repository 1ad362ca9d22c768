"""The clients being compared, each run in a fresh process of its own.

    python -m benchmarks.benchlib.workers '{"kind": "importer", "base_url": ..., ...}'

prints one JSON line with what it measured. A fresh process per run means every
variant starts from the same state (no warm caches, no heap left over from an earlier
run, the same uvloop), and none of them shares a GIL with the orchestrator.

Every worker times only its sending phase: records, bodies and requests are built
before the clock starts. Over that same window it measures its own CPU time (its own
``getrusage(RUSAGE_SELF)``, so interpreter start-up, imports and record building are
left out) and the sandbox's (from /proc), which tells who the bottleneck was.

Kinds:

- ``importer``: ``importer.import_records`` in this process, a list of flat dict records
  in, a results file out, as a Python user calls it (mapping and results included);
- ``bare``: a plain aiohttp client posting the same pre-serialized bodies with
  ``concurrency`` tasks over one session: the ceiling for an aiohttp-based client;
- ``sequential``: one request at a time over one keep-alive ``http.client`` connection:
  the loop people write today (the generous version of it: keep-alive, no requests
  library);
- ``loadgen``: the raw protocol generator of ``loadgen``, for the sandbox's own ceiling.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .loadgen import build_requests, generate
from .procs import CpuMeter
from .records import customer_body, customer_records
from .sandbox import TOKEN

__all__ = ["WorkerSpec", "main"]

_PATH = "/v1/customer"
_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    kind: str
    base_url: str
    sandbox_pid: int
    start: int = 1
    count: int = 1000
    concurrency: int = 64
    results: str | None = None  # importer: results file path
    timestamps: bool = False  # importer: report when each record's final line came
    timeout: float = 600.0

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.base_url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)


def _own_cpu_seconds() -> float:
    """User + system CPU this process has used so far (every thread), by its own rusage."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Window:
    """The timed phase: wall clock, this process's CPU, the sandbox's, the whole machine's."""

    def __init__(self, sandbox_pid: int) -> None:
        self._sandbox = CpuMeter.of_pid(sandbox_pid)
        self._machine = CpuMeter.of_machine()
        self.t0 = self.elapsed = self.cpu_s = self.sandbox_cpu_pct = self.machine_cpu_pct = 0.0

    @contextmanager
    def measure(self) -> Iterator[_Window]:
        self._sandbox.start()
        self._machine.start()
        cpu0 = _own_cpu_seconds()
        self.t0 = time.perf_counter()
        try:
            yield self
        finally:
            self.elapsed = time.perf_counter() - self.t0
            self.cpu_s = _own_cpu_seconds() - cpu0
            self.sandbox_cpu_pct = self._sandbox.stop()
            self.machine_cpu_pct = self._machine.stop()

    def as_dict(self, ok: int) -> dict[str, Any]:
        sandbox_cpu_s = self.sandbox_cpu_pct * self.elapsed / 100.0
        return {
            "elapsed_s": self.elapsed,
            "rate": ok / self.elapsed if self.elapsed > 0 else 0.0,
            "client_cpu_s": self.cpu_s,
            "client_cpu_pct": 100.0 * self.cpu_s / self.elapsed if self.elapsed > 0 else 0.0,
            # per successful record: what one record cost this client, and the server
            "client_cpu_us_per_record": 1e6 * self.cpu_s / ok if ok else None,
            "sandbox_cpu_us_per_record": 1e6 * sandbox_cpu_s / ok if ok else None,
            "sandbox_cpu_pct": self.sandbox_cpu_pct,
            "machine_cpu_pct": self.machine_cpu_pct,
        }


def _bodies(spec: WorkerSpec) -> list[bytes]:
    return [customer_body(n) for n in range(spec.start, spec.start + spec.count)]


def _ok(statuses: dict[int, int]) -> int:
    return sum(n for status, n in statuses.items() if 200 <= status < 300)


async def _importer(spec: WorkerSpec) -> dict[str, Any]:
    import importer

    # ``importer.import_records`` is a lazy export: touching it imports the run's modules and
    # aiohttp (~0.4 s of CPU), which, like the bare client's ``import aiohttp``, stays out of the window.
    import_records = importer.import_records
    records = list(customer_records(spec.start, spec.count))
    completed_at: list[float] = []

    def on_outcome(line: dict[str, Any]) -> None:
        if line["outcome"] == "created":
            completed_at.append(time.perf_counter())

    window = _Window(spec.sandbox_pid)
    with window.measure():
        summary = await import_records(
            records, entity="customer", base_url=spec.base_url, token=TOKEN,
            concurrency=spec.concurrency, results=spec.results,
            on_outcome=on_outcome if spec.timestamps else None,
        )
    ok = summary.outcomes["created"]
    out: dict[str, Any] = {
        "ok": ok, **window.as_dict(ok), "summary": summary.to_dict(),
        "calls": summary.calls, "calls_per_record": summary.calls_per_record,
        "throttled": summary.throttled, "retries": summary.retries,
    }
    if spec.timestamps:
        out["completed_at"] = [round(t - window.t0, 6) for t in completed_at]
    return out


async def _bare(spec: WorkerSpec) -> dict[str, Any]:
    import aiohttp

    bodies = iter(_bodies(spec))  # shared by the tasks: each body is taken once
    url = spec.base_url + _PATH
    statuses: dict[int, int] = {}

    async def sender(session: aiohttp.ClientSession) -> None:
        for body in bodies:
            async with session.post(url, data=body, headers=_HEADERS) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

    window = _Window(spec.sandbox_pid)
    connector = aiohttp.TCPConnector(limit=spec.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        with window.measure():
            await asyncio.gather(*(sender(session) for _ in range(spec.concurrency)))
    return {"ok": _ok(statuses), "statuses": statuses, **window.as_dict(_ok(statuses))}


def _sequential(spec: WorkerSpec) -> dict[str, Any]:
    bodies = _bodies(spec)
    host, port = spec.host_port
    statuses: dict[int, int] = {}
    conn = http.client.HTTPConnection(host, port, timeout=30)
    window = _Window(spec.sandbox_pid)
    deadline = time.monotonic() + spec.timeout
    with window.measure():
        for body in bodies:
            conn.request("POST", _PATH, body=body, headers=_HEADERS)
            resp = conn.getresponse()
            resp.read()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if time.monotonic() > deadline:
                break
    conn.close()
    return {"ok": _ok(statuses), "statuses": statuses, **window.as_dict(_ok(statuses))}


async def _loadgen(spec: WorkerSpec) -> dict[str, Any]:
    host, port = spec.host_port
    requests = build_requests(host, port, _PATH, TOKEN, _bodies(spec))
    window = _Window(spec.sandbox_pid)
    with window.measure():
        result = await generate(host, port, requests, connections=spec.concurrency, timeout=spec.timeout)
    ok = _ok(result.statuses)
    return {"ok": ok, "statuses": result.statuses, "errors": result.errors[:5], **window.as_dict(ok)}


_ASYNC: dict[str, Callable[[WorkerSpec], Awaitable[dict[str, Any]]]] = {
    "importer": _importer, "bare": _bare, "loadgen": _loadgen,
}
_SYNC: dict[str, Callable[[WorkerSpec], dict[str, Any]]] = {"sequential": _sequential}
KINDS = (*_ASYNC, *_SYNC)


def _uvloop() -> bool:
    """The loop the importer itself picks: uvloop when installed, unless IMPORTER_UVLOOP=0."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return os.environ.get("IMPORTER_UVLOOP", "1") != "0"


def run(spec: WorkerSpec) -> dict[str, Any]:
    if spec.kind in _SYNC:
        result = _SYNC[spec.kind](spec)
        loop = "none"
    else:
        import anyio

        use_uvloop = _uvloop()

        async def main() -> dict[str, Any]:
            return await asyncio.wait_for(_ASYNC[spec.kind](spec), spec.timeout)

        result = anyio.run(main, backend_options={"use_uvloop": True} if use_uvloop else {})
        loop = "uvloop" if use_uvloop else "asyncio"
    return {"kind": spec.kind, "count": spec.count, "concurrency": spec.concurrency, "loop": loop, **result}


def main(argv: list[str]) -> int:
    spec = WorkerSpec(**json.loads(argv[0]))
    if spec.kind not in KINDS:
        print(f"unknown worker kind {spec.kind!r}; expected one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    print(json.dumps(run(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
