"""Windows and macOS, as far as Linux can tell: the importer without what only POSIX has.

The subprocess tests run the CLI under a prelude (:data:`SIMULATED`) that takes away what
Windows' Python does not have: the POSIX-only modules (``fcntl``, ``resource``, ``termios``...),
``os.pread``, ``/proc`` (macOS has none either), uvloop (not built for Windows), and the event
loop's ``add_signal_handler``, which raises NotImplementedError as Windows' loops do. They
import every module, print ``--help`` and ``--version``, serve a sandbox, run an import to
the end, refuse a second writer of a results file naming the holder, and stop a run on
SIGTERM and the sandbox on SIGINT. What it cannot reach is said in the README ("Platforms").
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.load.locking import HolderNote, describe_holder, note_path
from importer.load.results import ResultsWriter
from importer.stopping import StopRequest, on_stop_signals
from tests.support.runs import ROOT, TOKEN, assert_one_final_line_per_record, get_json, read_lines

pytestmark = pytest.mark.one_profile

POSIX_ONLY = ("fcntl", "resource", "termios", "tty", "pty", "pwd", "grp", "syslog", "uvloop")

SIMULATED = f"""
import asyncio, builtins, io, os, runpy, sys
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None  # import raises ImportError, as where the module does not exist
del os.pread
_open = builtins.open
def _open_without_proc(file, *args, **kwargs):
    if not isinstance(file, int) and os.fsdecode(file).startswith("/proc/"):
        raise FileNotFoundError(2, "No such file or directory", os.fsdecode(file))
    return _open(file, *args, **kwargs)
builtins.open = io.open = _open_without_proc
def _no_signal_handlers(self, *args, **kwargs):
    raise NotImplementedError
asyncio.SelectorEventLoop.add_signal_handler = _no_signal_handlers
asyncio.SelectorEventLoop.remove_signal_handler = _no_signal_handlers
"""


def simulated(*argv: str) -> list[str]:
    """The command line of ``python -m MODULE ARGS`` under :data:`SIMULATED`."""
    return [sys.executable, "-c", SIMULATED + "sys.argv = sys.argv[1:]\n"
            "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)", *argv]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


async def _run(*cmd: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*cmd, env=_env(), stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _customers(path: Path, numbers: range) -> Path:
    path.write_text("number,name\n" + "".join(f"{n},Kunde {n}\n" for n in numbers), encoding="utf-8")
    return path


async def test_every_module_imports_and_help_and_version_print():
    every = (SIMULATED + "import importer, pkgutil, importlib\n"
             "names = [m.name for m in pkgutil.walk_packages(importer.__path__, 'importer.')\n"
             "         if not m.name.endswith('__main__')]  # which would run the command line\n"
             "for name in names:\n    importlib.import_module(name)\n"
             "print(len(names), 'modules')\n")
    code, out, err = await _run(sys.executable, "-c", every)
    assert code == 0 and "Traceback" not in err, err
    assert int(out.split()[0]) > 150, out
    code, out, err = await _run(*simulated("importer", "--help"))
    assert code == 0 and "usage: importer" in out and "run" in out, err
    code, out, err = await _run(*simulated("importer", "--version"))
    assert code == 0 and out.startswith("importer "), (out, err)


async def test_sandbox_run_lock_and_signals_without_posix(tmp_path):
    sandbox = await asyncio.create_subprocess_exec(
        *simulated("importer.sandbox", "--port", "0", "--latency-ms", "15"), env=_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert sandbox.stdout is not None
        line = (await asyncio.wait_for(sandbox.stdout.readline(), 20)).decode().strip()
        assert line.startswith("Sandbox listening on "), line
        url = line.removeprefix("Sandbox listening on ")
        conn = ("--entity", "customer", "--base-url", url, "--token", TOKEN, "--company", "none")

        # A small run, to the end.
        small = _customers(tmp_path / "small.csv", range(1, 6))
        code, out, err = await _run(*simulated("importer", "run", str(small), *conn))
        assert code == 0 and "Traceback" not in err, err
        assert_one_final_line_per_record(f"{small}.results.ndjson", 5)
        stored = {c["number"]: c["name"] for c in await get_json(f"{url}/sandbox/records/customer")}
        assert stored == {str(n): f"Kunde {n}" for n in range(1, 6)}
        assert not note_path(f"{small}.results.ndjson").exists()  # the holder's note goes with the lock

        # A long run holds its results file: a second is refused, naming it from its note.
        big = _customers(tmp_path / "big.csv", range(1001, 1401))
        results = Path(f"{big}.results.ndjson")
        first = await asyncio.create_subprocess_exec(
            *simulated("importer", "run", str(big), *conn, "--concurrency", "2"), env=_env(),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        for _ in range(200):
            if results.exists() and results.stat().st_size and note_path(results).exists():
                break
            await asyncio.sleep(0.05)
        assert TOKEN.encode() not in note_path(results).read_bytes()
        code, _, err = await _run(*simulated("importer", "run", str(big), *conn, "--resume"))
        assert code == 2 and "Traceback" not in err, err
        assert f"is in use by process {first.pid} (importer run {big}" in err, err
        assert f"on {socket.gethostname()} since 20" in err and "--token ***" in err and TOKEN not in err, err

        # SIGTERM stops it cleanly: what was in flight finishes, each record sent has its line.
        first.send_signal(signal.SIGTERM)
        _, err_bytes = await asyncio.wait_for(first.communicate(), 30)
        assert first.returncode == 130, err_bytes.decode()
        lines = read_lines(results)
        started = {r for line in lines if line["outcome"] == "started" for r in line["records"]}
        created = [line for line in lines if line["outcome"] == "created"]
        assert started and started == {r for line in created for r in line["records"]}
        assert len(created) < 400
        numbers = [c["number"] for c in await get_json(f"{url}/sandbox/records/customer")]
        assert sorted(n for n in numbers if int(n) > 1000) == sorted(line["key"] for line in created)
        assert not note_path(results).exists()
    finally:
        sandbox.send_signal(signal.SIGINT)  # handled through signal.signal, as on Windows
        _, err_bytes = await asyncio.wait_for(sandbox.communicate(), 10)
    assert sandbox.returncode == 0, err_bytes.decode()


def test_a_refusal_names_the_holder_from_its_note_without_proc(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path):
        note = HolderNote.read(path)
        assert note is not None and note.pid == os.getpid() and note.host == socket.gethostname()
        with pytest.raises(ConfigError, match=rf"in use by process {os.getpid()} \(.*\) on .+ since 20"):
            ResultsWriter(path)
        fd = os.open(path, os.O_RDONLY)
        try:  # as on macOS and Windows: no /proc, the note alone names the holder
            assert describe_holder(path, fd, proc=tmp_path / "no-proc") == (
                f"process {os.getpid()} ({note.command}) on {note.host} since {note.since}")
            note_path(path).unlink()
            assert describe_holder(path, fd, proc=tmp_path / "no-proc") == "another process"
        finally:
            os.close(fd)
    assert not note_path(path).exists()


def test_restart_keeps_a_copy_and_the_lock(tmp_path):
    path, kept = tmp_path / "r.ndjson", tmp_path / "r.ndjson.kept"
    with ResultsWriter(path) as writer:
        writer.write({"records": [1], "outcome": "created"})
        before = path.read_bytes()
        writer.restart(kept)  # no rename of the open file, which Windows refuses
        assert kept.read_bytes() == before and path.read_bytes() == b"" and writer.size == 0
        with pytest.raises(ConfigError, match="in use by process"):
            ResultsWriter(path)
        writer.write({"records": [1], "outcome": "failed"})
    assert read_lines(path) == [{"records": [1], "outcome": "failed"}]


def test_a_file_in_the_notes_place_is_left_alone(tmp_path):
    path = tmp_path / "r.ndjson"
    theirs = note_path(path)
    theirs.write_bytes(b"my own notes\n")
    with ResultsWriter(path):
        with pytest.raises(ConfigError, match=rf"in use by process {os.getpid()}"):  # /proc still names it
            ResultsWriter(path)
    assert theirs.read_bytes() == b"my own notes\n"


async def test_stop_signals_reach_the_loop_where_it_cannot_watch_them(monkeypatch):
    loop = asyncio.get_running_loop()

    def cannot(*args: object) -> None:
        raise NotImplementedError  # Windows' event loops

    monkeypatch.setattr(loop, "add_signal_handler", cannot)
    before = signal.getsignal(signal.SIGINT)
    stop = StopRequest()
    with on_stop_signals(stop.ask) as installed:
        assert installed
        signal.raise_signal(signal.SIGINT)
        await asyncio.sleep(0.01)
        assert stop.asked and not stop.second.is_set()
        signal.raise_signal(signal.SIGTERM)
        await asyncio.sleep(0.01)
        assert stop.second.is_set()
    assert signal.getsignal(signal.SIGINT) is before
