"""(f) Many companies: one ``importer fleet`` process keeping every company's window full.

One sandbox process allows ``limit`` calls per ``window`` seconds per (tenant, client).
One ``importer fleet MANIFEST`` subprocess runs every company at once: each its own
tenant (``co-01``, ...), client credentials by environment variable, one customer step
whose calls fill ``windows × limit`` exactly: a company's run reads the company before it
sends (the reads are counted first, by a fleet of one company with one customer), and
creates as many customers as fill the rest. So each company's run lasts ``windows - 1``
resets (60 s and more for 13 windows of 5 s).

Aggregate allowance used = U / S, where

- U = the calls the sandbox let through during the run: its ``/sandbox/stats``
  ``requests`` (every ``/v1`` request; token requests are not ``/v1``) less its
  ``throttled`` (a 429 spends nothing of a window);
- S = Σ over companies of ``limit × ceil(E / window)``, E being that company's elapsed
  time in the fleet's ``--summary-json`` (its step's ``elapsed_s``).

The sandbox opens a company's window at its first call and resets it every ``window``
seconds after that; every call of the company lies within its E, so its calls fell in
no more windows than ``ceil(E / window)``: S is never less than the allowance the
company could have spent, and the ratio can only understate. 1.0 means every window
each company's run touched was spent to the last call; one company's run running a
window late costs it ``limit`` calls of S.

Also measured: 429s from the sandbox and from the summaries (target 0), the fleet
process's peak RSS (``wait4``), and its CPU per record: its user + system CPU less an
empty interpreter start (``importer --version``, measured the same way), over the
records created.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace

from ..fleetrun import (
    FleetRun,
    allowance_used,
    companies,
    company_calls,
    company_elapsed,
    company_throttled,
    manifest_text,
    run_fleet,
    windows_spanned,
    write_inputs,
)
from ..report import BenchResult, Row, Target
from ..sandbox import SandboxProcess, running_sandbox
from . import unthrottled
from .common import Context, Sample, startup_cpu_s, warn_suspect

TITLE = "many companies: one fleet process, a window per company"
ALLOWANCE_TARGET = Target(">=", 0.97)
THROTTLE_TARGET = Target("<=", 0.0, " 429s")
CONCURRENCY = 8  # per company; a 100-call window needs few calls in flight on loopback


@dataclass(frozen=True, slots=True)
class Plan:
    companies: int
    limit: int
    window: float  # seconds
    windows: int  # each company's calls fill this many windows
    reads: int = 0  # calls a company's run makes besides its creates (it reads the company first)

    @property
    def records_each(self) -> int:
        return self.limit * self.windows - self.reads

    @property
    def spec(self) -> str:
        return f"{self.limit}/{self.window:g}"


def plan(quick: bool) -> Plan:
    return Plan(5, 100, 5.0, 3) if quick else Plan(20, 100, 5.0, 13)


def run(ctx: Context) -> BenchResult:
    p = plan(ctx.quick)
    startup = startup_cpu_s(ctx)
    with running_sandbox(ctx.scratch, rate_limit=p.spec) as sandbox:
        p = replace(p, reads=_reads_per_company(ctx, sandbox))
        fleet = companies(p.companies, p.records_each)
        folder = ctx.scratch / "f-fleet"
        mb = write_inputs(folder, fleet) / 1e6
        ctx.log(f"{p.companies} companies × {p.records_each:,} customers and {p.reads} reads each "
                f"({mb:.1f} MB of CSV), sandbox --rate-limit {p.spec} per (tenant, client)")
        manifest = manifest_text(fleet, sandbox.url, {"concurrency": CONCURRENCY})
        done = run_fleet(sandbox, folder, manifest, timeout=p.window * (p.windows + 2) * 3 + 120)
    shutil.rmtree(folder, ignore_errors=True)  # the companies' CSVs
    ctx.log(f"fleet exit {done.process.returncode} after {done.process.wall_s:.1f} s: "
            f"{done.created():,} created, peak RSS {done.process.peak_rss_mb:.1f} MB, "
            f"sandbox {done.sandbox_stats['requests']:,} requests, {done.sandbox_stats['throttled']} throttled")
    return _result(ctx, p, done, startup)


def _reads_per_company(ctx: Context, sandbox: SandboxProcess) -> int:
    """The calls one company's run makes besides its creates (reading the company before it
    sends), from a fleet of one company with one customer: so that the timed run's creates
    and reads fill whole windows together."""
    probe = companies(1, 1)
    folder = ctx.scratch / "f-probe"
    write_inputs(folder, probe)
    done = run_fleet(sandbox, folder, manifest_text(probe, sandbox.url, {"concurrency": CONCURRENCY}), timeout=120)
    shutil.rmtree(folder, ignore_errors=True)
    if done.process.returncode != 0 or done.created() != 1:
        raise RuntimeError(f"the probe fleet failed (exit {done.process.returncode}): {done.process.stderr[-2000:]}")
    return int(done.sandbox_stats["requests"]) - 1


def _result(ctx: Context, p: Plan, done: FleetRun, startup: float) -> BenchResult:
    entries = done.summary["companies"]
    elapsed = [company_elapsed(c) for c in entries]
    stats = done.sandbox_stats
    through = stats["requests"] - stats["throttled"]
    total = allowance_used(through, elapsed, p.limit, p.window)
    per_company = {
        c["company"]: (company_calls(c) - company_throttled(c)) / (p.limit * windows_spanned(e, p.window))
        for c, e in zip(entries, elapsed)
    }
    client_429 = sum(company_throttled(c) for c in entries)
    created = done.created()
    expected = p.companies * p.records_each
    cpu_us = 1e6 * max(done.process.cpu_s - startup, 0.0) / created if created else 0.0
    worst = min(per_company, key=lambda k: per_company[k]) if per_company else "-"
    result = BenchResult("f", TITLE)
    result.rows = [
        Row("f", f"aggregate allowance used, {p.companies} companies × {p.spec} s, "
                 f"{p.records_each:,} customers and {p.reads} reads each", total.ratio,
            f"{total.used:,} / {total.allowance:,} = {total.ratio:.3f}", ALLOWANCE_TARGET,
            note=f"{total.windows} windows spanned (ideal {p.companies * p.windows}); per company "
                 f"{min(per_company.values(), default=0):.3f}–{max(per_company.values(), default=0):.3f} "
                 f"(lowest {worst}); companies ran {min(elapsed, default=0):.1f}–{max(elapsed, default=0):.1f} s"),
        Row("f", "429s (sandbox stats)", float(stats["throttled"]),
            f"{stats['throttled']} of {stats['requests']:,} requests", THROTTLE_TARGET),
        Row("f", "429s (fleet summary, all companies)", float(client_429),
            f"{client_429} of {sum(company_calls(c) for c in entries):,} calls", THROTTLE_TARGET),
        Row("f", "peak RSS of the fleet process", done.process.peak_rss_mb, f"{done.process.peak_rss_mb:.1f} MB",
            note=f"wait4 ru_maxrss; {done.process.wall_s:.1f} s spawn to exit; results files "
                 f"{done.results_bytes / 1e6:.1f} MB"),
        Row("f", "client CPU/record, fleet process (wait4 less an empty start)", cpu_us, f"{cpu_us:.0f} µs",
            note=_cpu_note(ctx, done, startup, created)),
        Row("f", "records created", float(created), f"{created:,} / {expected:,}",
            note=f"{sum(1 for c in entries if c['exit_code'] == 0)} of {len(entries)} companies exited 0; "
                 f"fleet exit {done.process.returncode}; sandbox CPU {done.sandbox_cpu_pct:.0f}%"),
    ]
    result.notes.append(
        f"allowance used = calls the sandbox let through (requests − 429s) over Σ per company of "
        f"{p.limit} × ceil(its elapsed / {p.window:g} s): a company's calls fall in no more windows than "
        "its run spans, so the ratio can only understate; per-company figures use the company's own "
        "calls less its 429s, from its summary"
    )
    wall = done.process.wall_s
    warn_suspect(result, [Sample("fleet", created / wall if wall > 0 else 0.0, created, expected,
                                 done.process.cpu_pct, done.sandbox_cpu_pct, done.machine_cpu_pct)])
    failed = done.failed_companies()
    if failed:
        result.notes.append("WARNING: companies that did not finish cleanly: " + "; ".join(failed[:5]))
    result.data = {
        "plan": {"companies": p.companies, "rate_limit": p.spec, "windows": p.windows,
                 "records_each": p.records_each, "reads_each": p.reads,
                 "concurrency": CONCURRENCY},
        "allowance": {"used": total.used, "allowance": total.allowance, "windows": total.windows,
                      "ratio": total.ratio},
        "per_company_ratio": per_company, "elapsed_by_company": dict(zip(per_company, elapsed)),
        "sandbox_stats": stats, "sandbox_cpu_pct": done.sandbox_cpu_pct, "machine_cpu_pct": done.machine_cpu_pct,
        "process": {"returncode": done.process.returncode, "wall_s": done.process.wall_s,
                    "cpu_s": done.process.cpu_s, "peak_rss_mb": done.process.peak_rss_mb},
        "startup_cpu_s": startup, "cpu_us_per_record": cpu_us, "created": created,
        "results_bytes": done.results_bytes, "summary_total": done.summary.get("total"),
        "summary_exit_code": done.summary.get("exit_code"),
    }
    return result


def _cpu_note(ctx: Context, done: FleetRun, startup: float, created: int) -> str:
    note = f"{done.process.cpu_s:.2f} s CPU less {startup * 1000:.0f} ms start-up over {created:,} records"
    earlier = ctx.done.get("a")
    if earlier is not None and not earlier.error:
        note += f"; (a) importer API in-process: {unthrottled.importer_cpu_us(earlier):.0f} µs"
    return note
