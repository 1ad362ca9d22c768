"""The short report's reasons: grouped by their template, each shown once by its first
record's own message with the others counted, and API errors apart from input errors."""

from __future__ import annotations

from pathlib import Path

from importer.load.outcomes import Outcome
from importer.load.results import ResultsWriter
from importer.report.build import build_report
from importer.report.text import short_report


def _write(path: Path) -> None:
    """Four bad amounts (one template), one API refusal and one created customer."""
    with ResultsWriter(path) as writer:
        for record, value in enumerate(("12,5x", "x2", "1..0", "--"), start=1):
            writer.write(Outcome([record], "customer", f"key:{record}", "fp", str(record), "create", "invalid",
                                 error=f"creditLimit: '{value}' is not a number"))
        writer.write(Outcome([5], "customer", "key:5", "fp", "5", "create", "failed", http_status=500, attempts=3,
                             error="HTTP 500 from the API: 'internal error' after 3 attempts", elapsed_ms=4.0))
        writer.write(Outcome([6], "customer", "key:6", "fp", "6", "create", "created", http_status=201, attempts=1,
                             elapsed_ms=2.0))


def test_a_reason_shows_its_first_value_once_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv.results.ndjson"
    _write(path)
    report = build_report([path])
    assert [(r.side, r.records) for r in report.reasons] == [("input", 4), ("API", 1)]
    lines = short_report([path]).splitlines()
    api, input_errors = lines.index("API errors (sent, and the API refused or did not answer), 1 records:"), \
        lines.index("input errors (not sent: fix the file), 4 records:")
    assert api < input_errors  # the one API failure is not hidden behind the input's
    assert lines[api + 1].startswith("  customer: HTTP 500 from the API: 'internal error' after 3 attempts — e.g. ")
    assert lines[input_errors + 1].startswith("  customer: creditLimit: '12,5x' is not a number (and 3 more) — e.g. ")
    assert "'…'" not in "\n".join(lines) and "x2" not in "\n".join(lines)  # one example, no placeholders
