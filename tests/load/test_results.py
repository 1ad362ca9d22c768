"""The results file: whole lines, one writer, identities read back."""

import os

import orjson
import pytest

from importer.errors import ConfigError, ResultsWriteError
from importer.load.results import Outcome, ResultsWriter
from importer.load.state import read_results


def outcome(identity: str, result: str, records=(1,), fingerprint: str = "f1", **fields) -> Outcome:
    return Outcome(list(records), "customer", identity, fingerprint, identity.split(":")[-1], "create",
                   result, **fields)


def test_write_ahead_lines_and_resume_state(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.started([1], "customer", "key:1", "f1", "1", "create")
        writer.write(outcome("key:1", "created"))
        writer.started([2, 3], "invoice", "key:9", "f9", "9", "create")
        writer.started([4], "customer", "key:4", "f4", "4", "create")
        writer.write(outcome("key:4", "failed", [4], "f4", error="HTTP 400", unknown=True))
        writer.write(outcome("key:5", "invalid", [5], "f5"))
    state = read_results(path)
    assert state.get("key:1").state == "success"
    assert state.get("key:9").state == "started"
    assert state.get("key:4").state == "failed" and state.get("key:4").unknown
    assert state.get("key:4").error == "HTTP 400"
    assert state.get("key:5").state == "invalid"
    assert state.get("key:6") is None
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["outcome"] for line in lines] == ["started", "created", "started", "started", "failed", "invalid"]


def test_a_line_cut_by_a_crash_is_ignored_and_dropped_before_appending(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.write(outcome("key:1", "created"))
    with open(path, "ab") as f:
        f.write(b'{"records":[2],"outco')
    assert len(read_results(path)) == 1
    with ResultsWriter(path) as writer:
        writer.write(outcome("key:2", "created", [2]))
    assert [orjson.loads(x)["records"] for x in path.read_bytes().splitlines()] == [[1], [2]]


def test_a_success_stays_one_whatever_a_later_row_says(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.write(outcome("key:1", "failed"))
        writer.write(outcome("key:1", "created"))
        writer.write(outcome("key:1", "invalid", [7], "f2", error="same number as record 1"))
        writer.write(outcome("key:1", "skipped", [1], "f3", error="changed since it was created"))
    earlier = read_results(path).get("key:1")
    assert earlier.state == "success" and earlier.fingerprint == "f1"


def test_an_unsent_line_takes_a_start_back(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.started([1], "customer", "key:1", "f1", "1", "create")
        writer.write({"records": [1], "entity": "customer", "identity": "key:1", "fingerprint": "f1",
                      "key": "1", "action": "create", "outcome": "unsent"})
    assert read_results(path).get("key:1") is None


def test_fsync_mode_forces_final_lines_only(tmp_path, monkeypatch):
    import importer.load.results

    real_fsync = importer.load.results.os.fsync
    synced: list[int] = []  # the number of lines in the file at each fsync

    def counting_fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(len(path.read_bytes().splitlines()))

    monkeypatch.setattr(importer.load.results.os, "fsync", counting_fsync)
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:  # the default: no flushes at all
        writer.started([1], "customer", "key:1", "f1", "1", "create")
        writer.write(outcome("key:1", "created"))
    assert synced == []
    with ResultsWriter(path, fsync=True, fresh=True) as writer:
        writer.started([1], "customer", "key:1", "f1", "1", "create")
        assert synced == []  # a started line is not forced to disk
        writer.write(outcome("key:1", "created"))
        assert synced == [2]  # the final line is, as soon as it is written
    assert synced == [2, 2]  # and once more when the file is closed


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path):
        with pytest.raises(ConfigError, match=rf"in use by process {os.getpid()}"):
            ResultsWriter(path)
    ResultsWriter(path).close()  # released with the first


def test_a_full_disk_writes_no_torn_line_and_refuses_what_follows(tmp_path, monkeypatch):
    import errno

    import importer.load.results

    path = tmp_path / "r.ndjson"
    writer = ResultsWriter(path)
    writer.write(outcome("key:1", "created"))
    good = path.read_bytes()
    real_write = os.write

    def half_then_full(fd, data):
        if fd == writer._fd:
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(importer.load.results.os, "write", half_then_full)
    with pytest.raises(ResultsWriteError, match="the disk is full"):
        writer.started([2], "customer", "key:2", "f2", "2", "create")
    monkeypatch.undo()
    assert path.read_bytes() == good  # the torn half is cut again
    with pytest.raises(ResultsWriteError):
        writer.write(outcome("key:3", "created"))  # nothing is written after a failure
    writer.close()
