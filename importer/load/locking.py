"""One writer per results file, on every platform, and who that writer is.

:func:`try_lock` takes an exclusive lock on an open file without waiting; the operating
system drops it when its holder closes the file or dies, so a killed run leaves no lock
behind. The mechanism is the platform's own, each imported only where it is used:

- Linux, macOS and the BSDs: ``fcntl.flock`` on the file. A second descriptor of the file is
  refused too, even in the same process.
- Windows: ``msvcrt.locking`` of one byte far past any end of file. Windows' locks are
  mandatory, so a lock on the file's bytes would stop every reader (``importer report``
  during a run); a byte no file reaches stops only a second writer.
- A POSIX Python built without ``fcntl``: ``os.lockf``, a record lock. It belongs to the
  process, which drops it when it closes any descriptor of the file; it still refuses
  another process, which is what it is for.

A holder also leaves a **holder note** beside the file (``<results>.lock``, JSON: its pid,
host, start time and command line with every secret masked) and removes it when it lets go.
A process refused the lock reads the note, so the refusal names the holder on every
platform; on Linux ``/proc/locks`` confirms the pid (and names a holder of an older version,
which wrote no note). A note left by a killed run is stale and harmless: the lock is the OS's,
and the next holder writes its own note over it. A file at the note's path that is not a note
is never written or removed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from importer.outputs import written_whole

__all__ = ["HolderNote", "describe_holder", "note_path", "release", "try_lock"]

_FAR_BYTE = 1 << 62  # Windows: the byte locked, past the end of any file
_NOTE_LIMIT = 1 << 16  # a bigger file at the note's path is not a note
_COMMAND_LIMIT = 300


def try_lock(fd: int) -> bool:
    """An exclusive lock on ``fd``'s file, taken at once; False when another holds it."""
    try:
        import msvcrt
    except ImportError:
        pass
    else:
        return _far_byte(fd, msvcrt.locking, msvcrt.LK_NBLCK)  # type: ignore[attr-defined,unused-ignore]
    try:
        import fcntl
    except ImportError:
        pass
    else:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        os.lockf(fd, os.F_TLOCK, 0)  # from the start, to any end
    except OSError:
        return False
    return True


def release(fd: int) -> None:
    """Let go before the descriptor is closed. Closing lets go too; Windows asks for it first."""
    try:
        import msvcrt
    except ImportError:
        return
    with contextlib.suppress(OSError):
        _far_byte(fd, msvcrt.locking, msvcrt.LK_UNLCK)  # type: ignore[attr-defined,unused-ignore]


def _far_byte(fd: int, locking: object, mode: int) -> bool:
    """msvcrt.locking(fd, mode, 1) at the far byte, the file's position kept (writes append anyway)."""
    where = os.lseek(fd, 0, os.SEEK_CUR)
    os.lseek(fd, _FAR_BYTE, os.SEEK_SET)
    try:
        locking(fd, mode, 1)  # type: ignore[operator]
    except OSError:
        return False
    finally:
        os.lseek(fd, where, os.SEEK_SET)
    return True


def note_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}.lock")


@dataclass(frozen=True, slots=True)
class HolderNote:
    """Who holds a results file: written by the holder, read by whoever is refused."""

    pid: int
    host: str
    since: str  # UTC, ISO 8601 to the second
    command: str  # secrets masked

    @classmethod
    def of_this_process(cls) -> HolderNote:
        return cls(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   _without_secrets(_own_command(), _secrets_of(None))[:_COMMAND_LIMIT])

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> HolderNote | None:
        """The note at ``note_path(path)``; None when there is none, or the file is not one."""
        try:
            with open(note_path(path), "rb") as f:
                raw = f.read(_NOTE_LIMIT + 1)
            if len(raw) > _NOTE_LIMIT:
                return None
            data = orjson.loads(raw)
            return cls(int(data["pid"]), str(data["host"]), str(data["since"]), str(data["command"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def write(self, path: str | os.PathLike[str]) -> bool:
        """Write it, whole, unless a file that is not a note is in the way; whether it was written.
        A note that cannot be written (a full disk, a read-only folder) only costs the naming."""
        target = note_path(path)
        if os.path.lexists(target) and HolderNote.read(path) is None:
            return False
        try:
            with written_whole(target, "wb") as f:
                f.write(orjson.dumps({"pid": self.pid, "host": self.host, "since": self.since,
                                      "command": self.command}))
        except OSError:
            return False
        return True

    def remove(self, path: str | os.PathLike[str]) -> None:
        """Remove the note if it is still this one's."""
        if HolderNote.read(path) == self:
            with contextlib.suppress(OSError):
                os.unlink(note_path(path))


def describe_holder(path: str | os.PathLike[str], fd: int, proc: Path = Path("/proc")) -> str:
    """'process 4242 (importer run c.csv) on ws-17 since 2026-12-05T10:40:03Z', as much of it as
    the platform and the holder's note tell; 'another process' when neither tells."""
    note = HolderNote.read(path)
    pid, command = _proc_holder(fd, proc)
    if pid is None and note is not None:
        pid, command = note.pid, _without_secrets(note.command, _secrets_of(None))
    elif note is not None and note.pid != pid:
        note = None  # stale: /proc names another holder
    if pid is None:
        return "another process"
    described = f"process {pid}" + (f" ({command})" if command else "")
    if note is not None:
        described += f" on {note.host} since {note.since}"
    return described


def _proc_holder(fd: int, proc: Path) -> tuple[int | None, str]:
    """The pid holding a flock on ``fd``'s file, and its command line, from /proc (Linux)."""
    try:
        inode = os.fstat(fd).st_ino
        with open(proc / "locks", encoding="ascii", errors="replace") as f:
            for entry in f:
                parts = entry.split()
                # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
                if len(parts) >= 6 and parts[1] in ("FLOCK", "POSIX") and parts[5].rsplit(":", 1)[-1] == str(inode):
                    pid = parts[4]
                    try:
                        with open(proc / pid / "cmdline", "rb") as c:
                            raw = c.read(_COMMAND_LIMIT)
                    except OSError:
                        raw = b""
                    command = _without_secrets([
                        " ".join(a.decode("utf-8", "replace").split()) for a in raw.split(b"\0") if a],
                        _secrets_of(pid, proc))
                    return int(pid), command
    except (OSError, ValueError):
        pass
    return None, ""


def _own_command() -> list[str]:
    """This process's command line as its user typed it: 'importer run …' also for python -m importer."""
    argv = list(sys.argv) or [""]
    head = Path(argv[0])
    name = head.parent.name if head.stem == "__main__" else head.stem or "python"
    return [" ".join(word.split()) for word in [name, *argv[1:]]]


_SECRET_FLAGS = ("--token", "--client-secret")
_SECRET_ENV = ("VISMA_TOKEN", "VISMA_CLIENT_SECRET")


def _secrets_of(pid: str | None, proc: Path = Path("/proc")) -> list[str]:
    """The secret values in this process's environment and in process ``pid``'s (where it may be read)."""
    values = [os.environ.get(name, "") for name in _SECRET_ENV]
    if pid is not None:
        try:
            with open(proc / pid / "environ", "rb") as f:
                for entry in f.read(1 << 20).split(b"\0"):
                    name, _, value = entry.partition(b"=")
                    if name.decode("ascii", "replace") in _SECRET_ENV:
                        values.append(value.decode("utf-8", "replace"))
        except OSError:
            pass
    return [v for v in values if len(v) >= 4]


def _without_secrets(args: list[str] | str, secrets: list[str] | None = None) -> str:
    """A command line to show: the value of every secret flag (``--token VALUE``,
    ``--token=VALUE``, ``--client-secret``) as ``***``, and any secret value, whole or cut
    short at the end of what was read, as ``***`` wherever it stands."""
    words = args.split() if isinstance(args, str) else list(args)
    shown: list[str] = []
    for i, word in enumerate(words):
        flag, eq, _ = word.partition("=")
        if i and words[i - 1] in _SECRET_FLAGS:
            word = "***"
        elif eq and flag in _SECRET_FLAGS:
            word = f"{flag}=***"
        for value in secrets or ():
            word = word.replace(value, "***")
            if i == len(words) - 1:  # the read may have cut a secret short
                for cut in range(len(value) - 1, 3, -1):
                    if word.endswith(value[:cut]):
                        word = word[: -cut] + "***"
                        break
        shown.append(word)
    return " ".join(shown)
