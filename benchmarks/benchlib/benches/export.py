"""(k) Export: what writing a page costs next to only reading it.

The sandbox (a process of its own) is loaded with invoices of two lines each. Then, in
interleaved rounds, a bare pager (GET every page, parse the JSON, keep nothing:
``exporters`` kind ``pager``) and ``export_records`` to a CSV of every column (kind
``export``) read the same pages, each in a fresh process. Judged by client CPU per
record, export ÷ pager, each round's pair: what flattening and writing add on top of
the reading both must do. The export's wall time next to the pager's shows how much of
the writing hides behind the next page's request.
"""

from __future__ import annotations

import asyncio
import json

from ..exporters import load_invoices
from ..paths import PYTHON, REPO, child_env
from ..procs import run_measured
from ..report import BenchResult, Row, Target, median
from ..sandbox import SandboxProcess, running_sandbox
from .common import Context

TITLE = "export: CPU per record of export_records ÷ a bare pager"
TARGET = Target("<=", 2.0)


def _run(ctx: Context, sandbox: SandboxProcess, kind: str, count: int) -> dict:
    spec = {"kind": kind, "base_url": sandbox.url, "sandbox_pid": sandbox.pid, "count": count,
            "output": str(ctx.scratch / "k-invoices.csv")}
    done = run_measured([PYTHON, "-m", "benchmarks.benchlib.exporters", json.dumps(spec)],
                        timeout=660, cwd=REPO, env=child_env())
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{kind} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    if data["ok"] != count:
        raise RuntimeError(f"{kind} read {data['ok']:,} of {count:,} invoices: {data}")
    ctx.log(f"{kind}: {data['elapsed_s']:.2f} s, {data['client_cpu_us_per_record']:.0f} µs/rec "
            f"(client CPU {data['client_cpu_pct']:.0f}%, sandbox {data['sandbox_cpu_pct']:.0f}%), "
            f"{data['pages']} pages")
    return data


def run(ctx: Context) -> BenchResult:
    count, rounds = (2_000, 3) if ctx.quick else (20_000, 3)
    with running_sandbox(ctx.scratch) as sandbox:
        asyncio.run(load_invoices(sandbox.url, count, ctx.concurrency, ctx.scratch))
        loaded = sandbox.stats()["records"]["invoice"]
        if loaded != count:
            raise RuntimeError(f"only {loaded:,} of {count:,} invoices were created")
        _run(ctx, sandbox, "export", count)  # warm-up (sandbox caches, page cache), discarded
        pairs = [(_run(ctx, sandbox, "pager", count), _run(ctx, sandbox, "export", count)) for _ in range(rounds)]
    ratios = [e["client_cpu_us_per_record"] / p["client_cpu_us_per_record"] for p, e in pairs]
    walls = [e["elapsed_s"] / p["elapsed_s"] for p, e in pairs]
    pager_us = median([p["client_cpu_us_per_record"] for p, _ in pairs])
    export_us = median([e["client_cpu_us_per_record"] for _, e in pairs])
    ratio = median(ratios)
    result = BenchResult("k", TITLE)
    result.rows = [
        Row("k", f"bare pager, CPU per record ({count:,} invoices)", pager_us, f"{pager_us:.0f} µs",
            note=f"{pairs[0][0]['pages']} pages; median of {rounds} rounds"),
        Row("k", "export to CSV, CPU per record", export_us, f"{export_us:.0f} µs"),
        Row("k", "export CPU ÷ pager CPU, per record", ratio, f"{ratio:.2f}", TARGET,
            note="rounds: " + ", ".join(f"{r:.2f}" for r in ratios)),
        Row("k", "export wall time ÷ pager wall time", median(walls), f"{median(walls):.2f}",
            note="information: the writing that does not hide behind the next page's request"),
    ]
    result.notes.append(
        "CPU per record = the client process's own user + system CPU over its reading (getrusage) ÷ "
        "invoices read; the pager only GETs and parses every page, the export also flattens each "
        "invoice to rows and writes the CSV"
    )
    result.data = {"records": count, "rounds": [{"pager": p, "export": e} for p, e in pairs],
                   "ratios": ratios, "median_ratio": ratio}
    return result
