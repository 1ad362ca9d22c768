"""A migration to report on: a two-step plan run by the CLI against a sandbox, and a
line whose key and error are markup. The report's tests (text, HTML, the browser) read it.

The plan imports customers in two steps; the second sends four customers the first
created (four refusals with four keys and one reason) and both hold rows whose
creditLimit is not a number (one reason, across files).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from importer.load.results import Outcome, ResultsWriter
from importer.sandbox import SandboxConfig, serve
from tests.support.runs import TOKEN, run_cli

PLAN = """
[defaults]
concurrency = 4

[[step]]
name = "first"
input = "first/customers.csv"
entity = "customer"

[[step]]
name = "again"
input = "again/customers.csv"
entity = "customer"
"""


def write_migration(folder: Path) -> Path:
    """12 customers (rows 5 and 9 invalid), then 10001-10004 again, one new and one invalid."""
    rows = [f"{10000 + i},Kunde {i} AS,{'mye' if i in (5, 9) else 100 * i}" for i in range(1, 13)]
    again = [*rows[:4], "10100,Ny Kunde AS,5", "10101,Feil AS,x1"]
    for name, lines in (("first", rows), ("again", again)):
        (folder / name).mkdir()
        (folder / name / "customers.csv").write_text("number,name,creditLimit\n" + "\n".join(lines) + "\n",
                                                     encoding="utf-8")
    (folder / "plan.toml").write_text(PLAN, encoding="utf-8")
    return folder / "plan.toml"


async def run_migration(folder: Path) -> tuple[Path, float, float]:
    """Run the plan as the CLI against a sandbox; (its results dir, time before, time after)."""
    plan = write_migration(folder)
    async with serve(SandboxConfig(seed=1)) as sandbox:
        before = datetime.now(UTC).timestamp()
        code, _, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN,
                                     "--results-dir", str(folder / "results"))
        after = datetime.now(UTC).timestamp()
    assert code == 1, err  # some records failed: that is what there is to report
    return folder / "results", before, after


HOSTILE_KEY = "</td><img src=x onerror=alert('key')>"
HOSTILE_ERROR = "<script>alert('error')</script> refused: <b onmouseover=alert(1)>x</b>"


def add_hostile_lines(path: Path) -> None:
    """A record whose key and API error are markup, as a hostile server or input could make them."""
    with ResultsWriter(path) as writer:
        writer.write(Outcome([40], "customer", f"key:{HOSTILE_KEY}", "0badc0de0badc0de", HOSTILE_KEY, "create",
                             "failed", http_status=400, attempts=1, error=HOSTILE_ERROR, elapsed_ms=3.0))
