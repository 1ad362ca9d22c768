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

An ``invalid`` line of a record whose identity an earlier record of the same input had
says which record that was (``duplicate_of``): the record is one of its own, refused,
not a later word on the first. Lines written before the field read it from the error
text (:func:`importer.load.identity.duplicate_of`).

A ``renamed`` line is a success that sent nothing: an auto-numbered document created
before under another documentKey (``renamed_from``), with that line's ``key`` and
``location``, so a later resume finds it done under its new identity.

``at`` is when the final line was written (UTC); ``throttled`` the 429s the record met,
null where the client did not count them. ``waited`` is how long, in seconds,
the record waited for a write whose answer was lost to land before it was looked up
again (:mod:`importer.client.recovery`), null when it did not wait. ``sent`` (last) is
what a created document was sent as, in brief (:mod:`importer.load.sent`), which
``importer undo`` checks the ledger's document against; null on other lines. Lines of
older versions lack them and read.

What a file is for: every line names its ``entity``; a ``started`` line also the base
URL it went to (``api``), the ``input`` it was read from (an absolute path) and the
``company`` (tenant) where the run knew it. These are fields of the lines, not a header
line above them, so a file stays one kind of line: older versions read a newer file,
this one reads theirs (where a field is missing it is not checked), and any line
still says what it belongs to after the file is cut or copied in part.

Nothing is written to a path before it is known to be ours (:func:`check_results_file`):
a missing or empty file, or one whose first complete lines are results lines. Any other
file (notes, a CSV, the map) is refused with every byte left as it was; so is a real
run's file given to a dry run, which would empty it. Only then is a torn last line cut.

A line that is not one of ours in the middle (NUL bytes, a line torn and run into the
next, garbage) is an error for every reader, naming it, except ``--resume``, which
passes ``damaged=`` to collect it instead (:class:`importer.load.state.ResultsState`).

One process writes a results file at a time: :class:`ResultsWriter` holds an
exclusive lock on it (released by the OS when the process dies), and a second
writer is refused at once, naming the process that holds it (never a secret of its
command line): see :mod:`importer.load.locking`, which works on Windows too.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from importer.errors import ConfigError, ResultsWriteError
from importer.load.locking import HolderNote, describe_holder, release, try_lock
from importer.load.results_reader import (
    EVENTS,
    OUTCOMES,
    RESULTS_LINE_LIMIT,
    ResultsLine,
    check_results_file,
    iter_results,
    probe_results,
    read_at,
)
from importer.outputs import written_whole
from importer.vocabulary import SUCCESS, Action, OutcomeName

if TYPE_CHECKING:
    from importer.load.actions import ReleaseOutcome

__all__ = [
    "Outcome", "ResultsWriter", "ResultsLine", "iter_results", "started_line",
    "SUCCESS", "OUTCOMES", "EVENTS", "FAILURES", "RESULTS_LINE_LIMIT", "check_results_file", "probe_results",
]

_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation

FAILURES: frozenset[OutcomeName] = frozenset({"failed", "invalid", "skipped"})  # what the failed-records file holds


@dataclass(slots=True)
class Outcome:
    """One final results line."""

    records: list[int]
    entity: str
    identity: str
    fingerprint: str
    key: str | None
    action: Action
    outcome: OutcomeName
    http_status: int | None = None
    attempts: int = 0
    location: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    url: str | None = None  # where the request went, when it did not prove a success
    recovered: bool = False  # an ambiguous failure turned out to have gone through
    unknown: bool = False  # it may or may not have reached the API: looked up before any resend
    release: ReleaseOutcome | None = None  # --release: the release's own outcome
    request: str | None = None  # dry run: "POST /v1/customer"
    payload: dict[str, Any] | None = None  # dry run: the body it would send
    at: str | None = None  # UTC time the line was written (ISO 8601, ms): set by ResultsWriter
    throttled: int | None = None  # 429s answered to it; None where the client did not count them
    reference: str | None = None  # a document's externalReference, which it can be found by
    sent_key: str | None = None  # the key the file gave, where the ledger keeps it under another (``key``)
    renamed_from: str | None = None  # "renamed": the identity it was created under
    waited: float | None = None  # seconds it waited for a write whose answer was lost to land; None: no such wait
    duplicate_of: int | None = None  # "invalid": the record of the input that had its identity first
    sent: dict[str, Any] | None = None  # a created document: what it was sent as, in brief (importer.load.sent)

    def as_dict(self) -> dict[str, Any]:
        return orjson.loads(orjson.dumps(self))


class ResultsWriter:
    """Appends result lines under an exclusive lock; safe from any task of one event loop.

    ``fresh=True`` empties the file once the lock is held (a dry run); otherwise the
    lines go after what is there, less a last line a crash cut short. Either only once the
    file is known to be a results file (``dry_run=True``: a dry run's, not a real run's);
    ``stamp``: fields every started line carries (``input``, ``company``).
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False, fresh: bool = False,
                 stamp: dict[str, Any] | None = None, dry_run: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.broken: str | None = None  # why writing stopped, once it did
        # What every started line says of the run: its input and company (see the module doc).
        self.stamp = {k: v for k, v in (stamp or {}).items() if v is not None}
        try:  # O_APPEND and no O_TRUNC: opening changes no byte of a file that is there
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _BINARY, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror}") from None
        self._note: HolderNote | None = None  # who holds it, for whoever is refused
        if not try_lock(self._fd):
            holder = describe_holder(self.path, self._fd)
            os.close(self._fd)
            self._fd = -1
            raise ConfigError(
                f"{self.path} is in use by {holder}: one run at a time writes a results file; "
                "wait for it to finish, or pass another --results"
            ) from None
        try:
            check_results_file(self.path, self._fd, dry_run=dry_run)  # ours, or nothing is touched
            if fresh:
                os.ftruncate(self._fd, 0)
            else:
                _drop_partial_last_line(self._fd)
            self._size = os.fstat(self._fd).st_size
        except OSError as exc:
            self.close()
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror}") from None
        except ConfigError:
            self.close()
            raise
        note = HolderNote.of_this_process()
        self._note = note if note.write(self.path) else None

    @property
    def size(self) -> int:
        return self._size

    def restart(self, kept: str | os.PathLike[str]) -> None:
        """Copy what the file holds to ``kept``, whole, then empty it: the lock is held throughout,
        and no open file is renamed (which Windows refuses). OSError with nothing emptied when
        the copy cannot be made."""
        with written_whole(Path(kept), "wb") as copy:
            pos = 0
            while chunk := read_at(self._fd, 1 << 20, pos):
                copy.write(chunk)
                pos += len(chunk)
        os.ftruncate(self._fd, 0)
        self._size = 0

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
        line = started_line(records, entity, identity, fingerprint, key, action, api, reference)
        self.write(line | self.stamp, final=False)

    def write_many(self, lines: list[dict[str, Any]]) -> None:
        """Several event lines (``started_line``) in one write: all of them whole, or none."""
        if self.broken is not None:
            raise ResultsWriteError(self.broken)
        dumps, option, stamp = orjson.dumps, orjson.OPT_APPEND_NEWLINE, self.stamp
        self._append(b"".join([dumps(line | stamp if line.get("outcome") == "started" else line, option=option)
                               for line in lines]), fsync=False)

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
            if self._note is not None:
                self._note.remove(self.path)
            release(self._fd)
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


def _drop_partial_last_line(fd: int) -> None:
    """Cut a line the last run was killed in the middle of, so appends start clean."""
    size = os.fstat(fd).st_size
    if size == 0 or read_at(fd, 1, size - 1) == b"\n":
        return
    step, pos = 65536, size
    while pos > 0:
        pos = max(0, pos - step)
        chunk = read_at(fd, size - pos if size - pos <= step else step, pos)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, pos + cut + 1)
            return
    os.ftruncate(fd, 0)
