"""(j) The preflight's cost against the calls it saves, on a file with 5 % bad references.

The same customers go twice into a fresh sandbox (the demo company) through the CLI: once
with the preflight off (``--company none``: every record is sent, and the API refuses the
bad ones, a call each), once with it on (the live company read at the start, then
``--send-valid``: the bad records are invalid before any call). Each run's summary gives its
calls; the preflight's own (reading the company) are counted apart. The net saving is the
calls saved less the preflight's; its time is the difference of the two runs' wall times.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..paths import PYTHON, REPO, child_env
from ..procs import run_measured
from ..records import COLUMNS, customer_record
from ..report import BenchResult, Row, Target
from ..sandbox import TOKEN, running_sandbox
from .common import Context

TITLE = "preflight: calls it saves against its own cost, 5 % bad references"
BAD_EVERY = 20  # one record in twenty names credit terms the company does not have


def write_file(path: Path, count: int) -> int:
    """``count`` customers, every ``BAD_EVERY``-th with a wrong credit terms id; returns how many are bad."""
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([*COLUMNS, "creditTermsId"])
        for n in range(1, count + 1):
            wrong = n % BAD_EVERY == 0
            bad += wrong
            out.writerow([*customer_record(n).values(), "30 dager netto" if wrong else "30"])
    return bad


def _run(ctx: Context, path: Path, url: str, name: str, *flags: str) -> tuple[dict, float]:
    summary = ctx.scratch / f"j-{name}.summary.json"
    results = ctx.scratch / f"j-{name}.results.ndjson"
    cmd = [PYTHON, "-m", "importer", "run", str(path), "--entity", "customer", "--base-url", url,
           "--token", TOKEN, "--results", str(results), "--summary-json", str(summary), *flags]
    done = run_measured(cmd, timeout=600, cwd=REPO, env=child_env())
    if not summary.exists():
        raise RuntimeError(f"the importer CLI failed ({done.returncode}):\n{done.stderr[-3000:]}")
    data = json.loads(summary.read_text())
    for p in (summary, results, Path(f"{results}.company.json")):
        p.unlink(missing_ok=True)
    return data, done.wall_s


def run(ctx: Context) -> BenchResult:
    count = 500 if ctx.quick else 5_000
    path = ctx.scratch / "j-customers.csv"
    bad = write_file(path, count)
    with running_sandbox(ctx.scratch) as sandbox:
        sandbox.reset()
        off, off_s = _run(ctx, path, sandbox.url, "off", "--company", "none")
        sandbox.reset()
        on, on_s = _run(ctx, path, sandbox.url, "on", "--send-valid")
    path.unlink()
    saved, spent = on["calls_saved_by_preflight"], on["preflight_calls"]
    ctx.log(f"{count:,} records, {bad:,} bad: off {off['calls']:,} calls in {off_s:.2f} s; on {on['calls']:,} "
            f"calls + {spent} preflight calls in {on_s:.2f} s; {saved:,} calls saved")
    result = BenchResult("j", TITLE)
    result.rows = [
        Row("j", "calls saved by the preflight", float(saved), f"{saved:,}", Target(">=", float(bad)),
            note=f"{bad:,} bad of {count:,}; the API's calls without the preflight: {off['calls']:,}, with: "
                 f"{on['calls']:,}"),
        Row("j", "the preflight's own calls (reading the company)", float(spent), f"{spent:,}",
            Target("<=", float(bad)), note="read-only GETs, once per run; a --resume reuses the company"),
        Row("j", "net calls saved", float(saved - spent), f"{saved - spent:,}", Target(">=", 1.0)),
        Row("j", "time of the preflight (wall, on − off)", on_s - off_s, f"{on_s - off_s:+.2f} s",
            note=f"off {off_s:.2f} s, on {on_s:.2f} s (a second pass over the file, and the company's reads)"),
    ]
    result.data = {"records": count, "bad": bad, "off": off, "on": on, "off_s": off_s, "on_s": on_s}
    return result
