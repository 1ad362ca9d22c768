"""(e) Sandbox headroom, as information: how far the sandbox's ceiling is above the importer.

It has no target. A sandbox in one Python process on a 2-core machine cannot reach
three times the rate of a client as lean as the importer (the aiohttp floor below shows
the ceiling of the HTTP stack itself), so (a) judges the client by the CPU it spends per
record, not by a rate the sandbox co-determines; these rows say how much the sandbox
held the rates of (a) back. Its own ceiling is found with load generators much cheaper per
request than the server: the raw-protocol generator of ``loadgen`` (always) and
``wrk`` (when it is on PATH). Both post fresh customers over ``concurrency`` keep-alive
connections. The sandbox's CPU% during the run shows whether it was the bottleneck
(near 100% of its one core) or the generator was; the generator's own CPU% is shown too.

The same generator then drives ``floor``, an aiohttp.web server that only reads each
body and answers 201: the ceiling of the HTTP stack itself, which no sandbox built on
it can pass.
"""

from __future__ import annotations

from dataclasses import asdict

from ..procs import CpuMeter
from ..report import BenchResult, Row
from ..sandbox import SandboxProcess, running_floor, running_sandbox
from ..wrk import available, run_wrk
from . import unthrottled
from .common import Context, Sample, median_of, rate_text, run_worker, spread, warm_up, warn_suspect

TITLE = "sandbox headroom (information): its own ceiling vs the importer's rate"


def run(ctx: Context) -> BenchResult:
    requests, seconds, runs = (20_000, 2.0, 1) if ctx.quick else (120_000, 6.0, 3)
    generators: dict[str, list[Sample]] = {"python loadgen": []}
    if available():
        generators["wrk"] = []
    with running_sandbox(ctx.scratch) as sandbox:
        warm_up(ctx, sandbox, requests)
        for _ in range(runs):  # alternated, so a drift in the sandbox's speed hits both
            generators["python loadgen"].append(run_worker(ctx, sandbox, "loadgen", count=requests))
            if "wrk" in generators:
                generators["wrk"].append(_wrk_once(ctx, sandbox, seconds))
        importer_rate, source = _importer_rate(ctx, sandbox)
    # The same generator against a server that only reads and answers: the HTTP stack's share.
    floor_samples: list[Sample] = []
    with running_floor(ctx.scratch) as floor:
        for _ in range(runs):
            if "wrk" in generators:
                floor_samples.append(_wrk_once(ctx, floor, seconds))
            else:
                floor_samples.append(run_worker(ctx, floor, "loadgen", count=requests))
    labels = {
        "python loadgen": f"sandbox max, python raw-HTTP loadgen ({requests:,} req, c={ctx.concurrency})",
        "wrk": f"sandbox max, wrk -t1 -c{ctx.concurrency} ({seconds:g} s runs)",
    }
    ceilings = {name: median_of(samples, "rate") for name, samples in generators.items()}
    result = BenchResult("e", TITLE)
    result.rows = [
        Row("e", labels[name], ceilings[name], rate_text(ceilings[name], "req/s"),
            note=f"{spread(samples)}; sandbox CPU {median_of(samples, 'sandbox_cpu_pct'):.0f}%, "
                 f"generator CPU {median_of(samples, 'client_cpu_pct'):.0f}%")
        for name, samples in generators.items()
    ]
    used = max(ceilings, key=lambda k: ceilings[k])
    headroom = ceilings[used] / importer_rate
    result.rows.append(Row(
        "e", "sandbox max / importer rate", headroom,
        f"×{headroom:.2f} ({ceilings[used]:,.0f} / {importer_rate:,.0f})",
        note=f"ceiling by {used}; importer rate from {source}; no target (see a's CPU per record)",
    ))
    floor_rate = median_of(floor_samples, "rate")
    floor_by = "wrk" if "wrk" in generators else "python loadgen"
    result.rows.append(Row(
        "e", "aiohttp.web floor: reads the body, answers 201 (no checks, no storage)", floor_rate,
        f"{rate_text(floor_rate, 'req/s')} = ×{floor_rate / importer_rate:.2f} the importer",
        note=f"{spread(floor_samples)}; by {floor_by}; server CPU {median_of(floor_samples, 'sandbox_cpu_pct'):.0f}%; "
             f"the most any one-process aiohttp sandbox could serve here",
    ))
    if "wrk" not in generators:
        result.notes.append("wrk is not on PATH: the python load generator alone measured the sandbox")
    result.notes.append(
        "sandbox max = the higher of the generators' medians (a generator can only under-state it); "
        "a sandbox CPU% near 100 means the sandbox, not the generator, was the limit"
    )
    for samples in generators.values():
        warn_suspect(result, samples)
    result.data = {
        "generators": {name: [s.raw | {"rate": s.rate, "sandbox_cpu_pct": s.sandbox_cpu_pct,
                                       "generator_cpu_pct": s.client_cpu_pct} for s in samples]
                       for name, samples in generators.items()},
        "ceilings": ceilings, "ceiling_by": used, "importer_rate": importer_rate,
        "importer_rate_source": source, "headroom": headroom,
        "floor": [s.raw | {"rate": s.rate, "server_cpu_pct": s.sandbox_cpu_pct} for s in floor_samples],
        "floor_rate": floor_rate,
    }
    return result


def _wrk_once(ctx: Context, sandbox: SandboxProcess, seconds: float) -> Sample:
    """One wrk run against a reset sandbox, as a ``Sample`` like the other generators'."""
    sandbox.reset()
    meter, machine = CpuMeter.of_pid(sandbox.pid).start(), CpuMeter.of_machine().start()
    wrk = run_wrk(sandbox.url, ctx.scratch, connections=ctx.concurrency, seconds=seconds)
    sample = Sample(
        variant="wrk", rate=wrk.rate, ok=wrk.requests - wrk.non_2xx, expected=wrk.requests,
        client_cpu_pct=wrk.cpu_pct, sandbox_cpu_pct=meter.stop(), machine_cpu_pct=machine.stop(),
        raw=asdict(wrk),
    )
    ctx.log(sample.describe() + (f", socket errors: {wrk.socket_errors}" if wrk.socket_errors else ""))
    return sample


def _importer_rate(ctx: Context, sandbox: SandboxProcess) -> tuple[float, str]:
    """The importer's rate from (a) if it ran; else one Python-API run of (a)'s size, here."""
    earlier = ctx.done.get("a")
    if earlier is not None and not earlier.error:
        return unthrottled.importer_rate(earlier), "(a), Python API median"
    records = unthrottled.sizes(ctx.quick).records
    sample = run_worker(ctx, sandbox, "importer", count=records, results=True)
    return sample.rate, f"one Python API run of {records:,} records here ((a) did not run)"
