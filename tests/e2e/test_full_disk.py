"""A results file on a disk that fills up: the run stops cleanly, the resume creates nothing twice.

The disk is a real tmpfs of a few KiB, mounted by the test (CI runs as root); where the
machine does not allow mounting, the test is skipped.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from importer.company import load_company
from tests.support.runs import TOKEN, get_json, read_lines, run_cli


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_full_disk_stops_the_run_and_the_resume_creates_nothing_twice(sandbox, tmp_path, small_disk):
    count = 600
    path = tmp_path / "c.csv"
    path.write_text("number,name\n" + "".join(f"C{i},Kunde {i} med et langt navn AS\n" for i in range(count)),
                    encoding="utf-8")
    results = small_disk / "r.ndjson"
    args = ("run", str(path), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN,
            "--results", str(results))
    code, out, err = await run_cli(*args)
    assert code == 1, err
    assert "Traceback" not in err + out and "ExceptionGroup" not in err + out
    assert "the disk is full" in out + err
    assert "Resume with" in err and "--resume" in err
    lines = read_lines(results)  # every line whole: the file parses to its end
    assert lines and results.read_bytes().endswith(b"\n")
    sent_once = Counter(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert 0 < len(sent_once) < count and max(sent_once.values()) == 1
    # Every record sent has its started line: none went out unrecorded.
    started = {x["key"] for x in lines if x["outcome"] == "started"}
    assert set(sent_once) <= started
    # The company the preflight read (larger than the disk) is kept whole or not at all: no half
    # file for the resume to trip on, and the disk's room is left to the results.
    company = small_disk / "r.ndjson.company.json"
    assert "cannot keep the company beside the results" in err and not company.exists()
    assert list(small_disk.iterdir()) == [results]

    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    code, out, err = await run_cli(*args, "--resume")
    assert code == 0, err
    assert load_company(company).records["creditTerms"]  # read once by the resume, and kept now
    stored = Counter(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert stored == Counter({f"C{i}": 1 for i in range(count)})
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert stats["duplicates_refused"] == 0  # the resume looked up what was in flight, sent nothing twice
