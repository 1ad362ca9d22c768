"""Where the importer's CPU goes: a pyinstrument profile of an in-process import.

    benchmarks/profile.py [--records 20000] [--concurrency 64]

Starts the sandbox in its own process (so only the importer is profiled) and imports
``--records`` generated customers through ``importer.import_records_sync`` twice: under
pyinstrument (the call tree, and the importer's own functions with the library time
they cause) and under cProfile (exact calls per record and own µs per record for every
function, libraries included). Writes ``benchmarks/results/profile.txt`` and prints the
tables. The importer at full speed is CPU-bound on one core (benchmark (a) shows client
CPU near 100%), so profiles are where its time per record goes. Both profilers slow the
run down a lot; compare shares, not rates, with ``run.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where this very file would
# shadow the standard library's ``profile``. Import from the repository root instead.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from pyinstrument import Profiler  # noqa: E402
from pyinstrument.frame import Frame  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import importer  # noqa: E402
from benchmarks.benchlib.paths import RESULTS  # noqa: E402
from benchmarks.benchlib.procs import CpuMeter  # noqa: E402
from benchmarks.benchlib.records import customer_records  # noqa: E402
from benchmarks.benchlib.report import console_width  # noqa: E402
from benchmarks.benchlib.sandbox import TOKEN, running_sandbox  # noqa: E402

IMPORTER_DIR = str(Path(importer.__file__).resolve().parent) + os.sep


@dataclass(slots=True)
class Hotspot:
    """One function of the importer and the sampled time attributed to it, in seconds."""

    function: str
    location: str
    self_s: float = 0.0  # in its own lines
    with_libs_s: float = 0.0  # its own lines plus the libraries it calls, up to the next importer frame
    total_s: float = 0.0  # everything under it, other importer functions included


def _is_importer(frame: Frame) -> bool:
    return bool(frame.file_path) and os.path.realpath(frame.file_path).startswith(IMPORTER_DIR)


def _key(frame: Frame) -> tuple[str, str]:
    path = os.path.relpath(os.path.realpath(frame.file_path or "?"), Path(IMPORTER_DIR).parent)
    return frame.function, f"{path}:{frame.line_no}"


def importer_hotspots(root: Frame) -> list[Hotspot]:
    """Aggregate the call tree per importer function (library time goes to its importer caller)."""
    spots: dict[tuple[str, str], Hotspot] = {}

    def walk(frame: Frame, owner: Hotspot | None, on_path: frozenset[tuple[str, str]]) -> None:
        if _is_importer(frame):
            key = _key(frame)
            owner = spots.setdefault(key, Hotspot(*key))
            owner.self_s += frame.total_self_time
            if key not in on_path:  # recursion: count the outermost call only
                owner.total_s += frame.time
            on_path = on_path | {key}
        if owner is not None:
            owner.with_libs_s += frame.total_self_time
        for child in frame.children:
            if not child.is_synthetic:  # its time is already in frame.total_self_time
                walk(child, owner, on_path)

    walk(root, None, frozenset())
    return sorted(spots.values(), key=lambda s: s.with_libs_s, reverse=True)


@dataclass(frozen=True, slots=True)
class RunFacts:
    profiler: str
    records: int
    concurrency: int
    wall_s: float
    cpu_pct: float
    sandbox_cpu_pct: float
    summary: dict[str, Any]

    def describe(self) -> str:
        created = self.summary["outcomes"]["created"]
        return (f"{self.profiler}: {created:,} of {self.records:,} customers created at concurrency "
               f"{self.concurrency} in {self.wall_s:.2f} s = {created / self.wall_s:,.0f} rec/s under the profiler; "
               f"importer CPU {self.cpu_pct:.0f}% of one core, sandbox CPU {self.sandbox_cpu_pct:.0f}%; "
               f"calls/record {self.summary['calls_per_record']}")


def profiled_import(
    name: str, start: Callable[[], object], stop: Callable[[], object],
    records: int, concurrency: int, scratch: Path,
) -> RunFacts:
    """One import into a fresh sandbox subprocess, with ``start()``/``stop()`` around it only."""
    rows = list(customer_records(1, records))
    with running_sandbox(scratch) as sandbox:
        meter = CpuMeter.of_pid(sandbox.pid).start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        start()
        try:
            summary = importer.import_records_sync(
                rows, entity="customer", base_url=sandbox.url, token=TOKEN,
                concurrency=concurrency, results=str(scratch / f"profile-{name}.results.ndjson"),
            )
        finally:
            stop()
        wall = time.perf_counter() - t0
        return RunFacts(name, records, concurrency, wall, 100.0 * (time.process_time() - cpu0) / wall,
                        meter.stop(), summary.to_dict())


def hotspot_table(spots: list[Hotspot], total: float, top: int) -> Table:
    table = Table(title=f"pyinstrument: top {top} importer functions by time in them and the libraries they call")
    for name in ("function", "where", "own+libs", "self", "total"):
        table.add_column(name, justify="left" if name in ("function", "where") else "right")
    for s in spots[:top]:
        shares = (f"{100 * t / total:5.1f}%" for t in (s.with_libs_s, s.self_s, s.total_s))
        table.add_row(s.function, s.location, *shares)
    return table


def _where(path: str, line: int) -> str:
    """A short location: relative to the repository, site-packages or the standard library."""
    for prefix in (str(Path(IMPORTER_DIR).parent) + os.sep, "site-packages" + os.sep,
                   sysconfig.get_paths()["stdlib"] + os.sep):
        if prefix in path:
            path = path.split(prefix, 1)[1]
    return f"{path}:{line}" if line else path


def cprofile_table(stats: pstats.Stats, records: int, top: int) -> Table:
    """Functions by own time, per record: call counts are exact, unlike a sampler's."""
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(v[2] for _, v in rows)
    table = Table(title=f"cProfile: top {top} functions by own time (importer and libraries)")
    for name in ("function", "where", "calls/record", "own µs/record", "share"):
        table.add_column(name, justify="left" if name in ("function", "where") else "right")
    for (path, line, function), (_, calls, own, _cum, _callers) in rows[:top]:
        table.add_row(function, _where(path, line), f"{calls / records:.2f}",
                      f"{1e6 * own / records:.1f}", f"{100 * own / total:.1f}%")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/profile.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--interval", type=float, default=0.001, help="pyinstrument's sampling interval, seconds")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    sampler = Profiler(interval=args.interval, async_mode="disabled")  # the whole thread: the loop too
    tracer = cProfile.Profile()
    scratch = Path(tempfile.mkdtemp(prefix=f"benchwork-{os.getpid()}-profile-"))
    try:
        facts = [
            profiled_import("pyinstrument", sampler.start, sampler.stop, args.records, args.concurrency, scratch),
            profiled_import("cProfile", tracer.enable, tracer.disable, args.records, args.concurrency, scratch),
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    root = sampler.last_session.root_frame() if sampler.last_session else None
    if root is None:
        print("pyinstrument took no samples", file=sys.stderr)
        return 1
    tables = [
        hotspot_table(importer_hotspots(root), root.time, args.top),
        cprofile_table(pstats.Stats(tracer), args.records, args.top),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "profile.txt"
    with open(out, "w") as f:
        _print_report(Console(file=f, width=160, color_system=None), facts, tables)
        f.write("\n" + sampler.output_text(unicode=True, color=False, show_all=False) + "\n")
    _print_report(Console(width=console_width(sys.stdout)), facts, tables)
    print(f"Full call tree in {out.relative_to(RESULTS.parent.parent)}")
    return 0


def _print_report(console: Console, facts: list[RunFacts], tables: list[Table]) -> None:
    for fact in facts:
        console.print(fact.describe(), highlight=False, markup=False)
    console.print(
        "pyinstrument shares are of all sampled time (the event loop's waiting included); its per-call "
        "hook inflates small functions called many times. cProfile's call counts are exact; its times "
        "carry its own per-call overhead.", highlight=False,
    )
    for table in tables:
        console.print(table)


if __name__ == "__main__":
    sys.exit(main())
