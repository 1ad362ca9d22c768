"""(p) ``map init`` over the whole file: time per row and peak memory as the file grows, and
its cost next to a dry run of the same rows with the map it wrote.

A consultant's first step with a legacy export is ``importer map init``: it reads every row
(so a value first written near the end still gets its value map) and keeps, per column, at
most a capped number of distinct values. Files of 10,000, 100,000 and 300,000 Norwegian
customers (``;``-separated, decimal commas, country and status in words) are written, the
last hundredth of each with a country no earlier row has (``Finland``); ``importer map init
FILE -e customer -o MAP`` runs on each twice, in a process of its own. A run counts only if
the map it wrote maps ``Finland`` (the whole file was read).

Judged: the CPU a further row costs, from 100,000 to 300,000 over from 10,000 to 100,000
(1 is flat; fixed costs such as imports would make 10,000 look dear); peak RSS at 300,000
over that at 10,000; and, at 100,000 rows, map init's CPU over that of ``importer run
--dry-run`` of the same file with the map it wrote (the dry run reads, maps and checks
every row and writes its results: the rehearsal a map is made for). Each CPU figure is the
process's user + system time (``wait4``) less an interpreter start.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target, median
from .common import Context, further_cost_us, startup_cpu_s

TITLE = "map init: CPU per row and peak RSS, 10,000 to 300,000 rows, and ÷ a dry run of the same rows"
FLAT_TARGET = Target("<=", 1.5)  # the issue's: time per record grows no more than 1.5×
RSS_TARGET = Target("<=", 1.2, "×")  # memory grows no more than 20 %
DRY_RUN_TARGET = Target("<=", 0.5, "×")  # a first map costs at most half a rehearsal of the same rows
ROUNDS = 2
HEADER = "Kundenr;Navn;Land;Status;Kredittgrense;E-post\n"
_COUNTRIES = ("Norge", "Sverige", "Danmark")
_STATUSES = ("Aktiv", "Sperret", "Inaktiv")
LATE = "Finland"  # the country only the last hundredth of the rows has


def _write(path: Path, rows: int) -> None:
    late_from = rows - rows // 100
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        for n in range(1, rows + 1):
            land = LATE if n > late_from else _COUNTRIES[n % 3]
            f.write(f"{n};Kunde {n} AS;{land};{_STATUSES[n % 3]};{n % 997} 000,{n % 100:02d};k{n}@example.no\n")


def _map_init(source: Path, out: Path) -> Finished:
    done = run_measured([PYTHON, "-m", "importer", "map", "init", str(source), "--entity", "customer",
                         "--output", str(out), "--force"], timeout=900, cwd=REPO, env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"map init exited {done.returncode}:\n{done.stderr[-2000:]}")
    if f'{LATE} = "FI"' not in out.read_text(encoding="utf-8"):
        raise RuntimeError(f"the map of {source.name} does not map {LATE}, which only its last rows have: "
                           "map init did not read the whole file")
    return done


def _dry_run(source: Path, map_path: Path, rows: int) -> Finished:
    results = source.with_suffix(".results.ndjson")
    results.unlink(missing_ok=True)
    done = run_measured([PYTHON, "-m", "importer", "run", str(source), "--entity", "customer", "--map", str(map_path),
                         "--dry-run", "--company", "none", "--results", str(results)],
                        timeout=1800, cwd=REPO, env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"the dry run exited {done.returncode}:\n{done.stderr[-2000:]}")
    with open(results, "rb") as f:
        valid = sum(1 for line in f if b'"outcome":"valid"' in line)
    results.unlink()
    if valid != rows:
        raise RuntimeError(f"the dry run with the map found {valid:,} of {rows:,} rows valid")
    return done


def run(ctx: Context) -> BenchResult:
    sizes = (1_000, 10_000, 30_000) if ctx.quick else (10_000, 100_000, 300_000)
    startup = startup_cpu_s(ctx)
    folder = ctx.scratch / "p"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cpu: dict[int, float] = {}
    rss: dict[int, float] = {}
    wall: dict[int, float] = {}
    dry_cpu = 0.0
    try:
        for rows in sizes:
            source = folder / f"kunder-{rows}.csv"
            _write(source, rows)
            out = folder / f"kunder-{rows}.map.toml"
            runs = [_map_init(source, out) for _ in range(ROUNDS)]
            cpu[rows] = median([r.cpu_s - startup for r in runs])
            rss[rows] = max(r.peak_rss_mb for r in runs)
            wall[rows] = median([r.wall_s for r in runs])
            ctx.log(f"map init {rows:,} rows: {wall[rows]:.2f} s, CPU {cpu[rows]:.2f} s, peak RSS {rss[rows]:.1f} MB")
            if rows == sizes[1]:
                dry = [_dry_run(source, out, rows) for _ in range(ROUNDS)]
                dry_cpu = median([r.cpu_s - startup for r in dry])
                ctx.log(f"dry run {rows:,} rows with that map: CPU {dry_cpu:.2f} s")
            source.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    small, middle, large = sizes
    low = further_cost_us((small, cpu[small]), (middle, cpu[middle]))
    high = further_cost_us((middle, cpu[middle]), (large, cpu[large]))
    flat, grown, versus = high / low, rss[large] / rss[small], cpu[middle] / dry_cpu
    per_row = " / ".join(f"{1e6 * cpu[n] / n:.1f}" for n in sizes)
    shown = " / ".join(f"{n:,}" for n in sizes)
    result = BenchResult("p", TITLE)
    result.rows = [
        Row("p", f"map init: CPU per further row, {middle:,}→{large:,} ÷ {small:,}→{middle:,}", flat, f"{flat:.2f}",
            FLAT_TARGET, note=f"1 is flat; {high:.1f} ÷ {low:.1f} µs; µs per row at {shown}: {per_row}"),
        Row("p", f"map init: peak RSS, {large:,} ÷ {small:,} rows", grown, f"{grown:.2f}×", RSS_TARGET,
            note=f"MB at {shown}: " + " / ".join(f"{rss[n]:.1f}" for n in sizes)),
        Row("p", f"map init ÷ a dry run with its map, {middle:,} rows (CPU)", versus, f"{versus:.2f}×", DRY_RUN_TARGET,
            note=f"map init {cpu[middle]:.2f} s, dry run {dry_cpu:.2f} s; map init's wall time "
                 + " / ".join(f"{wall[n]:.2f}" for n in sizes) + f" s at {shown} rows"),
    ]
    result.notes.append(f"every map written maps {LATE}, which only the last hundredth of its file has; CPU = "
                        "wait4 user + system less an interpreter start")
    result.data = {"sizes": list(sizes), "cpu_s": cpu, "peak_rss_mb": rss, "wall_s": wall, "dry_run_cpu_s": dry_cpu,
                   "startup_cpu_s": startup}
    return result
