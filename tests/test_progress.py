"""An honest progress line: the ETA counts the window's allowance and the wait; the line shows the window."""

import re
import time

import pytest

from importer.client import ApiClient, StaticToken
from importer.client.pacing import Pacer, WindowState
from importer.progress import LiveProgress, allowance_seconds, eta_seconds, window_text
from importer.sources import ByteCounter
from importer.summary import Summary
from tests.support.runs import TOKEN

SPENT = WindowState(limit=10, remaining=0, reopens_in=60.0, window=60.0, wait=60.0)


def test_records_left_wait_for_as_many_windows_as_they_need():
    # 10/10 used, reopens in 60 s; 100 records at 10 per 60 s: the tenth window opens at 600 s.
    assert allowance_seconds(100, SPENT) == pytest.approx(600)
    # The pace so far says 2 s; the window says otherwise.
    assert eta_seconds(100, 1.0, 2.0, SPENT) == pytest.approx(600)
    # Two calls per record (a create and a release) need twice the windows.
    assert eta_seconds(100, 2.0, 2.0, SPENT) == pytest.approx(60 + 19 * 60)


def test_what_the_current_window_still_allows_costs_no_wait():
    fresh = WindowState(limit=10, remaining=8, reopens_in=30.0, window=60.0, wait=0.0)
    assert allowance_seconds(8, fresh) == 0
    assert allowance_seconds(9, fresh) == pytest.approx(30)  # the ninth waits for the turn
    assert allowance_seconds(19, fresh) == pytest.approx(90)
    assert eta_seconds(8, 1.0, 5.0, fresh) == pytest.approx(5)  # the pace rules when the window does not bind


def test_no_window_open_yet_counts_a_whole_one_from_now():
    unopened = WindowState(limit=10, remaining=None, reopens_in=0.0, window=60.0, wait=0.0)
    assert allowance_seconds(10, unopened) == 0
    assert allowance_seconds(25, unopened) == pytest.approx(120)


def test_an_api_that_does_not_count_leaves_the_pace_and_the_wait():
    uncounted = WindowState(limit=None, remaining=None, reopens_in=0.0, window=3600.0, wait=30.0)
    assert allowance_seconds(10_000, uncounted) == 30
    assert eta_seconds(10_000, 1.0, 12.0, uncounted) == pytest.approx(42)
    assert eta_seconds(10_000, 1.0, 12.0, None) == 12


def test_the_window_state_as_a_person_reads_it():
    assert window_text(WindowState(600, 0, 230.0, 3600.0, 230.0)) == "600/600 used, reopens in 4 min"
    assert window_text(WindowState(15_000, 14_000, 45.2, 3600.0, 0.0)) == "1,000/15,000 used, reopens in 46 s"
    assert window_text(WindowState(10, 0, 3900.0, 7200.0, 0.0)) == "10/10 used, reopens in 1 h 05 min"
    assert window_text(WindowState(10, None, 0.0, 60.0, 0.0)) is None  # no window open


async def test_the_pacer_tells_its_window_from_the_headers():
    pacer = Pacer()
    assert pacer.window_state().limit is None and pacer.window_state().used is None
    ticket = await pacer.acquire()
    pacer.release(ticket, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60",
                           "X-RateLimit-Policy": "10;w=60"}, 201)
    state = pacer.window_state()
    assert (state.limit, state.remaining, state.used, state.window) == (10, 0, 10, 60.0)
    assert 59 < state.reopens_in <= 60 and 59 < state.wait <= 60

    pacer = Pacer()
    ticket = await pacer.acquire()
    pacer.release(ticket, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "30"}, 201)
    state = pacer.window_state()
    assert (state.used, state.wait) == (3, 0.0) and 29 < state.reopens_in <= 30


async def test_the_line_shows_the_spent_window_and_an_eta_it_allows(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"x" * 1000)
    with open(path, "rb") as raw:
        raw.seek(500)  # half read: the 100 records read so far stand for 200 in all
        summary = Summary("customer", "create", str(path), None)
        summary.started_at = time.monotonic() - 10  # 10 s for the first half: the pace says 10 s more
        summary.records = summary.units = 100  # the ETA counts units: here a customer each
        async with ApiClient("http://127.0.0.1:9", StaticToken(TOKEN)) as client:  # nothing is sent
            ticket = await client.pacer.acquire()
            client.pacer.release(ticket, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                                          "X-RateLimit-Reset": "60", "X-RateLimit-Policy": "10;w=60"}, 201)
            line = LiveProgress(summary, ByteCounter(raw, 1000), client).line().plain
    assert "window 10/10 used, reopens in 1 min" in line, line
    assert re.search(r"waiting until \d\d:\d\d:\d\d: rate-limit window spent \(10/10 calls\)", line), line
    # 200 records at 10 a minute, the first ten after this wait: the twentieth window opens in 20 min.
    assert re.search(r"ETA 20m00s|ETA 19m5\ds", line), line


async def test_the_line_shows_no_window_while_nothing_waits(tmp_path):
    summary = Summary("customer", "create", "c.csv", None)
    async with ApiClient("http://127.0.0.1:9", StaticToken(TOKEN)) as client:
        ticket = await client.pacer.acquire()
        client.pacer.release(ticket, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9",
                                      "X-RateLimit-Reset": "60"}, 201)
        line = LiveProgress(summary, None, client).line().plain
    assert "window" not in line and "waiting" not in line, line
