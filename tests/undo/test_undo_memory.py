"""Undo holds the work of a results file on disk, not in memory: a dry run of ten times the
records peaks at about the same Python memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

from importer.api import build_client
from importer.options import ImportOptions
from importer.undo import undo_results
from tests.support.runs import TOKEN, read_lines
from tests.support.stored import stored_records

pytestmark = pytest.mark.one_profile

# What a run of ten times the records may peak above: the page cache of its temporary database
# (importer.load.tempdb: 2 MiB), which 1,000 records do not fill. Held in memory, 10,000 records
# took some 10 MB more than 1,000.
_BOUND = 2 * 1024 * 1024


def _results(path: Path, count: int) -> None:
    """A results file as an import of ``count`` customers writes it (a started line, then a
    created one), ending with invoices ``INV-1``..``INV-3`` whose ledger no longer holds them."""
    with path.open("wb") as f:
        for n in range(1, count + 1):
            entity, key = ("invoice", f"INV-{n - count + 3}") if n > count - 3 else ("customer", f"K{n:06d}")
            line: dict[str, Any] = {"records": [n], "entity": entity, "identity": f"key:{key}",
                                    "fingerprint": f"f{n}", "key": key, "action": "create"}
            f.write(orjson.dumps({**line, "outcome": "started", "reference": f"imp-{n}"}) + b"\n")
            f.write(orjson.dumps({**line, "outcome": "created", "http_status": 201, "reference": f"imp-{n}",
                                  "sent": {"customer": "K1", "date": "2026-01-05", "lines": 1, "amount": "10"},
                                  "at": "2026-01-05T10:00:00.000Z"}) + b"\n")


async def _peak(url: str, results: Path) -> tuple[int, Any]:
    """The most memory Python held while ``results`` was undone (a dry run), and the summary."""
    async with build_client(ImportOptions(entity="customer", base_url=url, token=TOKEN)) as client:
        tracemalloc.start()
        try:
            summary = await undo_results(client, str(results), yes=False)
            return tracemalloc.get_traced_memory()[1], summary
        finally:
            tracemalloc.stop()


async def test_a_dry_run_of_ten_times_the_records_peaks_within_a_fixed_bound(sandbox, tmp_path):
    peaks: dict[int, int] = {}
    for count in (1_000, 10_000):
        results = tmp_path / f"c{count}.results.ndjson"
        _results(results, count)
        peaks[count], summary = await _peak(sandbox.url, results)
        assert summary.counts == {"left": count - 3, "absent": 3} and summary.calls == 3  # a GET per invoice
        assert len(read_lines(tmp_path / f"c{count}.undo.dry-run.ndjson")) == count
    assert await stored_records(sandbox, "invoice") == {}
    assert peaks[10_000] < peaks[1_000] + _BOUND, peaks
