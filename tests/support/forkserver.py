"""The CLI as a subprocess, without its start-up: a server that has imported the importer's
commands once and forks a child for each run.

``python -m importer`` spends about 0.35 s of CPU starting (the interpreter, aiohttp, rich,
the importer's modules) before it reads a record, and the suite starts it some 600 times:
more than half of the suite's CPU. :func:`tests.support.runs.run_cli` asks this server
instead: one per test worker, started on its first use, it imports what
``python -m importer`` would (each command's module included), and for each run forks a
child that takes the caller's pipes as its stdin, stdout and stderr, its environment, its
working directory and its arguments, and runs ``importer/__main__.py`` as ``python -m``
does. The child is a process of its own (its own pid, exit code and signals), running the
same ``main`` from the same files; only the start-up is shared.

What a start-up decides once is not re-decided in the child, so a run whose environment
differs from the server's in what the interpreter reads at start (``PYTHON*``, the locale,
the temporary directory) is spawned the usual way, as are runs where ``os.fork`` does not exist. Tests of the
start-up itself (``tests/cli/test_startup.py``, the installed package's command) spawn
their own. ``IMPORTER_TEST_SPAWN=1`` makes every run a real spawn.

Protocol, over a Unix socket: the caller sends a length-prefixed JSON request
(``args``, ``env``, ``cwd``) with three file descriptors (stdin, stdout, stderr);
the server answers the child's pid, then, when the child ends, its exit code as
``subprocess`` gives it (negative for a signal), one line each.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_PRELOAD = (
    "importer.cli", "importer.cli.parser", "importer.cli.config", "importer.logs", "importer.api",
    "importer.cli.run", "importer.cli.plans", "importer.cli.check", "importer.cli.company", "importer.cli.undo",
    "importer.cli.signoff", "importer.cli.ledger", "importer.cli.columns", "importer.cli.mapinit",
    "importer.cli.report", "importer.sandbox", "anyio", "uvloop", "rich.console", "rich.table",
)
# What the interpreter, or a library it has loaded, reads from the environment once (SQLite
# its temporary directory when it starts): a run that sets these differently from the
# server is spawned instead.
_START_UP_KEYS = ("PYTHON", "LC_", "LANG", "LANGUAGE", "TMPDIR", "SQLITE_TMPDIR", "TMP", "TEMP")
_HEADER = struct.Struct("!I")


def _start_up_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_START_UP_KEYS)}


# -- the server --------------------------------------------------------------------------------


def serve(path: str) -> None:
    """Import the commands, then fork a child per request until the socket's parent goes away."""
    for name in _PRELOAD:
        importlib.import_module(name)
    import gc

    gc.collect()
    gc.freeze()  # the children share these pages: no collection of theirs touches them
    me = os.getpid()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    waiting: dict[int, socket.socket] = {}
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake_r, selectors.EVENT_READ, "reap")
    sel.register(sys.stdin, selectors.EVENT_READ, "parent")  # EOF: the test worker is gone
    try:
        while True:
            for key, _ in sel.select():
                if key.data == "parent":
                    return
                if key.data == "reap":
                    os.read(wake_r, 4096)
                    _reap(waiting)
                    continue
                conn, _ = listener.accept()
                request, fds = _receive(conn)
                pid = os.fork()
                if pid == 0:
                    sel.close()
                    listener.close()
                    for each in (conn, *waiting.values()):
                        each.close()
                    for fd in (wake_r, wake_w):
                        os.close(fd)
                    _child(request, fds)  # runs the command and exits, through SystemExit
                    raise AssertionError("the child returned")  # pragma: no cover
                for fd in fds:
                    os.close(fd)
                conn.sendall(f"{pid}\n".encode())
                waiting[pid] = conn
                _reap(waiting)
    finally:
        if os.getpid() == me:
            for pid in waiting:
                _kill(pid)
            Path(path).unlink(missing_ok=True)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < _HEADER.size or len(data) < _HEADER.size + _HEADER.unpack_from(data)[0]:
        more = conn.recv(1 << 16)
        if not more:
            raise ConnectionError("the request was cut short")
        data += more
    (size,) = _HEADER.unpack_from(data)
    return json.loads(data[_HEADER.size:_HEADER.size + size]), list(fds)


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            except OSError:
                pass  # the caller gave up on it
            conn.close()


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """Become ``python -m importer ARGS`` with the caller's pipes, environment and directory."""
    import random
    import runpy

    # What start-up allocated stays frozen, as the importer's own collector tuning would
    # freeze it (importer/client/collector.py): unfreezing cost each child tens of milliseconds.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    tempfile.tempdir = None
    random.seed()
    sys.path[0] = os.getcwd()
    sys.argv = ["-m", *request["args"]]
    runpy.run_module("importer", run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- the caller's side -----------------------------------------------------------------------


class ForkServer:
    """One server process for this test worker, and the runs it forks."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="importer-forks-")
        self.path = os.path.join(self._dir, "socket")
        self.env = dict(os.environ)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver", self.path], cwd=ROOT, env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
        )
        assert self._proc.stdout is not None
        if self._proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the fork server did not start")

    def takes(self, env: dict[str, str]) -> bool:
        """Whether a run in ``env`` can be forked (else it is spawned)."""
        return self._proc.poll() is None and _start_up_env(env) == _start_up_env(self.env)

    async def run(self, args: tuple[str, ...], env: dict[str, str], stdin: bytes | None, cwd: str | None,
                  timeout: float) -> tuple[int, str, str]:
        """Like ``run_cli``'s spawn: (exit code, stdout, stderr); TimeoutError kills the child."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, in_w = os.pipe() if stdin is not None else (os.open(os.devnull, os.O_RDONLY), -1)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
            body = json.dumps({"args": list(args), "env": env, "cwd": cwd or os.getcwd()}).encode()
            message = _HEADER.pack(len(body)) + body
            sent = socket.send_fds(sock, [message], [in_r, out_w, err_w])
            if sent < len(message):
                sock.sendall(message[sent:])
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        pid = -1
        try:
            async def whole() -> tuple[int, bytes, bytes]:
                nonlocal pid
                pid = int(await reader.readline())
                feeding = asyncio.to_thread(_feed, in_w, stdin or b"") if in_w >= 0 else asyncio.sleep(0)
                out, err, _ = await asyncio.gather(asyncio.to_thread(_drain, out_r), asyncio.to_thread(_drain, err_r),
                                                   feeding)
                line = await reader.readline()
                if not line:
                    raise RuntimeError("the fork server lost the run")
                return int(line), out, err

            code, out, err = await asyncio.wait_for(whole(), timeout)
        except BaseException:
            if pid > 0:
                _kill(pid)
            raise
        finally:
            writer.close()
            for fd in (out_r, err_r):
                _close(fd)
        return code, out.decode(), err.decode()

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        Path(self.path).unlink(missing_ok=True)
        os.rmdir(self._dir)


def _drain(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _feed(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # the command stopped reading
    finally:
        os.close(fd)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


_server: ForkServer | None = None
_failed = False


def fork_server() -> ForkServer | None:
    """This worker's server (started on first use), or None where runs must be spawned."""
    global _server, _failed
    if _server is None and not _failed:
        if not hasattr(os, "fork") or os.environ.get("IMPORTER_TEST_SPAWN") == "1":
            _failed = True
            return None
        import atexit

        _server = ForkServer()
        atexit.register(_server.close)
    return _server


if __name__ == "__main__":
    serve(sys.argv[1])
