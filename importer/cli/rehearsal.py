"""Where a ``--sandbox`` rehearsal keeps its ledger, and that one run at a time has it.

The ledger is ``<results>.sandbox.sqlite`` beside the run's results file (a plan's first
step's). A run that starts anew starts it empty; a ``--resume`` reads it again and serves
it on the port the results file names, so the lines it continues went to the same API.

    path, port = hold_rehearsal(stack, "customers.csv.results.ndjson", resume=True)

The run holds an exclusive lock on the ledger (:mod:`importer.load.locking`: the OS drops
it when the process ends, however it ends) from before it is emptied or read until its
sandbox has stopped, so a second run of the same rehearsal (two resumes at once, or a
``--restart`` while one runs) is refused before it touches anything, naming the first.
"""

from __future__ import annotations

import os
import socket
from contextlib import AsyncExitStack

from yarl import URL

from importer.errors import ConfigError
from importer.load.locking import HolderNote, describe_holder, release, try_lock
from importer.load.results_reader import probe_results

__all__ = ["hold_rehearsal", "sandbox_state"]

_BINARY = getattr(os, "O_BINARY", 0)


def hold_rehearsal(stack: AsyncExitStack, results: str, *, resume: bool, restart: bool = False) -> tuple[str, int]:
    """The rehearsal's ledger (path, port to serve it on; 0: any), locked until ``stack`` closes.
    ConfigError, having changed nothing, when another run holds it."""
    path = f"{results}.sandbox.sqlite"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _BINARY, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot open the rehearsal's sandbox ledger {path}: {exc.strerror}") from None
    if not try_lock(fd):
        holder = describe_holder(path, fd)
        os.close(fd)
        raise ConfigError(
            f"the rehearsal of {results} is in use by {holder}: one run at a time continues a rehearsal; "
            "wait for it to finish (or stop it), then run this again. Nothing was sent, and its sandbox "
            "ledger is left as it was"
        )
    note = HolderNote.of_this_process()
    written = note.write(path)

    def let_go() -> None:
        if written:
            note.remove(path)
        release(fd)
        os.close(fd)

    stack.callback(let_go)  # after the sandbox, entered later, has stopped and flushed its ledger
    return sandbox_state(results, resume=resume, restart=restart, held=fd)


def sandbox_state(results: str, *, resume: bool, restart: bool = False, held: int | None = None) -> tuple[str, int]:
    """Where a ``--sandbox`` run keeps its ledger, and the port to serve it on.

    A ledger no run continues is emptied (``held``: the ledger's descriptor, locked, which is
    emptied in place so the lock stays on it). A ``--resume`` serves the ledger on the port the
    results file names; a port another program listens on now is refused, naming it.
    """
    path = f"{results}.sandbox.sqlite"
    about = probe_results(results) if resume and os.path.isfile(results) else None
    api = URL(about["api"]) if about and about.get("api") else None
    if api is None or api.host != "127.0.0.1" or not api.port or not _has_ledger(path):
        if resume or restart or not os.path.isfile(results):  # else the run is refused: left as it is
            for stale in (f"{path}-wal", f"{path}-shm", path):  # a ledger of no run this one continues
                if stale == path and held is not None:
                    os.ftruncate(held, 0)
                elif os.path.isfile(stale):
                    os.remove(stale)
        return path, 0
    with socket.socket() as probe:
        if os.name != "nt":  # as the server binds: a port left in TIME_WAIT by a killed run is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", api.port))
        except OSError as exc:
            raise ConfigError(
                f"--sandbox --resume: {results} was sent to the sandbox on port {api.port}, and that port "
                f"is taken now ({exc.strerror or exc}); nothing was sent. Free the port and resume again, "
                "or pass --restart to start the rehearsal over"
            ) from None
    return path, api.port


def _has_ledger(path: str) -> bool:
    """Whether ``path`` holds a ledger (not the empty file a lock on it leaves), in the file or
    in its write-ahead log."""
    for part in (path, f"{path}-wal"):
        try:
            if os.path.getsize(part) > 0:
                return True
        except OSError:
            pass
    return False
