"""A plan's customer gate keeps the customers that hold documents back, not every customer created.

Issue 28: a plan's peak memory grew with its customer step (12 MB at 100,000 customers),
every created key kept for the steps after it. Measured with tracemalloc over real results
files at 1,000 and 10,000 customers; and the gate still says the same of each customer.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from importer.load.gate import CustomerGate
from importer.load.results import Outcome, ResultsWriter

pytestmark = pytest.mark.one_profile  # no API involved


def _results(path: Path, created: int, failed: tuple[str, ...] = (), already: tuple[str, ...] = ()) -> Path:
    with ResultsWriter(path, fresh=True) as writer:
        for n in range(created):
            key = f"{100000 + n}"
            writer.write(Outcome([n + 1], "customer", f"key:{key}", "f", key, "create", "created", http_status=201))
        for n, key in enumerate(failed, created + 1):
            writer.write(Outcome([n], "customer", f"key:{key}", "f", key, "create", "failed", http_status=400,
                                 error="name is required"))
        for n, key in enumerate(already, created + len(failed) + 1):
            writer.write(Outcome([n], "customer", f"key:{key}", "f", key, "create", "failed", http_status=400,
                                 error="Customer already exists"))
    return path


def _learned_peak(path: Path) -> int:
    gate = CustomerGate()
    tracemalloc.start()
    try:
        gate.learn(path, "customers")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_learning_a_customer_step_takes_memory_that_does_not_grow_with_it(tmp_path: Path) -> None:
    small = _learned_peak(_results(tmp_path / "small.ndjson", 1_000, failed=("F1",)))
    large = _learned_peak(_results(tmp_path / "large.ndjson", 10_000, failed=("F1",)))
    # Keeping every key cost ~100 bytes a customer: 0.9 MB more for the 9,000 extra ones.
    assert large - small < 100_000, (small, large)


def test_the_gate_holds_back_only_customers_that_no_step_created(tmp_path: Path) -> None:
    gate = CustomerGate({"OLD": "customer OLD was left out"})
    first = _results(tmp_path / "first.ndjson", 3, failed=("F1", "F2"), already=("A1",))
    gate.learn(first, "customers")
    assert gate.waiting.keys() == {"OLD", "F1", "F2"}
    assert "failed in step 'customers': name is required" in gate.waiting["F1"]
    # A second step: F1 is created now; 100000 (created before) fails now; OLD is created.
    with ResultsWriter(tmp_path / "second.ndjson", fresh=True) as writer:
        writer.write(Outcome([1], "customer", "key:100000", "f", "100000", "update", "failed", http_status=400,
                             error="blocked"))
        writer.write(Outcome([2], "customer", "key:F1", "f", "F1", "create", "created", http_status=201))
        writer.write(Outcome([3], "customer", "key:OLD", "f", "OLD", "create", "created", http_status=201))
        writer.write(Outcome([4], "customer", "key:N1", "f", "N1", "create", "invalid", error="no name"))
        writer.write(Outcome([5], "customer", "key:N2", "f", "N2", "create", "invalid", error="no name"))
        writer.write(Outcome([6], "customer", "key:N2", "f", "N2", "create", "created", http_status=201))
    gate.learn(tmp_path / "second.ndjson", "more customers")
    assert gate.waiting.keys() == {"F2", "N1"}
    assert gate.waiting["N1"] == "customer N1 invalid in step 'more customers': no name"


def test_the_gate_knows_the_customers_the_steps_created_when_documents_follow(tmp_path: Path) -> None:
    first = _results(tmp_path / "first.ndjson", 3, failed=("F1",), already=("A1",))
    gate = CustomerGate()
    try:
        gate.learn(first, "customers")
        assert "100000" in gate and "100002" in gate and "A1" in gate  # created, or there already
        assert "F1" not in gate and "100003" not in gate and "100000 " not in gate  # exact, as written
    finally:
        gate.close()
    quiet = CustomerGate()
    try:
        quiet.learn(first, "customers", note_created=False)  # no document step after it: nothing kept
        assert "100000" not in quiet and quiet.waiting.keys() == {"F1"}
    finally:
        quiet.close()
