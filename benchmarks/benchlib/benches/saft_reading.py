"""(m) SAF-T reading: the importer's balance and open-item reading against a bare expat pass.

A generated SAF-T file (``benchlib/saftgen.py``: 20,000 customers × 20 general-ledger lines,
two sales invoices and a payment each; with ``--quick`` 2,000) is read, each reading in a
process of its own (``benchlib/saftread.py``), in interleaved rounds:

- **expat**: the floor: expat over the same file in the same chunks, with start, end and
  text handlers that do nothing, so every element is visited from Python and nothing more;
- **balances**: every customer's balance check (``SaftSource.disagreements``, ``--entity invoice``);
- **open items**: the same with ``--saft-documents invoices`` (the sales invoices and payments too).

The ratio is the importer's CPU time over the floor's, each round's pair, medians. The
clock covers the reading alone (each process reads its own ``getrusage`` around it). A
second file of 100,000 customers with one line pair each (10,000 with ``--quick``) is read
for balances too: its ratio, and the peak RSS of both readings (``wait4``), show that
memory stays flat as the customers grow (the book keeps a few sums per customer, no lines).
"""

from __future__ import annotations

import json

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target, median
from ..saftgen import write_saft_file
from .common import Context

TITLE = "SAF-T reading: balances and open items against a bare expat pass over the same file"
RATIO_TARGET = Target("<=", 3.0, "×")
RSS_TARGET = Target("<=", 150.0, " MB")
ROUNDS = 3


def _read(mode: str, path: object) -> tuple[dict, Finished]:
    done = run_measured([PYTHON, "-m", "benchmarks.benchlib.saftread", mode, str(path)], timeout=1800, cwd=REPO,
                        env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"saftread {mode} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def _rounds(ctx: Context, path: object, modes: tuple[str, ...]) -> dict[str, list[tuple[dict, Finished]]]:
    runs: dict[str, list[tuple[dict, Finished]]] = {mode: [] for mode in modes}
    for number in range(ROUNDS):
        for mode in modes:
            found, done = _read(mode, path)
            runs[mode].append((found, done))
            ctx.log(f"round {number + 1} {mode}: {found['cpu_s']:.2f} s CPU, peak RSS {done.peak_rss_mb:.1f} MB")
    return runs


def _ratio(runs: dict[str, list[tuple[dict, Finished]]], mode: str) -> float:
    return median([found["cpu_s"] / floor["cpu_s"] for (found, _), (floor, _) in zip(runs[mode], runs["expat"])])


def run(ctx: Context) -> BenchResult:
    customers, wide = (2_000, 10_000) if ctx.quick else (20_000, 100_000)
    deep_path, wide_path = ctx.scratch / "j-deep.xml", ctx.scratch / "j-wide.xml"
    deep_mb = write_saft_file(deep_path, customers, 20) / 1e6
    wide_mb = write_saft_file(wide_path, wide, 2, invoices=False) / 1e6
    ctx.log(f"generated {customers:,} customers × 20 lines ({deep_mb:,.1f} MB), {wide:,} × 2 ({wide_mb:,.1f} MB)")
    deep = _rounds(ctx, deep_path, ("expat", "balances", "open-items"))
    flat = _rounds(ctx, wide_path, ("expat", "balances"))
    deep_path.unlink()
    wide_path.unlink()

    def rss(runs: dict[str, list[tuple[dict, Finished]]], mode: str) -> float:
        return max(done.peak_rss_mb for _, done in runs[mode])

    def cpu(runs: dict[str, list[tuple[dict, Finished]]], mode: str) -> float:
        return median([found["cpu_s"] for found, _ in runs[mode]])

    result = BenchResult("m", TITLE)
    floor = f"expat {cpu(deep, 'expat'):.2f} s"
    result.rows = [
        Row("m", f"balances ÷ expat, {customers:,} customers × 20 lines", _ratio(deep, "balances"),
            f"{_ratio(deep, 'balances'):.2f}×", RATIO_TARGET,
            note=f"{floor}, balances {cpu(deep, 'balances'):.2f} s CPU; {deep_mb:,.0f} MB file"),
        Row("m", f"open items ÷ expat, {customers:,} customers × 20 lines", _ratio(deep, "open-items"),
            f"{_ratio(deep, 'open-items'):.2f}×", RATIO_TARGET,
            note=f"{floor}, open items {cpu(deep, 'open-items'):.2f} s CPU"),
        Row("m", f"balances ÷ expat, {wide:,} customers", _ratio(flat, "balances"),
            f"{_ratio(flat, 'balances'):.2f}×", RATIO_TARGET,
            note=f"expat {cpu(flat, 'expat'):.2f} s, balances {cpu(flat, 'balances'):.2f} s CPU; {wide_mb:,.0f} MB"),
        Row("m", f"peak RSS, open items, {customers:,} customers", rss(deep, "open-items"),
            f"{rss(deep, 'open-items'):.1f} MB", RSS_TARGET, note=f"balances {rss(deep, 'balances'):.1f} MB"),
        Row("m", f"peak RSS, balances, {wide:,} customers", rss(flat, "balances"), f"{rss(flat, 'balances'):.1f} MB",
            RSS_TARGET, note="a few sums per customer, no lines kept"),
    ]
    result.notes.append("ratio = the reading's CPU time ÷ a bare expat pass's (no-op handlers) over the same file, "
                        f"each in its own process, median of {ROUNDS} interleaved rounds")
    result.data = {"customers": customers, "wide_customers": wide, "deep_mb": deep_mb, "wide_mb": wide_mb,
                   "deep": {m: [f for f, _ in r] for m, r in deep.items()},
                   "wide": {m: [f for f, _ in r] for m, r in flat.items()}}
    return result
