"""The collector is set for a run while it lasts, and the caller's settings come back after.

Each test sets settings of its own first (thresholds no run would choose), runs real imports
into the embedded sandbox, reads the collector's settings from inside the run (its outcome
callback, a plan's step watch) and after it, and checks the ledger holds what was sent.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import importer
from importer.client.collector import thresholds_for
from importer.plans.plan import load_plan, run_plan
from tests.support.runs import TOKEN, get_json

pytestmark = pytest.mark.one_profile

MINE = (1234, 7, 8)  # the caller's own thresholds


@pytest.fixture(autouse=True)
def callers_settings() -> Iterator[None]:
    """The caller's thresholds during the test, and the process's own back after it."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(*MINE)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if enabled:
            gc.enable()


def settings() -> tuple[tuple[int, int, int], int, bool]:
    return gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()


async def stored(url: str, tenant: str = "") -> set[str]:
    records: Any = await get_json(f"{url}/sandbox/records/customer")
    return {r["number"] for r in records}


def customers(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"number": f"{prefix}{n}", "name": f"Customer {prefix}{n}"} for n in range(1, count + 1)]


async def test_a_run_tunes_the_collector_and_gives_the_callers_settings_back(sandbox: Any) -> None:
    frozen_before = gc.get_freeze_count()
    during: list[tuple[tuple[int, int, int], int, bool]] = []
    summary = await importer.import_records(
        customers("G", 5), entity="customer", base_url=sandbox.url, token=TOKEN, concurrency=150,
        on_outcome=lambda line: during.append(settings()),
    )
    assert summary.outcomes["created"] == 5
    assert {"G1", "G2", "G3", "G4", "G5"} <= await stored(sandbox.url)
    assert len(during) == 5
    for thresholds, frozen, enabled in during:
        assert thresholds == thresholds_for(150) == (15_000, 20, 10)
        assert frozen > frozen_before  # what was there before the run is walked no more
        assert enabled
    assert settings() == (MINE, frozen_before, True)


async def test_overlapping_runs_give_the_settings_back_when_the_last_ends(sandbox: Any) -> None:
    frozen_before = gc.get_freeze_count()
    first_sent, first_may_end = anyio.Event(), anyio.Event()
    seen: dict[str, list[tuple[int, int, int]]] = {"first": [], "second": []}

    async def slow_records() -> AsyncIterator[dict[str, str]]:
        yield {"number": "A1", "name": "First"}
        await first_may_end.wait()
        yield {"number": "A2", "name": "Second"}

    def first_outcome(line: dict[str, Any]) -> None:
        seen["first"].append(gc.get_threshold())
        first_sent.set()

    async def first() -> None:
        await importer.import_records(slow_records(), entity="customer", base_url=sandbox.url, token=TOKEN,
                                      concurrency=100, on_outcome=first_outcome)

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        with anyio.fail_after(5):
            await first_sent.wait()
        await importer.import_records(customers("B", 3), entity="customer", base_url=sandbox.url, token=TOKEN,
                                      concurrency=300, on_outcome=lambda line: seen["second"].append(gc.get_threshold()))
        between = settings()
        first_may_end.set()
    assert seen["second"] == [thresholds_for(400)] * 3  # both runs' requests in flight
    assert between == (thresholds_for(100), gc.get_freeze_count() or between[1], True)
    assert between[1] > frozen_before  # still frozen: the first run is not over
    assert seen["first"] == [thresholds_for(100), thresholds_for(100)]
    assert settings() == (MINE, frozen_before, True)
    assert {"A1", "A2", "B1", "B2", "B3"} <= await stored(sandbox.url)


async def test_a_run_cut_short_gives_the_settings_back(sandbox: Any) -> None:
    frozen_before = gc.get_freeze_count()
    refused = await importer.import_records(customers("F", 2), entity="customer", base_url=sandbox.url,
                                            token="not-a-token", concurrency=50)
    assert refused.halted  # the API refused the token: the run stopped
    assert settings() == (MINE, frozen_before, True)
    assert not {"F1", "F2"} & await stored(sandbox.url)

    sent, never = anyio.Event(), anyio.Event()

    async def endless() -> AsyncIterator[dict[str, str]]:
        yield {"number": "K1", "name": "Kept"}
        await never.wait()
        yield {"number": "K2", "name": "Never read"}

    with anyio.move_on_after(5) as scope:  # the caller gives up on the run: it is cancelled
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: importer.import_records(
                endless(), entity="customer", base_url=sandbox.url, token=TOKEN, concurrency=70,
                on_outcome=lambda line: sent.set()))
            await sent.wait()
            assert gc.get_threshold() == thresholds_for(70)
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught  # cancelled by the test, well before the deadline
    assert settings() == (MINE, frozen_before, True)
    assert "K1" in await stored(sandbox.url)


async def test_a_collector_the_caller_disabled_stays_disabled(sandbox: Any) -> None:
    gc.disable()
    during: list[bool] = []
    await importer.import_records(customers("D", 2), entity="customer", base_url=sandbox.url, token=TOKEN,
                                  on_outcome=lambda line: during.append(gc.isenabled()))
    assert during == [False, False] and not gc.isenabled()
    assert gc.get_threshold() == MINE
    assert {"D1", "D2"} <= await stored(sandbox.url)


async def test_a_plan_keeps_the_freeze_from_one_step_to_the_next(sandbox: Any, tmp_path: Path) -> None:
    frozen_before = gc.get_freeze_count()
    for name, prefix in (("a.csv", "P"), ("b.csv", "Q")):
        (tmp_path / name).write_text("number,name\n" + "".join(f"{prefix}{n},N{n}\n" for n in range(1, 4)))
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text("[defaults]\nconcurrency = 40\n[[step]]\ninput = 'a.csv'\nentity = 'customer'\n"
                         "[[step]]\ninput = 'b.csv'\nentity = 'customer'\nconcurrency = 60\n")
    at_start: list[tuple[tuple[int, int, int], int, bool]] = []
    done = await run_plan(load_plan(plan_path), overrides={"base_url": sandbox.url, "token": TOKEN},
                          watch=lambda step, summary: at_start.append(settings()))
    assert [s.outcomes["created"] for _, s in done] == [3, 3]
    # Each step starts under the plan's settings, frozen since the plan began; none is the caller's.
    assert [thresholds for thresholds, _, _ in at_start] == [thresholds_for(0)] * 2
    assert at_start[0][1] > frozen_before and at_start[1][1] > frozen_before
    assert settings() == (MINE, frozen_before, True)
    assert {"P1", "P2", "P3", "Q1", "Q2", "Q3"} <= await stored(sandbox.url)
