"""Honest progress: the percentage counts units done, not read; the ETA counts only the work
left, per document for document entities, at the pace of the last window of time.

The progress line is driven with a clock of the test's own: no test here waits or times.
"""

from __future__ import annotations

import re
from pathlib import Path

from importer.progress import PACE_WINDOW, LiveProgress
from importer.sources import ByteCounter
from importer.summary import Summary


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _input(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "input.csv"
    path.write_bytes(b"x" * size)
    return path


def _finish(summary: Summary, outcome: str, units: int, rows_each: int = 1) -> None:
    for _ in range(units):
        summary.finish(outcome, rows_each)


def _eta(line: str) -> int | None:
    found = re.search(r"ETA (?:(\d+)h)?(?:(\d+)m)?(\d+)?s?", line)
    if found is None:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def test_read_ahead_is_not_progress(tmp_path):
    # 200 of 3,000 customers read (a fifteenth of the file's bytes), none finished yet.
    with open(_input(tmp_path, 3000), "rb") as raw:
        counter = ByteCounter(raw, 3000)
        raw.read(200)
        clock = Clock()
        summary = Summary("customer", "create", "input.csv", None, started_at=clock.now)
        for _ in range(200):
            summary.read(1)
        progress = LiveProgress(summary, counter, clock=clock)
        line = progress.line().plain
        assert " 0%" in line and "ETA" not in line, line
        clock.now += 5
        _finish(summary, "created", 30)
        line = progress.line().plain
        assert " 1%" in line, line  # 30 of 3,000 done, whatever was read ahead


def test_a_resume_counts_only_the_work_left(tmp_path):
    # A resume of 3,000 customers: 2,970 were done before and are skipped; 30 are left.
    with open(_input(tmp_path, 3000), "rb") as raw:
        counter = ByteCounter(raw, 3000)
        raw.read(3000)  # the skipped ones are read at once
        clock = Clock()
        summary = Summary("customer", "create", "input.csv", None, started_at=clock.now)
        for _ in range(2970):
            summary.read(1)
            summary.pass_done(1)
        for _ in range(30):
            summary.read(1)
        progress = LiveProgress(summary, counter, clock=clock)
        progress.line()
        clock.now += 10
        _finish(summary, "created", 10)  # 1 a second
        line = progress.line().plain
    # 20 left at 1 a second: 20 s, not the time 2,990 records would take at the run's average.
    assert " 99%" in line, line
    assert _eta(line) == 20, line


def test_documents_are_counted_as_documents(tmp_path):
    # 1,500 invoices of 3 rows each, 4,500 rows in all; half the file read and 500 invoices done.
    with open(_input(tmp_path, 1000), "rb") as raw:
        counter = ByteCounter(raw, 1000)
        raw.read(500)
        clock = Clock()
        summary = Summary("invoice", "create", "input.csv", None, started_at=clock.now)
        for _ in range(750):
            summary.read(3)
        progress = LiveProgress(summary, counter, clock=clock)
        progress.line()
        clock.now += 20
        _finish(summary, "created", 500, rows_each=3)  # 25 documents a second
        line = progress.line().plain
    assert line.startswith("invoice 500 documents"), line
    assert " 33%" in line, line  # 500 of 1,500 documents
    assert _eta(line) == 40, line  # 1,000 documents left at 25 a second


def test_the_pace_is_the_window_s_not_the_run_s(tmp_path):
    # A slow start (a token, a company read, a throttled minute), then a steady 10 a second.
    with open(_input(tmp_path, 1000), "rb") as raw:
        counter = ByteCounter(raw, 1000)
        raw.read(1000)
        clock = Clock()
        summary = Summary("customer", "create", "input.csv", None, started_at=clock.now)
        for _ in range(2000):
            summary.read(1)
        progress = LiveProgress(summary, counter, clock=clock)
        progress.line()
        clock.now += 100
        _finish(summary, "created", 100)  # 1 a second for 100 s
        progress.line()
        for _ in range(int(PACE_WINDOW) + 10):
            clock.now += 1
            _finish(summary, "created", 10)  # then 10 a second
            line = progress.line().plain
    done = 100 + 10 * (int(PACE_WINDOW) + 10)
    left = 2000 - done
    assert _eta(line) == left // 10, line  # at the last window's pace, not the whole run's (~4 a second)
