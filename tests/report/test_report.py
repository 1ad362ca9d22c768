"""``importer report``: results files of a real plan against the sandbox, read back.

The plan (tests/support/migration.py) imports customers in two steps; the second sends
four customers the first created (four refusals with four keys and one reason) and both
hold rows whose creditLimit is not a number (one reason, across files).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from importer.load.results import Outcome, ResultsWriter, iter_results
from importer.report.build import build_report, normalise_reason, percentile
from importer.report.html import render_html
from importer.report.text import render_text, short_report
from tests.support.migration import add_hostile_lines, run_migration
from tests.support.runs import final_lines, read_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

DUPLICATE = "Customer '…' already exists (number must be unique)."
NOT_A_NUMBER = "creditLimit: '…' is not a number"


@pytest.fixture(scope="module")
def migration(tmp_path_factory) -> tuple[Path, float, float]:
    return asyncio.run(run_migration(tmp_path_factory.mktemp("migration")))


@pytest.fixture
def results(migration, tmp_path) -> Path:
    """A copy of the plan's results dir that a test may change."""
    copy = tmp_path / "results"
    copy.mkdir()
    for path in migration[0].iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def test_final_lines_are_stamped_with_the_utc_time_they_were_written(migration):
    results_dir, before, after = migration
    for path in sorted(results_dir.glob("*.results.ndjson")):
        for line in read_lines(path):
            if line["outcome"] == "started":
                assert "at" not in line
                continue
            stamp = line["at"]
            assert stamp.endswith("Z") and len(stamp) == len("2026-12-01T11:02:03.123Z"), stamp
            assert before - 0.01 <= datetime.fromisoformat(stamp).timestamp() <= after + 0.01


def test_counts_per_step_in_plan_order_from_final_lines_only(results):
    report = build_report([results])
    # the plan's order (its files sort the other way), each step named as the plan named its file
    assert [(g.step, g.entity) for g in report.groups] == [("first.customers.csv", "customer"),
                                                           ("again.customers.csv", "customer")]
    first, again = report.groups
    assert dict(first.outcomes) == {"created": 10, "invalid": 2}
    assert dict(again.outcomes) == {"created": 1, "failed": 4, "invalid": 1}
    assert (first.units, first.sent, first.calls, first.retries) == (12, 10, 10, 0)
    assert (again.units, again.sent, again.calls) == (6, 5, 5)
    assert first.first_at is not None and again.first_at is not None and first.first_at <= again.first_at
    # each identity once, though its file holds a started line and a final one
    assert len(read_lines(Path(first.file))) == 12 + 10
    assert report.records == 18 and report.total("created") == 11


def test_failures_are_grouped_by_reason_with_three_examples(results):
    report = build_report([results])
    assert [(r.reason, r.records) for r in report.reasons] == [(DUPLICATE, 4), (NOT_A_NUMBER, 3)]
    duplicate = report.reasons[0]
    assert duplicate.entity == "customer" and dict(duplicate.outcomes) == {"failed": 4}
    examples = [(e.records, e.key) for e in duplicate.examples]
    assert len(examples) == 3
    assert {key for _, key in examples} < {"10001", "10002", "10003", "10004"}
    by_key = {line["key"]: line["records"] for line in final_lines(duplicate.examples[0].file)}
    assert all(by_key[key] == records for records, key in examples)
    # the same reason across the two steps' files
    assert {Path(e.file).parent.name for e in report.reasons[1].examples} == {"results"}
    assert len({e.file for e in report.reasons[1].examples}) == 2


@pytest.mark.parametrize(("error", "key", "reason"), [
    ("Customer '10023' already exists", "10023", "Customer '…' already exists"),
    ("Customer '10077' already exists", "10077", "Customer '…' already exists"),
    ("customer 10003 invalid in step 'customers': creditLimit", "10010", "customer # invalid in step '…': creditLimit"),
    ("record 12: no customer K-17 in the API", "K-17", "record #: no customer # in the API"),
    ("HTTP 503 from https://api.example/v1/customer/10023 after 5 attempts", None,
     "HTTP # from <url> after # attempts"),
    ("action 3f2a9c1e-1111-2222-3333-444455556666 failed", None, "action # failed"),
    ('Field "dueDate"   is\nrequired', None, "Field '…' is required"),
])
def test_a_reason_loses_what_differs_per_record(error, key, reason):
    assert normalise_reason(error, key) == reason


def test_percentiles_are_values_that_were_measured():
    values = [float(v) for v in range(100, 0, -1)]
    assert [percentile(values, q) for q in (50, 90, 99)] == [50.0, 90.0, 99.0]
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None


def test_latency_and_rate_come_from_the_lines(results):
    report = build_report([results])
    first = report.groups[0]
    sent = [line["elapsed_ms"] for line in final_lines(first.file) if line["attempts"]]
    assert sorted(first.latencies.elements()) == sorted(round(ms, 1) for ms in sent)
    data = first.to_dict()
    assert data["latency_ms"]["p50"] == percentile(sent, 50) and data["latency_ms"]["p99"] == max(sent)
    span = first.span_s
    assert span > 0 and data["records_per_s"] == round(12 / span, 1)


def test_a_line_in_flight_and_a_resend_count_once_each(results):
    path = next(p for p in sorted(results.iterdir()) if p.name.endswith(".results.ndjson"))
    before = build_report([path]).groups[0]
    last = next(line for line in reversed(read_lines(path)) if line["outcome"] == "created")
    with ResultsWriter(path) as writer:
        # the same record sent again and refused, then one more record the process died sending
        writer.write(Outcome([last["records"][0]], "customer", last["identity"], last["fingerprint"], last["key"],
                             "create", "failed", http_status=500, attempts=3, error="HTTP 500 after 3 attempts",
                             elapsed_ms=12.5, throttled=2))
        writer.started([13], "customer", "key:10999", "feedfeedfeedfeed", "10999", "create", "http://127.0.0.1:1")
    after = build_report([path]).groups[0]
    assert after.units == before.units + 1
    assert after.outcomes["in_flight"] == 1
    assert after.outcomes["created"] == before.outcomes["created"] - 1
    assert after.outcomes["failed"] == before.outcomes["failed"] + 1
    assert after.retries == before.retries + 2 and after.throttled == 2 and before.throttled == 0


def test_old_lines_without_a_time_still_read(results, tmp_path):
    old = tmp_path / "old.results.ndjson"
    lines = [{k: v for k, v in line.items() if k not in ("at", "throttled")}
             for step in ("first", "again") for line in read_lines(results / f"{step}.customers.csv.results.ndjson")]
    old.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    assert all(line.at is None for line in iter_results(old))
    report = build_report([old])
    group = report.groups[0]
    assert group.undated == 14 and group.times == [] and group.first is None  # one file now: the second step's lines are the last and group.to_dict()["records_per_s"] is None
    assert report.reasons[0].reason == DUPLICATE
    assert "carry no time" in render_text(report)
    page = render_html(report)
    assert 'id="chart-outcomes"' in page and 'id="chart-rate"' not in page


def test_short_report_gives_totals_and_the_top_reasons(results):
    text = short_report([results])
    lines = text.splitlines()
    assert len(lines) == 6, text
    assert lines[0] == "report: 18 records in 2 file(s): 11 created, 4 failed, 3 invalid"
    assert lines[1] == (
        "calls sending them: 15 for 15 units sent (1.00 per unit; lookups and token calls not counted), 0 retries, 0 429s")
    assert lines[2].startswith("API errors") and lines[2].endswith(", 4 records:")
    assert lines[3].startswith("  customer: Customer '1000") and "(and 3 more) — e.g. again.customers.csv " in lines[3]
    assert lines[4].startswith("input errors") and lines[4].endswith(", 3 records:")
    assert "is not a number (and 2 more)" in lines[5] and "'…'" not in text


async def test_the_cli_reports_text_and_json(results, tmp_path):
    code, out, err = await run_cli("report", str(results), cwd=str(tmp_path))
    assert code == 0, err
    assert DUPLICATE in out and NOT_A_NUMBER in out and "not done, by reason" in out
    code, out, err = await run_cli("report", str(results), "--format", "json", cwd=str(tmp_path))
    assert code == 0, err
    data = json.loads(out)
    assert data["totals"]["outcomes"] == {"created": 11, "failed": 4, "invalid": 3}
    assert data["totals"]["calls_per_record"] == 1.0
    assert [g["outcomes"] for g in data["groups"]] == [{"created": 10, "invalid": 2},
                                                       {"created": 1, "failed": 4, "invalid": 1}]
    assert [(r["reason"], r["records"], len(r["examples"])) for r in data["reasons"]] == [
        (DUPLICATE, 4, 3), (NOT_A_NUMBER, 3, 3)]


async def test_the_cli_names_what_it_cannot_read(results, tmp_path):
    code, _, err = await run_cli("report", str(tmp_path / "missing.results.ndjson"))
    assert code == 2 and "missing.results.ndjson: no such results file or folder" in err
    assert "Traceback" not in err
    stray = tmp_path / "stray.ndjson"
    stray.write_text('{"a": 1}\n', encoding="utf-8")
    code, _, err = await run_cli("report", str(stray))
    assert code == 2 and "line 1 is not a results line" in err and "Traceback" not in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = await run_cli("report", str(empty))
    assert code == 2 and "no results files" in err


async def test_the_html_never_overwrites_a_results_file(results):
    target = sorted(results.glob("*.results.ndjson"))[0]
    content = target.read_bytes()
    code, _, err = await run_cli("report", str(results), "--html", str(target))
    assert code == 2 and "may not overwrite an input" in err
    assert target.read_bytes() == content


async def test_the_html_is_self_contained_and_escapes_what_the_files_hold(results, tmp_path):
    add_hostile_lines(sorted(results.glob("*.results.ndjson"))[-1])
    page_path = tmp_path / "report.html"
    code, out, err = await run_cli("report", str(results), "--html", str(page_path))
    assert code == 0, err
    assert f"html report: {page_path}" in out
    page = page_path.read_text(encoding="utf-8")
    # nothing from the network and no script: the charts are SVG written into the page
    assert "<link" not in page and 'src="http' not in page and "src='http" not in page
    assert "<script" not in page and len(page_path.read_bytes()) < 100_000
    for chart in ("outcomes", "rate", "calls", "latency", "reasons"):
        assert f'<div class="chart" id="chart-{chart}"><svg ' in page
    # markup from a results file is text wherever it lands: tables, chart data
    for raw in ("<script>alert", "<img src=x", "<b onmouseover"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;…&#x27;)&lt;/script&gt; refused: &lt;b onmouseover=alert(#)&gt;" in page
    assert "&lt;/td&gt;&lt;img src=x onerror=alert(&#x27;key&#x27;)&gt;" in page


def test_csv_tables_a_row_per_step_and_a_row_per_reason(results, tmp_path):
    import csv

    from importer.report.csv import reasons_csv_path, write_csv

    out = tmp_path / "report.csv"
    assert reasons_csv_path(out) == str(tmp_path / "report.reasons.csv")
    assert reasons_csv_path("report") == "report.reasons.csv"
    written = write_csv(build_report([results]), out)
    assert written == [str(out), str(tmp_path / "report.reasons.csv")]
    with open(out, encoding="utf-8", newline="") as f:
        steps = list(csv.DictReader(f))
    assert [(s["step"], s["records"], s["created"], s["failed"], s["invalid"]) for s in steps] == [
        ("first.customers.csv", "12", "10", "0", "2"), ("again.customers.csv", "6", "1", "4", "1")]
    with open(written[1], encoding="utf-8", newline="") as f:
        reasons = {r["reason"]: r for r in csv.DictReader(f)}
    assert reasons[DUPLICATE]["records"] == "4" and reasons[DUPLICATE]["failed"] == "4"
    assert reasons[NOT_A_NUMBER]["records"] == "3" and "first.customers.csv" in reasons[NOT_A_NUMBER]["examples"]


def test_a_results_file_of_many_records_is_reported_in_flat_memory(tmp_path):
    # A run's end prints the short report: it must not hold the results file in memory.
    import tracemalloc

    import orjson

    from importer.report.text import short_report

    def write(path, count):
        with open(path, "wb") as f:
            for n in range(1, count + 1):
                base = {"records": [n], "entity": "customer", "identity": f"key:{n}", "fingerprint": "f",
                        "key": str(n), "action": "create"}
                f.write(orjson.dumps({**base, "outcome": "started"}) + b"\n")
                f.write(orjson.dumps({**base, "outcome": "created" if n % 10 else "failed", "http_status": 201,
                                      "attempts": 1, "error": None if n % 10 else f"Customer '{n}' already exists",
                                      "elapsed_ms": (n % 500) / 10, "at": f"2026-12-01T10:{n // 6000 % 60:02d}:00.000Z"})
                        + b"\n")

    def peak(count):
        path = tmp_path / f"{count}.results.ndjson"
        write(path, count)
        tracemalloc.start()
        text = short_report([path])
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return text, size

    _, small = peak(1_000)
    text, large = peak(10_000)
    assert "10,000 records" in text and "1,000" in text  # every tenth failed, one reason
    assert large < small + 1_000_000, (small, large)  # 10 times the records, not 10 times the memory
