"""(c) Throttled: does the importer spend the whole allowance, without drawing 429s?

The sandbox allows ``limit`` requests per fixed ``window`` per client; the window opens
at the client's first request. The importer (Python API, worker process) gets one
window's worth more than the windows measured, so it is never short of work.

"Achieved" must not flatter: the clock starts when ``import_records`` is called, which
is no later than the sandbox's first window opens, and a record counts only if its
final results line (``on_outcome``, timestamped in the worker) came within
``windows × window`` seconds of that start. Anything late, or sent in the extra
window, is not counted; the allowance is ``windows × limit``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import BenchResult, Row, Target
from ..sandbox import running_sandbox
from .common import Context, run_worker, warn_suspect

TITLE = "throttled: fixed window, allowance spent vs 429s"
ALLOWANCE_TARGET = Target(">=", 0.97)
THROTTLE_TARGET = Target("<=", 5.0, " per 1,000")


@dataclass(frozen=True, slots=True)
class Plan:
    limit: int
    window: float  # seconds
    windows: int  # measured

    @property
    def spec(self) -> str:
        return f"{self.limit}/{self.window:g}"

    @property
    def records(self) -> int:
        return self.limit * (self.windows + 1)

    @property
    def span(self) -> float:
        return self.window * self.windows


def plan(quick: bool) -> Plan:
    return Plan(100, 2.0, 3) if quick else Plan(600, 10.0, 6)


def run(ctx: Context) -> BenchResult:
    p = plan(ctx.quick)
    with running_sandbox(ctx.scratch, rate_limit=p.spec) as sandbox:
        sample = run_worker(ctx, sandbox, "importer", count=p.records, results=True,
                            timestamps=True, timeout=p.span + p.window * 3 + 120)
        stats = sandbox.stats()
    completed_at: list[float] = sample.raw.pop("completed_at")
    within = sum(1 for t in completed_at if t <= p.span)
    allowance = p.limit * p.windows
    requests, throttled = stats["requests"], stats["throttled"]
    per_1000 = 1000.0 * throttled / requests if requests else 0.0
    calls = sample.raw["calls"]
    client_per_1000 = 1000.0 * sample.raw["throttled"] / calls if calls else 0.0
    result = BenchResult("c", TITLE)
    result.rows = [
        Row("c", f"created within {p.windows} windows of {p.spec} (first {p.span:g} s)", within / allowance,
            f"{within:,} / {allowance:,} = {within / allowance:.3f}", ALLOWANCE_TARGET,
            note=f"all {sample.ok:,} of {p.records:,} done after {sample.raw['elapsed_s']:.1f} s"),
        Row("c", "429s per 1,000 requests (sandbox stats)", per_1000,
            f"{per_1000:.2f} ({throttled} of {requests:,})", THROTTLE_TARGET),
        Row("c", "429s per 1,000 calls (importer Summary)", client_per_1000,
            f"{client_per_1000:.2f} ({sample.raw['throttled']} of {calls:,})", THROTTLE_TARGET),
        Row("c", "calls/record", sample.calls_per_record, f"{sample.calls_per_record:.3f}"),
    ]
    result.notes.append(
        f"achieved = records whose final results line came within {p.span:g} s of the "
        f"import_records call (which precedes the first request, so the sandbox's window opens "
        f"no earlier), over the allowance {p.windows} × {p.limit}; the importer had "
        f"{p.records:,} records, so it never ran out of work"
    )
    warn_suspect(result, [sample])
    first, last = (min(completed_at), max(completed_at)) if completed_at else (0.0, 0.0)
    result.data = {
        "rate_limit": p.spec, "windows": p.windows, "allowance": allowance, "within": within,
        "ratio": within / allowance, "sandbox_stats": stats, "throttled_per_1000": per_1000,
        "client_throttled_per_1000": client_per_1000, "first_completion_s": first, "last_completion_s": last,
        "per_window": _per_window(completed_at, p.window, p.windows + 1), "run": sample.raw,
    }
    return result


def _per_window(times: list[float], window: float, windows: int) -> list[int]:
    """How many records completed in each window-long slice after the start."""
    counts = [0] * (windows + 1)
    for t in times:
        counts[min(int(t // window), windows)] += 1
    return counts
