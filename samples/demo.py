"""Rehearse a whole migration on the sandbox: every sample, in order, then a summary.

Run with ``make demo``. It starts ``importer sandbox`` on a free loopback port,
imports each file below with the real CLI, and stops the sandbox. Results files
go to ``build/demo/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "build" / "demo"
TOKEN = "sandbox-token"  # the sandbox's fixed development token

# (file, entity, extra flags): customers first, then the documents that point at them.
STEPS = [
    ("customers.csv", "customer", []),
    ("customers-semicolon.csv", "customer", []),
    ("customer-updates.csv", "customer", ["--mode", "update"]),
    ("invoices.csv", "invoice", []),
    ("credit-notes.ndjson", "credit-note", []),
    ("debit-notes.csv", "debit-note", []),
    ("dunning-letters.csv", "dunning-letter", []),
]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert sandbox.stdout is not None
        first = sandbox.stdout.readline().strip()
        if not first.startswith("Sandbox listening on "):
            print(f"the sandbox did not start: {first!r}", file=sys.stderr)
            return 1
        url = first.removeprefix("Sandbox listening on ")
        print(f"sandbox at {url}")
        table = Table(title="demo: every sample into the sandbox")
        for column in ("file", "entity", "records", "ok", "failed", "invalid", "calls/record", "exit"):
            table.add_column(column)
        worst = 0
        for name, entity, extra in STEPS:
            summary_path = OUT / f"{name}.summary.json"
            code = subprocess.call([
                sys.executable, "-m", "importer", "run", str(HERE / name), "--entity", entity,
                "--base-url", url, "--token", TOKEN,
                "--results", str(OUT / f"{name}.results.ndjson"),
                "--summary-json", str(summary_path), *extra,
            ], stdout=subprocess.DEVNULL)
            worst = max(worst, code)
            s = orjson.loads(summary_path.read_bytes())
            o = s["outcomes"]
            table.add_row(
                name, entity, str(s["records"]), str(o["created"] + o["updated"] + o["done"]),
                str(o["failed"]), str(o["invalid"]), f"{s['calls_per_record']:.2f}", str(code),
            )
        Console(width=120).print(table)
        print(f"results files in {OUT}")
        return worst
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
