"""(d) Memory: the importer CLI's peak RSS on a big CSV, and whether it grows with the input.

The importer streams: reading, mapping, sending and the results file each hold a
bounded number of records, so peak RSS should not depend on the input's length. Each
size is one CLI subprocess into an unthrottled sandbox (reset before it); its peak RSS
is the ``ru_maxrss`` that ``wait4`` returns for that process alone, so the sandbox
(which does keep every record) is not counted. ``--dry-run`` maps and writes every
payload without a client, which isolates the reading and mapping side.
"""

from __future__ import annotations

from ..records import write_csv
from ..report import BenchResult, Row, Target
from ..sandbox import running_sandbox
from .common import Context, Sample, run_cli, warn_suspect

TITLE = "memory: peak RSS of the importer CLI, small vs large input"
RSS_TARGET = Target("<=", 150.0, " MB")
GROWTH_TARGET = Target("<=", 10.0, "%")


def run(ctx: Context) -> BenchResult:
    small, large = (5_000, 50_000) if ctx.quick else (100_000, 1_000_000)
    paths = {n: ctx.scratch / f"d-customers-{n}.csv" for n in (small, large)}
    sizes_mb = {n: write_csv(path, 1, n) / 1e6 for n, path in paths.items()}
    ctx.log(f"generated CSVs: {', '.join(f'{n:,} rec = {mb:.1f} MB' for n, mb in sizes_mb.items())}")
    runs: dict[str, Sample] = {}
    with running_sandbox(ctx.scratch) as sandbox:
        for n, path in paths.items():
            runs[f"send-{n}"] = run_cli(ctx, sandbox, path, records=n, label=f"cli {n:,}", timeout=1800)
        for n, path in paths.items():
            runs[f"dry-{n}"] = run_cli(ctx, sandbox, path, records=n, dry_run=True,
                                       label=f"cli --dry-run {n:,}", timeout=1800)
    for path in paths.values():
        path.unlink()

    def rss(key: str) -> float:
        return float(runs[key].raw["peak_rss_mb"])

    def growth(kind: str) -> float:
        return 100.0 * (rss(f"{kind}-{large}") - rss(f"{kind}-{small}")) / rss(f"{kind}-{small}")

    big = runs[f"send-{large}"]
    result = BenchResult("d", TITLE)
    result.rows = [
        Row("d", f"peak RSS, CLI, {large:,} records", rss(f"send-{large}"), f"{rss(f'send-{large}'):.1f} MB",
            RSS_TARGET, note=f"{big.rate:,.0f} rec/s over {big.raw['wall_s']:.0f} s; "
                             f"{big.calls_per_record:.3f} calls/record"),
        Row("d", f"peak RSS, CLI, {small:,} records", rss(f"send-{small}"), f"{rss(f'send-{small}'):.1f} MB",
            note=f"{runs[f'send-{small}'].rate:,.0f} rec/s"),
        Row("d", f"RSS growth {small:,} → {large:,}", growth("send"), f"{growth('send'):+.1f}%", GROWTH_TARGET),
        Row("d", f"peak RSS, --dry-run, {large:,} records", rss(f"dry-{large}"), f"{rss(f'dry-{large}'):.1f} MB",
            RSS_TARGET, note=f"{small:,} records: {rss(f'dry-{small}'):.1f} MB; "
                             f"{runs[f'dry-{large}'].rate:,.0f} rec/s"),
        Row("d", f"--dry-run RSS growth {small:,} → {large:,}", growth("dry"), f"{growth('dry'):+.1f}%",
            GROWTH_TARGET, note="issue 3: streams with flat memory"),
    ]
    result.notes.append(
        "peak RSS = ru_maxrss of the importer process alone (wait4), sandbox excluded; "
        "growth = (large − small) / small"
    )
    warn_suspect(result, list(runs.values()))
    result.data = {
        "sizes": {"small": small, "large": large}, "csv_mb": sizes_mb,
        "runs": {key: s.raw | {"rate": s.rate, "sandbox_cpu_pct": s.sandbox_cpu_pct} for key, s in runs.items()},
        "growth_pct": {"send": growth("send"), "dry_run": growth("dry")},
    }
    return result
