"""``samples/rehearse.sh`` (what ``make demo`` runs): a whole rehearsal on a real sandbox process."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from pathlib import Path

import pytest

from tests.support.runs import ROOT, read_lines


@pytest.mark.parametrize("profile", ["standard", "live"])
async def test_the_rehearsal_runs_the_plan_reports_and_reconciles(tmp_path: Path, profile: str) -> None:
    importer = Path(sys.executable).with_name("importer")
    env = {**os.environ, "IMPORTER": str(importer), "PROFILE": profile, "OUT": str(tmp_path / "demo")}
    proc = await asyncio.create_subprocess_exec(
        "bash", str(ROOT / "samples" / "rehearse.sh"), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    text = out.decode()
    assert proc.returncode == 0, (text, err.decode())
    demo = tmp_path / "demo"
    # The plan ran every step; the short report, the HTML and both reconciliations followed.
    assert len(list(demo.glob("*.results.ndjson"))) == 7
    assert "report: 20 records and documents (23 rows) in 7 file(s)" in text
    page = (demo / "report.html").read_text(encoding="utf-8")  # its charts are SVG in the page: small, no script
    assert page.count('<div class="chart"') >= 4 and "<script" not in page and len(page) < 100_000
    assert text.count("the file and the ledger agree") == 2
    with open(demo / "invoices.totals.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["difference"] == "0.00" and row["agrees"] == "true" for row in rows)
    invoices = [line for line in read_lines(demo / "invoices.csv.results.ndjson") if line["outcome"] != "started"]
    assert {line["outcome"] for line in invoices} == {"created"}
