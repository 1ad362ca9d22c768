"""The command line: options, ``python -m importer.sandbox`` as a real process, anyio use."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import anyio
import pytest

from importer.sandbox import SandboxConfig, add_arguments, serve
from importer.sandbox.cli import config_from_args
from tests.support.sandbox_api import AUTH, GUIDE_CUSTOMER

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_match_the_config() -> None:
    config = config_from_args(parse())
    assert config.port == 8080  # the CLI's default; serve() alone binds a free port
    assert config == SandboxConfig(port=8080, clock=config.clock)


def test_options() -> None:
    args = parse(
        "--host", "0.0.0.0", "--port", "0", "--rate-limit", "5/1", "--seed", "3", "--latency-ms", "10",
        "--jitter-ms", "2", "--fault-rate", "0.5", "--faults", "500,slow", "--slow-ms", "100",
        "--state", "s.db", "--token-ttl", "60", "--max-page-size", "10", "--background-delay-ms", "5",
        "--client", "a:b", "--client", "c:d", "--static-token", "", "--profile", "live",
        "--control-token", "ctl-token", "-v",
    )
    config = config_from_args(args)
    assert (config.rate_limit, config.rate_window) == (5, 1.0)
    assert config.faults == ("500", "slow") and config.fault_rate == 0.5 and config.seed == 3
    assert config.clients == {"a": "b", "c": "d"} and config.static_token is None
    assert config.state_path == "s.db" and config.verbose and config.max_page_size == 10
    assert config.profile == "live" and config.control_token == "ctl-token"
    assert config_from_args(parse("--control-token", "")).control_token is None


@pytest.mark.parametrize("argv", [
    ["--rate-limit", "5"], ["--rate-limit", "0/1"], ["--faults", "500,fire"], ["--fault-rate", "2"],
    ["--client", "nosecret"], ["--profile", "fancy"],
])
def test_bad_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(*argv)


async def test_help_shows_profile_and_control_token() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer", "sandbox", "--help",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = out.decode()
    assert proc.returncode == 0
    assert "--profile {standard,live}" in text and "--control-token TOKEN" in text


async def test_python_m_importer_sandbox(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer.sandbox", "--port", "0", "--state", str(tmp_path / "s.db"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT), env=env,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        match = re.fullmatch(r"Sandbox listening on (http://127\.0\.0\.1:(\d+))\n", first)
        assert match, first
        url = match.group(1)
        assert int(match.group(2)) > 0
        hint = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        assert "/connect/token" in hint and "client_id=sandbox" in hint
        assert "sandbox-token" in (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            form = {"grant_type": "client_credentials", "client_id": "sandbox",
                    "client_secret": "sandbox-secret", "tenant_id": "demo"}
            async with session.post(url + "/connect/token", data=form) as r:
                assert r.status == 200
                token = (await r.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.post(url + "/v1/customer", json=GUIDE_CUSTOMER, headers=headers) as r:
                assert r.status == 201
                assert r.headers["Location"] == url + "/v1/customer/10000"
            async with session.get(url + "/v1/Customer/10000", headers=headers) as r:
                assert (await r.json())["name"] == "NewCustomer"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert proc.stderr is not None
        assert b"sandbox-secret" not in await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    # The state file kept the record.
    async with serve(SandboxConfig(state_path=str(tmp_path / "s.db"))) as running:
        assert "10000" in running.sandbox.store.records["customer"]


async def test_port_in_use_is_reported(tmp_path: Path) -> None:
    async with serve() as running:
        port = running.url.rsplit(":", 1)[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "importer.sandbox", "--port", port,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT),
        )
        out, err = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 1 and out == b""
        assert b"cannot start" in err


async def test_serve_inside_an_anyio_task_group() -> None:
    ready = anyio.Event()
    found: dict[str, str] = {}

    async def run_sandbox() -> None:
        async with serve() as running:
            found["url"] = running.url
            ready.set()
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_sandbox)
        with anyio.fail_after(5):
            await ready.wait()
        async with aiohttp.ClientSession() as session:
            async with session.get(found["url"] + "/sandbox/stats", headers=AUTH) as r:
                assert r.status == 200
        tg.cancel_scope.cancel()
    # Cancelled, the sandbox still shut down and released its port.
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            async with session.get(found["url"] + "/sandbox/stats"):
                pass
