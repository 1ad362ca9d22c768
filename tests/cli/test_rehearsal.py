"""The ledger a ``--sandbox`` rehearsal keeps beside its results: one run at a time holds it,
and a run refused leaves it as it was; a resume serves it on the port its results name."""

from __future__ import annotations

import os
import socket
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from importer.cli.rehearsal import hold_rehearsal, sandbox_state
from importer.errors import ConfigError
from importer.load.results import ResultsWriter

pytestmark = pytest.mark.one_profile


def _results(folder: Path, port: int) -> str:
    results = folder / "c.csv.results.ndjson"
    with ResultsWriter(results) as writer:
        writer.started([1], "customer", "key:1", "f1", "1", "create", f"http://127.0.0.1:{port}")
    ledger = Path(f"{results}.sandbox.sqlite")
    ledger.write_bytes(b"SQLite format 3\0" + b"x" * 100)  # stands for the ledger: must stay as it is
    return str(results)


async def test_a_second_run_of_one_rehearsal_is_refused_and_changes_nothing(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    results = _results(tmp_path, port)
    ledger = Path(f"{results}.sandbox.sqlite")
    before = ledger.read_bytes()
    async with AsyncExitStack() as first:
        assert hold_rehearsal(first, results, resume=True) == (str(ledger), port)
        assert ledger.read_bytes() == before  # a resume keeps it
        for resume, restart in ((True, False), (False, True)):  # another resume, or a restart
            async with AsyncExitStack() as second:
                with pytest.raises(ConfigError) as refused:
                    hold_rehearsal(second, results, resume=resume, restart=restart)
            assert f"process {os.getpid()}" in str(refused.value), refused.value
            assert "one run at a time continues a rehearsal" in str(refused.value)
            assert ledger.read_bytes() == before
    async with AsyncExitStack() as later:  # let go: the next run takes it; a restart starts it empty
        hold_rehearsal(later, results, resume=False, restart=True)
        assert ledger.exists() and ledger.stat().st_size == 0


def test_a_resume_is_refused_where_another_program_listens_on_its_port(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        results = _results(tmp_path, port)
        with pytest.raises(ConfigError, match=f"on port {port}, and that port is taken now"):
            sandbox_state(results, resume=True)
    assert sandbox_state(results, resume=True) == (f"{results}.sandbox.sqlite", port)  # free again
