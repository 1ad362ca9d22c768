"""A record refused as a repeat of an earlier record of its input: its results line names the
first (``duplicate_of``), and a report counts it as a record of its own by that field, or,
in a file written before the field, by its error text."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import importer
from importer.load.results import Outcome, ResultsWriter, iter_results
from importer.report.build import build_report
from tests.support.runs import TOKEN, get_json, read_lines

pytestmark = pytest.mark.one_profile


async def test_a_repeated_key_names_the_first_record_and_counts_as_its_own(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\nC1,A\nC2,B\nC1,A igjen\nC2,B igjen\n", encoding="utf-8")
    summary = await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert summary.outcomes["created"] == 2 and summary.outcomes["invalid"] == 2
    stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert sorted(c["number"] for c in stored) == ["C1", "C2"]  # each once; the repeats never sent

    results = Path(f"{path}.results.ndjson")
    finals = {tuple(line["records"]): line for line in read_lines(results) if line["outcome"] != "started"}
    assert (finals[(3,)]["duplicate_of"], finals[(4,)]["duplicate_of"]) == (1, 2)
    assert finals[(1,)]["duplicate_of"] is None and finals[(2,)]["duplicate_of"] is None
    assert [line.duplicate_of for line in iter_results(results) if line.outcome == "invalid"] == [1, 2]

    group = build_report([results]).groups[0]
    assert dict(group.outcomes) == {"created": 2, "invalid": 2} and group.units == 4


def _lines(path: Path, repeat: dict) -> None:
    with ResultsWriter(path) as writer:
        writer.write(Outcome([1], "customer", "key:C1", "f1", "C1", "create", "created", http_status=201,
                             attempts=1))
        writer.write(repeat)


def test_the_report_reads_the_field_not_the_words(tmp_path):
    path = tmp_path / "new.results.ndjson"
    # worded as no version words it: only the field says it is a repeat
    _lines(path, Outcome([3], "customer", "key:C1", "f2", "C1", "create", "invalid",
                         error="record 3: C1 again (see record 1)", duplicate_of=1).as_dict())
    group = build_report([path]).groups[0]
    assert dict(group.outcomes) == {"created": 1, "invalid": 1} and group.units == 2

    plain = tmp_path / "plain.results.ndjson"  # the same words without the field: a later word on C1
    _lines(plain, Outcome([3], "customer", "key:C1", "f2", "C1", "create", "invalid",
                          error="record 3: C1 again (see record 1)").as_dict())
    assert dict(build_report([plain]).groups[0].outcomes) == {"invalid": 1}


def test_a_line_written_before_the_field_is_read_by_its_error_text(tmp_path):
    path = tmp_path / "old.results.ndjson"
    old = {"records": [3], "entity": "customer", "identity": "key:C1", "fingerprint": "f2", "key": "C1",
           "action": "create", "outcome": "invalid", "http_status": None, "attempts": 0, "location": None,
           "error": "record 3: same number as record 1", "elapsed_ms": 0.0}
    _lines(path, old)
    assert b"duplicate_of" not in path.read_bytes().splitlines()[-1]
    assert [line.duplicate_of for line in iter_results(path)] == [None, None]
    group = build_report([path]).groups[0]
    assert dict(group.outcomes) == {"created": 1, "invalid": 1} and group.units == 2
    assert orjson.loads(path.read_bytes().splitlines()[-1])["error"] == old["error"]  # read, not changed
