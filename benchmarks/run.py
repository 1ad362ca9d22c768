"""``make bench``: every benchmark of the importer against its sandbox, one table.

    benchmarks/run.py                 # the full run (about 20-30 minutes on 2 cores)
    benchmarks/run.py --quick         # small counts: a smoke run in about three minutes
    benchmarks/run.py --only a,f      # a subset

The sandbox always runs in a process of its own, and so does every client measured.
Results: ``benchmarks/results/bench-<timestamp>.json`` (every number, machine info)
and ``benchmarks/results/latest.md`` (the table), overwritten each run; a run of some
benchmarks (``--only``) keeps the other benchmarks' rows of the table it replaces.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where profile.py would
# shadow the standard library's ``profile``. Import from the repository root instead.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from rich.console import Console  # noqa: E402

from benchmarks.benchlib.benches import BENCHES, Context  # noqa: E402
from benchmarks.benchlib.machine import loadavg, machine_info, source_fingerprint  # noqa: E402
from benchmarks.benchlib.paths import RESULTS  # noqa: E402
from benchmarks.benchlib.procs import wait_for_quiet  # noqa: E402
from benchmarks.benchlib.report import (  # noqa: E402
    BenchResult,
    console_width,
    merge_markdown,
    render_markdown,
    render_table,
    write_json,
)

QUIET_WAIT_S = 30.0  # at most this long before each benchmark for other jobs to finish


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHES),
                        help=f"comma-separated benchmarks to run, of {','.join(BENCHES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--concurrency", type=int, default=64, help="of every concurrent client (default 64)")
    parser.add_argument("--keep-scratch", action="store_true", help="keep the scratch directory (logs, CSVs)")
    args = parser.parse_args(argv)
    args.only = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in args.only if k not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {','.join(unknown)}; choose from {','.join(BENCHES)}")
    return args


def run_benches(ctx: Context, keys: list[str]) -> list[BenchResult]:
    """Run the chosen benchmarks in order; one that fails is reported, the rest still run."""
    results = []
    for key in sorted(keys):
        title, runner = BENCHES[key]
        ctx.console.rule(f"({key}) {title}")
        busy = wait_for_quiet(max_wait_s=QUIET_WAIT_S)
        ctx.log(f"machine busy before the start: {busy:.0f}% of one core")
        started = time.monotonic()
        try:
            result = runner(ctx)
        except Exception as exc:  # noqa: BLE001 - report it in the table, run the others
            result = BenchResult(key, title, error=f"{type(exc).__name__}: {exc}")
            ctx.console.print_exception()
        result.data["duration_s"] = round(time.monotonic() - started, 1)
        result.data["machine_busy_before_pct"] = round(busy, 1)
        ctx.done[key] = result
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=console_width(sys.stdout))
    machine = machine_info()
    scratch = Path(tempfile.mkdtemp(prefix=f"benchwork-{os.getpid()}-"))
    ctx = Context(scratch=scratch, quick=args.quick, concurrency=args.concurrency,
                  console=Console(stderr=True, width=console_width(sys.stderr)))
    started = time.monotonic()
    try:
        results = run_benches(ctx, args.only)
    finally:
        if args.keep_scratch:
            console.print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    machine["loadavg_at_end"] = loadavg()
    machine["importer_source_at_end"] = source_fingerprint()
    run_notes = []
    if machine["importer_source_at_end"] != machine["importer_source_at_start"]:
        run_notes.append("WARNING: importer/ changed on disk during this run: its numbers mix two versions "
                         "of the code; run again")
    machine["total_runtime_s"] = round(time.monotonic() - started, 1)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    title = (f"importer benchmarks {stamp}{' (quick)' if args.quick else ''}: "
             f"{machine['cpu_model']}, {machine['cores']} cores, Python {machine['python']}")
    render_table(results, title, console, run_notes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"bench-{stamp}{'-quick' if args.quick else ''}.json"
    options = {"only": args.only, "quick": args.quick, "concurrency": args.concurrency}
    write_json(json_path, results, machine, options, run_notes)
    latest = render_markdown(results, title, machine, run_notes)
    if set(args.only) != set(BENCHES) and (RESULTS / "latest.md").exists():  # keep the other benchmarks' rows
        latest = merge_markdown((RESULTS / "latest.md").read_text(), latest, args.only)
    (RESULTS / "latest.md").write_text(latest)
    console.print(f"Wrote {json_path.relative_to(RESULTS.parent.parent)} and "
                  f"{(RESULTS / 'latest.md').relative_to(RESULTS.parent.parent)} "
                  f"({machine['total_runtime_s']:.0f} s).")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
