"""(a) Unthrottled: what a record costs the importer's own process, next to a bare client.

Four clients send the same customers to the same sandbox at the same concurrency:
the importer through its Python API (in a worker process), the importer CLI (a
subprocess reading a CSV: the end-to-end figure users get), a bare aiohttp client
with pre-serialized bodies, and a sequential keep-alive loop. Runs are interleaved
(importer, CLI, bare, sequential, importer, ...) so that drift in the machine's
speed hits every variant alike; each figure is the median of its runs, each ratio the
median of the per-round ratios.

The target is the client's CPU per record, each client measured by its own rusage
over its sending phase only (interpreter start, imports and record building left
out): bare ÷ importer ≥ 0.8, i.e. the importer spends at most 1.25× what the tightest
aiohttp client spends per record. Rates depend on the sandbox sharing the machine's two
cores, so they and the rate ratios are information, with the sandbox's CPU beside them
to show which side was the bottleneck.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..records import check_bodies_match, write_csv
from ..report import BenchResult, Row, Target, median
from ..sandbox import running_sandbox
from .common import Context, Sample, median_of, rate_text, run_cli, run_worker, spread, warm_up, warn_suspect

TITLE = "unthrottled: client CPU per record, importer vs bare aiohttp; rates vs a sequential loop"
CPU_RATIO_TARGET = Target(">=", 0.8)  # bare CPU/record over the importer's, in-process
SANDBOX_BOUND_PCT = 80.0  # sandbox CPU at which a client's rate is no longer its own alone
BOUND_PCT = 90.0  # CPU% of one core at which a side is the bottleneck


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


def _paired_cpu_ratios(importer: list[Sample], bare: list[Sample]) -> list[float]:
    """Each round's bare CPU per record over the same round's importer CPU per record."""
    return [b.cpu_us_per_record / s.cpu_us_per_record for s, b in zip(importer, bare)
            if s.cpu_us_per_record and b.cpu_us_per_record]


def _paired_cpu_overheads(importer: list[Sample], bare: list[Sample]) -> list[float]:
    """Each round's importer CPU per record less the same round's bare CPU per record (µs)."""
    return [s.cpu_us_per_record - b.cpu_us_per_record for s, b in zip(importer, bare)
            if s.cpu_us_per_record and b.cpu_us_per_record]


def _ratio_range(ratios: list[float]) -> str:
    if len(ratios) == 1:
        return "1 round"
    return f"per round {min(ratios):.3f}–{max(ratios):.3f} over {len(ratios)} rounds"


def _cpu_range(samples: list[Sample]) -> str:
    values = [s.cpu_us_per_record for s in samples if s.cpu_us_per_record is not None]
    if len(values) <= 1:
        return "1 run"
    return f"{min(values):.0f}–{max(values):.0f} µs over {len(values)} runs"


def _sandbox_us(sample: Sample) -> float:
    """The sandbox's CPU per record over a run (the CLI's run is timed spawn to exit)."""
    wall = sample.raw.get("elapsed_s", sample.raw.get("wall_s", 0.0))
    return 1e4 * sample.sandbox_cpu_pct * wall / sample.ok if sample.ok else 0.0


def importer_rate(result: BenchResult) -> float:
    """The importer's median rate through the Python API, for benchmark (e)."""
    return float(result.data["medians"]["importer"])


def importer_cpu_us(result: BenchResult) -> float:
    """The importer's median CPU per record through the Python API, for benchmark (f)."""
    return float(result.data["cpu_us_per_record"]["importer"])


def _bound_by(client_pct: float, sandbox_pct: float) -> str:
    """Which side a run waited on: one near a full core, or neither (others took the CPU)."""
    if max(client_pct, sandbox_pct) < BOUND_PCT:
        return "neither at a full core"
    return "client-bound" if client_pct >= sandbox_pct else "sandbox-bound"


def _result(ctx: Context, size: Sizes, samples: dict[str, list[Sample]]) -> BenchResult:
    rate = {name: median_of(runs, "rate") for name, runs in samples.items()}
    cpu = {name: (median_of(runs, "client_cpu_pct"), median_of(runs, "sandbox_cpu_pct"))
           for name, runs in samples.items()}
    per_record = {name: median([s.cpu_us_per_record for s in samples[name] if s.cpu_us_per_record is not None])
                  for name in ("importer", "cli", "bare")}
    server_us = {name: median([_sandbox_us(s) for s in samples[name]]) for name in ("importer", "cli", "bare")}

    def cpu_note(name: str) -> str:
        return f"client CPU {cpu[name][0]:.0f}%, sandbox CPU {cpu[name][1]:.0f}%"

    paired = {name: _paired_ratios(samples[name], samples["bare"]) for name in ("importer", "cli")}
    ratio = {name: median(values) for name, values in paired.items()}
    cpu_paired = _paired_cpu_ratios(samples["importer"], samples["bare"])
    cpu_ratio = median(cpu_paired)
    overheads = _paired_cpu_overheads(samples["importer"], samples["bare"])
    overhead = median(overheads)
    allowed = per_record["bare"] * (1 / CPU_RATIO_TARGET.limit - 1)
    n, c = f"{size.records:,}", ctx.concurrency
    startup_ms = 1000.0 * (ctx.startup_cpu or 0.0)
    result = BenchResult("a", TITLE)
    result.rows = [
        Row("a", "client CPU/record, importer Python API in-process (own rusage, sending only)",
            per_record["importer"], f"{per_record['importer']:.0f} µs", note=_cpu_range(samples["importer"])),
        Row("a", "client CPU/record, bare aiohttp (own rusage, sending only)", per_record["bare"],
            f"{per_record['bare']:.0f} µs", note=_cpu_range(samples["bare"])),
        Row("a", "bare CPU/record ÷ importer CPU/record", cpu_ratio, f"{cpu_ratio:.3f}", CPU_RATIO_TARGET,
            note=f"{_ratio_range(cpu_paired)}; the importer maps each record and writes its results file, "
                 "the bare client sends bodies built beforehand"),
        Row("a", "the importer's own CPU/record (importer less bare, per round)", overhead, f"{overhead:.0f} µs",
            note=f"{min(overheads):.0f}–{max(overheads):.0f} µs over {len(overheads)} rounds; "
                 f"the ratio's target leaves it {allowed:.0f} µs (a quarter of the bare client's)"),
        Row("a", "client CPU/record, importer CLI (wait4 less an empty start)", per_record["cli"],
            f"{per_record['cli']:.0f} µs",
            note=f"{_cpu_range(samples['cli'])}; start-up taken out: {startup_ms:.0f} ms "
                 "(importer --version); CSV reading included"),
        Row("a", "sandbox CPU/record during importer API, CLI, bare", server_us["importer"],
            f"{server_us['importer']:.0f}, {server_us['cli']:.0f}, {server_us['bare']:.0f} µs",
            note="; ".join(f"{name}: {cpu_note(name)}, {_bound_by(*cpu[name])}"
                           for name in ("importer", "cli", "bare"))),
        Row("a", f"importer, Python API in-process ({n} rec, c={c})", rate["importer"],
            rate_text(rate["importer"]), note=f"{spread(samples['importer'])}; {cpu_note('importer')}"),
        Row("a", f"importer CLI subprocess, CSV ({n} rec, c={c})", rate["cli"],
            rate_text(rate["cli"]), note=f"{spread(samples['cli'])}; {cpu_note('cli')}"),
        Row("a", f"bare aiohttp, pre-serialized bodies ({n} rec, c={c})", rate["bare"],
            rate_text(rate["bare"]), note=f"{spread(samples['bare'])}; {cpu_note('bare')}"),
        Row("a", f"sequential keep-alive loop ({size.sequential:,} rec)", rate["sequential"],
            rate_text(rate["sequential"]), note=f"{spread(samples['sequential'])}; {cpu_note('sequential')}"),
        Row("a", "rate: importer API / bare aiohttp", ratio["importer"], f"{ratio['importer']:.3f}",
            note=_ratio_range(paired["importer"])),
        Row("a", "rate: importer CLI / bare aiohttp", ratio["cli"], f"{ratio['cli']:.3f}",
            note=f"{_ratio_range(paired['cli'])}; CLI timed spawn to exit (interpreter start, CSV reading)"),
        Row("a", "speed-up over the sequential loop", rate["importer"] / rate["sequential"],
            f"×{rate['importer'] / rate['sequential']:.1f} (CLI ×{rate['cli'] / rate['sequential']:.1f})",
            note="loopback without latency makes a one-at-a-time loop cheap; (b) shows it at 200 ms"),
        Row("a", "calls/record (API, CLI)", median_of(samples["importer"], "calls_per_record"),
            f"{median_of(samples['importer'], 'calls_per_record'):.3f}, "
            f"{median_of(samples['cli'], 'calls_per_record'):.3f}", note="a plain create costs 1.0"),
    ]
    result.notes.append(
        "client CPU/record = the client's user + system CPU over its successful records: in-process "
        "variants read their own getrusage(RUSAGE_SELF) around the sending phase only (records, bodies "
        "built before); the CLI's is its whole life (wait4) less the median of 3 `importer --version` "
        "runs; the sandbox's = its CPU (/proc) over the same run, per record"
    )
    result.notes.append(
        "rates are medians; a ratio is the median of the per-round ratios (each round's runs are "
        "back to back, so drift in the machine's speed cancels); the API run writes a results file "
        "like the CLI does; the rate ratios have no target: on two cores the client and the sandbox "
        "share the machine, so a rate is partly the sandbox's"
    )
    if cpu["bare"][1] >= SANDBOX_BOUND_PCT:
        result.notes.append(
            f"the bare client drove the sandbox to {cpu['bare'][1]:.0f}% CPU: near the sandbox's own "
            "ceiling (see e), so the bare rate is partly the sandbox's and the rate ratios flatter the importer"
        )
    for runs in samples.values():
        warn_suspect(result, runs)
    result.data = {
        "sizes": {"records": size.records, "sequential": size.sequential, "runs": size.runs},
        "concurrency": ctx.concurrency,
        "medians": rate,
        "cpu_us_per_record": per_record,
        "sandbox_cpu_us_per_record": server_us,
        "startup_cpu_s": ctx.startup_cpu,
        "paired_ratios": paired,
        "paired_cpu_ratios": cpu_paired,
        "runs": {name: [s.raw | {"rate": s.rate, "sandbox_cpu_pct": s.sandbox_cpu_pct,
                                 "client_cpu_pct": s.client_cpu_pct, "cpu_us_per_record": s.cpu_us_per_record}
                        for s in runs]
                 for name, runs in samples.items()},
    }
    return result
