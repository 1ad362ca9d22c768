"""Logs an operator can ship: ``-v`` tells a run's lifecycle, ``--log-format json`` keeps stderr JSON only,
and the report's short form follows every run and plan."""

import json
import logging

import pytest

from importer.logs import safe_url
from tests.support.hostile_server import hostile, sequence, throttled
from tests.support.ledger_proxy import Proxy
from tests.support.runs import TOKEN, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

CUSTOMERS = "number,name,creditLimit\n1,A,1\n2,B,mye\n3,C,5\n"


def json_lines(err: str) -> list[dict]:
    """Every stderr line, each of which must be a JSON object."""
    lines = [line for line in err.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # a line that is not JSON fails the test here
    assert all(isinstance(entry, dict) for entry in parsed)
    return parsed


def events(logs: list[dict], name: str) -> list[dict]:
    return [entry for entry in logs if entry.get("event") == name]


async def test_verbose_text_logs_tell_start_and_finish_without_the_token(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "-v",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1  # record 2 is invalid
    started = [line for line in err.splitlines() if " INFO importer: started: " in line]
    assert len(started) == 1 and f"customer from {path}, mode create, to {sandbox.url}" in started[0]
    finished = [line for line in err.splitlines() if " INFO importer: finished: " in line]
    assert len(finished) == 1
    assert "3 records (2 created, 1 invalid), 2 calls, 0 retries, 0 429s" in finished[0]
    assert TOKEN not in out + err and "Authorization" not in err


async def test_json_logs_keep_stderr_json_and_the_summary_on_stdout(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS.replace("mye", "7"), encoding="utf-8")  # a clean run
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "-v", "--log-format", "json",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    logs = json_lines(err)
    [started] = events(logs, "started")
    assert started["level"] == "info" and started["entity"] == "customer" and started["input"] == str(path)
    assert started["mode"] == "create" and started["base_url"] == sandbox.url
    [finished] = events(logs, "finished")
    assert finished["records_read"] == 3 and finished["outcomes"] == {"created": 3}
    assert finished["calls"] == 3 and finished["retries"] == 0 and finished["exit_code"] == 0
    assert finished["elapsed_s"] >= 0
    assert TOKEN not in out + err
    # The human summary, then the report's short form, on stdout.
    assert "records read" in out and out.index("records read") < out.index("report: 3 records in 1 file(s)")
    assert "calls sending them: 3 for 3 units sent" in out


async def test_json_logs_carry_no_client_secret_even_at_every_request(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    env = {"VISMA_CLIENT_ID": "sandbox", "VISMA_CLIENT_SECRET": "sandbox-secret",
           "VISMA_TENANT_ID": "t1", "VISMA_TOKEN_URL": sandbox.token_url, "VISMA_BASE_URL": sandbox.url}
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "-vv", "--log-format", "json", env=env)
    assert code == 1
    logs = json_lines(err)
    assert events(logs, "started") and events(logs, "finished")
    assert any(entry.get("method") == "POST" for entry in logs)  # -vv: the requests are there
    for text in (out, err):
        assert "sandbox-secret" not in text and "Bearer" not in text and "Authorization" not in text


async def test_an_error_in_json_mode_is_a_json_line(tmp_path):
    code, out, err = await run_cli("run", str(tmp_path / "missing.csv"), "--entity", "customer",
                                   "--log-format", "json", "--base-url", "http://127.0.0.1:9", "--token", TOKEN)
    assert code == 2
    [line] = json_lines(err)
    assert line["level"] == "error" and "input file not found" in line["message"]
    assert TOKEN not in err


async def test_summary_json_on_stdout_with_json_logs_leaves_both_streams_json(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--summary-json", "-",
                                   "-v", "--log-format", "json", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1
    assert json.loads(out)["outcomes"]["created"] == 2  # stdout is one JSON document: no report after it
    [finished] = events(json_lines(err), "finished")
    assert finished["outcomes"] == {"created": 2, "invalid": 1}


async def test_a_wait_for_the_window_is_logged_once_with_until_when(start_sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"{n},N{n}\n" for n in range(1, 5)), encoding="utf-8")
    # The fourth record waits for the window; the company is not read (its reads wait as the next test's).
    async with start_sandbox(rate_limit=3, rate_window=2) as sb:
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "-v", "--log-format", "json",
                                       "--concurrency", "1", "--base-url", sb.url, "--token", TOKEN,
                                       "--company", "none")
    assert code == 0, err
    logs = json_lines(err)
    waits = [entry for entry in logs if entry["message"].startswith("waiting until ")]
    assert len(waits) == 1, waits
    [wait] = waits
    assert "rate-limit window spent (3/3 calls)" in wait["reason"] and wait["limit"] == 3
    assert 1 < wait["wait_s"] <= 2 and wait["until"].endswith("+00:00")
    assert events(logs, "finished")[0]["outcomes"] == {"created": 4}


async def test_a_429_to_the_company_read_is_waited_out_and_logged_as_a_records_would_be(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,N1\n2,N2\n", encoding="utf-8")
    proxy = Proxy(sandbox.url, None)
    first_read = sequence(throttled("2"), proxy.forward)  # the preflight's first read: 429, Retry-After 2 s
    async with hostile({"GET /v1/creditTerm": first_read, "* *": proxy.forward}) as front:
        proxy.server, proxy.url = front, front.url
        code, out, err = await run_cli("run", str(path), "--entity", "customer", "-v", "--log-format", "json",
                                       "--base-url", front.url, "--token", TOKEN)
        await proxy.close()
    assert code == 0, err
    assert front.count("GET", "/v1/creditTerm") == 2  # the 429, then the list: the read went on
    logs = json_lines(err)
    [throttled_at] = [entry for entry in logs if entry["message"].startswith("429 on ")]
    assert throttled_at["message"] == "429 on GET /v1/creditTerm: waiting for the rate-limit window"
    [wait] = [entry for entry in logs if entry["message"].startswith("waiting until ")]
    assert "Retry-After" in wait["reason"] and 1 < wait["wait_s"] <= 2 and wait["until"].endswith("+00:00")
    assert logs.index(wait) < logs.index(events(logs, "started")[0])  # before the records' run
    assert not [entry for entry in logs if "could not be read" in entry["message"]]
    assert events(logs, "finished")[0]["outcomes"] == {"created": 2}
    stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert sorted(c["number"] for c in stored) == ["1", "2"]


PLAN = """
[[step]]
name = "customers"
input = "customers.csv"
entity = "customer"

[[step]]
name = "invoices"
input = "invoices.csv"
entity = "invoice"
"""


async def test_a_plan_logs_each_step_and_ends_with_the_short_report(sandbox, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "referenceNumber,customerNumber,line.description,line.quantity\n100,1,a,1\n200,3,b,2\n", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    code, out, err = await run_cli("plan", str(plan), "-v", "--log-format", "json",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err  # customer 2 is invalid
    logs = json_lines(err)
    steps = [(entry["event"], entry["step"]) for entry in logs if entry.get("event", "").startswith("step ")]
    assert steps == [("step started", "customers"), ("step finished", "customers"),
                     ("step started", "invoices"), ("step finished", "invoices")]
    finished = events(logs, "step finished")
    assert [(e["step_number"], e["steps"], e["succeeded"]) for e in finished] == [(1, 2, 2), (2, 2, 2)]
    assert [e["entity"] for e in events(logs, "started")] == ["customer", "invoice"]
    # The plan's table, then one short report over both steps' results files.
    assert "plan" in out and out.index("customers") < out.index("report: 5 records and documents in 2 file(s)")
    assert "input errors (not sent: fix the file), 1 records:\n  customer: creditLimit" in out


async def test_the_short_report_follows_a_plain_run(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "--entity", "customer",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1  # quiet by default: the report is on stdout, and one line says what to do
    assert err.strip() == f"1 records were not sent (see input errors above): fix them in {tmp_path / 'c.failed.csv'} " \
        "and import that file", err
    report = out[out.index("report: "):].splitlines()
    assert report[0] == "report: 3 records in 1 file(s): 2 created, 1 invalid"
    assert report[1].startswith(
        "calls sending them: 2 for 2 units sent (1.00 per unit; lookups and token calls not counted), 0 retries, 0 429s")
    assert report[2] == "input errors (not sent: fix the file), 1 records:"
    assert report[3].startswith("  customer: creditLimit: 'mye' is not a number — e.g. ") and "c.csv 2" in report[3]


def test_urls_are_logged_without_credentials_or_query():
    assert safe_url("https://user:pw@api.example.com/path?token=abc#x") == "https://api.example.com/path"
    assert safe_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_json_formatter_keeps_every_field_a_log_call_passes():
    from importer.logs import JsonFormatter

    record = logging.makeLogRecord({"name": "importer", "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": "waiting until %s", "args": ("12:00:00",), "reason": "r", "wait_s": 2.0})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "waiting until 12:00:00" and line["reason"] == "r" and line["wait_s"] == 2.0
    assert "args" not in line and "levelno" not in line


def _stderr_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (where the progress line would be drawn)."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    proc = subprocess.Popen([sys.executable, "-m", "importer", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=30), b"".join(chunks).decode()


async def test_json_logs_on_a_terminal_draw_no_progress_line(sandbox, tmp_path):
    import anyio

    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    common = ("run", str(path), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    code, err = await anyio.to_thread.run_sync(_stderr_on_a_terminal, *common, "-v", "--log-format", "json")
    assert code == 1
    assert "\x1b" not in err  # no cursor movement of a live display
    assert events(json_lines(err.replace("\r\n", "\n")), "finished")
    code, err = await anyio.to_thread.run_sync(_stderr_on_a_terminal, *common, "--restart")
    assert code == 1 and "\x1b" in err  # text: the live line is drawn (and cleared) on the terminal
