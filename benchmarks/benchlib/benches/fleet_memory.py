"""(g) Memory of many companies: a hundred at once in one fleet process, under 300 MB.

A bureau's fleet holds every company's client, pacer, reader, mapper and results file
at the same time, so its memory grows with the number of companies but must not grow
with their records. One ``importer fleet`` subprocess runs 100 companies of 10,000
customers each (per-company concurrency 4 in the manifest's ``[defaults]``) into one
unthrottled sandbox process; its peak RSS is the ``ru_maxrss`` that ``wait4`` returns
for the fleet process alone (the sandbox, which keeps every record, is not counted).
The rate and the total time are information, with the CPU of the fleet, the sandbox
and everything else on the machine beside them to say which was the limit.

(q) is the same with a bureau's usual night: each company's customers, then invoices of
them in a second step (100 companies × 3,000 of each). Every company's plan preflight then
notes the customers its first step creates, for the invoices step to know them, and each
invoices step lists what the ledger holds; the fleet's memory must still not grow with the
records.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ..fleetrun import FleetRun, companies, manifest_text, run_fleet, write_inputs
from ..report import BenchResult, Row, Target
from ..sandbox import UNTHROTTLED, running_sandbox
from .common import Context, Sample, startup_cpu_s, warn_suspect

TITLE = "memory of many companies: peak RSS of one fleet process"
DOCUMENTS_TITLE = "memory of many companies with invoices: peak RSS of one fleet process, customers then invoices"
RSS_TARGET = Target("<", 300.0, " MB")
CONCURRENCY = 4  # per company: 100 companies put 400 calls in flight


@dataclass(frozen=True, slots=True)
class Plan:
    companies: int
    records_each: int
    invoices_each: int = 0

    @property
    def records(self) -> int:
        return self.companies * (self.records_each + self.invoices_each)

    @property
    def each(self) -> str:
        """What a company holds, in words."""
        if not self.invoices_each:
            return f"{self.records_each:,} customers"
        return f"({self.records_each:,} customers, then {self.invoices_each:,} invoices)"


def plan(quick: bool) -> Plan:
    return Plan(20, 1_000) if quick else Plan(100, 10_000)


def documents_plan(quick: bool) -> Plan:
    return Plan(20, 500, 500) if quick else Plan(100, 3_000, 3_000)


def run(ctx: Context) -> BenchResult:
    return _run(ctx, "g", TITLE, plan(ctx.quick))


def run_documents(ctx: Context) -> BenchResult:
    return _run(ctx, "q", DOCUMENTS_TITLE, documents_plan(ctx.quick))


def _run(ctx: Context, key: str, title: str, p: Plan) -> BenchResult:
    fleet = companies(p.companies, p.records_each, p.invoices_each)
    folder = ctx.scratch / f"{key}-fleet"
    mb = write_inputs(folder, fleet) / 1e6
    ctx.log(f"{p.companies} companies × {p.each} ({mb:.1f} MB of CSV), unthrottled sandbox")
    startup = startup_cpu_s(ctx)
    with running_sandbox(ctx.scratch, rate_limit=UNTHROTTLED) as sandbox:
        manifest = manifest_text(fleet, sandbox.url, {"concurrency": CONCURRENCY})
        done = run_fleet(sandbox, folder, manifest, timeout=3600)
    shutil.rmtree(folder, ignore_errors=True)  # the companies' CSVs
    ctx.log(f"fleet exit {done.process.returncode} after {done.process.wall_s:.1f} s: "
            f"{done.created():,} created, peak RSS {done.process.peak_rss_mb:.1f} MB")
    return _result(key, title, p, done, startup, mb)


def _result(key: str, title: str, p: Plan, done: FleetRun, startup: float, csv_mb: float) -> BenchResult:
    created = done.created()
    wall = done.process.wall_s
    rate = created / wall if wall > 0 else 0.0
    cpu_us = 1e6 * max(done.process.cpu_s - startup, 0.0) / created if created else 0.0
    sample = Sample("fleet", rate, created, p.records, done.process.cpu_pct, done.sandbox_cpu_pct,
                    done.machine_cpu_pct)
    result = BenchResult(key, title)
    result.rows = [
        Row(key, f"peak RSS, fleet of {p.companies} companies × {p.each}, "
                 f"concurrency {CONCURRENCY} each", done.process.peak_rss_mb,
            f"{done.process.peak_rss_mb:.1f} MB", RSS_TARGET,
            note=f"wait4 ru_maxrss of the fleet process; {csv_mb:.1f} MB of CSV in, results files "
                 f"{done.results_bytes / 1e6:.0f} MB out"),
        Row(key, f"rate, {p.records:,} records spawn to exit", rate, f"{rate:,.0f} rec/s",
            note=f"fleet CPU {sample.client_cpu_pct:.0f}%, sandbox CPU {sample.sandbox_cpu_pct:.0f}%, "
                 f"others {sample.others_cpu_pct:.0f}% (100 = one core)"),
        Row(key, "total time", wall, f"{wall:.1f} s",
            note=f"{created:,} / {p.records:,} created; fleet exit {done.process.returncode}"),
        Row(key, "client CPU/record, fleet process (wait4 less an empty start)", cpu_us, f"{cpu_us:.0f} µs",
            note=f"{done.process.cpu_s:.1f} s CPU less {startup * 1000:.0f} ms start-up"),
    ]
    result.notes.append(
        "peak RSS = ru_maxrss of the fleet process alone (wait4), sandbox excluded; every company "
        "has its own customer numbers"
    )
    warn_suspect(result, [sample])
    failed = done.failed_companies()
    if failed:
        result.notes.append(f"WARNING: {len(failed)} companies did not finish cleanly: " + "; ".join(failed[:5]))
    result.data = {
        "plan": {"companies": p.companies, "records_each": p.records_each, "invoices_each": p.invoices_each,
                 "concurrency": CONCURRENCY},
        "process": {"returncode": done.process.returncode, "wall_s": wall, "cpu_s": done.process.cpu_s,
                    "peak_rss_mb": done.process.peak_rss_mb},
        "rate": rate, "created": created, "startup_cpu_s": startup, "cpu_us_per_record": cpu_us,
        "csv_mb": csv_mb, "results_bytes": done.results_bytes, "sandbox_stats": done.sandbox_stats,
        "sandbox_cpu_pct": done.sandbox_cpu_pct, "machine_cpu_pct": done.machine_cpu_pct,
        "summary_total": done.summary.get("total"), "summary_exit_code": done.summary.get("exit_code"),
    }
    return result
