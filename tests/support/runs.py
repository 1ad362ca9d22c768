"""Runs of the importer as a user makes them: the CLI as a real subprocess, its results
files read back, the sandbox's static token, and the repository's own paths."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.support.forkserver import fork_server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
TOKEN = "sandbox-token"


async def get_json(url: str) -> object:
    """GET a JSON document with the static token (the /sandbox/* routes need one)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.get(url, headers=headers) as resp:
            return orjson.loads(await resp.read())


async def run_cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
                  cwd: str | None = None, timeout: float = 60) -> tuple[int, str, str]:
    """Run ``python -m importer ARGS`` as a real subprocess; (exit code, stdout, stderr).

    The process is forked from this worker's fork server (:mod:`tests.support.forkserver`):
    the same command in a process of its own, without its 0.35 s start-up; where the
    environment changes what the interpreter decides at start, it is spawned."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    full_env.update(env or {})
    server = fork_server()
    if server is not None and server.takes(full_env):
        return await server.run(args, full_env, stdin, cwd, timeout)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=full_env, cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    return proc.returncode, out.decode(), err.decode()


def read_lines(path) -> list[dict]:
    return [orjson.loads(line) for line in open(path, "rb").read().splitlines()]


def final_lines(path) -> list[dict]:
    return [line for line in read_lines(path) if line["outcome"] != "started"]


def assert_one_final_line_per_record(path, count: int) -> list[dict]:
    """Every record 1..count has exactly one final line (the last word on it)."""
    finals = final_lines(path)
    seen = [r for line in finals for r in line["records"]]
    assert sorted(seen) == list(range(1, count + 1)), "each record needs exactly one final line"
    return finals


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (made), unmounted after; the test is skipped
    where mounting is not allowed."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
