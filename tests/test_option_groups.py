"""The option groups: a misspelt option is refused at run time too, and each default lives once.

A run's options are frozen groups (``importer.options``); the command line's ``--help``, a
plan without the key and ``import_records`` without the keyword all take a default from its
group. The groups' values are observed where they act: how many requests a small server of
the test's own sees at once, and what it was sent.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from aiohttp import web

import importer
from importer.options import OPTION_NAMES, ImportOptions, InputFormat, Pace
from importer.plans.plan import load_plan, run_plan
from tests.support.hostile_server import HostileServer, delayed, hostile
from tests.support.runs import ROOT, TOKEN, get_json, run_cli

_RECORDS = Pace.concurrency + 8  # more than the default lets out at once


async def _created_as_sent(request: web.Request, server: HostileServer) -> web.StreamResponse:
    """A create's answer naming the key it was sent, as the API's does."""
    number = orjson.loads(await request.read())["number"]
    number = number["value"] if isinstance(number, dict) else number  # the API's {"value": ...} wrapping
    return web.Response(status=201, headers={"Location": f"{request.scheme}://{request.host}/v1/customer/{number}"})


def _customers(path: Path) -> Path:
    path.write_text("number,name\n" + "".join(f"{n},Kunde {n}\n" for n in range(1, _RECORDS + 1)), encoding="utf-8")
    return path


def _sent(server: HostileServer) -> list[str]:
    numbers = [orjson.loads(body)["number"] for body in server.bodies if body]
    return sorted((n["value"] if isinstance(n, dict) else n for n in numbers), key=int)


async def test_a_misspelt_keyword_is_refused_by_name_and_nothing_is_sent(sandbox, tmp_path):
    path = _customers(tmp_path / "c.csv")
    with pytest.raises(TypeError, match=r"unknown option\(s\): concurency \(did you mean concurrency\?\)"):
        await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN,
                                      concurency=4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unknown option"):
        ImportOptions("customer", saft_document="invoices")  # type: ignore[call-arg]
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []
    assert not (tmp_path / "c.csv.results.ndjson").exists()


async def test_import_records_without_the_keyword_sends_at_the_groups_concurrency(tmp_path):
    path = _customers(tmp_path / "c.csv")
    async with hostile({"POST /v1/customer": delayed(_created_as_sent, 0.3)}) as server:
        summary = await importer.import_records(path, entity="customer", base_url=server.url, token=TOKEN,
                                                timeout=5.0)
    assert summary.outcomes["created"] == _RECORDS, summary.outcomes
    assert _sent(server) == [str(n) for n in range(1, _RECORDS + 1)]  # each record once
    assert server.max_in_flight == Pace.concurrency == ImportOptions("customer").pace.concurrency


async def test_a_plan_without_the_key_sends_at_the_groups_concurrency(tmp_path):
    _customers(tmp_path / "c.csv")
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[step]]\nname = "customers"\ninput = "c.csv"\nentity = "customer"\n', encoding="utf-8")
    plan = load_plan(plan_path)
    assert "concurrency" not in plan.steps[0].options
    async with hostile({"POST /v1/customer": delayed(_created_as_sent, 0.3)}) as server:
        done = await run_plan(plan, overrides={"base_url": server.url, "token": TOKEN, "timeout": 5.0})
    assert done[0][1].outcomes["created"] == _RECORDS, done[0][1].outcomes
    assert _sent(server) == [str(n) for n in range(1, _RECORDS + 1)]
    assert server.max_in_flight == Pace.concurrency


async def test_the_command_lines_help_says_the_groups_defaults():
    code, out, _ = await run_cli("run", "--help", env={"COLUMNS": "400"})
    assert code == 0
    said = {flag: re.search(rf"^  --{flag} [A-Z_]+\b[^\n]*\n?[^\n]*?\(default ([^)]+)\)", out, re.M) for flag in
            ("concurrency", "timeout", "max-attempts")}
    assert {flag: match.group(1) if match else None for flag, match in said.items()} == {
        "concurrency": str(Pace.concurrency), "timeout": str(Pace.timeout), "max-attempts": str(Pace.max_attempts)}
    assert f"default {importer.Connection.base_url}" in out


def test_each_default_is_written_once_in_the_package():
    """No module but the group's own writes a group's default again (``concurrency: int = 32``,
    ``default=60.0``): the CLI, plans, fleets and the client read it from the group."""
    literals = {name: repr(getattr(Pace, name)) for name in ("concurrency", "timeout", "max_attempts", "retry_base")}
    literals["max_field_size"] = "1 << 20"
    homes = {"concurrency": "pace.py", "timeout": "pace.py", "max_attempts": "pace.py",
             "retry_base": "pace.py", "max_field_size": "sources/options.py"}
    assert InputFormat.max_field_size == 1 << 20
    again = []
    for path in sorted((ROOT / "importer").rglob("*.py")):
        where = path.relative_to(ROOT / "importer").as_posix()
        if where.startswith(("sandbox/", "schema/_", "saft/_schema")):
            continue
        text = path.read_text(encoding="utf-8")
        for name, literal in literals.items():
            flag = name.replace("_", "-")
            pattern = rf"(\b{name}\b[^\n=]*=\s*|--{flag}\"[^\n]*default=){re.escape(literal)}(?![\d.])"
            if where != homes[name] and re.search(pattern, text):
                again.append(f"{where}: {name} = {literal}")
    assert again == []
    assert set(OPTION_NAMES) >= {"concurrency", "timeout", "saft_documents", "mode"}
