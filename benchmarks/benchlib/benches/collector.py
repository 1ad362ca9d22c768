"""(l) The collector: CPU per record must not grow with the requests in flight or the companies.

The importer sets Python's garbage collector for its runs (``importer/client/collector.py``):
without that, the collector walked the objects of every request in flight again and again,
and took a growing share of the CPU as more requests were in flight (36% at ``-c 800``) or
more companies ran in one fleet (6% with 10, 58% with 300). Two pairs, each measured in
this run against an unthrottled sandbox in a process of its own:

- the CLI (a subprocess) sending the same customers at ``-c 32`` and at ``-c 800``,
  interleaved over a few rounds; CPU per record is its ``wait4`` CPU less an empty start,
  over the records created. Ratio: 800 ÷ 32, the median of the rounds' ratios.
- ``importer fleet`` with the same number of customers spread over 10 and over 100
  companies (concurrency 4 each: 40 and 400 calls in flight); CPU per record likewise.
  Ratio: 100 ÷ 10. A company's fixed costs (its token, its files) are in it too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace

from ..fleetrun import companies, manifest_text, run_fleet, write_inputs
from ..records import write_csv
from ..report import BenchResult, Row, Target, median
from ..sandbox import UNTHROTTLED, SandboxProcess, running_sandbox
from .common import Context, Sample, run_cli, startup_cpu_s, warn_suspect

TITLE = "collector: CPU per record at -c 32 vs -c 800, and a fleet of 10 vs 100 companies"
RATIO_TARGET = Target("<=", 1.25)
LOW, HIGH = 32, 800  # requests in flight of the CLI pair
FEW, MANY = 10, 100  # companies of the fleet pair
FLEET_CONCURRENCY = 4  # per company, as in (g)


@dataclass(frozen=True, slots=True)
class Plan:
    cli_records: int
    cli_rounds: int
    fleet_records: int  # over all companies, the same for both fleets
    fleet_rounds: int


def plan(quick: bool) -> Plan:
    return Plan(4_000, 1, 6_000, 1) if quick else Plan(20_000, 3, 30_000, 2)


def run(ctx: Context) -> BenchResult:
    p = plan(ctx.quick)
    startup = startup_cpu_s(ctx)
    csv_path = ctx.scratch / "j-customers.csv"
    write_csv(csv_path, 1, p.cli_records)
    cli: dict[int, list[Sample]] = {LOW: [], HIGH: []}
    fleets: dict[int, list[float]] = {FEW: [], MANY: []}
    fleet_samples: list[Sample] = []
    with running_sandbox(ctx.scratch, rate_limit=UNTHROTTLED) as sandbox:
        for _ in range(p.cli_rounds):
            for c in (LOW, HIGH):
                cli[c].append(run_cli(replace(ctx, concurrency=c), sandbox, csv_path, records=p.cli_records,
                                      label=f"cli -c {c}"))
        for _ in range(p.fleet_rounds):
            for count in (FEW, MANY):
                cpu_us, sample = _fleet(ctx, sandbox, count, p.fleet_records // count, startup)
                fleets[count].append(cpu_us)
                fleet_samples.append(sample)
    csv_path.unlink()
    return _result(p, cli, fleets, [*cli[LOW], *cli[HIGH], *fleet_samples])


def _fleet(ctx: Context, sandbox: SandboxProcess, count: int, records_each: int,
           startup: float) -> tuple[float, Sample]:
    """One fleet of ``count`` companies: its CPU per record created, and the run as a Sample."""
    folder = ctx.scratch / f"j-fleet-{count}"
    fleet = companies(count, records_each)
    write_inputs(folder, fleet)
    manifest = manifest_text(fleet, sandbox.url, {"concurrency": FLEET_CONCURRENCY})
    done = run_fleet(sandbox, folder, manifest, timeout=1800)
    shutil.rmtree(folder, ignore_errors=True)
    created, expected = done.created(), count * records_each
    wall = done.process.wall_s
    cpu_us = 1e6 * max(done.process.cpu_s - startup, 0.0) / created if created else 0.0
    sample = Sample(f"fleet of {count}", created / wall if wall > 0 else 0.0, created, expected,
                    done.process.cpu_pct, done.sandbox_cpu_pct, done.machine_cpu_pct, cpu_us_per_record=cpu_us)
    ctx.log(sample.describe())
    return cpu_us, sample


def _result(p: Plan, cli: dict[int, list[Sample]], fleets: dict[int, list[float]],
            samples: list[Sample]) -> BenchResult:
    def cpu(s: Sample) -> float:
        return s.cpu_us_per_record or 0.0

    cli_ratio = median([cpu(high) / cpu(low) for low, high in zip(cli[LOW], cli[HIGH], strict=True)
                        if cpu(low) > 0])
    fleet_ratio = median([many / few for few, many in zip(fleets[FEW], fleets[MANY], strict=True) if few > 0])
    low_us, high_us = median([cpu(s) for s in cli[LOW]]), median([cpu(s) for s in cli[HIGH]])
    few_us, many_us = median(fleets[FEW]), median(fleets[MANY])
    result = BenchResult("l", TITLE)
    result.rows = [
        Row("l", f"CLI CPU/record, -c {HIGH} ÷ -c {LOW} ({p.cli_records:,} customers)", cli_ratio,
            f"{cli_ratio:.3f}", RATIO_TARGET,
            note=f"{high_us:.0f} vs {low_us:.0f} µs/record (medians of {p.cli_rounds} interleaved rounds; "
                 "ratio = median of the rounds' ratios)"),
        Row("l", f"fleet CPU/record, {MANY} ÷ {FEW} companies ({p.fleet_records:,} customers in all, "
                 f"concurrency {FLEET_CONCURRENCY} each)", fleet_ratio, f"{fleet_ratio:.3f}", RATIO_TARGET,
            note=f"{many_us:.0f} vs {few_us:.0f} µs/record (medians of {p.fleet_rounds} rounds)"),
    ]
    result.notes.append("CPU/record = the process's wait4 CPU less an empty interpreter start, over the "
                        "records created; both sides of each ratio measured in this run, one sandbox process")
    warn_suspect(result, samples)
    result.data = {
        "plan": {"cli_records": p.cli_records, "cli_rounds": p.cli_rounds, "fleet_records": p.fleet_records,
                 "fleet_rounds": p.fleet_rounds},
        "cli_cpu_us": {str(c): [cpu(s) for s in runs] for c, runs in cli.items()},
        "fleet_cpu_us": {str(n): runs for n, runs in fleets.items()},
        "cli_ratio": cli_ratio, "fleet_ratio": fleet_ratio,
    }
    return result
