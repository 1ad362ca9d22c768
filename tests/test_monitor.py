"""Runs watched with nobody at a terminal: progress events at the interval asked for, a metrics
file that Prometheus' own parser reads and whose counters are the summary's, and a summary that
names the run (id, version, times, target, the input's fingerprint)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import importer
from importer.errors import ConfigError
from importer.monitor import Monitor
from importer.plans.plan import load_plan, run_plan
from importer.runinfo import fingerprint
from tests.support.runs import TOKEN, get_json, run_cli

pytestmark = pytest.mark.one_profile  # the watching is the importer's own, whatever the API's quirks

COUNT = 30


def _customers(path: Path, count: int = COUNT) -> Path:
    path.write_text("number,name\n" + "".join(f"{n},Kunde {n}\n" for n in range(1, count + 1)), encoding="utf-8")
    return path


def _metrics(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the file, as Prometheus' text-format parser reads it: (name, labels) -> value."""
    samples = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _agree(metrics: dict, summary: dict) -> None:
    """The metrics file's counters are the summary's."""
    for outcome, count in summary["outcomes"].items():
        assert metrics[("importer_records_total", (("outcome", outcome),))] == count, outcome
    assert metrics[("importer_records_read_total", ())] == summary["records"]
    assert metrics[("importer_calls_total", ())] == summary["calls"]
    assert metrics[("importer_throttled_total", ())] == summary["throttled"]
    assert metrics[("importer_window_waits_total", ())] == summary["window_waits"]
    last = datetime.fromisoformat(summary["last_success"]).timestamp()
    assert metrics[("importer_last_success_timestamp_seconds", ())] == pytest.approx(last, abs=0.002)
    assert metrics[("importer_run_info", (("run_id", summary["run_id"]), ("version", importer.__version__)))] == 1


async def test_a_json_logged_run_without_a_terminal_reports_progress_and_keeps_metrics(start_sandbox, tmp_path):
    path = _customers(tmp_path / "c.csv")
    metrics = tmp_path / "importer.prom"
    # 20 calls a 2 s window: the run waits for the window once, so it lasts about 2 s.
    async with start_sandbox(rate_limit=20, rate_window=2.0) as sandbox:
        code, out, err = await run_cli(
            "run", str(path), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN,
            "--company", "none", "--log-format", "json", "--progress-every", "0.25",
            "--metrics-file", str(metrics), "--metrics-every", "0.2", "--summary-json", "-")
        stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert code == 0, err
    assert sorted(int(c["number"]) for c in stored) == list(range(1, COUNT + 1))  # type: ignore[union-attr]
    summary = json.loads(out)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # stderr: JSON only
    progress = [line for line in lines if line.get("event") == "progress"]
    elapsed = (datetime.fromisoformat(summary["finished"]) - datetime.fromisoformat(summary["started"])).total_seconds()
    assert elapsed > 1.0 and summary["window_waits"] >= 1  # the window was waited for
    # One event each 0.25 s the run lasted: never more, and not many fewer on a busy machine.
    assert elapsed / 0.25 / 2 <= len(progress) <= elapsed / 0.25 + 1, (elapsed, len(progress))
    done = [event["done"] for event in progress]
    assert done == sorted(done) and done[0] < COUNT  # the first while the window held the run
    waiting = [event for event in progress if event["window"]["waiting_for"]]
    assert waiting and waiting[0]["window"]["limit"] == 20 and waiting[0]["window"]["used"] == 20
    assert all(event["left"] is not None for event in progress[1:])  # the input's size known once read
    for event in progress:
        assert event["run_id"] == summary["run_id"] and event["done"] + (event["left"] or 0) <= COUNT
        assert event["left"] is None or event["done"] + event["left"] == COUNT
        assert event["level"] == "info" and event["rate"] >= 0 and "eta_s" in event
    # The summary names the run; nothing in it is a secret.
    assert len(summary["run_id"]) == 32 and summary["version"] == importer.__version__
    assert summary["target"] == {"base_url": sandbox.url, "company": None}
    assert summary["input_fingerprint"] == {"method": "sha256", "bytes": path.stat().st_size,
                                            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert TOKEN not in out + err + metrics.read_text()
    _agree(_metrics(metrics), summary)
    assert _metrics(metrics)[("importer_exit_code", ())] == 0
    assert not list(tmp_path.glob(".importer.prom*"))  # no temporary file left beside it


async def test_a_plan_run_from_python_under_a_monitor_keeps_its_metrics(sandbox, tmp_path):
    _customers(tmp_path / "c.csv", 5)
    (tmp_path / "more.csv").write_text("number,name\n6,F\n7,G\n", encoding="utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\nname = "a"\ninput = "c.csv"\nentity = "customer"\n\n'
                    '[[step]]\nname = "b"\ninput = "more.csv"\nentity = "customer"\n', encoding="utf-8")
    metrics = tmp_path / "m.prom"
    async with Monitor(metrics_file=metrics, metrics_every=60):
        done = await run_plan(load_plan(plan), overrides={"base_url": sandbox.url, "token": TOKEN})
    (a, first), (b, second) = done
    assert first.run_id == second.run_id  # a plan's steps are one run
    read = _metrics(metrics)
    assert read[("importer_records_total", (("outcome", "created"),))] == 7
    assert read[("importer_calls_total", ())] == first.calls + second.calls
    assert read[("importer_running", ())] == 0 and read[("importer_exit_code", ())] == 0
    with pytest.raises(ConfigError, match="not found"):  # an error in the block is itself, not wrapped
        async with Monitor(metrics_file=metrics):
            await importer.import_records(tmp_path / "gone.csv", entity="customer", base_url=sandbox.url, token=TOKEN)


def test_a_large_file_is_fingerprinted_by_size_mtime_and_its_first_mib(tmp_path):
    path = tmp_path / "big.csv"
    head = b"x" * (1 << 20)
    path.write_bytes(head + b"tail")
    said = fingerprint(str(path), whole_limit=1000)
    assert said["method"] == "size-mtime-head" and said["bytes"] == len(head) + 4
    assert said["head_sha256"] == hashlib.sha256(head).hexdigest()
    assert fingerprint(str(path))["sha256"] == hashlib.sha256(head + b"tail").hexdigest()


def test_a_counter_never_goes_down_when_the_summary_counts_fewer_calls_than_were_seen(tmp_path: Path) -> None:
    from importer.summary import Summary

    summary = Summary(entity="customer", mode="create", input="c.csv", results_path=None)
    monitor = Monitor(metrics_file=tmp_path / "m.prom")
    monitor.watch(summary)
    summary.calls = 7  # seen while the run went (a company's reference reads among them)
    assert monitor.totals()["calls"] == 7
    summary.calls = 5  # what the finished summary counts: the records' calls only
    families = {f.name: f for f in text_string_to_metric_families(monitor.metrics_text(final=True))}
    assert families["importer_calls"].samples[0].value == 7
