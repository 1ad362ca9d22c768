"""The scaling sweep (s) of ``make bench``: its machinery at a tiny size, its verdicts, and the
table a partial run leaves behind. Nothing here is timed: the sweep's numbers are only
checked to exist and to be judged the way the benchmark says."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.benchlib.benches.sweep import _rows, matrix_markdown  # noqa: E402
from benchmarks.benchlib.procs import Finished  # noqa: E402
from benchmarks.benchlib.report import BenchResult, Row, Target, merge_markdown, render_markdown  # noqa: E402
from benchmarks.benchlib.sandbox import running_sandbox  # noqa: E402
from benchmarks.benchlib.sweep import Measured, Startup, sweep_size  # noqa: E402
from tests.support.runs import read_lines  # noqa: E402

pytestmark = pytest.mark.timeout(60)


async def _stored_numbers(url: str) -> list[int]:
    import aiohttp

    headers = {"Authorization": "Bearer sandbox-token"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/v1/customer", params={"pageSize": "1000"}, headers=headers) as resp:
            assert resp.status == 200
            return sorted(int(c["number"]) for c in await resp.json())


def test_resume_and_report_at_fifty_records_leave_the_ledger_they_claim(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        got = sweep_size(sandbox, tmp_path / "50", 50, Startup(0.0, 0.0), paths=("resume", "report"), timeout=60)
        stored = asyncio.run(_stored_numbers(sandbox.url))
    assert list(got) == ["resume", "report"]  # run went first (both read its results) but is not reported
    # resume skipped the first half the results file had finished and sent the rest into an empty ledger
    assert stored == list(range(26, 51))
    assert got["resume"].facts["stored"] == 25
    resumed = [line for line in read_lines(tmp_path / "50" / "resume.results.ndjson") if line["outcome"] == "created"]
    assert sorted(line["records"][0] for line in resumed) == list(range(1, 51))
    assert got["report"].facts["outcomes"] == {"created": 50}
    for m in got.values():
        assert m.records == 50 and m.process.returncode == 0
        assert m.rss_mb > 10 and m.process.cpu_s > 0 and m.wall_us > 0


def test_an_unknown_path_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown path.*imprt"):
        sweep_size(None, tmp_path, 10, Startup(0.0, 0.0), paths=("run", "imprt"))  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def _measured(path: str, records: int, wall_s: float, rss_mb: float) -> Measured:
    done = Finished(0, wall_s=wall_s, cpu_s=wall_s / 2, peak_rss_mb=rss_mb, stdout="", stderr="")
    return Measured(path, records, done, Startup(0.0, 0.0))


def test_growth_past_the_limits_is_a_miss_and_flagged_in_the_matrix() -> None:
    sizes = (1_000, 10_000, 100_000)
    runs = {
        1_000: {"run": _measured("run", 1_000, 1.0, 50.0), "export": _measured("export", 1_000, 1.0, 50.0)},
        10_000: {"run": _measured("run", 10_000, 4.0, 50.0), "export": _measured("export", 10_000, 4.0, 50.0)},
        # run: 1.4× the time per record, 1.1× the memory; export: 2× and 1.3×
        100_000: {"run": _measured("run", 100_000, 56.0, 55.0), "export": _measured("export", 100_000, 80.0, 65.0)},
    }
    run_rows = _rows("run", {n: runs[n]["run"] for n in sizes}, sizes, judged=True)
    export_rows = _rows("export", {n: runs[n]["export"] for n in sizes}, sizes, judged=True)
    assert [r.verdict for r in run_rows] == ["PASS", "PASS"]
    assert [r.verdict for r in export_rows] == ["MISS", "MISS"]
    assert export_rows[0].value == pytest.approx(2.0) and export_rows[1].value == pytest.approx(1.3)
    assert "1,000 / 400 / 800" in export_rows[0].note  # µs per record at each size
    quick = _rows("export", {n: runs[n]["export"] for n in sizes[:2]}, sizes[:2], judged=False)
    assert [r.verdict for r in quick] == ["", ""] and "10k ÷ 1k" in quick[0].measure
    table = matrix_markdown("t", sizes, runs)
    (run_line,) = [ln for ln in table.splitlines() if ln.startswith("| run ")]
    (export_line,) = [ln for ln in table.splitlines() if ln.startswith("| export ")]
    assert "GROWS" not in run_line
    assert export_line.endswith("| 2.00× **GROWS** | 1.30× **GROWS** |")


def _result(key: str, measure: str, note: str) -> BenchResult:
    return BenchResult(key, key, rows=[Row(key, measure, 1.0, "1", Target("<=", 2.0))], notes=[note])


def test_a_partial_run_keeps_the_other_benchmarks_rows_of_latest() -> None:
    machine = {"cores": 2}
    previous = render_markdown([_result("a", "old a", "a's note"), _result("s", "old s", "old s note")],
                               "importer benchmarks 20260101T000000Z: cpu", machine)
    current = render_markdown([_result("s", "new s", "new s note")], "importer benchmarks 20260202T000000Z: cpu",
                              machine, ["WARNING: a run note"])
    merged = merge_markdown(previous, current, ["s"])
    assert merged.startswith("# importer benchmarks 20260202T000000Z: cpu (rows by run: 20260202T000000Z: s; "
                             "20260101T000000Z: a)\n")
    rows = [ln for ln in merged.splitlines() if ln.startswith("| a ") or ln.startswith("| s ")]
    assert [r.split(" | ")[1] for r in rows] == ["old a", "new s"]
    assert "- (a) a's note" in merged and "- (s) new s note" in merged and "old s" not in merged
    assert "- WARNING: a run note" in merged and merged.rstrip().endswith("- cores: 2")


def test_merges_in_a_row_keep_which_run_each_benchmarks_rows_came_from() -> None:
    machine = {"cores": 2}
    full = render_markdown([_result(k, f"full {k}", "") for k in "abgn"],
                           "importer benchmarks 20260101T000000Z: Intel(R) cpu", machine)
    g = render_markdown([_result("g", "g again", "")], "importer benchmarks 20260102T000000Z: Intel(R) cpu", machine)
    n = render_markdown([_result("n", "n quick", "")], "importer benchmarks 20260103T000000Z (quick): Intel(R) cpu",
                        machine)
    a = render_markdown([_result("a", "a again", "")], "importer benchmarks 20260104T000000Z: Intel(R) cpu", machine)
    merged = merge_markdown(merge_markdown(merge_markdown(full, g, ["g"]), n, ["n"]), a, ["a"])
    assert merged.splitlines()[0] == (
        "# importer benchmarks 20260104T000000Z: Intel(R) cpu (rows by run: 20260104T000000Z: a; "
        "20260103T000000Z (quick): n; 20260102T000000Z: g; 20260101T000000Z: b)")
    rows = [ln.split(" | ")[1] for ln in merged.splitlines() if ln.startswith("| ") and not ln.startswith("| bench")]
    assert rows == ["a again", "full b", "g again", "n quick"]

