"""The failed-records file: true to its source (encoding, delimiter, line ends, BOM, bytes)
and derived afresh by every run, so after a resume it holds each failing record once."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest

import importer
from importer.load.failed import FailedRecords
from importer.mapping.mapfile import MappedRow
from importer.sources import SourceOptions, open_source
from importer.sources.base import SourceRecord
from tests.support.runs import TOKEN, get_json, run_cli


def read_records(path, **options) -> tuple[object, list[SourceRecord]]:
    """The real reader's records, each with its raw bytes (cut from the file here when the
    reader kept none; the files these tests cut have no quoted line breaks)."""
    with open_source(path, SourceOptions(**options)) as source:
        records = list(source)
    content = path.read_bytes()
    lines = [line for line in content.splitlines(keepends=True) if line.strip()]
    rows = lines[1:] if source.format == "csv" else lines
    for record, raw in zip(records, rows, strict=True):
        if record.raw is None:
            record.raw = raw
    return source, records


# -- true to the source: CSV -----------------------------------------------------------------


CP1252 = (
    "number;name;creditLimit\r\n"
    "1;Ærlig AS;100\r\n"
    '2;"Blåbær; Gård";mye\r\n'
).encode("cp1252") + b"3;\xd8l\x81;5\r\n"  # 0x81 is no cp1252 character


def test_cp1252_rows_are_written_as_read_with_the_error_appended(tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(CP1252)
    source, records = read_records(path, encoding="cp1252")
    failed = FailedRecords(tmp_path / "kunder.failed.csv", source=source, encoding="cp1252",
                           line_end=b"\r\n", header_raw=b"number;name;creditLimit\r\n")
    failed.add([records[1]], "creditLimit: 'mye' is not a number")
    failed.add([records[2]], "Kunde → finnes")  # → is no cp1252 character either
    failed.close()
    assert failed.count == 2
    assert (tmp_path / "kunder.failed.csv").read_bytes() == (
        b"number;name;creditLimit;error\r\n"
        + '2;"Blåbær; Gård";mye;creditLimit: \'mye\' is not a number\r\n'.encode("cp1252")
        + b"3;\xd8l\x81;5;Kunde \\u2192 finnes\r\n"  # the bad byte goes back as it came
    )


@pytest.mark.parametrize("header_raw", [b"\xef\xbb\xbfnumber,name\n", b"number,name\n", None])
def test_a_bom_is_kept_once(tmp_path, header_raw):
    path = tmp_path / "c.csv"
    path.write_bytes(codecs.BOM_UTF8 + "number,name\n1,Ærlig\n".encode())
    source, records = read_records(path)
    failed = FailedRecords(tmp_path / "f.csv", source=source, bom=codecs.BOM_UTF8, header_raw=header_raw)
    failed.add(records, "boom")
    failed.close()
    assert (tmp_path / "f.csv").read_bytes() == codecs.BOM_UTF8 + "number,name,error\n1,Ærlig,boom\n".encode()


def test_cr_only_line_ends_are_kept_also_for_rows_written_anew(tmp_path):
    columns = ["number", "name"]
    records = [
        SourceRecord(1, {"number": "1", "name": "A"}, raw=b"1,A\r"),
        SourceRecord(2, {"number": "2", "name": "B"}),  # no raw bytes (an oversized record): from its cells
    ]
    failed = FailedRecords(tmp_path / "f.csv", columns=columns, line_end=b"\r", header_raw=b"number,name\r")
    failed.add(records, "no, never")
    failed.close()
    assert (tmp_path / "f.csv").read_bytes() == b'number,name,error\r1,A,"no, never"\r2,B,"no, never"\r'


def test_a_last_row_without_a_line_end_gets_the_files_own(tmp_path):
    failed = FailedRecords(tmp_path / "f.csv", columns=["a", "b"], line_end=b"\r\n")
    failed.add([SourceRecord(1, {"a": "1", "b": "x"}, raw=b"1,x")], "bad")
    failed.add([SourceRecord(2, {"a": "2", "b": "y"}, raw=b'2,"y\r\nz"\r\n')], "worse")  # a quoted line break
    failed.close()
    assert (tmp_path / "f.csv").read_bytes() == b'a,b,error\r\n1,x,bad\r\n2,"y\r\nz",worse\r\n'


def test_a_failed_file_imported_again_gets_the_new_error_in_its_error_column(tmp_path):
    path = tmp_path / "kunder.failed.csv"
    path.write_bytes(b"number;name;error\r\n2;B;old reason\r\n3;C\r\n")
    source, records = read_records(path)
    failed = FailedRecords(tmp_path / "again.csv", source=source, line_end=b"\r\n",
                           header_raw=b"number;name;error\r\n")
    failed.add(records, "new; reason")
    failed.close()
    assert (tmp_path / "again.csv").read_bytes() == (
        b'number;name;error\r\n2;B;"new; reason"\r\n3;C;"new; reason"\r\n'
    )


def test_rows_written_from_cells_quote_minimally_and_never_hide_a_lost_character(tmp_path):
    columns = ["number", "name", "note"]
    failed = FailedRecords(tmp_path / "f.csv", columns=columns, delimiter=";", encoding="cp1252")
    failed.add([SourceRecord(1, {"number": "1", "name": 'Sa "Sol"', "note": "a\nb"})], "x")
    # What a reader leaves of bytes it could not decode, with no raw bytes to fall back on.
    failed.add([SourceRecord(2, {"number": "2", "name": "Bl\ufffd", "note": ""})], "undecodable")
    failed.close()
    written = (tmp_path / "f.csv").read_bytes().decode("cp1252")
    assert written.startswith('number;name;note;error\n1;"Sa ""Sol""";"a\nb";x\n')
    [_, _, lost] = list(csv.reader(io.StringIO(written, newline=""), delimiter=";"))
    assert lost[:3] == ["2", "Bl\\ufffd", ""]
    assert lost[3].startswith("undecodable (name: ") and "cp1252" in lost[3]
    assert "\ufffd" not in written


def test_a_mapped_run_writes_the_row_as_it_was_read(tmp_path):
    mapped = MappedRow({"number": "29001", "mainAddress.countryId": "??"})
    mapped.source = {"Kundenr": "29001", "Land": "Atlantis"}
    failed = FailedRecords(tmp_path / "f.csv", columns=["Kundenr", "Land"], delimiter=";")
    failed.add([SourceRecord(1, mapped)], "Land: 'Atlantis' is not a country")
    failed.close()
    assert (tmp_path / "f.csv").read_text() == "Kundenr;Land;error\n29001;Atlantis;Land: 'Atlantis' is not a country\n"


# -- true to the source: NDJSON --------------------------------------------------------------


def test_ndjson_lines_keep_their_bytes_and_gain_an_error_key(tmp_path):
    path = tmp_path / "c.ndjson"
    path.write_bytes(
        b'{"number": "1",  "name": "A"}\n'
        b'{"number":"2","error":"old"}\r\n'
        b'{"number":"3","name":"Bl\xe5"}\n'  # not UTF-8: the bytes stay, the error still goes in
        b"not json at all\n"
        b"{}\n"
    )
    source, records = read_records(path, encoding="utf-8")  # given: a bad line is its record's, not the run's
    failed = FailedRecords(tmp_path / "c.failed.ndjson", source=source)
    for record in records:
        failed.add([record], f"boom {record.number}")
    failed.close()
    assert failed.count == 5
    assert (tmp_path / "c.failed.ndjson").read_bytes() == (
        b'{"number": "1",  "name": "A","error":"boom 1"}\n'
        b'{"number":"2","error":"boom 2"}\r\n'
        b'{"number":"3","name":"Bl\xe5","error":"boom 3"}\n'
        b"not json at all\n"  # no key can go in; its error is in the results file
        b'{"error":"boom 5"}\n'
    )


def test_ndjson_errors_the_encoding_cannot_hold_are_json_escapes(tmp_path):
    failed = FailedRecords(tmp_path / "f.ndjson", format="ndjson", encoding="cp1252")
    failed.add([SourceRecord(1, {"name": "Øl"}, raw='{"name":"Øl"}\n'.encode("cp1252"))], "Øl → nei")
    failed.add([SourceRecord(2, {"name": "Øy"})], "→")
    failed.close()
    lines = (tmp_path / "f.ndjson").read_bytes().decode("cp1252").splitlines()
    assert [json.loads(line) for line in lines] == [{"name": "Øl", "error": "Øl → nei"}, {"name": "Øy", "error": "→"}]


def test_records_from_an_iterable_are_json_lines(tmp_path):
    failed = FailedRecords(tmp_path / "f.ndjson", source=[{"number": "1"}])
    failed.add([SourceRecord(1, {"number": "1", "name": "Æ"})], "bad")
    failed.close()
    assert (tmp_path / "f.ndjson").read_bytes() == '{"number":"1","name":"Æ","error":"bad"}\n'.encode()


# -- derived, not appended -------------------------------------------------------------------


def earlier_run(target, number="old", error="stale"):
    """A failed-records file as an earlier run wrote it (so the importer may replace it)."""
    failed = FailedRecords(target, columns=["number"])
    failed.add([SourceRecord(1, {"number": number})], error)
    failed.close()


def test_the_file_appears_whole_on_close_and_replaces_the_last_one(tmp_path):
    target = tmp_path / "f.csv"
    earlier_run(target)
    (tmp_path / "f.csv.partial").write_text("left by a killed run")
    failed = FailedRecords(target, columns=["number"])
    assert target.read_text() == "number,error\nold,stale\n"  # nothing before the first record
    failed.add([SourceRecord(1, {"number": "1"})], "now")
    assert target.read_text() == "number,error\nold,stale\n"  # still the old one until close
    failed.close()
    failed.close()  # a second close changes nothing
    assert target.read_text() == "number,error\n1,now\n"
    assert not (tmp_path / "f.csv.partial").exists()


def test_a_run_with_nothing_failed_removes_a_stale_file(tmp_path):
    target = tmp_path / "f.csv"
    earlier_run(target)
    (tmp_path / "f.csv.partial").write_text("left by a killed run")
    failed = FailedRecords(target, columns=["number"])
    failed.close()
    assert not target.exists() and not (tmp_path / "f.csv.partial").exists()
    assert failed.count == 0


def test_an_unwritable_place_is_a_config_error_naming_the_file(tmp_path):
    failed = FailedRecords(tmp_path / "missing" / "f.csv", columns=["number"])
    with pytest.raises(importer.ConfigError, match="cannot write failed-records file .*f.csv"):
        failed.add([SourceRecord(1, {"number": "1"})], "x")


# -- against the sandbox ---------------------------------------------------------------------


async def test_after_a_resume_the_file_holds_each_still_failing_record_once(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text("number;name;creditLimit\n1;A;100\n2;B;mye\n3;C;lots\n", encoding="utf-8")
    first = await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN)
    failed = tmp_path / "kunder.failed.csv"
    assert first.outcomes["invalid"] == 2
    assert [line.split(";")[0] for line in failed.read_text().splitlines()] == ["number", "2", "3"]
    path.write_text("number;name;creditLimit\n1;A;100\n2;B;250\n3;C;lots\n", encoding="utf-8")
    again = await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN,
                                          resume=True, retry_failed=True)
    assert again.outcomes["created"] == 1 and again.outcomes["invalid"] == 1
    rows = [line.split(";") for line in failed.read_text().splitlines()]
    assert [row[:3] for row in rows] == [["number", "name", "creditLimit"], ["3", "C", "lots"]]
    assert "creditLimit" in rows[1][3]
    stored = sorted(c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert stored == ["1", "2"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_run_where_everything_succeeds_leaves_no_failed_file(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_text("number,name\n1,A\n2,B\n", encoding="utf-8")
    earlier = FailedRecords(tmp_path / "kunder.failed.csv", columns=["number", "name"])
    earlier.add([SourceRecord(2, {"number": "2", "name": "B"})], "from an earlier run")
    earlier.close()
    (tmp_path / "kunder.failed.csv.partial").write_text("number,name,error\n")
    code, out, err = await run_cli("run", str(path), "--entity", "customer",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, err
    assert not (tmp_path / "kunder.failed.csv").exists()
    assert not (tmp_path / "kunder.failed.csv.partial").exists()
    assert "failed.csv" not in out


async def test_an_ndjson_run_leaves_the_records_json_with_their_error(sandbox, tmp_path):
    path = tmp_path / "kunder.ndjson"
    path.write_bytes(b'{"number":"1","name":"A"}\n{"number":"2","name":"B","creditLimit":"mye"}\n')
    summary = await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert summary.outcomes["invalid"] == 1
    [line] = (tmp_path / "kunder.failed.ndjson").read_bytes().splitlines()
    assert line.startswith(b'{"number":"2","name":"B","creditLimit":"mye","error":')
    assert "creditLimit" in json.loads(line)["error"]


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_a_cp1252_crlf_run_leaves_a_failed_file_in_the_inputs_own_bytes(sandbox, tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(CP1252)
    code, _, err = await run_cli("run", str(path), "--entity", "customer", "--encoding", "cp1252",
                                 "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, err
    written = (tmp_path / "kunder.failed.csv").read_bytes()
    header, row2, row3, rest = written.split(b"\r\n", 3)
    assert header == b"number;name;creditLimit;error" and rest == b""
    assert row2.startswith('2;"Blåbær; Gård";mye;'.encode("cp1252")) and b"creditLimit" in row2
    assert row3.startswith(b"3;\xd8l\x81;5;")
    stored = [c["number"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")]
    assert stored == ["1"]
