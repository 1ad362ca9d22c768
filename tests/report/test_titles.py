"""The report's titles count as the summary does: documents first, their rows after."""

from __future__ import annotations

from pathlib import Path

from importer.load.outcomes import Outcome
from importer.load.results import ResultsWriter
from importer.report.build import build_report
from importer.report.html import render_html
from importer.report.text import render_text, short_report


def _invoices(path: Path) -> None:
    """Two invoices of three rows: one created (rows 1-2), one refused by the API (row 3)."""
    with ResultsWriter(path) as writer:
        writer.write(Outcome([1, 2], "invoice", "key:A1", "fp", "A1", "create", "created", http_status=201,
                             attempts=1, elapsed_ms=2.0))
        writer.write(Outcome([3], "invoice", "key:A2", "fp", "A2", "create", "failed", http_status=400,
                             attempts=1, error="HTTP 400 from the API: 'customer unknown'", elapsed_ms=2.0))


def test_every_title_counts_documents_then_rows(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv.results.ndjson"
    _invoices(path)
    report = build_report([path])
    assert (report.units, report.records) == (2, 3)
    assert "results: 1 file(s), 2 documents (3 rows)" in render_text(report)
    assert short_report([path]).splitlines()[0] == \
        "report: 2 documents (3 rows) in 1 file(s): 1 created (2 rows), 1 failed"
    assert "<p>2 documents (3 rows) in 1 results file(s):</p>" in render_html(report)
