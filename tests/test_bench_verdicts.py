"""How two benchmarks judge what they measured: (n) flatness on what a further invoice costs,
and (a) the importer's own CPU per record beside the ratio. Nothing here is timed: the
figures are made up so the verdicts can be checked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from benchmarks.benchlib.benches.common import Sample  # noqa: E402
from benchmarks.benchlib.benches.reconcile_memory import _rows  # noqa: E402
from benchmarks.benchlib.benches.unthrottled import _paired_cpu_overheads  # noqa: E402


def _size(count: int, fixed_s: float, per_invoice_us: float, rss_mb: float = 60.0) -> dict[str, float]:
    """What the bench records for a size: CPU per invoice with ``fixed_s`` of start-up spread over it."""
    total_us = fixed_s * 1e6 + per_invoice_us * count
    return {"count": count, "rss_mb": rss_mb, "cpu_us": total_us / count, "wall_us": 1.5 * total_us / count}


def test_a_fixed_cost_does_not_make_a_growing_cost_look_flat() -> None:
    # 0.9 s of imports, then each further invoice dearer at the top: 150 µs up to 100,000, 300 after.
    sizes = [_size(10_000, 0.9, 150), _size(100_000, 0.9, 150)]
    top = _size(300_000, 0, 0)
    top["cpu_us"] = (sizes[1]["cpu_us"] * 100_000 + 300 * 200_000) / 300_000
    flat_looking = top["cpu_us"] / sizes[0]["cpu_us"]  # the plain ratio: 253 ÷ 240 µs
    assert flat_looking < 1.25
    rss, flat = _rows("reconcile", [*sizes, top])
    assert flat.value == pytest.approx(2.0)  # 300 ÷ 150: what a further invoice costs
    assert flat.target is not None and not flat.target.met(flat.value)
    assert "→" in flat.measure and "300 ÷ 150 µs" in flat.note
    assert rss.measure == "reconcile: peak RSS at 300,000 invoices"


def test_a_flat_cost_passes_whatever_the_fixed_cost() -> None:
    sizes = [_size(10_000, 0.9, 120, 62.0), _size(100_000, 0.9, 120, 66.0), _size(300_000, 0.9, 120, 70.0)]
    rss, flat = _rows("verify", sizes)
    assert flat.value == pytest.approx(1.0)
    assert flat.target is not None and flat.target.met(flat.value)
    assert rss.value == 70.0 and rss.target is not None and rss.target.met(rss.value)
    assert "MB at 10,000 / 100,000 / 300,000: 62.0 / 66.0 / 70.0" in rss.note


def test_two_sizes_judge_the_plain_ratio() -> None:
    _, flat = _rows("verify", [_size(1_000, 0, 100), _size(10_000, 0, 130)])
    assert flat.value == pytest.approx(1.3)
    assert flat.measure == "verify: CPU per invoice, 10,000 ÷ 1,000"


def _sample(cpu_us: float) -> Sample:
    return Sample("importer", 1.0, 1, 1, 100.0, 50.0, 150.0, cpu_us_per_record=cpu_us)


def test_the_importers_own_cpu_is_paired_by_round() -> None:
    importer = [_sample(260), _sample(240), _sample(250)]
    bare = [_sample(160), _sample(150), _sample(100)]
    assert _paired_cpu_overheads(importer, bare) == [100, 90, 150]
    assert _paired_cpu_overheads(importer[:2], [*bare[:1], _sample(0)]) == [100]  # a round without a figure: left out
