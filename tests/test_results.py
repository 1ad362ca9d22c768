import orjson

from importer.load.results import ResultsWriter, read_results


def test_write_ahead_lines_and_resume_state(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.started([1], "customer", "1", "create")
        writer.write({"records": [1], "outcome": "created"})
        writer.started([2, 3], "invoice", "9", "create")
        writer.started([4], "customer", "4", "create")
        writer.write({"records": [4], "outcome": "failed"})
        writer.write({"records": [5], "outcome": "invalid"})
    state = read_results(path)
    assert state.succeeded([1])
    assert state.in_flight([2, 3]) and not state.succeeded([2])
    assert state.failed([4]) and state.failed([5])
    assert not state.seen([6])
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["outcome"] for line in lines] == ["started", "created", "started", "started", "failed", "invalid"]


def test_a_line_cut_by_a_crash_is_ignored_and_dropped_before_appending(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_bytes(b'{"records":[1],"outcome":"created"}\n{"records":[2],"outco')
    state = read_results(path)
    assert state.succeeded([1]) and not state.seen([2])
    with ResultsWriter(path, append=True) as writer:
        writer.write({"records": [2], "outcome": "created"})
    assert [orjson.loads(x)["records"] for x in path.read_bytes().splitlines()] == [[1], [2]]


def test_a_later_success_wins_over_an_earlier_failure(tmp_path):
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:
        writer.write({"records": [1], "outcome": "failed"})
        writer.started([1], "customer", "1", "create")
        writer.write({"records": [1], "outcome": "created"})
        writer.started([1], "customer", "1", "create")  # a stray start never undoes a success
    assert read_results(path).succeeded([1])


def test_fsync_mode_writes_the_same_lines(tmp_path, monkeypatch):
    import importer.load.results

    real_fsync = importer.load.results.os.fsync
    synced: list[int] = []  # the number of lines in the file at each fsync

    def counting_fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(len(path.read_bytes().splitlines()))

    monkeypatch.setattr(importer.load.results.os, "fsync", counting_fsync)
    path = tmp_path / "r.ndjson"
    with ResultsWriter(path) as writer:  # the default: no flushes at all
        writer.started([1], "customer", "1", "create")
        writer.write({"records": [1], "outcome": "created"})
    assert synced == []
    with ResultsWriter(path, fsync=True) as writer:
        writer.started([1], "customer", "1", "create")
        assert synced == []  # a started line is not forced to disk
        writer.write({"records": [1], "outcome": "created"})
        assert synced == [2]  # the final line is, as soon as it is written
        writer.started([2, 3], "invoice", "9", "create")
        writer.write({"records": [2, 3], "outcome": "failed"})
        writer.write({"records": [4], "outcome": "invalid"})
        assert synced == [2, 4, 5]  # one per final line, none for the started lines
    assert synced == [2, 4, 5, 5]  # and one more when the file is closed
    state = read_results(path)
    assert state.succeeded([1]) and state.failed([2, 3]) and state.failed([4])
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["outcome"] for line in lines] == ["started", "created", "started", "failed", "invalid"]
