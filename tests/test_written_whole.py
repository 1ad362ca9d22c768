"""``written_whole``: report, totals and map files are replaced whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from importer.outputs import written_whole


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_leftovers(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("the good one")
    with pytest.raises(RuntimeError), written_whole(target, "w", encoding="utf-8") as f:
        f.write("half a page")
        raise RuntimeError("the disk filled up")
    assert target.read_text() == "the good one"
    assert os.listdir(tmp_path) == ["report.html"]


def test_a_finished_write_replaces_the_file_readable_by_others(tmp_path):
    target = tmp_path / "totals.csv"
    with written_whole(target, "wb") as f:
        f.write(b"a;b\r\n")
    assert target.read_bytes() == b"a;b\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["totals.csv"]
