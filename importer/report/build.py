"""``importer report``: what results files say, per file (a plan's step) and entity.

    report = build_report(["rehearsal/"])       # files, or a plan's --results-dir
    print(render_text(report))                  # report.text: tables for a terminal
    orjson.dumps(report.to_dict())              # --format json
    short_report(["rehearsal/"])                # report.text: totals and the top reasons
    write_csv(report, "report.csv")             # report.csv: the tables for a spreadsheet

Only the last line of each identity counts: it is the record's outcome. A ``started``
line with nothing after it is a unit in flight when the run stopped (a resume looks
it up); an ``unsent`` one never went out. Failures are grouped by their reason with
what varies between records (numbers, quoted values, the record's own key) taken
out, so one cause is one line however many records it hit.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.results import ResultsLine, iter_results
from importer.load.state import temporary_db
from importer.outputs import printable
from importer.report.reasons import Reason, add_reason, line_identity, normalise_reason

__all__ = ["Report", "Group", "Reason", "build_report", "normalise_reason", "results_files", "percentile",
           "reason_examples", "step_name", "OUTCOME_ORDER"]

# Columns in the order a reader wants them: successes, then what needs a look.
OUTCOME_ORDER = ("created", "updated", "done", "renamed", "queued", "valid", "failed", "unknown",
                 "invalid", "skipped", "in_flight", "not_sent")
SUCCESSES = frozenset({"created", "updated", "done", "renamed"})
PROBLEMS = frozenset({"queued", "failed", "unknown", "invalid", "skipped", "in_flight"})
RESULTS_SUFFIXES = (".results.ndjson", ".dry-run.ndjson")


@dataclass(slots=True)
class Group:
    """One entity within one results file (one step of a plan)."""

    file: str
    step: str
    entity: str
    outcomes: Counter[str] = field(default_factory=Counter)  # per record, like the run summary
    units: int = 0  # identities: a customer, a document (all its rows), an action
    unit_outcomes: Counter[str] = field(default_factory=Counter)  # per unit: what a consultant counts
    sent: int = 0  # units that made at least one request
    calls: int = 0  # requests sent for them (lookups and token calls are not in the lines)
    retries: int = 0
    throttled: int | None = None  # 429s; None when no line of the group counted them
    recovered: int = 0
    # Histograms, so a report of a million records stays small: elapsed_ms of the units
    # sent (to 0.1 ms) -> units, and per second of the clock -> [records, calls].
    latencies: Counter[float] = field(default_factory=Counter)
    seconds: dict[int, list[int]] = field(default_factory=dict)
    first: float | None = None  # the first and last outcome's time (epoch seconds)
    last: float | None = None
    undated: int = 0  # final lines written before lines carried their time

    @property
    def times(self) -> list[tuple[int, int, int]]:
        """(epoch second, records, calls) per second that had outcomes, in order."""
        return [(second, records, calls) for second, (records, calls) in sorted(self.seconds.items())]

    @property
    def records(self) -> int:
        return sum(self.outcomes.values())

    @property
    def succeeded(self) -> int:
        return sum(self.outcomes[o] for o in SUCCESSES)

    @property
    def documents(self) -> bool:
        """Whether its units are documents (of one or more rows each), not one record each."""
        entity = ENTITIES.get(self.entity)
        return entity is not None and entity.is_document

    @property
    def calls_per_unit(self) -> float:
        return self.calls / self.sent if self.sent else 0.0

    @property
    def span_s(self) -> float:
        if self.first is None or self.last is None or self.first == self.last:
            return 0.0
        return self.last - self.first

    @property
    def first_at(self) -> float | None:
        return self.first

    def to_dict(self) -> dict[str, Any]:
        p50, p90, p99 = (percentile(self.latencies, q) for q in (50, 90, 99))
        span = self.span_s
        return {
            "file": self.file, "step": self.step, "entity": self.entity,
            "records": self.records, "units": self.units,
            "outcomes": {o: self.outcomes[o] for o in OUTCOME_ORDER if self.outcomes[o]},
            "unit_outcomes": {o: self.unit_outcomes[o] for o in OUTCOME_ORDER if self.unit_outcomes[o]},
            "sent": self.sent, "calls": self.calls, "calls_per_record": round(self.calls_per_unit, 4),
            "retries": self.retries, "throttled": self.throttled, "recovered": self.recovered,
            "latency_ms": {"p50": p50, "p90": p90, "p99": p99},
            "first_at": _iso(self.first), "last_at": _iso(self.last),
            "records_per_s": round(sum(r for r, _ in self.seconds.values()) / span, 1) if span > 0 else None,
            "lines_without_time": self.undated,
        }


@dataclass(slots=True)
class Report:
    files: list[str]
    groups: list[Group]
    reasons: list[Reason]  # most records first

    def total(self, outcome: str) -> int:
        return sum(g.outcomes[outcome] for g in self.groups)

    def total_units(self, outcome: str) -> int:
        return sum(g.unit_outcomes[outcome] for g in self.groups)

    @property
    def units(self) -> int:
        return sum(g.units for g in self.groups)

    @property
    def records(self) -> int:
        return sum(g.records for g in self.groups)

    @property
    def calls(self) -> int:
        return sum(g.calls for g in self.groups)

    @property
    def sent(self) -> int:
        return sum(g.sent for g in self.groups)

    @property
    def retries(self) -> int:
        return sum(g.retries for g in self.groups)

    @property
    def throttled(self) -> int | None:
        counted = [g.throttled for g in self.groups if g.throttled is not None]
        return sum(counted) if counted else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "totals": {
                "records": self.records, "units": self.units,
                "outcomes": {o: n for o in OUTCOME_ORDER if (n := self.total(o))},
                "unit_outcomes": {o: n for o in OUTCOME_ORDER if (n := self.total_units(o))},
                "sent": self.sent, "calls": self.calls,
                "calls_per_record": round(self.calls / self.sent, 4) if self.sent else 0.0,
                "retries": self.retries, "throttled": self.throttled,
            },
            "groups": [g.to_dict() for g in self.groups],
            "reasons": [
                {"entity": r.entity, "reason": r.reason, "side": r.side, "example": r.example, "records": r.records, "outcomes": dict(r.outcomes),
                 "examples": [{"file": e.file, "records": e.records, "key": e.key} for e in r.examples]}
                for r in self.reasons
            ],
        }


# -- reading ---------------------------------------------------------------------------


def results_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The results files named, a folder standing for the results files in it.

    A plan's folder holds them; a fleet's holds a folder per company that does.
    """
    return [path for path, _ in _labelled(paths)]


def _labelled(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, str]]:
    """Each results file with the name its step goes by: ``acme/customers.csv`` in a fleet's folder."""
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(RESULTS_SUFFIXES))
            nested = sorted(p for p in path.glob("*/*") if p.is_file() and p.name.endswith(RESULTS_SUFFIXES))
            if not inside and not nested:
                raise ConfigError(f"{path}: no results files (*.results.ndjson) in this folder or its folders")
            found.extend((p, step_name(p)) for p in inside)
            found.extend((p, f"{p.parent.name}/{step_name(p)}") for p in nested)
        elif path.is_file():
            found.append((path, step_name(path)))
        else:
            raise ConfigError(f"{path}: no such results file or folder")
    return found


def step_name(path: Path) -> str:
    """'customers.csv' for 'customers.csv.results.ndjson': what the step read."""
    for suffix in RESULTS_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def build_report(paths: Iterable[str | os.PathLike[str]]) -> Report:
    files = _labelled(paths)
    groups: list[Group] = []
    reasons: dict[tuple[str, str, str], Reason] = {}
    for path, label in files:
        groups.extend(_read_file(path, label, reasons))
    # A plan's files in the order its steps ran; a file without times keeps its place.
    groups.sort(key=lambda g: g.first_at if g.first_at is not None else float("inf"))
    ranked = sorted(reasons.values(), key=lambda r: (-r.records, r.entity, r.reason))
    return Report([str(p) for p, _ in files], groups, ranked)


def _final_lines(path: Path) -> Iterator[ResultsLine]:
    """Each identity's last line, in the order they were written.

    Two passes with the index on disk, not in memory: a results file of a million
    records is read in flat memory (the first pass notes which line is each identity's
    last, the second yields those).
    """
    db = temporary_db()
    try:
        db.execute("CREATE TABLE last (identity TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany(
            "INSERT INTO last VALUES (?, ?) ON CONFLICT (identity) DO UPDATE SET line = excluded.line",
            ((line_identity(line), n) for n, line in enumerate(iter_results(path))),
        )
        db.execute("CREATE INDEX last_line ON last (line)")
        finals = (row[0] for row in db.execute("SELECT line FROM last ORDER BY line"))
        wanted = next(finals, None)
        for n, line in enumerate(iter_results(path)):
            if n == wanted:
                yield line
                wanted = next(finals, None)
    finally:
        db.close()


def _read_file(path: Path, label: str, reasons: dict[tuple[str, str, str], Reason]) -> list[Group]:
    by_entity: dict[str, Group] = {}
    for line in _final_lines(path):
        entity = line.entity or "?"
        group = by_entity.get(entity)
        if group is None:
            group = by_entity[entity] = Group(str(path), label, entity)
        _count(group, line)
        kind = _kind(line)
        if line.error is not None and kind in PROBLEMS:
            add_reason(reasons, entity, kind, line, str(path))
    return list(by_entity.values())


def _kind(line: ResultsLine) -> str:
    if line.outcome == "started":
        return "in_flight"
    if line.outcome == "unsent":
        return "not_sent"
    if line.outcome == "failed" and line.unknown:
        return "unknown"
    return line.outcome


def _count(group: Group, line: ResultsLine) -> None:
    records = len(line.records)
    group.units += 1
    group.unit_outcomes[_kind(line)] += 1
    group.outcomes[_kind(line)] += records
    if line.outcome in ("started", "unsent"):
        return
    if line.attempts > 0:
        group.sent += 1
        group.calls += line.attempts
        group.retries += line.attempts - 1
        if line.elapsed_ms is not None:
            group.latencies[round(line.elapsed_ms, 1)] += 1
    group.recovered += line.recovered
    if line.throttled is not None:
        group.throttled = (group.throttled or 0) + line.throttled
    if line.at is not None and (when := _epoch(line.at)) is not None:
        tally = group.seconds.setdefault(int(when), [0, 0])
        tally[0] += records
        tally[1] += line.attempts
        group.first = when if group.first is None else min(group.first, when)
        group.last = when if group.last is None else max(group.last, when)
    else:
        group.undated += 1


def _epoch(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None  # not a time of ours: the line still counts, undated


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


# -- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float] | Counter[float], q: float) -> float | None:
    """The nearest-rank percentile: a value that was measured, not an interpolation.

    ``values``: the values, or a histogram of them (value -> how many times it was seen).
    """
    histogram = values if isinstance(values, Counter) else Counter(values)
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-total * q // 100))  # ceil(n * q / 100)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # not reached: seen ends at total >= rank


def reason_examples(reason: Reason) -> str:
    """A reason's example records in one cell: step, record numbers and key of each."""
    return "; ".join(
        f"{step_name(Path(e.file))} {', '.join(map(str, e.records))}: {printable(e.key) if e.key else '(no key)'}"
        for e in reason.examples
    )
