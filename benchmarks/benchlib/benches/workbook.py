"""(x) Excel workbooks: reading and importing 100,000 customers from ``.xlsx``, against the same data as CSV.

A workbook of customers as Excel saves it (``benchlib/xlsxgen.py``: shared strings, postal codes
formatted ``0000``, dates, a formula with its value; 100,000 rows, 10,000 with ``--quick``) and
the same rows as CSV are each:

- **read** by the importer's reader in a process of its own (``benchlib/xlsxread.py``), in
  interleaved rounds: CPU time per row, and the workbook's over the CSV's;
- **imported** by ``importer run --dry-run`` (every record read, mapped and written to the results
  file; nothing sent): wall time per row and the process's peak RSS, which must stay flat.
"""

from __future__ import annotations

import json

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target, median
from .common import Context

TITLE = "Excel workbooks: 100,000 customers read and imported (--dry-run) from .xlsx against the same CSV"
RSS_TARGET = Target("<=", 150.0, " MB")
READ_TARGET = Target("<=", 20.0, "×")  # XML in a zip against split lines: the parse alone is most of it
IMPORT_TARGET = Target("<=", 2.0, "×")
ROUNDS = 3


def _read(path: object) -> tuple[dict, Finished]:
    done = run_measured([PYTHON, "-m", "benchmarks.benchlib.xlsxread", str(path)], timeout=1800, cwd=REPO,
                        env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"xlsxread {path} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def _dry_run(ctx: Context, path: object, name: str) -> Finished:
    results = ctx.scratch / f"x-{name}.results.ndjson"
    done = run_measured([PYTHON, "-m", "importer", "run", str(path), "--entity", "customer", "--dry-run",
                         "--results", str(results)], timeout=1800, cwd=REPO, env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"importer run --dry-run {path} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def run(ctx: Context) -> BenchResult:
    count = 10_000 if ctx.quick else 100_000
    xlsx, csv = ctx.scratch / "x-customers.xlsx", ctx.scratch / "x-customers.csv"
    made = run_measured([PYTHON, "-m", "benchmarks.benchlib.xlsxgen", str(xlsx), str(csv), str(count)],
                        timeout=1800, cwd=REPO, env=child_env())
    if made.returncode != 0:
        raise RuntimeError(f"xlsxgen failed ({made.returncode}):\n{made.stderr[-3000:]}")
    ctx.log(f"generated {count:,} customers: {xlsx.stat().st_size / 1e6:.1f} MB .xlsx, {csv.stat().st_size / 1e6:.1f} MB CSV")
    reads: dict[str, list[tuple[dict, Finished]]] = {"xlsx": [], "csv": []}
    for number in range(ROUNDS):
        for kind, path in (("xlsx", xlsx), ("csv", csv)):
            found, done = _read(path)
            if found["rows"] != count or found["invalid"]:
                raise RuntimeError(f"{kind}: read {found['rows']} rows, {found['invalid']} invalid; expected {count}")
            reads[kind].append((found, done))
            ctx.log(f"round {number + 1} read {kind}: {found['cpu_s']:.2f} s CPU, peak RSS {done.peak_rss_mb:.1f} MB")
    imports = {kind: _dry_run(ctx, path, kind) for kind, path in (("xlsx", xlsx), ("csv", csv))}
    for kind, done in imports.items():
        ctx.log(f"dry run {kind}: {done.wall_s:.1f} s, peak RSS {done.peak_rss_mb:.1f} MB")

    def per_row_us(kind: str) -> float:
        return median([found["cpu_s"] for found, _ in reads[kind]]) / count * 1e6

    ratio = median([x["cpu_s"] / c["cpu_s"] for (x, _), (c, _) in zip(reads["xlsx"], reads["csv"])])
    read_rss = {kind: max(done.peak_rss_mb for _, done in runs) for kind, runs in reads.items()}
    result = BenchResult("x", TITLE)
    result.rows = [
        Row("x", f"read .xlsx ÷ read CSV, {count:,} rows (CPU)", ratio, f"{ratio:.2f}×", READ_TARGET,
            note=f"xlsx {per_row_us('xlsx'):.1f} µs/row, CSV {per_row_us('csv'):.1f} µs/row"),
        Row("x", f"peak RSS, reading {count:,} rows of .xlsx", read_rss["xlsx"], f"{read_rss['xlsx']:.1f} MB",
            RSS_TARGET, note=f"CSV {read_rss['csv']:.1f} MB"),
        Row("x", f"peak RSS, importer run --dry-run, {count:,} rows of .xlsx", imports["xlsx"].peak_rss_mb,
            f"{imports['xlsx'].peak_rss_mb:.1f} MB", RSS_TARGET,
            note=f"CSV {imports['csv'].peak_rss_mb:.1f} MB; wall {imports['xlsx'].wall_s / count * 1e6:.0f} µs/row "
                 f"against CSV {imports['csv'].wall_s / count * 1e6:.0f} µs/row"),
    ]
    wall = imports["xlsx"].wall_s / imports["csv"].wall_s
    result.rows.insert(1, Row("x", f"importer run --dry-run, .xlsx ÷ CSV, {count:,} rows (wall)", wall, f"{wall:.2f}×",
                              IMPORT_TARGET, note="read, mapped, results written; nothing sent"))
    result.notes.append(f"reading: each in its own process, CPU time of the reading alone, median of {ROUNDS} "
                        "interleaved rounds; the dry runs: one each, the whole process")
    result.data = {"rows": count, "xlsx_mb": xlsx.stat().st_size / 1e6, "csv_mb": csv.stat().st_size / 1e6,
                   "reads": {k: [f for f, _ in r] for k, r in reads.items()},
                   "dry_run": {k: {"wall_s": d.wall_s, "cpu_s": d.cpu_s, "peak_rss_mb": d.peak_rss_mb}
                               for k, d in imports.items()}}
    xlsx.unlink()
    csv.unlink()
    return result
