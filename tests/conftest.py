"""Shared fixtures: the sandbox on a loopback port, and sample paths."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import aioresponses.core

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


# aiohttp 3.14 made ClientResponse take a ``stream_writer``; aioresponses 0.7.9 does not
# pass one yet. A finished request only reads its ``output_size``.
if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _MockedResponse(aiohttp.ClientResponse):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _MockedResponse


# -- the sandbox, on a real loopback socket ----------------------------------------------

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager

import orjson
import pytest

from importer.sandbox import RunningSandbox, SandboxConfig, serve

TOKEN = "sandbox-token"


# Every end-to-end test runs against both sandbox profiles: the API as its document
# describes it, and "live" with what integrators report of the live API on top.
PROFILES = ("standard", "live")


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``one_profile`` run against the standard profile only: what they check
    (files refused, inputs read, flags layered) is settled before the live API's quirks could
    matter, and the suite's time goes to the tests where they do."""
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        live = spec is not None and spec.params.get("profile") not in (None, "standard")
        (drop if live and item.get_closest_marker("one_profile") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
async def sandbox(profile: str) -> AsyncIterator[RunningSandbox]:
    async with serve(SandboxConfig(seed=1, profile=profile)) as running:
        yield running


@pytest.fixture
def start_sandbox(profile: str) -> Callable[..., AbstractAsyncContextManager[RunningSandbox]]:
    """``async with start_sandbox(rate_limit=20, rate_window=1) as sb: ...`` (the test's profile)."""

    def start(**config) -> AbstractAsyncContextManager[RunningSandbox]:
        config.setdefault("seed", 1)
        config.setdefault("profile", profile)
        return serve(SandboxConfig(**config))

    return start


async def get_json(url: str) -> object:
    """GET a JSON document with the static token (the /sandbox/* routes need one)."""
    import aiohttp

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.get(url, headers=headers) as resp:
            return orjson.loads(await resp.read())


async def run_cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
                  cwd: str | None = None, timeout: float = 60) -> tuple[int, str, str]:
    """Run ``python -m importer ARGS`` as a real subprocess; (exit code, stdout, stderr)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    full_env.update(env or {})
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
