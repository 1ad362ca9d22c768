"""What every benchmark shares: the run context, and one way to run each kind of client.

Every run starts from a reset sandbox (no records, no counters, fresh rate windows),
so runs are alike and customer numbers can start at 1 each time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from ..paths import PYTHON, REPO, child_env
from ..procs import CpuMeter, run_measured
from ..report import BenchResult, median
from ..sandbox import TOKEN, SandboxProcess

__all__ = [
    "Context", "Sample", "run_worker", "run_cli", "spread", "rate_text", "median_of", "warn_suspect", "warm_up",
    "startup_cpu_s", "further_cost_us",
]

STARTUP_RUNS = 3  # ``importer --version`` runs whose median CPU is one interpreter start


@dataclass
class Context:
    scratch: Path  # this run's own scratch directory
    quick: bool = False
    concurrency: int = 64
    console: Console = field(default_factory=lambda: Console(stderr=True))
    done: dict[str, BenchResult] = field(default_factory=dict)  # benchmarks already run
    startup_cpu: float | None = None  # CPU seconds of an empty ``importer --version``, once measured

    def log(self, message: str) -> None:
        self.console.print(f"  {message}", highlight=False)


@dataclass(frozen=True, slots=True)
class Sample:
    """One run of one client: its rate and what it cost whom."""

    variant: str
    rate: float  # successful records (or requests) per second
    ok: int  # records answered 2xx
    expected: int
    client_cpu_pct: float
    sandbox_cpu_pct: float
    machine_cpu_pct: float  # every core, every process; 100 = one core
    calls_per_record: float | None = None  # importer runs only
    cpu_us_per_record: float | None = None  # the client's own CPU per successful record
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def others_cpu_pct(self) -> float:
        """CPU used by neither the client nor the sandbox: other work that may skew the run."""
        return max(self.machine_cpu_pct - self.client_cpu_pct - self.sandbox_cpu_pct, 0.0)

    @property
    def complete(self) -> bool:
        return self.ok == self.expected

    def describe(self) -> str:
        calls = f", {self.calls_per_record:.3f} calls/record" if self.calls_per_record is not None else ""
        missing = "" if self.complete else f", ONLY {self.ok:,}/{self.expected:,} OK"
        per_record = f" = {self.cpu_us_per_record:.0f} µs/rec" if self.cpu_us_per_record is not None else ""
        return (f"{self.variant}: {self.rate:,.0f}/s (client CPU {self.client_cpu_pct:.0f}%{per_record}, "
                f"sandbox CPU {self.sandbox_cpu_pct:.0f}%, others {self.others_cpu_pct:.0f}%{calls}{missing})")


def run_worker(
    ctx: Context, sandbox: SandboxProcess, kind: str, *, count: int, start: int = 1,
    results: bool = False, timestamps: bool = False, timeout: float = 600.0, label: str | None = None,
) -> Sample:
    """One run of a client from ``workers`` in a fresh process, against a reset sandbox."""
    sandbox.reset()
    spec = {
        "kind": kind, "base_url": sandbox.url, "sandbox_pid": sandbox.pid, "start": start,
        "count": count, "concurrency": ctx.concurrency, "timestamps": timestamps, "timeout": timeout,
        "results": str(ctx.scratch / f"{kind}.results.ndjson") if results else None,
    }
    done = run_measured(
        [PYTHON, "-m", "benchmarks.benchlib.workers", json.dumps(spec)],
        timeout=timeout + 60, cwd=REPO, env=child_env(),
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"worker {kind} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["peak_rss_mb"] = done.peak_rss_mb
    if spec["results"]:
        Path(spec["results"]).unlink(missing_ok=True)
    sample = Sample(
        variant=label or kind, rate=data["rate"], ok=data["ok"], expected=count,
        client_cpu_pct=data["client_cpu_pct"], sandbox_cpu_pct=data["sandbox_cpu_pct"],
        machine_cpu_pct=data["machine_cpu_pct"], calls_per_record=data.get("calls_per_record"),
        cpu_us_per_record=data.get("client_cpu_us_per_record"), raw=data,
    )
    ctx.log(sample.describe())
    return sample


def run_cli(
    ctx: Context, sandbox: SandboxProcess, csv_path: Path, *, records: int,
    dry_run: bool = False, timeout: float = 900.0, label: str = "cli",
) -> Sample:
    """``python -m importer run CSV`` in a subprocess: wall time, peak RSS and CPU from wait4.

    The rate is records over the process's whole life (interpreter start, CSV reading,
    results file), which is what a user of the command gets. Its CPU per record is the
    process's CPU (wait4) less one empty interpreter start (``startup_cpu_s``).
    """
    startup = startup_cpu_s(ctx)
    sandbox.reset()
    results = ctx.scratch / f"{csv_path.stem}.results.ndjson"
    summary_path = ctx.scratch / f"{csv_path.stem}.summary.json"
    cmd = [
        PYTHON, "-m", "importer", "run", str(csv_path), "--entity", "customer",
        "--base-url", sandbox.url, "--token", TOKEN, "--concurrency", str(ctx.concurrency),
        "--results", str(results), "--summary-json", str(summary_path),
    ]
    if dry_run:
        cmd.append("--dry-run")
    meter, machine = CpuMeter.of_pid(sandbox.pid).start(), CpuMeter.of_machine().start()
    done = run_measured(cmd, timeout=timeout, cwd=REPO, env=child_env())
    sandbox_cpu, machine_cpu = meter.stop(), machine.stop()
    results.unlink(missing_ok=True)  # up to a few hundred MB for the big runs
    if not summary_path.exists():
        raise RuntimeError(f"the importer CLI failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(summary_path.read_text())
    summary_path.unlink()
    outcome = "valid" if dry_run else "created"
    ok = summary["outcomes"][outcome]
    raw = {"summary": summary, "wall_s": done.wall_s, "cpu_s": done.cpu_s,
           "peak_rss_mb": done.peak_rss_mb, "returncode": done.returncode,
           "rate_in_process": summary["records_per_s"], "startup_cpu_s": startup}
    sample = Sample(
        variant=label, rate=ok / done.wall_s, ok=ok, expected=records,
        client_cpu_pct=done.cpu_pct, sandbox_cpu_pct=sandbox_cpu, machine_cpu_pct=machine_cpu,
        calls_per_record=None if dry_run else summary["calls_per_record"],
        cpu_us_per_record=1e6 * max(done.cpu_s - startup, 0.0) / ok if ok else None, raw=raw,
    )
    ctx.log(sample.describe() + f", peak RSS {done.peak_rss_mb:.1f} MB")
    return sample


def startup_cpu_s(ctx: Context) -> float:
    """CPU seconds (wait4) of ``python -m importer --version``: an interpreter start and the
    importer's imports, measured the way every CLI run is, to take out of its CPU.

    The median of a few runs, measured once per benchmark run and kept on the context.
    """
    if ctx.startup_cpu is None:
        cpu = []
        for _ in range(STARTUP_RUNS):
            done = run_measured([PYTHON, "-m", "importer", "--version"], timeout=60, cwd=REPO, env=child_env())
            if done.returncode != 0:
                raise RuntimeError(f"importer --version failed ({done.returncode}):\n{done.stderr[-2000:]}")
            cpu.append(done.cpu_s)
        ctx.startup_cpu = median(cpu)
        ctx.log(f"empty interpreter start (importer --version): {ctx.startup_cpu * 1000:.0f} ms CPU, "
                f"median of {STARTUP_RUNS}")
    return ctx.startup_cpu


def warm_up(ctx: Context, sandbox: SandboxProcess, count: int) -> None:
    """One run of the raw load generator whose numbers are thrown away.

    A fresh sandbox is slower on its first runs (its heap is still growing; successive
    wrk runs came out several percent faster each), which would penalize whichever
    variant happens to go first.
    """
    run_worker(ctx, sandbox, "loadgen", count=count, label="warm-up (discarded)")


def spread(samples: list[Sample]) -> str:
    """``min–max over N runs`` (or ``1 run``)."""
    if len(samples) == 1:
        return "1 run"
    rates = [s.rate for s in samples]
    return f"{min(rates):,.0f}–{max(rates):,.0f} over {len(samples)} runs"


def rate_text(value: float, unit: str = "rec/s") -> str:
    return f"{value:,.0f} {unit}"


def further_cost_us(smaller: tuple[int, float], larger: tuple[int, float]) -> float:
    """What each further record cost between two sizes, in µs: (count, CPU seconds) at each.

    A fixed cost (imports, a first page) falls out, so flatness judged on it is not flattered
    by the small size's share of that cost.
    """
    return (larger[1] - smaller[1]) / (larger[0] - smaller[0]) * 1e6


def median_of(samples: list[Sample], attr: str) -> float:
    return median([getattr(s, attr) for s in samples])


OTHERS_WARN_PCT = 15.0  # other processes' CPU, in % of one core, that makes a run suspect...
CONTENDED_SHARE = 0.75  # ...when the machine as a whole was at least this busy


def _contended(sample: Sample) -> bool:
    """Other jobs took CPU while the machine had little to spare: the run was slowed.

    A latency-bound run leaves most of the machine idle, so others' work does not slow
    it; a CPU-bound one (client ~100% + sandbox) has no core to spare for them.
    """
    capacity = 100.0 * (os.cpu_count() or 1)
    return sample.others_cpu_pct > OTHERS_WARN_PCT and sample.machine_cpu_pct >= CONTENDED_SHARE * capacity


def warn_suspect(result: BenchResult, samples: list[Sample]) -> None:
    """Say so in the notes when a run did not measure what it claims.

    Not every record got a 2xx, or other processes on the machine (a shared box) took
    CPU the run needed.
    """
    for s in samples:
        if not s.complete:
            result.notes.append(f"WARNING: a {s.variant} run got only {s.ok:,} of {s.expected:,} records through")
    busy = [s for s in samples if _contended(s)]
    if busy:
        worst = max(busy, key=lambda s: s.others_cpu_pct)
        result.notes.append(
            f"WARNING: other processes competed for the CPU during {len(busy)} of {len(samples)} runs "
            f"(worst: {worst.others_cpu_pct:.0f}% of a core during a {worst.variant} run at "
            f"{worst.rate:,.0f}/s); a median resists one such run, the range does not"
        )
