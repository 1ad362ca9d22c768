"""The Python API as a nightly job would use it, and the CLI's machine-readable output."""

import io
import json
import os

import pytest

import importer
from tests.support.runs import TOKEN, get_json, run_cli


async def test_path_input_with_callback_and_summary_fields(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n2,B\n3,\n", encoding="utf-8")
    seen = []
    summary = await importer.import_records(
        path, entity="customer", base_url=sandbox.url, token=TOKEN, on_outcome=seen.append,
    )
    assert sorted(line["outcome"] for line in seen) == ["created", "created", "invalid"]  # no name: not sent
    data = summary.to_dict()
    for field in ("outcomes", "calls", "calls_per_record", "throttled", "retries", "elapsed_s",
                  "records_per_s", "results", "exit_code"):
        assert field in data
    assert data["outcomes"]["created"] == 2 and data["calls"] == 2 and data["calls_per_record"] == 1.0
    assert data["results"] == f"{path}.results.ndjson" and summary.exit_code == 1


async def test_file_object_input(sandbox):
    stream = io.BytesIO("number;name;creditLimit\n1;Ærlig AS;12,5\n".encode("utf-8"))
    summary = await importer.import_records(stream, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert summary.ok
    [customer] = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert customer["creditLimit"] == 12.5 and customer["name"] == "Ærlig AS"


async def test_async_iterable_input(sandbox, tmp_path):
    async def records():
        for i in range(1, 4):
            yield {"number": str(i), "name": f"Kunde {i}"}

    summary = await importer.import_records(records(), entity="customer", base_url=sandbox.url,
                                            token=TOKEN, results=str(tmp_path / "r.ndjson"))
    assert summary.outcomes["created"] == 3
    assert importer.read_results(tmp_path / "r.ndjson").count("success") == 3


def test_sync_wrapper_with_the_embedded_sandbox_in_a_thread(tmp_path):
    import threading

    import anyio

    from importer.sandbox import SandboxConfig, serve

    ready = threading.Event()
    stop = threading.Event()
    url = []

    async def serve_until_stopped():
        async with serve(SandboxConfig()) as sb:
            url.append(sb.url)
            ready.set()
            while not stop.is_set():
                await anyio.sleep(0.02)

    thread = threading.Thread(target=anyio.run, args=(serve_until_stopped,))
    thread.start()
    try:
        assert ready.wait(10)
        summary = importer.import_records_sync(
            [{"number": "1", "name": "A"}], entity="customer", base_url=url[0], token=TOKEN,
        )
    finally:
        stop.set()
        thread.join(10)
    assert summary.ok and summary.calls == 1


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_summary_json_on_stdout_and_json_logs(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name,creditLimit\n1,A,1\n2,B,mye\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--summary-json", "-",
                                   "-vv", "--log-format", "json",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    summary = json.loads(out)
    assert summary["outcomes"] == {"created": 1, "updated": 0, "done": 0, "renamed": 0, "queued": 0, "failed": 0,
                                   "invalid": 1, "skipped": 0, "valid": 0}
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    invalid = [entry for entry in logs if entry.get("outcome") == "invalid"]
    assert invalid and invalid[0]["records"] == [2] and "creditLimit" in invalid[0]["error"]
    requests = [entry for entry in logs if entry.get("method") == "POST"]
    assert requests and requests[0]["status"] == 201
    assert TOKEN not in err  # never the token


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_quiet_by_default(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name,creditLimit\n2,B,mye\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "--entity", "customer",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    # not a terminal: no progress, no logs; only the one line that says what sends what is left
    assert code == 1 and err.strip().splitlines() == [
        f"1 records were not sent (see input errors above): fix them in {tmp_path / 'c.failed.csv'} and import that file"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_environment_and_config_file_precedence(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number|name\n1|A\n", encoding="utf-8")
    config = tmp_path / "importer.toml"
    config.write_text(f'base-url = "{sandbox.url}"\nconcurrency = 3\nresults = "from-config.ndjson"\n')
    env = {"VISMA_TOKEN": TOKEN, "IMPORTER_RESULTS": str(tmp_path / "from-env.ndjson")}
    code, _, err = await run_cli("run", str(path), "--entity", "customer", env=env, cwd=str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "from-env.ndjson").exists()  # the environment beats the config file
    assert not (tmp_path / "from-config.ndjson").exists()
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--mode", "update",
                                 "--results", str(tmp_path / "flag.ndjson"), env=env, cwd=str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "flag.ndjson").exists()  # the flag beats both
    bad = dict(env, IMPORTER_CONCURRENCY="mange")
    code, _, err = await run_cli("run", str(path), "--entity", "customer", env=bad, cwd=str(tmp_path))
    assert code == 2 and "IMPORTER_CONCURRENCY" in err
    config.write_text("speed = 3\n")
    code, _, err = await run_cli("run", str(path), "--entity", "customer", env=env, cwd=str(tmp_path))
    assert code == 2 and "speed" in err
    config.write_text("port = 9999\n")  # a sandbox flag: the sandbox reads no config file
    code, _, err = await run_cli("run", str(path), "--entity", "customer", env=env, cwd=str(tmp_path))
    assert code == 2 and "port" in err
    config.write_text('token = "kept-in-a-file"\n')
    code, _, err = await run_cli("run", str(path), "--entity", "customer", env=env, cwd=str(tmp_path))
    assert code == 2 and "token may not be kept in a file" in err and "kept-in-a-file" not in err


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_tab_delimiter_can_be_named_in_the_environment(sandbox, tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("number\tname\n1\tA\n", encoding="utf-8")
    env = {"VISMA_TOKEN": TOKEN, "IMPORTER_DELIMITER": "\\t"}
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--format", "csv",
                                 "--base-url", sandbox.url, env=env)
    assert code == 0, err
    code, out, err = await run_cli("verify", str(path), "--entity", "customer", "--format", "csv",
                                   "--delimiter", "TAB", "--base-url", sandbox.url, env=env)
    assert code == 0, err + out


async def test_the_nightly_sample_sends_nothing_twice(sandbox, tmp_path):
    import asyncio
    import sys

    from tests.support.runs import ROOT, SAMPLES

    await importer.import_records([{"number": "10000", "name": "A"}], entity="customer",
                                  base_url=sandbox.url, token=TOKEN)
    (tmp_path / "invoices-2026-11-23.csv").write_text(
        "referenceNumber,customerNumber,line.description,line.quantity\n1,10000,a,1\n2,10000,b,1\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    env.update(VISMA_BASE_URL=sandbox.url, VISMA_TOKEN=TOKEN)

    async def nightly() -> int:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SAMPLES / "nightly.py"), str(tmp_path), "--date", "2026-11-23",
            env=env, cwd=str(ROOT), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(proc.wait(), 60)

    assert await nightly() == 0
    assert await nightly() == 0  # the same night again
    summary = json.loads((tmp_path / "invoices-2026-11-23.summary.json").read_text())
    assert summary["already_done"] == 2 and summary["calls"] == 0
    assert len(await get_json(f"{sandbox.url}/sandbox/records/invoice")) == 2
    proc_missing = await asyncio.create_subprocess_exec(
        sys.executable, str(SAMPLES / "nightly.py"), str(tmp_path), "--date", "2026-11-24", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(proc_missing.wait(), 60) == 2


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_stdin_without_a_results_file_is_refused_before_anything_is_sent(sandbox):
    code, _, err = await run_cli("run", "-", "--format", "csv", "--entity", "customer",
                                 "--base-url", sandbox.url, "--token", TOKEN, stdin=b"number,name\n1,A\n")
    assert code == 2 and "--results" in err
    assert sandbox.sandbox.stats.requests == 0
