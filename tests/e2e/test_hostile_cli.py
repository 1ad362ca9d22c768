"""Hostile files through the CLI as a user runs it: a subprocess against the sandbox.
Exit 2 and a clear message, no traceback, nothing sent when the file is refused."""

from __future__ import annotations

import os

import pytest

from tests.support.runs import TOKEN, final_lines, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

CP1252_CUSTOMERS = "number;name\r\n1;Ærlig AS\r\n2;Blåbær Øl\r\n".encode("cp1252")


async def test_a_100000_column_header_is_refused_with_exit_2(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("number,name," + ",".join(f"c{i}" for i in range(100_000)) + "\n1,A\n")
    code, out, err = await run_cli("run", "--entity", "customer", "--dry-run", str(path))
    assert code == 2, err
    assert "the header has 100,002 columns; at most 10,000 are read" in err
    assert "Traceback" not in err + out


async def test_a_cp1252_file_without_encoding_stops_before_anything_is_sent(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(CP1252_CUSTOMERS)
    code, out, err = await run_cli("run", str(path), "--entity", "customer",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 2, err
    assert "line 2, byte 3 of the line is the byte 0xc6" in err
    assert "where line 2 says '1;Ærlig AS'" in err and "--encoding cp1252" in err
    assert "Traceback" not in err + out
    stats = await get_json(f"{sandbox.url}/sandbox/stats")
    assert stats["requests"] == 0
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []


async def test_the_same_file_with_encoding_cp1252_goes_in(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(CP1252_CUSTOMERS)
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--encoding", "cp1252",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    names = {c["number"]: c["name"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert names == {"1": "Ærlig AS", "2": "Blåbær Øl"}


async def test_stdin_with_a_bad_byte_keeps_per_record_handling(sandbox, tmp_path):
    results = tmp_path / "stdin.results.ndjson"
    data = "number,name\n1,A\n".encode() + "2,Blåbær\n".encode("cp1252") + b"3,C\n"
    args = ("run", "-", "--format", "csv", "--entity", "customer", "--results", str(results),
            "--base-url", sandbox.url, "--token", TOKEN)
    before = (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"]
    code, out, err = await run_cli(*args, stdin=data)  # a pipe is read once: the preflight needs --send-valid
    assert code == 2 and "--send-valid" in err and "Traceback" not in err, err
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == before  # refused before any call
    assert not results.exists() and not os.path.exists(f"{results}.company.json")

    code, out, err = await run_cli(*args, "--send-valid", stdin=data)
    assert code == 1, err  # the run went through; one record is invalid
    assert "Traceback" not in err + out
    outcomes = {tuple(line["records"]): line for line in final_lines(results)}
    assert outcomes[(1,)]["outcome"] == outcomes[(3,)]["outcome"] == "created"
    assert outcomes[(2,)]["outcome"] == "invalid"
    assert "line 3 has bytes that are not valid utf-8" in outcomes[(2,)]["error"]
    numbers = sorted(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert numbers == ["1", "3"]


async def test_a_line_over_max_field_size_is_one_invalid_record_and_the_rest_go_in(sandbox, tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"number,name\n1,A\n2," + b"x" * 200_000 + b"\n3,C\n")
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--max-field-size", "1024",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    assert "Traceback" not in err + out
    outcomes = {tuple(line["records"]): line for line in final_lines(f"{path}.results.ndjson")}
    assert outcomes[(2,)]["outcome"] == "invalid"
    assert "column 'name' is longer than --max-field-size (1024 bytes)" in outcomes[(2,)]["error"]
    numbers = sorted(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert numbers == ["1", "3"]
