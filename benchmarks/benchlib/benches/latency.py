"""(b) Latency-bound: with 200 ms per request, 64 in flight can at best do 64 / 0.2 s.

The sandbox adds ``--latency-ms`` to every request; the importer (Python API, worker
process) sends enough records for a steady state. achieved / theoretical shows how
well it keeps all 64 slots busy: a gap means slots sit idle between requests. The
sequential loop is measured here too, on a few records, since latency is what makes
a one-at-a-time loop slow (on loopback without latency it is not).
"""

from __future__ import annotations

import math
from typing import Any

from ..report import BenchResult, Row, Target, median
from ..sandbox import running_sandbox
from .common import Context, median_of, rate_text, run_worker, spread, warn_suspect

TITLE = "latency-bound: 200 ms per request, concurrency 64"
LATENCY_MS = 200.0
TARGET = Target(">=", 0.9)


def run(ctx: Context) -> BenchResult:
    records, runs, sequential = (640, 1, 10) if ctx.quick else (3_000, 3, 25)
    latency_s = LATENCY_MS / 1000.0
    theoretical = ctx.concurrency / latency_s
    with running_sandbox(ctx.scratch, latency_ms=LATENCY_MS) as sandbox:
        samples = [run_worker(ctx, sandbox, "importer", count=records, results=True, timestamps=True)
                   for _ in range(runs)]
        loop = run_worker(ctx, sandbox, "sequential", count=sequential)
    rate = median_of(samples, "rate")
    phases = [_phases(s.raw.pop("completed_at"), latency_s) for s in samples]
    steady = median([p["steady_rate"] for p in phases])
    first = median([p["first_s"] for p in phases])
    # Whole rounds of `concurrency` requests: the last, partial round still takes a full latency.
    best_possible = records / (math.ceil(records / ctx.concurrency) * latency_s)
    result = BenchResult("b", TITLE)
    result.rows = [
        Row("b", f"importer, Python API ({records:,} rec, c={ctx.concurrency})", rate, rate_text(rate),
            note=f"{spread(samples)}; client CPU {median_of(samples, 'client_cpu_pct'):.0f}%"),
        Row("b", "achieved / theoretical (c / latency)", rate / theoretical,
            f"{rate / theoretical:.3f} of {theoretical:,.0f} rec/s", TARGET,
            note=f"with whole rounds of {ctx.concurrency} the best possible is "
                 f"{best_possible:,.0f} rec/s ({best_possible / theoretical:.3f})"),
        Row("b", "steady state / theoretical (10%–90% of records)", steady / theoretical,
            f"{steady / theoretical:.3f} ({steady:,.0f} rec/s)",
            note=f"first record done after {first * 1000:.0f} ms (one latency is {LATENCY_MS:.0f} ms)"),
        Row("b", f"sequential loop ({sequential} rec); importer speed-up", rate / loop.rate,
            f"{loop.rate:,.1f} rec/s; ×{rate / loop.rate:.0f}"),
        Row("b", "calls/record", median_of(samples, "calls_per_record"),
            f"{median_of(samples, 'calls_per_record'):.3f}"),
    ]
    result.notes.append(
        f"theoretical = concurrency / latency = {ctx.concurrency} / {latency_s:g} s; achieved = records "
        "created / time from the import_records call to its return (connection set-up and the "
        "last, partial round of requests included)"
    )
    warn_suspect(result, [*samples, loop])
    result.data = {
        "records": records, "latency_ms": LATENCY_MS, "concurrency": ctx.concurrency,
        "theoretical": theoretical, "best_possible": best_possible, "median_rate": rate,
        "runs": [s.raw | {"rate": s.rate} | p for s, p in zip(samples, phases)],
        "sequential": loop.raw | {"rate": loop.rate},
    }
    return result


def _phases(completed_at: list[float], latency_s: float) -> dict[str, Any]:
    """When the first record finished, and the rate between the 10% and 90% marks.

    The steady-state rate leaves out the start (connections, the pacer's first probe)
    and the tail (the last, partial round), to show which of them costs what.
    """
    times = sorted(completed_at)
    n = len(times)
    lo, hi = n // 10, (9 * n) // 10
    steady = (hi - lo) / (times[hi] - times[lo]) if n >= 10 and times[hi] > times[lo] else 0.0
    return {"first_s": times[0] if times else 0.0, "last_s": times[-1] if times else 0.0,
            "steady_rate": steady, "latency_s": latency_s}
