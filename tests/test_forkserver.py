"""The suite's CLI runs are forked from one start-up (tests/support/forkserver.py): each is a
process of its own that takes the caller's environment, working directory, stdin and exit
code; a run whose environment changes what start-up decides is spawned instead."""

from __future__ import annotations

import os

import orjson
import pytest

from tests.support.forkserver import fork_server
from tests.support.runs import run_cli

pytestmark = [pytest.mark.one_profile,
              pytest.mark.skipif(not hasattr(os, "fork") or os.environ.get("IMPORTER_TEST_SPAWN") == "1",
                                 reason="runs are spawned here")]


def test_a_plain_run_is_forked_and_one_that_changes_start_up_is_not() -> None:
    server = fork_server()
    assert server is not None
    env = dict(os.environ)
    assert server.takes(env)
    assert not server.takes({**env, "PYTHONUTF8": "1"})
    assert not server.takes({**env, "LC_ALL": "C"})
    assert not server.takes({**env, "TMPDIR": "/elsewhere"})


async def test_a_forked_run_takes_the_callers_environment_directory_and_stdin(tmp_path) -> None:
    (tmp_path / "in.ndjson").write_bytes(b'{"number": "1", "name": "A"}\n')
    # A relative input and results file (the directory), the entity from the environment
    # (stripped from the suite's own, so only the caller's env can set it).
    code, out, err = await run_cli("run", "in.ndjson", "--dry-run", "--results", "r.ndjson", cwd=str(tmp_path),
                                   env={"IMPORTER_ENTITY": "customer"})
    assert code == 0, err
    lines = [orjson.loads(line) for line in (tmp_path / "r.ndjson").read_bytes().splitlines()]
    assert [line["records"] for line in lines if line["outcome"] != "started"] == [[1]]
    # stdin reaches the child, and an exit code comes back as the child's own.
    code, out, err = await run_cli("run", "-", "--format", "csv", "--dry-run", "--results", "s.ndjson",
                                   cwd=str(tmp_path), env={"IMPORTER_ENTITY": "customer"},
                                   stdin=b"number,name\n2,B\n")
    assert code == 0, err
    lines = [orjson.loads(line) for line in (tmp_path / "s.ndjson").read_bytes().splitlines()]
    assert [line["records"] for line in lines if line["outcome"] != "started"] == [[1]]
    code, _, err = await run_cli("run", "missing.csv", "--entity", "customer", "--dry-run", cwd=str(tmp_path))
    assert code != 0 and "missing.csv" in err
