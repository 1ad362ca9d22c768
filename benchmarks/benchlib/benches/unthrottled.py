"""(a) Unthrottled: how close the importer comes to a bare client, and how far past a loop.

Four clients send the same customers to the same sandbox at the same concurrency:
the importer through its Python API (in a worker process), the importer CLI (a
subprocess reading a CSV: the end-to-end figure users get), a bare aiohttp client
with pre-serialized bodies, and a sequential keep-alive loop. Runs are interleaved
(importer, CLI, bare, sequential, importer, ...) so that drift in the machine's
speed hits every variant alike; each rate is the median of its runs, each ratio the
median of the per-round ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..records import check_bodies_match, write_csv
from ..report import BenchResult, Row, Target, median
from ..sandbox import running_sandbox
from .common import Context, Sample, median_of, rate_text, run_cli, run_worker, spread, warm_up, warn_suspect

TITLE = "unthrottled: importer vs bare aiohttp vs sequential loop"
RATIO_TARGET = Target(">=", 0.9)
SANDBOX_BOUND_PCT = 80.0  # sandbox CPU at which a client's rate is no longer its own alone


@dataclass(frozen=True, slots=True)
class Sizes:
    records: int
    sequential: int
    runs: int


def sizes(quick: bool) -> Sizes:
    return Sizes(5_000, 500, 1) if quick else Sizes(50_000, 5_000, 5)


def run(ctx: Context) -> BenchResult:
    size = sizes(ctx.quick)
    check_bodies_match()  # else the comparison would be of different payloads
    csv_path = ctx.scratch / "a-customers.csv"
    write_csv(csv_path, 1, size.records)
    samples: dict[str, list[Sample]] = {"importer": [], "cli": [], "bare": [], "sequential": []}
    with running_sandbox(ctx.scratch) as sandbox:
        warm_up(ctx, sandbox, size.records)
        for i in range(size.runs):
            ctx.log(f"round {i + 1}/{size.runs}")
            samples["importer"].append(run_worker(ctx, sandbox, "importer", count=size.records, results=True))
            samples["cli"].append(run_cli(ctx, sandbox, csv_path, records=size.records))
            samples["bare"].append(run_worker(ctx, sandbox, "bare", count=size.records))
            samples["sequential"].append(run_worker(ctx, sandbox, "sequential", count=size.sequential))
    csv_path.unlink()
    return _result(ctx, size, samples)


def _paired_ratios(samples: list[Sample], bare: list[Sample]) -> list[float]:
    """Each round's rate over the same round's bare-client rate."""
    return [s.rate / b.rate for s, b in zip(samples, bare)]


def _ratio_range(ratios: list[float]) -> str:
    if len(ratios) == 1:
        return "1 round"
    return f"per round {min(ratios):.3f}–{max(ratios):.3f} over {len(ratios)} rounds"


def importer_rate(result: BenchResult) -> float:
    """The importer's median rate through the Python API, for benchmark (e)."""
    return float(result.data["medians"]["importer"])


def _result(ctx: Context, size: Sizes, samples: dict[str, list[Sample]]) -> BenchResult:
    rate = {name: median_of(runs, "rate") for name, runs in samples.items()}
    cpu = {name: (median_of(runs, "client_cpu_pct"), median_of(runs, "sandbox_cpu_pct"))
           for name, runs in samples.items()}

    def cpu_note(name: str) -> str:
        return f"client CPU {cpu[name][0]:.0f}%, sandbox CPU {cpu[name][1]:.0f}%"

    paired = {name: _paired_ratios(samples[name], samples["bare"]) for name in ("importer", "cli")}
    ratio = {name: median(values) for name, values in paired.items()}
    n, c = f"{size.records:,}", ctx.concurrency
    result = BenchResult("a", TITLE)
    result.rows = [
        Row("a", f"importer, Python API in-process ({n} rec, c={c})", rate["importer"],
            rate_text(rate["importer"]), note=f"{spread(samples['importer'])}; {cpu_note('importer')}"),
        Row("a", f"importer CLI subprocess, CSV ({n} rec, c={c})", rate["cli"],
            rate_text(rate["cli"]), note=f"{spread(samples['cli'])}; {cpu_note('cli')}"),
        Row("a", f"bare aiohttp, pre-serialized bodies ({n} rec, c={c})", rate["bare"],
            rate_text(rate["bare"]), note=f"{spread(samples['bare'])}; {cpu_note('bare')}"),
        Row("a", f"sequential keep-alive loop ({size.sequential:,} rec)", rate["sequential"],
            rate_text(rate["sequential"]), note=f"{spread(samples['sequential'])}; {cpu_note('sequential')}"),
        Row("a", "importer API / bare aiohttp", ratio["importer"], f"{ratio['importer']:.3f}", RATIO_TARGET,
            note=_ratio_range(paired["importer"])),
        Row("a", "importer CLI / bare aiohttp", ratio["cli"], f"{ratio['cli']:.3f}", RATIO_TARGET,
            note=f"{_ratio_range(paired['cli'])}; CLI timed spawn to exit (interpreter start, CSV reading)"),
        Row("a", "speed-up over the sequential loop", rate["importer"] / rate["sequential"],
            f"×{rate['importer'] / rate['sequential']:.1f} (CLI ×{rate['cli'] / rate['sequential']:.1f})",
            note="loopback without latency makes a one-at-a-time loop cheap; (b) shows it at 200 ms"),
        Row("a", "calls/record (API, CLI)", median_of(samples["importer"], "calls_per_record"),
            f"{median_of(samples['importer'], 'calls_per_record'):.3f}, "
            f"{median_of(samples['cli'], 'calls_per_record'):.3f}", note="a plain create costs 1.0"),
    ]
    result.notes.append(
        "rates are medians; a ratio is the median of the per-round ratios (each round's runs are "
        "back to back, so drift in the machine's speed cancels); in-process variants time only the "
        "sending (records, bodies built before the clock starts); the API run writes a results file "
        "like the CLI does"
    )
    if cpu["bare"][1] >= SANDBOX_BOUND_PCT:
        result.notes.append(
            f"the bare client drove the sandbox to {cpu['bare'][1]:.0f}% CPU: near the sandbox's own "
            "ceiling (see e), so the bare rate is partly the sandbox's and the ratios flatter the importer"
        )
    for runs in samples.values():
        warn_suspect(result, runs)
    result.data = {
        "sizes": {"records": size.records, "sequential": size.sequential, "runs": size.runs},
        "concurrency": ctx.concurrency,
        "medians": rate,
        "paired_ratios": paired,
        "runs": {name: [s.raw | {"rate": s.rate, "sandbox_cpu_pct": s.sandbox_cpu_pct,
                                 "client_cpu_pct": s.client_cpu_pct} for s in runs]
                 for name, runs in samples.items()},
    }
    return result
