"""(s) The scaling sweep: every path at 1k, 10k and 100k records, and how its cost grows.

Run, plan, resume, upsert, export, verify, reconcile, report, fleet and SAF-T each run as
the CLI in a process of their own against one sandbox process (``benchlib/sweep.py``
says what each path does and how its work is checked). At each size: wall and CPU time
per record, less an empty interpreter start, and peak RSS (``wait4``, the importer's
process alone). A path should cost the same per record at any size and hold about the
same memory: the 100k ÷ 10k ratios are judged (time ≤ 1.5×, memory ≤ 1.2×). ``--quick``
runs 1k and 10k only and shows 10k ÷ 1k as information: at 1k the start of the process
is most of the time.

Besides its rows in the table, a run writes the whole matrix (path × size) to
``results/sweep.md`` (``sweep-quick.md`` for ``--quick``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..paths import RESULTS
from ..report import BenchResult, Row, Target
from ..sandbox import running_sandbox
from ..sweep import PATHS, QUICK_SIZES, SIZES, Measured, growth, measure_startup, sweep_size
from .common import Context

TITLE = "scaling sweep: time per record and peak RSS of every path, 1k / 10k / 100k"
TIME_TARGET = Target("<=", 1.5, "×")
RSS_TARGET = Target("<=", 1.2, "×")


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _rows(path: str, by_size: dict[int, Measured], sizes: Sequence[int], judged: bool) -> list[Row]:
    small, large = by_size[sizes[-2]], by_size[sizes[-1]]
    pair = f"{_k(sizes[-1])} ÷ {_k(sizes[-2])}"
    wall = growth(small.wall_us, large.wall_us)
    cpu = growth(small.cpu_us, large.cpu_us)
    rss = growth(small.rss_mb, large.rss_mb)
    walls = " / ".join(f"{by_size[n].wall_us:,.0f}" for n in sizes)
    cpus = " / ".join(f"{by_size[n].cpu_us:,.0f}" for n in sizes)
    rsss = " / ".join(f"{by_size[n].rss_mb:.0f}" for n in sizes)
    at = " / ".join(_k(n) for n in sizes)
    return [
        Row("s", f"{path}: wall time per record, {pair}", wall, f"{wall:.2f}×", TIME_TARGET if judged else None,
            note=f"µs/record at {at}: {walls} (CPU {cpus}; CPU {pair} {cpu:.2f}×)"),
        Row("s", f"{path}: peak RSS, {pair}", rss, f"{rss:.2f}×", RSS_TARGET if judged else None,
            note=f"MB at {at}: {rsss}"),
    ]


def matrix_markdown(title: str, sizes: Sequence[int], runs: dict[int, dict[str, Measured]]) -> str:
    """path × size: wall µs/record, CPU µs/record, peak RSS; and the last two sizes' ratios."""
    pair = f"{_k(sizes[-1])} ÷ {_k(sizes[-2])}"
    head = ["path"] + [f"{_k(n)}: wall µs / CPU µs / RSS MB" for n in sizes] + [f"time {pair}", f"RSS {pair}"]
    lines = [f"# {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for path in PATHS:
        if any(path not in runs[n] for n in sizes):
            continue
        cells = [path] + [f"{m.wall_us:,.0f} / {m.cpu_us:,.0f} / {m.rss_mb:.1f}"
                          for m in (runs[n][path] for n in sizes)]
        small, large = runs[sizes[-2]][path], runs[sizes[-1]][path]
        wall, rss = growth(small.wall_us, large.wall_us), growth(small.rss_mb, large.rss_mb)
        cells += [f"{wall:.2f}×{' **GROWS**' if wall > TIME_TARGET.limit else ''}",
                  f"{rss:.2f}×{' **GROWS**' if rss > RSS_TARGET.limit else ''}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Times are per record, less an empty `importer --version` (wall and CPU); peak RSS is the "
              "importer's process alone (wait4). fleet: 10 companies of a tenth each."]
    return "\n".join(lines) + "\n"


def run(ctx: Context) -> BenchResult:
    sizes = QUICK_SIZES if ctx.quick else SIZES
    startup = measure_startup()
    ctx.log(f"empty start (importer --version): {startup.wall_s * 1000:.0f} ms wall, {startup.cpu_s * 1000:.0f} ms CPU")
    runs: dict[int, dict[str, Measured]] = {}
    with running_sandbox(ctx.scratch) as sandbox:
        for n in sizes:
            runs[n] = sweep_size(sandbox, ctx.scratch / f"s-{n}", n, startup, timeout=3600, log=ctx.log)
    result = BenchResult("s", TITLE)
    for path in PATHS:
        result.rows += _rows(path, {n: runs[n][path] for n in sizes}, sizes, judged=not ctx.quick)
    result.notes.append(
        "time per record = (the process's wall time − an empty importer --version) ÷ records; CPU likewise; "
        "peak RSS = ru_maxrss of the importer's process alone (wait4), the sandbox not counted; "
        "each path is checked against what the sandbox stores (or the command read back) before it counts"
    )
    if ctx.quick:
        result.notes.append("--quick: 1k and 10k only; 10k ÷ 1k is information (the process start weighs on 1k)")
    title = f"Scaling sweep{' (quick)' if ctx.quick else ''}: {', '.join(_k(n) for n in sizes)} records"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sweep{'-quick' if ctx.quick else ''}.md").write_text(matrix_markdown(title, sizes, runs))
    result.data = {"sizes": list(sizes), "startup": {"wall_s": startup.wall_s, "cpu_s": startup.cpu_s},
                   "runs": {str(n): {p: m.to_dict() for p, m in by_path.items()} for n, by_path in runs.items()}}
    return result
