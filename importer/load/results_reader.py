"""Reading results files back: every line checked, and what a file is before anything writes to it.

    for line in iter_results("customers.csv.results.ndjson"):   # ResultsLine, checked
        ...
    probe_results(path)    # {"entity": "customer", "input": "/data/customers.csv", ...} or None
    check_results_file(path, fd, dry_run=True)   # ConfigError unless a run of this kind may write it

See :mod:`importer.load.results` for the lines themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from importer.errors import ConfigError
from importer.vocabulary import EVENTS, OUTCOMES, EventName, OutcomeName, is_event, is_outcome

__all__ = ["ResultsLine", "iter_results", "check_results_file", "probe_results", "read_at",
           "OUTCOMES", "EVENTS", "RESULTS_LINE_LIMIT"]

# "queued": an action the API accepted but had not finished; "valid": a dry run's record;
# "renamed": a record created before under another identity (its line says which), not sent.
# (The values are importer.vocabulary's.)
RESULTS_LINE_LIMIT = 16 << 20  # a longer line is not one of ours
_MAX_RECORD = 10**12
_PROBE_LINES = 8  # complete lines read to tell whether a file is a results file
_OUTCOME_FIELD = re.compile(rb'"outcome":"([a-z]+)"')


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes at ``offset``: ``os.pread`` where there is one; on Windows, which has
    none, a seek and a read (one writer appends, and its appends go to the end wherever it seeks)."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        return pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def check_results_file(path: str | os.PathLike[str], fd: int, *, dry_run: bool = False) -> None:
    """ConfigError, having changed nothing, unless ``fd`` is empty or a results file a run of
    this kind may write to (a dry run empties its file, so a real run's is not one)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    head = read_at(fd, min(size, 1 << 20), 0)
    if not _looks_like_results(head):
        raise ConfigError(
            f"{path} is not a results file (its first lines are not results lines), so it is not "
            "written to: it is left as it was. Pass --results with a new file name"
        )
    if dry_run:
        outcomes = _outcomes_in(fd, size)
        real = sorted(outcomes - {b"valid", b"invalid", b"skipped"})  # a dry run skips what waits on a customer
        if real:
            raise ConfigError(
                f"{path} holds the outcomes of a real run ({', '.join(o.decode() for o in real[:3])}), and a "
                "dry run starts its file empty: it is left as it was. Pass --results with another name "
                "(a dry run's default is INPUT.dry-run.ndjson)"
            )


def probe_results(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What the first lines of ``path`` say it is for (``entity``, ``input``, ``api``,
    ``company``), or None when it is not a results file (or cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return None
    if not _looks_like_results(head):
        return None
    about: dict[str, Any] = {}
    for raw in head.split(b"\n")[:_PROBE_LINES]:
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(line, dict):
            for name in ("entity", "input", "api", "company"):
                if isinstance(line.get(name), str):
                    about.setdefault(name, line[name])
    return about


def _looks_like_results(head: bytes) -> bool:
    """Whether the first bytes of a file are results lines: one of the first complete lines
    is one (the others may be damaged), or a first line longer than ``head`` starts as ours."""
    lines = head.split(b"\n")
    complete = lines[:-1]
    for number, raw in enumerate(complete[:_PROBE_LINES], 1):
        if not raw.strip():
            continue
        try:
            _checked("", number, raw)
            return True
        except ConfigError:
            continue
    return not complete and head.startswith(b'{"records":[')  # a first line cut short, or a long one


def _outcomes_in(fd: int, size: int) -> set[bytes]:
    """The outcomes a file's lines name, read a chunk at a time."""
    found: set[bytes] = set()
    pos, tail, step = 0, b"", 1 << 20
    while pos < size:
        chunk = tail + read_at(fd, min(step, size - pos), pos)
        pos += step
        found.update(_OUTCOME_FIELD.findall(chunk))
        tail = chunk[-40:]
    return found


@dataclass(slots=True)
class ResultsLine:
    """A line read back: the fields resume and plans use, checked."""

    number: int  # the line's number in the file, from 1
    outcome: OutcomeName | EventName
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
    input: str | None = None  # a started line's input file (absolute), since it is recorded
    company: str | None = None  # a started line's company (tenant), where the run knew it
    reference_key: str | None = None  # started lines of documents: what the file's references are made with
    sent: dict[str, Any] | None = None  # a created document's final line: what it was sent as, in brief
    duplicate_of: int | None = None  # an invalid line: the record of the input that had its identity first


def iter_results(path: str | os.PathLike[str],
                 damaged: list[tuple[int, bytes]] | None = None) -> Iterator[ResultsLine]:
    """Every complete line of a results file, checked; a last line cut by a crash is left out.

    A line that is not one of ours (damaged, edited by hand, or another file) is a
    ``ConfigError`` naming it, never a traceback, unless a ``--resume`` set it aside (it is
    in ``<path>.damaged``: passed over); or, given ``damaged``, it is added there as
    ``(line number, its bytes)`` and reading goes on.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot read results file {path}: {exc.strerror}") from None
    with f:
        number = 0
        aside: set[bytes] | None = None  # the lines a --resume set aside, read at the first damaged one
        while raw := f.readline(RESULTS_LINE_LIMIT):
            number += 1
            if not raw.endswith(b"\n"):
                if len(raw) < RESULTS_LINE_LIMIT:
                    return  # written halfway when the process died
                if damaged is None:
                    raise ConfigError(f"{path}: line {number} is not a results line (longer than any of ours)")
                damaged.append((number, raw))
                while (rest := f.readline(RESULTS_LINE_LIMIT)) and not rest.endswith(b"\n"):
                    pass  # the rest of an overlong line is skipped, not kept
                continue
            if not raw.strip():
                continue
            try:
                line = _checked(path, number, raw)
            except ConfigError:
                if damaged is not None:
                    damaged.append((number, raw))
                    continue
                if aside is None:
                    aside = _set_aside(path)
                if raw in aside:
                    continue  # set aside by a --resume, which settled what it may have been
                raise
            yield line


def _set_aside(path: str | os.PathLike[str]) -> set[bytes]:
    """The lines ``--resume`` copied to ``<path>.damaged`` (``.damaged.2``, …): known, and settled."""
    lines: set[bytes] = set()
    for n in range(1, 100):
        side = f"{os.fspath(path)}.damaged" + (f".{n}" if n > 1 else "")
        try:
            with open(side, "rb") as f:
                lines.update(f.read(RESULTS_LINE_LIMIT).splitlines(keepends=True))
        except OSError:
            break
    return lines


def _checked(path: str | os.PathLike[str], number: int, raw: bytes) -> ResultsLine:
    def bad(why: str) -> ConfigError:
        return ConfigError(
            f"{path}: line {number} is not a results line ({why}); was the file damaged or edited by hand? "
            "Restore it, or run with --resume, which sets the line aside and looks up the records it "
            "may have been before sending anything (--restart would send them all again)"
        )

    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad("NUL bytes" if b"\0" in raw else "not JSON") from None
    if not isinstance(line, dict):
        raise bad(f"a JSON {type(line).__name__}, not an object")
    outcome, identity, fingerprint = line.get("outcome"), line.get("identity"), line.get("fingerprint")
    if not is_outcome(outcome) and not is_event(outcome):
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
        _text_or_none(line.get("input")),
        _text_or_none(line.get("company")),
        _text_or_none(line.get("reference_key")),
        line.get("sent") if isinstance(line.get("sent"), dict) else None,
        _record_or_none(line.get("duplicate_of")),
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _record_or_none(value: Any) -> int | None:
    return value if type(value) is int and 0 < value < _MAX_RECORD else None  # noqa: E721 - bool is no record


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None  # noqa: E721 - bool is no count


def _number_or_none(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) and value >= 0 else None
