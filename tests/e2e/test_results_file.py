"""A results file knows what it is: another entity is refused, a damaged line is salvaged,
and ``--resume`` without a file says so.

The CLI runs as a subprocess against the sandbox; every test asserts what the ledger
holds and the bytes of the files involved.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import orjson
import pytest

import importer
from importer.load.results import ResultsWriter, probe_results
from importer.load.state import read_results
from tests.support.runs import TOKEN, final_lines, get_json, read_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)


async def ledger(url: str, entity: str) -> list[dict]:
    return await get_json(f"{url}/sandbox/records/{entity}")  # type: ignore[return-value]


def readable_finals(path: Path) -> list[dict]:
    """The final lines that are whole JSON (a damaged line stays in the file, set aside too)."""
    finals = []
    for raw in path.read_bytes().splitlines():
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if line["outcome"] != "started":
            finals.append(line)
    return finals


def write_invoices(path: Path, count: int) -> None:
    path.write_text("documentKey,customerNumber,line.description,line.quantity\n"
                    + "".join(f"d{n},10000,Linje {n},1\n" for n in range(1, count + 1)), encoding="utf-8")


async def test_started_lines_say_what_the_file_is_for(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("number,name\nR1,Rad AS\n", encoding="utf-8")
    code, _, err = await run_cli("run", str(source), "--entity", "customer", "--base-url", sandbox.url,
                                 "--token", TOKEN)
    assert code == 0, err
    started = [line for line in read_lines(f"{source}.results.ndjson") if line["outcome"] == "started"]
    assert started and all(line["entity"] == "customer" and line["input"] == str(source.resolve())
                           and line["api"] == sandbox.url for line in started)
    assert probe_results(f"{source}.results.ndjson") == {"entity": "customer", "input": str(source.resolve()),
                                                         "api": sandbox.url}
    assert [c["number"] for c in await ledger(sandbox.url, "customer")].count("R1") == 1


async def test_a_results_file_of_another_entity_is_refused_naming_it(sandbox, tmp_path):
    customers, invoices, results = tmp_path / "c.csv", tmp_path / "i.csv", tmp_path / "shared.ndjson"
    customers.write_text("number,name\n10000,Kunde AS\n", encoding="utf-8")
    write_invoices(invoices, 3)
    base = ("--base-url", sandbox.url, "--token", TOKEN, "--results", str(results))
    code, _, err = await run_cli("run", str(customers), "--entity", "customer", *base)
    assert code == 0, err
    before, invoices_before = results.read_bytes(), len(await ledger(sandbox.url, "invoice"))
    code, _, err = await run_cli("run", str(invoices), "--entity", "invoice", "--resume", *base)
    assert code == 2, err
    assert f"{results} holds the outcomes of customer records, and this run imports invoice" in err
    assert results.read_bytes() == before
    assert len(await ledger(sandbox.url, "invoice")) == invoices_before  # nothing sent
    assert not (tmp_path / "i.failed.csv").exists()


async def imported_invoices(sandbox, tmp_path: Path, count: int) -> tuple[Path, tuple[str, ...], Path, list[bytes]]:
    """``count`` auto-numbered invoices imported by the CLI one at a time: (input, the run's
    arguments, results file, its lines)."""
    await importer.import_records([{"number": "10000", "name": "Kunde"}], entity="customer",
                                  base_url=sandbox.url, token=TOKEN, results=str(tmp_path / "c.ndjson"))
    invoices = tmp_path / "i.csv"
    write_invoices(invoices, count)
    run = ("run", str(invoices), "--entity", "invoice", "--base-url", sandbox.url, "--token", TOKEN,
           "--concurrency", "1")
    code, _, err = await run_cli(*run)
    assert code == 0, err
    results = Path(f"{invoices}.results.ndjson")
    return invoices, run, results, results.read_bytes().splitlines(keepends=True)


async def test_a_damaged_results_file_is_resumed_with_no_duplicate(sandbox, tmp_path):
    invoices, run, results, lines = await imported_invoices(sandbox, tmp_path, 4)
    assert [orjson.loads(line)["outcome"] for line in lines] == ["started", "created"] * 4
    # 20 NUL bytes over the end of record 3's started line and the start of its final line.
    cut = sum(len(line) for line in lines[:5]) - 10
    data = bytearray(results.read_bytes())
    data[cut:cut + 20] = b"\0" * 20
    results.write_bytes(bytes(data))
    damaged = bytes(data).splitlines(keepends=True)[4]
    write_invoices(invoices, 6)  # and two more rows since
    code, out, err = await run_cli("report", str(results))
    assert code == 2 and "line 5 is not a results line (NUL bytes)" in err and "--resume" in err, err
    code, out, err = await run_cli(*run, "--resume")
    assert code == 0, err
    assert f"{results}: line 5 is damaged" in err and f"set aside in {results}.damaged" in err
    assert Path(f"{results}.damaged").read_bytes() == damaged
    assert results.read_bytes().startswith(bytes(data))  # the earlier lines are kept as they were
    stored = Counter(invoice["invoiceLines"][0]["description"] for invoice in await ledger(sandbox.url, "invoice"))
    assert stored == Counter(f"Linje {n}" for n in range(1, 7))  # each once: record 3 was found, not resent
    finals = {tuple(line["records"]): line for line in readable_finals(results)[3:]}
    assert finals[(3,)]["recovered"] or finals[(3,)]["outcome"] == "done", finals[(3,)]
    assert {finals[(5,)]["outcome"], finals[(6,)]["outcome"]} == {"created"}


async def test_damage_that_hides_whole_lines_has_every_unnamed_record_looked_up(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("number,name\n" + "".join(f"W{n},Kunde {n}\n" for n in range(1, 5)), encoding="utf-8")
    run = ("run", str(source), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN,
           "--concurrency", "1")
    code, _, err = await run_cli(*run)
    assert code == 0, err
    results = Path(f"{source}.results.ndjson")
    lines = results.read_bytes().splitlines(keepends=True)
    wiped = [n for n, line in enumerate(lines) if orjson.loads(line)["records"] == [3]]
    assert len(wiped) == 2
    for n in wiped:  # record 3's started and final lines: nothing of them is left
        lines[n] = b"\0" * (len(lines[n]) - 1) + b"\n"
    results.write_bytes(b"".join(lines))
    state = read_results(results, salvage=True)
    assert state.any_may_be_sent and state.get("key:W3").state == "started" and state.get("key:W9").unknown
    state.close()
    code, _, err = await run_cli(*run, "--resume")
    assert code == 0, err
    assert "every record this file does not name is looked up first" in err
    numbers = Counter(c["number"] for c in await ledger(sandbox.url, "customer"))
    assert [numbers[f"W{n}"] for n in range(1, 5)] == [1, 1, 1, 1]
    last = readable_finals(results)[-1]
    assert last["records"] == [3] and last["outcome"] != "failed", last


async def test_resume_without_a_results_file_names_the_ones_of_this_input(sandbox, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("number,name\nN1,Ny AS\n", encoding="utf-8")
    run = ("run", str(source), "--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    code, _, err = await run_cli(*run)
    assert code == 0, err
    elsewhere = tmp_path / "out" / "other.ndjson"
    elsewhere.parent.mkdir()
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    code, _, err = await run_cli(*run, "--resume", "--results", str(elsewhere))
    assert code == 2, err
    assert f"there is no results file at {elsewhere}" in err and "c.csv.results.ndjson holds results" in err
    assert not elsewhere.exists() and {p: p.read_bytes() for p in before} == before
    assert [c["number"] for c in await ledger(sandbox.url, "customer")].count("N1") == 1
    # A file of this input under another name is found by what its lines say.
    Path(f"{source}.results.ndjson").rename(tmp_path / "renamed.results.ndjson")
    code, _, err = await run_cli(*run, "--resume", "--results", str(elsewhere))
    assert code == 2 and "renamed.results.ndjson holds results" in err, err
    # With none of this input beside it, --resume says so and starts the file.
    (tmp_path / "renamed.results.ndjson").unlink()
    code, _, err = await run_cli(*run, "--resume", "--results", str(elsewhere), "--mode", "upsert")
    assert code == 0 and f"there is no results file at {elsewhere}" in err, err
    assert [line["outcome"] for line in final_lines(elsewhere)] == ["updated"]


def test_an_older_file_without_the_new_fields_still_reads(tmp_path):
    path = tmp_path / "old.ndjson"
    path.write_bytes(b'{"records":[1],"entity":"customer","identity":"key:A","fingerprint":"f","key":"A",'
                     b'"action":"create","outcome":"started","api":"http://x"}\n')
    with ResultsWriter(path, stamp={"input": "/a.csv", "company": None}) as writer:
        writer.started([2], "customer", "key:B", "f", "B", "create", "http://x")
    state = read_results(path)
    assert state.entities == {"customer"} and state.inputs == {"/a.csv"} and len(state) == 2
    assert b'"company"' not in path.read_bytes()  # unknown fields are left out, not written as null


async def test_an_auto_numbered_document_whose_lines_were_wiped_is_found_by_its_reference(sandbox, tmp_path):
    """Both lines of an auto-numbered invoice wiped: the file's reference key makes its reference
    again, so the resume finds the invoice instead of creating it twice."""
    invoices, run, results, lines = await imported_invoices(sandbox, tmp_path, 4)
    started = [orjson.loads(line) for line in lines if orjson.loads(line)["outcome"] == "started"]
    assert len({line["reference_key"] for line in started}) == 1  # one key for the file's documents
    wiped = [n for n, line in enumerate(lines) if orjson.loads(line)["records"] == [3]]
    for n in wiped:
        lines[n] = b"\0" * (len(lines[n]) - 1) + b"\n"
    results.write_bytes(b"".join(lines))
    write_invoices(invoices, 5)  # and one row more since
    code, _, err = await run_cli(*run, "--resume")
    assert code == 0, err
    stored = Counter(invoice["invoiceLines"][0]["description"] for invoice in await ledger(sandbox.url, "invoice"))
    assert stored == Counter(f"Linje {n}" for n in range(1, 6))  # record 3 found by its reference, not resent
    finals = {tuple(line["records"]): line for line in readable_finals(results)}
    assert finals[(3,)]["outcome"] == "created" and finals[(3,)]["recovered"] is True, finals[(3,)]
    resumed = [orjson.loads(line) for line in results.read_bytes().splitlines()[len(lines):]
               if line.startswith(b"{") and orjson.loads(line)["outcome"] == "started"]
    assert {line["reference_key"] for line in resumed} == {started[0]["reference_key"]}


def test_a_dry_runs_own_file_with_skipped_lines_is_a_dry_runs_file(tmp_path):
    """A plan's dry run skips documents whose customer waits: its file is still a dry run's, and
    the next dry run may empty it; a real run's file is refused, byte for byte as it was."""
    from importer.errors import ConfigError
    from importer.load.results import check_results_file, started_line

    def lines(*outcomes: str) -> bytes:
        base = started_line([1], "invoice", "key:I1", "f" * 16, "I1", "create", None)
        return b"".join(orjson.dumps({**base, "outcome": o}) + b"\n" for o in outcomes)

    dry, real = tmp_path / "dry.ndjson", tmp_path / "real.ndjson"
    dry.write_bytes(lines("valid", "skipped", "invalid"))
    real.write_bytes(lines("started", "created"))
    for path, refused in ((dry, False), (real, True)):
        before = path.read_bytes()
        fd = os.open(path, os.O_RDONLY)
        try:
            if refused:
                with pytest.raises(ConfigError, match="outcomes of a real run"):
                    check_results_file(path, fd, dry_run=True)
            else:
                check_results_file(path, fd, dry_run=True)
        finally:
            os.close(fd)
        assert path.read_bytes() == before
