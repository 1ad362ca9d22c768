"""The results file: append-only NDJSON, one line per event, written ahead of the request.

Before a unit of work is sent, a ``started`` line names it; when it ends, a final
line gives its outcome. Each line goes to the operating system whole, in as many
``write`` calls as it takes, before the request goes out, so the file survives the
process being killed at any instant: it stays parseable up to its last complete
line, and ``--resume`` knows what was in flight. The started lines of units queued
together may go in one write (:meth:`ResultsWriter.write_many`), all or none, still
before the first of them is sent. With ``fsync=True`` every final line is also
forced to disk, which survives a power cut too.

Every line names its record by **identity** and **fingerprint** (see
:mod:`importer.load.identity`), not only by row number, so a resume follows the
record wherever its row has moved. Record numbers are those of the run that wrote
the line. The latest line of an identity is its outcome::

    {"records": [3, 4], "entity": "invoice", "identity": "key:156589", "fingerprint": "9f2c…",
     "key": "156589", "action": "create", "outcome": "created", "http_status": 201, "attempts": 1,
     "location": "https://…/v1/customerinvoice/156589", "error": null, "elapsed_ms": 41.2, …,
     "at": "2026-12-01T11:02:03.123Z", "throttled": null, "waited": null}

A ``renamed`` line is a success that sent nothing: an auto-numbered document created
before under another documentKey (``renamed_from``), with that line's ``key`` and
``location``, so a later resume finds it done under its new identity.

``at`` is when the final line was written (UTC); ``throttled`` the 429s the record met,
null where the client did not count them. ``waited`` (last) is how long, in seconds,
the record waited for a write whose answer was lost to land before it was looked up
again (:mod:`importer.client.recovery`), null when it did not wait. Lines of older
versions lack them and read.

One process writes a results file at a time: :class:`ResultsWriter` holds an
exclusive lock on it (released by the OS when the process dies), and a second
writer is refused at once, naming the process that holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from importer.errors import ConfigError, ResultsWriteError

__all__ = [
    "Outcome", "ResultsWriter", "ResultsLine", "iter_results", "started_line",
    "SUCCESS", "OUTCOMES", "FAILURES", "RESULTS_LINE_LIMIT",
]

SUCCESS = frozenset({"created", "updated", "done", "renamed"})
FAILURES = frozenset({"failed", "invalid", "skipped"})  # what the failed-records file holds
# "queued": an action the API accepted but had not finished; "valid": a dry run's record;
# "renamed": a record created before under another identity (its line says which), not sent.
OUTCOMES = ("created", "updated", "done", "renamed", "queued", "failed", "invalid", "skipped", "valid")
# Lines that are events, not outcomes: sent, and (after a systemic stop) taken back unsent.
EVENTS = frozenset({"started", "unsent"})
RESULTS_LINE_LIMIT = 16 << 20  # a longer line is not one of ours
_MAX_RECORD = 10**12


@dataclass(slots=True)
class Outcome:
    """One final results line."""

    records: list[int]
    entity: str
    identity: str
    fingerprint: str
    key: str | None
    action: str  # "create" | "update" | "action" | "release"
    outcome: str  # one of OUTCOMES
    http_status: int | None = None
    attempts: int = 0
    location: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    url: str | None = None  # where the request went, when it did not prove a success
    recovered: bool = False  # an ambiguous failure turned out to have gone through
    unknown: bool = False  # it may or may not have reached the API: looked up before any resend
    release: dict[str, Any] | None = None  # --release: the release's own outcome
    request: str | None = None  # dry run: "POST /v1/customer"
    payload: dict[str, Any] | None = None  # dry run: the body it would send
    at: str | None = None  # UTC time the line was written (ISO 8601, ms): set by ResultsWriter
    throttled: int | None = None  # 429s answered to it; None where the client did not count them
    reference: str | None = None  # a document's externalReference, which it can be found by
    sent_key: str | None = None  # the key the file gave, where the ledger keeps it under another (``key``)
    renamed_from: str | None = None  # "renamed": the identity it was created under
    waited: float | None = None  # seconds it waited for a write whose answer was lost to land; None: no such wait

    def as_dict(self) -> dict[str, Any]:
        return orjson.loads(orjson.dumps(self))


class ResultsWriter:
    """Appends result lines under an exclusive lock; safe from any task of one event loop.

    ``fresh=True`` empties the file once the lock is held (a dry run); otherwise the
    lines go after what is there, less a last line a crash cut short.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False, fresh: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.broken: str | None = None  # why writing stopped, once it did
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _lock_holder(self._fd)
            os.close(self._fd)
            self._fd = -1
            raise ConfigError(
                f"{self.path} is in use by {holder}: one run at a time writes a results file; "
                "wait for it to finish, or pass another --results"
            ) from None
        try:
            if fresh:
                os.ftruncate(self._fd, 0)
            else:
                _drop_partial_last_line(self._fd)
            self._size = os.fstat(self._fd).st_size
        except OSError as exc:
            self.close()
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror}") from None

    @property
    def size(self) -> int:
        return self._size

    def write(self, line: Outcome | dict[str, Any], *, final: bool = True) -> None:
        """Write one whole line, or raise ``ResultsWriteError`` having written none of it."""
        if self.broken is not None:
            raise ResultsWriteError(self.broken)
        if isinstance(line, Outcome) and line.at is None:
            line.at = utc_now()
        self._append(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE), fsync=final and self.fsync)

    def started(self, records: list[int], entity: str, identity: str, fingerprint: str,
                key: str | None, action: str, api: str | None = None, reference: str | None = None) -> None:
        """The write-ahead line; ``api``: the base URL it goes to (a resume must go there too)."""
        self.write(started_line(records, entity, identity, fingerprint, key, action, api, reference), final=False)

    def write_many(self, lines: list[dict[str, Any]]) -> None:
        """Several event lines (``started_line``) in one write: all of them whole, or none."""
        if self.broken is not None:
            raise ResultsWriteError(self.broken)
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        self._append(b"".join([dumps(line, option=option) for line in lines]), fsync=False)

    def _append(self, data: bytes, *, fsync: bool) -> None:
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # a short write: the rest, or the error that caused it
                written += os.write(self._fd, data[written:])
            if fsync:
                os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)
        self._size += len(data)

    def _fail(self, exc: OSError) -> None:
        """Cut what part of the line got out (and so free its space); no write after this."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            pass  # the reader drops a torn last line anyway
        what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror or str(exc)
        self.broken = f"cannot write the results file {self.path}: {what}"
        raise ResultsWriteError(self.broken) from None

    def close(self) -> None:
        if self._fd >= 0:
            try:
                if self.fsync and self.broken is None:
                    os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)  # the lock goes with it
            self._fd = -1

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def started_line(records: list[int], entity: str, identity: str, fingerprint: str,
                 key: str | None, action: str, api: str | None, reference: str | None = None) -> dict[str, Any]:
    """The write-ahead line of a unit about to be sent; ``reference``: the externalReference it
    can be found by (documents only)."""
    line = {"records": records, "entity": entity, "identity": identity, "fingerprint": fingerprint,
            "key": key, "action": action, "outcome": "started", "api": api}
    if reference is not None:
        line["reference"] = reference
    return line


_second_text: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def utc_now() -> str:
    """Now in UTC as ISO 8601 with milliseconds: '2026-12-01T11:02:03.123Z'."""
    global _second_text
    ms = int(time.time() * 1000)
    second, text = _second_text
    if ms // 1000 != second:  # formatting costs more than the rest of a line: once a second
        second = ms // 1000
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_text = (second, text)
    return f"{text}.{ms % 1000:03d}Z"


def _lock_holder(fd: int) -> str:
    """'process 1234 (importer run …)' from /proc/locks where there is one, else 'another process'."""
    try:
        inode = os.fstat(fd).st_ino
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            for entry in f:
                parts = entry.split()
                # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                    pid = parts[4]
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as c:
                            command = c.read(300).replace(b"\0", b" ").decode("utf-8", "replace").strip()
                    except OSError:
                        command = ""
                    return f"process {pid}" + (f" ({_without_secrets(command)})" if command else "")
    except OSError:
        pass
    return "another process"


def _without_secrets(command: str) -> str:
    words = command.split()
    return " ".join("***" if i and words[i - 1] in ("--token", "--client-secret") else w
                    for i, w in enumerate(words))


def _drop_partial_last_line(fd: int) -> None:
    """Cut a line the last run was killed in the middle of, so appends start clean."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    step, pos = 65536, size
    while pos > 0:
        pos = max(0, pos - step)
        chunk = os.pread(fd, size - pos if size - pos <= step else step, pos)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, pos + cut + 1)
            return
    os.ftruncate(fd, 0)


@dataclass(slots=True)
class ResultsLine:
    """A line read back: the fields resume and plans use, checked."""

    number: int  # the line's number in the file, from 1
    outcome: str
    identity: str
    fingerprint: str
    key: str | None
    action: str
    records: list[int]
    error: str | None
    unknown: bool
    release: str | None  # the release's outcome, when there was one
    api: str | None = None  # a started line's base URL
    # What a report reads; lines written before a field existed read as None (or 0).
    http_status: int | None = None
    attempts: int = 0
    elapsed_ms: float | None = None
    at: str | None = None
    throttled: int | None = None
    entity: str | None = None
    recovered: bool = False
    reference: str | None = None  # a document's externalReference (started lines, and final lines since it exists)
    sent_key: str | None = None
    location: str | None = None


def iter_results(path: str | os.PathLike[str]) -> Iterator[ResultsLine]:
    """Every complete line of a results file, checked; a last line cut by a crash is left out.

    A line that is not one of ours (edited by hand, or another file) is a ``ConfigError``
    naming it, never a traceback.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot read results file {path}: {exc.strerror}") from None
    with f:
        number = 0
        while raw := f.readline(RESULTS_LINE_LIMIT):
            number += 1
            if not raw.endswith(b"\n"):
                if len(raw) >= RESULTS_LINE_LIMIT:
                    raise ConfigError(f"{path}: line {number} is not a results line (longer than any of ours)")
                return  # written halfway when the process died
            if raw.strip():
                yield _checked(path, number, raw)


def _checked(path: str | os.PathLike[str], number: int, raw: bytes) -> ResultsLine:
    def bad(why: str) -> ConfigError:
        return ConfigError(
            f"{path}: line {number} is not a results line ({why}); was the file edited by hand? "
            "Restore it, or start over with --restart"
        )

    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad("not JSON") from None
    if not isinstance(line, dict):
        raise bad(f"a JSON {type(line).__name__}, not an object")
    outcome, identity, fingerprint = line.get("outcome"), line.get("identity"), line.get("fingerprint")
    if outcome not in OUTCOMES and outcome not in EVENTS:
        raise bad(f"unknown outcome {outcome!r}")
    if not isinstance(identity, str) or not isinstance(fingerprint, str):
        raise bad("no identity: written by an older version of the importer")
    records = line.get("records")
    if not isinstance(records, list) or not all(
        type(r) is int and 0 < r < _MAX_RECORD for r in records  # noqa: E721 - bool is no record
    ):
        raise bad("records must be a list of record numbers")
    key, action, error = line.get("key"), line.get("action"), line.get("error")
    if key is not None and not isinstance(key, str):
        raise bad("key must be text")
    if not isinstance(action, str):
        raise bad("no action")
    release = line.get("release")
    release_outcome = release.get("outcome") if isinstance(release, dict) else None
    return ResultsLine(
        number, outcome, identity, fingerprint, key, action, records,
        error if isinstance(error, str) else None, line.get("unknown") is True,
        release_outcome if isinstance(release_outcome, str) else None,
        line.get("api") if isinstance(line.get("api"), str) else None,
        _int_or_none(line.get("http_status")),
        _int_or_none(line.get("attempts")) or 0,
        _number_or_none(line.get("elapsed_ms")),
        line.get("at") if isinstance(line.get("at"), str) else None,
        _int_or_none(line.get("throttled")),
        line.get("entity") if isinstance(line.get("entity"), str) else None,
        line.get("recovered") is True,
        _text_or_none(line.get("reference")),
        _text_or_none(line.get("sent_key")),
        line.get("location") if isinstance(line.get("location"), str) else None,
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None  # noqa: E721 - bool is no count


def _number_or_none(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) and value >= 0 else None
