"""The sandbox in a process of its own, as the benchmarks need it.

It must not share a process (nor, ideally, a core) with the client being measured,
or the two would compete for one GIL. ``running_sandbox`` starts
``python -m importer.sandbox --port 0``, reads the URL from its first line, and on
exit stops exactly that process: SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import PYTHON, REPO, child_env
from .procs import cpu_seconds

__all__ = ["UNTHROTTLED", "TOKEN", "SandboxProcess", "running_sandbox", "running_floor"]

UNTHROTTLED = "1000000000/3600"  # far above anything a run can send
TOKEN = "sandbox-token"  # the sandbox's static token
_READY = "Sandbox listening on "
_CONTROL = {"Authorization": f"Bearer {TOKEN}"}  # /sandbox/* routes need a token


@dataclass(frozen=True, slots=True)
class SandboxProcess:
    url: str  # base URL before /v1
    proc: subprocess.Popen[bytes]
    rate_limit: str
    latency_ms: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)

    def stats(self) -> dict[str, Any]:
        """``GET /sandbox/stats``: records, requests, throttled, by_status, ..."""
        request = urllib.request.Request(f"{self.url}/sandbox/stats", headers=_CONTROL)
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        """Forget records, counters and rate windows, so a run starts from scratch."""
        request = urllib.request.Request(f"{self.url}/sandbox/reset", method="POST", headers=_CONTROL)
        with urllib.request.urlopen(request, timeout=60):
            pass

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


@contextmanager
def running_sandbox(
    workdir: Path,
    *,
    rate_limit: str = UNTHROTTLED,
    latency_ms: float = 0.0,
    seed: int = 1,
    startup_timeout: float = 30.0,
    state: Path | None = None,
) -> Iterator[SandboxProcess]:
    """A sandbox subprocess for the duration of the block; its output goes to ``workdir``;
    ``state``: the SQLite file it keeps its records in (and reads them from when it starts)."""
    cmd = [
        PYTHON, "-m", "importer.sandbox", "--port", "0", "--seed", str(seed),
        "--rate-limit", rate_limit, "--latency-ms", str(latency_ms),
        *(("--state", str(state)) if state is not None else ()),
    ]
    with _running(cmd, workdir, startup_timeout) as proc_url:
        yield SandboxProcess(proc_url[1], proc_url[0], rate_limit, latency_ms)


@contextmanager
def running_floor(workdir: Path, *, startup_timeout: float = 30.0) -> Iterator[SandboxProcess]:
    """The bare aiohttp.web server of ``floor`` in a subprocess, driven like a sandbox."""
    with _running([PYTHON, "-m", "benchmarks.benchlib.floor"], workdir, startup_timeout) as proc_url:
        yield SandboxProcess(proc_url[1], proc_url[0], "none", 0.0)


@contextmanager
def _running(
    cmd: list[str], workdir: Path, startup_timeout: float
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    log = workdir / f"server-{time.time_ns()}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=child_env())
    try:
        yield proc, _wait_for_url(proc, log, startup_timeout)
    finally:
        _stop(proc)


def _wait_for_url(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """The URL from the sandbox's first line, which it prints once it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        first = log.read_text(errors="replace").partition("\n")
        if first[1] and first[0].startswith(_READY):
            return first[0][len(_READY):].strip()
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"the sandbox did not start; its output:\n{log.read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop our sandbox by its PID: SIGTERM, and SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
