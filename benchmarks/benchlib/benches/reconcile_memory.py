"""(n) Reconcile in flat memory: peak RSS and time per document at 10,000 and 100,000 invoices.

A sandbox process is given a ledger of invoices quickly: one invoice imported, then copied
under other numbers into its ``--state`` file while it is stopped, a customer for every four
invoices (so 100,000 invoices make 25,000 rows per customer), one in a thousand with another
quantity than the file says. Then ``importer reconcile FILE -e invoice --csv OUT`` runs in a
process of its own, twice for each size, the file naming every invoice and one more the
ledger lacks. Its peak RSS is the ``ru_maxrss`` that ``wait4`` returns for the reconcile
alone (the sandbox is not counted). Time per document is the reconcile's CPU less an
interpreter start, ÷ invoices: judged as 100,000 ÷ 10,000, which is 1 when it is flat. The
CSV must have a row per customer, and the rows that differ, for the run to count.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import sqlite3
from pathlib import Path

import orjson

from ..paths import PYTHON, REPO, child_env
from ..procs import Finished, run_measured
from ..report import BenchResult, Row, Target, median
from ..sandbox import TOKEN, running_sandbox
from .common import Context, startup_cpu_s

TITLE = "reconcile: peak RSS and CPU per document, 100,000 ÷ 10,000 invoices"
RSS_TARGET = Target("<", 150.0, " MB")
FLAT_TARGET = Target("<=", 1.25)
HEADER = "referenceNumber,customerNumber,documentDate,line.description,line.quantity,line.unitPriceInCurrency\n"
ROUNDS = 2


def _customer(n: int, count: int) -> str:
    return f"C{n % max(count // 4, 1):06d}"


def _differs(n: int) -> bool:
    return n % 1000 == 7


async def _first(url: str, folder: Path) -> None:
    import importer

    (folder / "c.csv").write_text("number,name\nC000001,Kunde AS\n", encoding="utf-8")
    (folder / "t.csv").write_text(HEADER + "INV-1,C000001,2024-01-31,Arbeid,2,950.5\n", encoding="utf-8")
    for name, entity in (("c.csv", "customer"), ("t.csv", "invoice")):
        done = await importer.import_records(folder / name, entity=entity, base_url=url, token=TOKEN)
        if not done.ok:
            raise RuntimeError(f"loading the first {entity} failed: {done.to_dict()}")


def _ledger(ctx: Context, folder: Path, count: int) -> Path:
    """A state file of ``count`` invoices: INV-1 imported, the rest copies of it."""
    state = folder / "ledger.db"
    with running_sandbox(folder, state=state) as sandbox:
        asyncio.run(_first(sandbox.url, folder))
    db = sqlite3.connect(state)
    try:
        tenant, blob = db.execute("SELECT tenant, data FROM records WHERE entity = 'invoice' AND key = 'INV-1'"
                                  ).fetchone()
        with db:
            for start in range(2, count + 1, 10_000):
                rows = []
                for n in range(start, min(start + 10_000, count + 1)):
                    record = orjson.loads(blob)
                    record["referenceNumber"], record["customerNumber"] = f"INV-{n}", _customer(n, count)
                    if _differs(n):
                        record["invoiceLines"][0]["quantity"] = 3
                    rows.append((tenant, "invoice", f"INV-{n}", orjson.dumps(record)))
                db.executemany("INSERT INTO records (tenant, entity, key, data) VALUES (?, ?, ?, ?)", rows)
    finally:
        db.close()
    with open(folder / "invoices.csv", "w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in range(1, count + 1):
            f.write(f"INV-{n},{'C000001' if n == 1 else _customer(n, count)},2024-01-31,Arbeid,2,950.5\n")
        f.write("INV-NONE,C-NONE,2024-01-31,Arbeid,2,950.5\n")
    ctx.log(f"{count:,} invoices in the ledger, {count // 4:,} customers")
    return state


def _reconcile(folder: Path, url: str, count: int) -> Finished:
    out = folder / "totals.csv"
    done = run_measured([PYTHON, "-m", "importer", "reconcile", str(folder / "invoices.csv"), "-e", "invoice",
                         "--csv", str(out), "--base-url", url, "--token", TOKEN],
                        timeout=1800, cwd=REPO, env=child_env())
    if done.returncode != 1 or "customers whose figures differ" not in done.stdout:
        raise RuntimeError(f"reconcile answered {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    with open(out, encoding="utf-8", newline="") as f:
        customers = [row for row in csv.DictReader(f) if row["level"] == "customer"]
    differing = sum(1 for row in customers if row["agrees"] == "false")
    expected = len({_customer(n, count) for n in range(2, count + 1) if _differs(n)}) + 1
    if len(customers) != count // 4 + 1 or differing != expected:
        raise RuntimeError(f"the CSV has {len(customers):,} customers, {differing:,} differing "
                           f"(expected {count // 4 + 1:,} and {expected:,})")
    return done


def _measure(ctx: Context, count: int, startup: float) -> dict[str, float]:
    folder = ctx.scratch / f"n-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    state = _ledger(ctx, folder, count)
    runs = []
    with running_sandbox(folder, state=state, startup_timeout=300) as sandbox:
        for _ in range(ROUNDS):
            done = _reconcile(folder, sandbox.url, count)
            runs.append(done)
            ctx.log(f"{count:,}: {done.wall_s:.1f} s, CPU {done.cpu_s:.1f} s, peak RSS {done.peak_rss_mb:.1f} MB")
    shutil.rmtree(folder, ignore_errors=True)
    return {"count": count, "rss_mb": max(r.peak_rss_mb for r in runs),
            "cpu_us": median([(r.cpu_s - startup) / count * 1e6 for r in runs]),
            "wall_us": median([r.wall_s / count * 1e6 for r in runs])}


def run(ctx: Context) -> BenchResult:
    small, large = (1_000, 10_000) if ctx.quick else (10_000, 100_000)
    startup = startup_cpu_s(ctx)
    a, b = _measure(ctx, small, startup), _measure(ctx, large, startup)
    ratio = b["cpu_us"] / a["cpu_us"]
    result = BenchResult("n", TITLE)
    result.rows = [
        Row("n", f"peak RSS at {small:,} invoices", a["rss_mb"], f"{a['rss_mb']:.1f} MB"),
        Row("n", f"peak RSS at {large:,} invoices", b["rss_mb"], f"{b['rss_mb']:.1f} MB", RSS_TARGET,
            note="the target is for 300,000 documents"),
        Row("n", f"CPU per invoice at {small:,}", a["cpu_us"], f"{a['cpu_us']:.0f} µs",
            note=f"wall {a['wall_us']:.0f} µs per invoice"),
        Row("n", f"CPU per invoice at {large:,}", b["cpu_us"], f"{b['cpu_us']:.0f} µs",
            note=f"wall {b['wall_us']:.0f} µs per invoice"),
        Row("n", f"CPU per invoice, {large:,} ÷ {small:,}", ratio, f"{ratio:.2f}", FLAT_TARGET,
            note="1 is flat"),
    ]
    result.notes.append("CPU = the reconcile process's own user + system CPU (wait4) less an interpreter "
                        "start; the sandbox serves the listing from another process")
    result.data = {"small": a, "large": b, "ratio": ratio, "startup_cpu_s": startup}
    return result
