"""The results file: append-only NDJSON, one line per event, written ahead of the request.

Before a unit of work is sent, a ``started`` line names its records; when it
ends, a final line gives the outcome. Each line goes to the operating system
in one ``write`` as soon as it is made, so the file survives the process being
killed at any instant: it stays parseable up to its last complete line, and
``--resume`` knows which records were in flight. With ``fsync=True`` every final
line is also forced to disk, which survives a power cut too, at the cost of
one disk flush per record (see the README for numbers).

A line::

    {"records": [3, 4], "entity": "invoice", "key": "156589", "action": "create",
     "outcome": "created", "http_status": 201, "attempts": 1,
     "location": "https://…/v1/customerinvoice/156589", "error": null, "elapsed_ms": 41.2}
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from importer.errors import ConfigError

__all__ = [
    "ResultsWriter", "ResultsState", "read_results",
    "SUCCESS", "OUTCOMES",
]

SUCCESS = frozenset({"created", "updated", "done"})
OUTCOMES = ("created", "updated", "done", "failed", "invalid", "skipped")

# Per-record states kept by the resume reader, one byte per record number.
_NONE, _STARTED, _SUCCESS, _FAILED, _SKIPPED = 0, 1, 2, 3, 4
_STATE_OF = {"started": _STARTED, "failed": _FAILED, "invalid": _FAILED, "skipped": _SKIPPED}
_STATE_OF.update({o: _SUCCESS for o in SUCCESS})


class ResultsWriter:
    """Appends result lines; safe to call from any task of one event loop."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False, append: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        try:
            if append and self.path.exists():
                _drop_partial_last_line(self.path)
            self._fd = os.open(
                self.path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o644
            )
        except OSError as exc:
            raise ConfigError(f"cannot write results file {self.path}: {exc.strerror}") from None

    def write(self, line: dict[str, Any], *, final: bool = True) -> None:
        os.write(self._fd, orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
        if final and self.fsync:
            os.fsync(self._fd)

    def started(self, records: list[int], entity: str, key: str | None, action: str) -> None:
        self.write(
            {"records": records, "entity": entity, "key": key, "action": action, "outcome": "started"},
            final=False,
        )

    def close(self) -> None:
        if self._fd >= 0:
            if self.fsync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_partial_last_line(path: Path) -> None:
    """Cut a line the last run was killed in the middle of, so appends start clean."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        step, pos = 4096, size
        while pos > 0:
            pos = max(0, pos - step)
            f.seek(pos)
            chunk = f.read(size - pos)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                f.truncate(pos + cut + 1)
                return
        f.truncate(0)


@dataclass(slots=True)
class ResultsState:
    """What an earlier run recorded, per record number: for ``--resume``."""

    states: bytearray

    def _get(self, record: int) -> int:
        return self.states[record] if record < len(self.states) else _NONE

    def succeeded(self, records: Iterable[int]) -> bool:
        return all(self._get(r) == _SUCCESS for r in records)

    def failed(self, records: Iterable[int]) -> bool:
        return any(self._get(r) == _FAILED for r in records)

    def in_flight(self, records: Iterable[int]) -> bool:
        """Started without a final outcome: the process died while it was sent."""
        return any(self._get(r) == _STARTED for r in records)

    def seen(self, records: Iterable[int]) -> bool:
        return any(self._get(r) != _NONE for r in records)


def read_results(path: str | os.PathLike[str]) -> ResultsState:
    """Read a results file; a last line cut short by a crash is ignored."""
    states = bytearray()
    lines = 0
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return ResultsState(states)
    with f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # written halfway when the process died
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise ConfigError(f"{path}: line {lines + 1} is not a results line") from None
            lines += 1
            state = _STATE_OF.get(line.get("outcome"))
            if state is None:
                continue
            for record in line.get("records") or ():
                if record >= len(states):
                    states.extend(b"\0" * (record - len(states) + 1024))
                # A success is final; a started after a failure (a retry) counts again.
                if states[record] != _SUCCESS:
                    states[record] = state
    return ResultsState(states)
