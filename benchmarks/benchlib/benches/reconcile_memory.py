"""(n) Reconcile and verify in flat memory: peak RSS and time per document at 10,000, 100,000 and 300,000 invoices.

A sandbox process is given a ledger of invoices quickly: one invoice imported, then copied
under other numbers into its ``--state`` file while it is stopped, a customer for every four
invoices (so 100,000 invoices make 25,000 customers, a row each in the CSV), one in a thousand with another
quantity than the file says. Then ``importer reconcile FILE -e invoice --csv OUT`` runs in a
process of its own, twice for each size, the file naming every invoice and one more the
ledger lacks; so does ``importer verify FILE -e invoice --strategy list``. Peak RSS is the
``ru_maxrss`` that ``wait4`` returns for the command alone (the sandbox is not counted), judged
at 300,000 invoices, the size the target names. Time per document is the command's CPU less an
interpreter start, ÷ invoices. Flatness is judged on what a further invoice costs: from 100,000
to 300,000 over from 10,000 to 100,000, which is 1 when it is flat (fixed costs, imports and
the first page, would otherwise make 10,000 look dear and the ratio flatter than it is). The
reconcile's CSV must have a row per customer and the rows that differ, and verify's counts
the invoices found as in the file, the ones that differ and the one missing, for a run to count.
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
from .common import Context, further_cost_us, startup_cpu_s

TITLE = "reconcile and verify: peak RSS and CPU per document, 10,000 to 300,000 invoices"
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
    out.unlink()
    return done


def _verify(folder: Path, url: str, count: int) -> Finished:
    """``importer verify --strategy list``: the listing that kept every waiting record in memory."""
    summary, report = folder / "verify.json", folder / "verify.ndjson"
    done = run_measured([PYTHON, "-m", "importer", "verify", str(folder / "invoices.csv"), "-e", "invoice",
                         "--strategy", "list", "--report", str(report), "--summary-json", str(summary),
                         "--base-url", url, "--token", TOKEN],
                        timeout=1800, cwd=REPO, env=child_env())
    counts = orjson.loads(summary.read_bytes())["counts"] if summary.exists() else None
    differing = sum(1 for n in range(2, count + 1) if _differs(n))
    expected = {"ok": count - differing, "different": differing, "missing": 1}
    if counts is None or {name: counts.get(name) for name in expected} != expected:
        raise RuntimeError(f"verify answered {done.returncode} with counts {counts} (expected {expected}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    summary.unlink()
    report.unlink(missing_ok=True)
    return done


_COMMANDS = {"reconcile": _reconcile, "verify": _verify}


def _measure(ctx: Context, count: int, startup: float) -> dict[str, dict[str, float]]:
    """Each command's peak RSS and time per invoice against a ledger of ``count`` invoices."""
    folder = ctx.scratch / f"n-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    state = _ledger(ctx, folder, count)
    runs: dict[str, list[Finished]] = {name: [] for name in _COMMANDS}
    with running_sandbox(folder, state=state, startup_timeout=600) as sandbox:
        for _ in range(ROUNDS):
            for name, command in _COMMANDS.items():
                done = command(folder, sandbox.url, count)
                runs[name].append(done)
                ctx.log(f"{name} {count:,}: {done.wall_s:.1f} s, CPU {done.cpu_s:.1f} s, "
                        f"peak RSS {done.peak_rss_mb:.1f} MB")
    shutil.rmtree(folder, ignore_errors=True)
    return {name: {"count": count, "rss_mb": max(r.peak_rss_mb for r in done_runs),
                   "cpu_us": median([(r.cpu_s - startup) / count * 1e6 for r in done_runs]),
                   "wall_us": median([r.wall_s / count * 1e6 for r in done_runs])}
            for name, done_runs in runs.items()}


def _slope(a: dict[str, float], b: dict[str, float]) -> float:
    """CPU per further invoice between two measured sizes (µs)."""
    def measured(size: dict[str, float]) -> tuple[int, float]:
        return int(size["count"]), size["cpu_us"] * size["count"] / 1e6  # CPU seconds at that size

    return further_cost_us(measured(a), measured(b))


def _rows(name: str, by_size: list[dict[str, float]]) -> list[Row]:
    """Peak RSS at the largest size; flatness as the cost of a further invoice at the top sizes over that
    lower down (fixed costs, such as imports, would otherwise flatter the smallest size), or with two
    sizes (--quick) CPU per invoice largest ÷ smallest."""
    small, large = by_size[0], by_size[-1]
    sizes = " / ".join(f"{m['count']:,.0f}" for m in by_size)
    per_invoice = "µs per invoice at " + sizes + ": " + " / ".join(f"{m['cpu_us']:.0f}" for m in by_size) + \
        " (wall " + " / ".join(f"{m['wall_us']:.0f}" for m in by_size) + ")"
    if len(by_size) >= 3:
        low, high = _slope(by_size[0], by_size[1]), _slope(by_size[-2], by_size[-1])
        ratio = high / low
        measure = (f"{name}: CPU per further invoice, {by_size[-2]['count']:,.0f}→{large['count']:,.0f} ÷ "
                   f"{small['count']:,.0f}→{by_size[1]['count']:,.0f}")
        note = f"1 is flat; {high:.0f} ÷ {low:.0f} µs; {per_invoice}"
    else:
        ratio = large["cpu_us"] / small["cpu_us"]
        measure = f"{name}: CPU per invoice, {large['count']:,.0f} ÷ {small['count']:,.0f}"
        note = f"1 is flat; {per_invoice}"
    return [
        Row("n", f"{name}: peak RSS at {large['count']:,.0f} invoices", large["rss_mb"],
            f"{large['rss_mb']:.1f} MB", RSS_TARGET,
            note=f"MB at {sizes}: " + " / ".join(f"{m['rss_mb']:.1f}" for m in by_size)),
        Row("n", measure, ratio, f"{ratio:.2f}", FLAT_TARGET, note=note),
    ]


def run(ctx: Context) -> BenchResult:
    sizes = (1_000, 10_000) if ctx.quick else (10_000, 100_000, 300_000)
    startup = startup_cpu_s(ctx)
    measured = [_measure(ctx, count, startup) for count in sizes]
    result = BenchResult("n", TITLE)
    for name in _COMMANDS:
        result.rows += _rows(name, [m[name] for m in measured])
    result.notes.append("CPU = the command's own user + system CPU (wait4) less an interpreter start; the "
                        "sandbox serves the listing from another process; verify runs with --strategy list")
    result.data = {"sizes": list(sizes), "measured": measured, "startup_cpu_s": startup}
    return result
