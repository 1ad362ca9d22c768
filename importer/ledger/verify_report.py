"""``verify``'s summary and its report file: one NDJSON line per customer or document.

A line has ``key``, ``records`` (input record numbers), ``status`` (``ok`` | ``missing`` |
``different`` | ``invalid`` | ``error``), ``differences`` (``[{field, expected, actual}]``)
and ``error``; :class:`VerifySummary` counts them and says the exit code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from importer.errors import ConfigError
from importer.mapping.flatten import FlatRecord
from importer.vocabulary import VERIFY_STATUSES, VerifyStatus

__all__ = ["VerifySummary", "VerifyReport", "VerifyUnit", "STATUSES", "default_report_path"]

STATUSES = VERIFY_STATUSES  # a report line's status (importer.vocabulary)


def default_report_path(input_path: str) -> str:
    return f"{input_path}.verify.ndjson"


@dataclass
class VerifySummary:
    entity: str
    input: str
    report_path: str | None
    strategy: str = "get"  # the strategy used (``auto`` resolves to one of the others)
    records: int = 0  # input records read
    units: int = 0  # customers / documents compared or reported
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    unchecked: dict[str, int] = field(default_factory=dict)  # column -> times it could not be compared
    calls: int = 0  # HTTP calls to the API, probe, retries and token calls included
    list_calls_estimate: int | None = None  # what ``auto`` expected a full listing to cost
    error: str | None = None  # why the run ended early (unreadable input, a failed listing)
    map: str | None = None  # the mapping file the input was read through
    elapsed: float = 0.0

    @property
    def calls_per_record(self) -> float:
        """Calls per customer or document checked against the API."""
        checked = self.units - self.counts["invalid"]
        return self.calls / checked if checked else float(self.calls)

    @property
    def ok(self) -> bool:
        return self.error is None and self.counts["ok"] == self.units

    @property
    def exit_code(self) -> int:
        """0: every record is in the API as the input says; 1: anything else."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "input": self.input, "report": self.report_path,
            "strategy": self.strategy, "records": self.records, "units": self.units,
            "counts": dict(self.counts), "unchecked": dict(self.unchecked),
            "calls": self.calls, "calls_per_record": round(self.calls_per_record, 4),
            "list_calls_estimate": self.list_calls_estimate, "map": self.map, "error": self.error,
            "elapsed_s": round(self.elapsed, 3), "exit_code": self.exit_code,
        }


@dataclass(slots=True)
class VerifyUnit:
    """What a check needs of a record: its key and record numbers, and the values it expects
    (not its rows or payload: a unit may wait on disk for the listing to reach its key)."""

    key: str | None
    records: list[int]
    expected: FlatRecord | None  # None: invalid or keyless
    error: str | None = None


class VerifyReport:
    def __init__(self, path: str | os.PathLike[str] | None, summary: VerifySummary) -> None:
        self.summary = summary
        self._file: IO[bytes] | None = None
        if path is not None:
            try:
                self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(f"cannot write the report {os.fspath(path)}: {exc.strerror}") from None

    def write(self, unit: VerifyUnit, status: VerifyStatus, differences: list[dict[str, Any]] | None = None,
              error: str | None = None) -> None:
        self.summary.counts[status] += 1
        self.summary.units += 1
        if self._file is None:
            return
        line: dict[str, Any] = {"key": unit.key, "records": unit.records, "status": status}
        if differences is not None:
            line["differences"] = differences
        if error is not None:
            line["error"] = error
        self._file.write(orjson.dumps(line, default=str) + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
