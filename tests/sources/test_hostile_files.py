"""Hostile and odd input files, read by the real readers from real files: old Mac line ends,
lines and fields far over --max-field-size (memory stays flat), huge headers, deep NDJSON,
files that are not UTF-8, broken gzips, directories and FIFOs."""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import threading
import tracemalloc

import pytest

from importer.errors import ConfigError, ImporterError, SourceError
from importer.sources import SourceOptions, open_source
from importer.sources.csv import MAX_COLUMNS
from importer.sources.encoding import SCAN_CHUNK
from importer.sources.ndjson import MAX_DEPTH

KIB = 1024


def read(path, **options):
    with open_source(path, SourceOptions(**options)) as source:
        return source, list(source)


def write_gzip_with_long_line(path, before: bytes, line_size: int, after: bytes, byte: bytes = b"x") -> None:
    """A gzip file holding ``before``, then a line of ``line_size`` bytes, then ``after``,
    written in chunks so the test never holds the long line either."""
    chunk = byte * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(before)
        for _ in range(line_size // len(chunk)):
            f.write(chunk)
        f.write(byte * (line_size % len(chunk)) + b"\n" + after)


def peak_while(fn) -> tuple[object, int]:
    """``fn()`` and the peak of Python memory it allocated, in bytes."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# -- line ends ---------------------------------------------------------------------------


def test_cr_only_line_ends_are_line_ends_and_cr_in_quotes_stays(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b'number;name;note\r1;A;"two\rlines"\r2;B;plain\r')
    source, rows = read(path)
    assert source.line_end == b"\r" and source.header_raw == b"number;name;note\r"
    assert [r.data for r in rows] == [{"number": "1", "name": "A", "note": "two\rlines"},
                                      {"number": "2", "name": "B", "note": "plain"}]
    assert [r.raw for r in rows] == [b'1;A;"two\rlines"\r', b"2;B;plain\r"]
    assert all(r.error is None for r in rows)


def test_cr_only_ndjson_and_a_cr_only_line_end_past_a_long_first_line(tmp_path):
    path = tmp_path / "mac.ndjson"
    path.write_bytes(b'{"number": "1"}\r{"number": "2"}\r')
    source, rows = read(path)
    assert source.line_end == b"\r" and [r.data["number"] for r in rows] == ["1", "2"]
    # The first line end seen decides, even when it comes after a line too long to keep.
    path.write_bytes(b'{"note": "' + b"x" * 5000 + b'"}\r{"number": "2"}\r')
    source, rows = read(path, max_field_size=KIB)
    assert source.line_end == b"\r"
    assert "line 1 is longer than --max-field-size (1024 bytes)" in rows[0].error and rows[0].raw is None
    assert rows[1].data == {"number": "2"} and rows[1].raw == b'{"number": "2"}\r'


def test_mixed_line_ends_read_every_record_or_say_which_is_wrong(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"number,name\r\n1,A\n2,B\r\n")  # CRLF first, then a bare LF: both end lines
    source, rows = read(path)
    assert source.line_end == b"\r\n" and [r.data["name"] for r in rows] == ["A", "B"]
    path.write_bytes(b"number,name\r1,A\r\n2,B\r")  # CR first, then a CR LF pair: one line end
    source, rows = read(path)
    assert source.line_end == b"\r" and [r.data["name"] for r in rows] == ["A", "B"]
    assert rows[0].raw == b"1,A\r\n"
    path.write_bytes(b"number,name\n1,A\rstray\n2,B\n")  # LF first, a CR inside a field
    source, rows = read(path)
    assert [r.number for r in rows] == [1, 2]
    assert "cannot be parsed as CSV" in rows[0].error and rows[0].raw == b"1,A\rstray\n"
    assert rows[1].error is None


# -- bounded lines and fields ------------------------------------------------------------


def test_a_5_mb_line_over_a_1_kib_limit_is_one_invalid_record_and_memory_stays_flat(tmp_path):
    path = tmp_path / "long.csv"
    with open(path, "wb") as f:
        f.write(b"number,note\n1,first\n2,")
        for _ in range(5):
            f.write(b"y" * (1 << 20))
        f.write(b"\n3,last\n")
    (source, rows), peak = peak_while(lambda: read(path, max_field_size=KIB))
    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[1].error == ("column 'note' is longer than --max-field-size (1024 bytes); "
                             "it was skipped unread, so the failed-records file cannot hold it")
    assert rows[1].raw is None and rows[1].data == {}
    assert rows[2].data == {"number": "3", "note": "last"} and rows[2].raw == b"3,last\n"
    assert peak < 1 << 20, f"reading a 5 MB line took {peak:,} bytes"


def test_a_gzip_bomb_with_a_50_mb_line_costs_no_memory(tmp_path):
    path = tmp_path / "bomb.ndjson.gz"
    write_gzip_with_long_line(path, b'{"number": "1"}\n', 50 << 20, b'{"number": "3"}\n')
    assert path.stat().st_size < 1 << 20
    (_, rows), peak = peak_while(lambda: read(path, max_field_size=KIB))
    assert [r.number for r in rows] == [1, 2, 3]
    assert "line 2 is longer than --max-field-size (1024 bytes)" in rows[1].error
    assert rows[0].data == {"number": "1"} and rows[2].data == {"number": "3"}
    assert peak < 2 << 20, f"reading a 50 MB line took {peak:,} bytes"


def test_a_quoted_field_over_many_lines_is_skipped_to_its_closing_quote(tmp_path):
    path = tmp_path / "notes.csv"
    note = b'"' + b'line with a "" quote, and a comma\n' * 200 + b'"'
    path.write_bytes(b"number,note,name\n1," + note + b",A\n2,short,B\n3,\"two\nlines\",C\n")
    _, rows = read(path, max_field_size=KIB)
    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[0].error.startswith("column 'note' is longer than --max-field-size (1024 bytes)")
    assert rows[1].data == {"number": "2", "note": "short", "name": "B"}
    assert rows[2].data["note"] == "two\nlines" and rows[2].raw == b'3,"two\nlines",C\n'


def test_a_record_of_many_small_lines_is_bounded_as_a_whole(tmp_path):
    path = tmp_path / "lines.csv"
    many = b'"' + b"short line\n" * 300 + b'"'
    path.write_bytes(b"number,a,b\n1," + many + b"," + many + b"\n2,x,y\n")
    _, rows = read(path, max_field_size=4 * KIB)
    assert [r.number for r in rows] == [1, 2]
    assert rows[0].error.startswith("lines 2-") and "together" in rows[0].error  # no field alone is over
    assert rows[1].data == {"number": "2", "a": "x", "b": "y"}


def test_the_limit_counts_the_line_not_its_line_end(tmp_path):
    path = tmp_path / "edge.csv"
    path.write_bytes(b"n,v\r\n1," + b"z" * 98 + b"\r\n2," + b"z" * 99 + b"\r\n")
    _, rows = read(path, max_field_size=100)
    assert rows[0].error is None and rows[0].raw.endswith(b"z\r\n")
    assert "line 3 is longer" in rows[1].error


def test_the_csv_modules_global_field_limit_is_only_ever_raised(tmp_path, stdlib_field_limit):
    path = tmp_path / "big.csv"
    path.write_bytes(b"number,note\n1," + b"n" * (300 * KIB) + b"\n")
    _, rows = read(path)  # a 300 KiB cell is over the stdlib's default
    assert len(rows[0].data["note"]) == 300 * KIB and rows[0].error is None
    csv.field_size_limit(1 << 30)  # another reader's wider limit is left as it was
    read(path, max_field_size=KIB)
    assert csv.field_size_limit() == 1 << 30


# -- headers -----------------------------------------------------------------------------


@pytest.fixture
def stdlib_field_limit():
    """The csv module's default field limit (128 KiB), as a fresh process has it."""
    before = csv.field_size_limit(128 * KIB)
    yield
    csv.field_size_limit(before)


def test_headers_too_wide_empty_named_twice_or_too_long_are_refused(tmp_path, stdlib_field_limit):
    path = tmp_path / "h.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n1\n")
    with pytest.raises(ConfigError, match=f"100,000 columns; at most {MAX_COLUMNS:,}"):
        read(path)
    path.write_text(",".join(f"c{i % 5000}" for i in range(MAX_COLUMNS)) + "\n")
    with pytest.raises(ConfigError, match="twice: c0, c1, c10, "):
        read(path)
    path.write_text(",,,\n1,2,3,4\n")
    with pytest.raises(ConfigError, match="header column 1 has no name"):
        read(path)
    path.write_text("number," + "x" * 2000 + "\n")
    with pytest.raises(ConfigError, match=r"header line is longer than --max-field-size \(1024 bytes\)"):
        read(path, max_field_size=KIB)
    path.write_bytes(b'"')
    with pytest.raises(ConfigError, match="header row cannot be parsed"):
        read(path)
    path.write_text("n" * (200 * KIB) + "\n")  # one name longer than the stdlib's own field limit
    source, _ = read(path)
    assert source.columns == ["n" * (200 * KIB)]


# -- NDJSON depth ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 5000])
def test_deep_ndjson_is_one_invalid_record(tmp_path, depth):
    path = tmp_path / "deep.ndjson"
    deep = b'{"a": ' * depth + b"1" + b"}" * depth
    shallow = b'{"a": ' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH
    path.write_bytes(b'{"number": "1"}\n' + deep + b"\n" + shallow + b"\n")
    _, rows = read(path)
    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[1].error == f"line holds JSON nested deeper than {MAX_DEPTH} levels"
    assert rows[1].raw == deep + b"\n"  # it can be written back as it came
    assert rows[0].error is None and rows[2].error is None


# -- the encoding guard ------------------------------------------------------------------


def test_the_guard_counts_lines_past_the_first_chunk_and_in_cr_files(tmp_path):
    path = tmp_path / "late.csv"
    rows = "".join(f"{i};Kunde {i}\r\n" for i in range(1, 200_001))  # ~3.5 MB, past the 1 MiB chunks
    path.write_bytes(("number;name\r\n" + rows).encode() + "200001;Søndre Ås\r\n".encode("cp1252"))
    with pytest.raises(ConfigError, match="at line 200002, byte 9 of the line is the byte 0xf8") as caught:
        read(path)
    assert "reads as cp1252, where line 200002 says '200001;Søndre Ås'" in str(caught.value)
    path.write_bytes("number;name\r1;A\r2;Bjørn\r".encode("cp1252"))
    with pytest.raises(ConfigError, match="at line 3, byte 5 "):
        read(path)


def test_the_guard_takes_a_character_split_between_two_chunks(tmp_path):
    path = tmp_path / "split.csv"
    head = b"number,name\n1,"
    filler = b"x" * (SCAN_CHUNK - len(head) - 1)  # "ø" begins on a chunk's last byte
    path.write_bytes(head + filler + "ø\n2,ok\n".encode())
    _, rows = read(path)
    assert rows[0].data["name"].endswith("xø") and rows[1].error is None
    path.write_bytes(head + filler + b"\xc3(\n")  # a lead byte, and no follower in the next chunk
    with pytest.raises(ConfigError, match=f"line 2, byte {len(filler) + 3} of the line is the byte 0xc3"):
        read(path)


def test_the_guard_reads_gzip_shortens_long_lines_and_knows_when_nothing_fits(tmp_path):
    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress(("number,note\n1," + "x" * 200 + "æ" + "y" * 200 + "\n").encode("cp1252")))
    with pytest.raises(ConfigError, match=r"says '…x{30}æy{29}…'"):
        read(path)
    path.write_bytes(gzip.compress(b"number,name\n1,\x81\n"))  # 0x81: no cp1252 character, a C1 control in latin-1
    with pytest.raises(ConfigError, match="neither cp1252 nor latin-1 reads the whole file"):
        read(path)
    plain = tmp_path / "cut.csv"
    plain.write_bytes(b"number,name\n1,\xc3")  # a sequence the end of the file cuts off
    with pytest.raises(ConfigError, match="line 2, byte 3 of the line is the byte 0xc3"):
        read(plain)
    plain.write_bytes(codecs.BOM_UTF16_LE + "number,name\n1,Blåbær\n".encode("utf-16-le"))
    source, rows = read(plain)  # UTF-16 is read as such (tests/sources/test_utf16.py)
    assert source.columns == ["number", "name"] and rows[0].data == {"number": "1", "name": "Blåbær"}


def test_an_explicit_encoding_skips_the_guard_and_utf8_with_a_bom_passes_it(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("number;name\n1;Blåbær\n".encode("cp1252"))
    _, rows = read(path, encoding="cp1252")
    assert rows[0].data["name"] == "Blåbær" and rows[0].raw == "1;Blåbær\n".encode("cp1252")
    path.write_bytes(codecs.BOM_UTF8 + "number;name\n1;Blåbær\n".encode())
    source, rows = read(path)
    assert source.bom == codecs.BOM_UTF8 and rows[0].data["name"] == "Blåbær"
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        read(path, encoding="klingon")
    with pytest.raises(ConfigError, match="UTF-8 byte-order mark: it is UTF-8, not utf-16"):
        read(path, encoding="utf-16")


def test_a_fifo_is_read_as_a_stream_with_bad_lines_kept_per_record(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    data = "number;name\n1;A\n".encode() + "2;Blåbær\n".encode("cp1252") + b"3;C\n"
    got: list = []
    writer = threading.Thread(target=fifo.write_bytes, args=(data,), daemon=True)
    reader = threading.Thread(target=lambda: got.extend(read(fifo)[1]), daemon=True)
    writer.start()
    reader.start()
    reader.join(10)
    if reader.is_alive():  # read twice, a FIFO waits for a second writer: be that writer, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the FIFO was read twice")
    rows = got
    assert [r.error is None for r in rows] == [True, False, True]
    assert "line 3 has bytes that are not valid utf-8" in rows[1].error
    assert rows[1].raw == "2;Blåbær\n".encode("cp1252")


# -- broken files ------------------------------------------------------------------------


def test_broken_files_raise_importer_errors_with_what_was_read(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(ConfigError, match="folder.csv is a directory"):
        read(folder)
    path = tmp_path / "c.csv.gz"
    path.write_bytes(b"this is no gzip")
    with pytest.raises(SourceError, match="cannot read .*c.csv.gz"):
        read(path)
    body = b"number,name\n" + b"".join(b"%d,Kunde\n" % i for i in range(1, 20001))
    path.write_bytes(gzip.compress(body)[:-5000])
    seen = []
    with pytest.raises(SourceError, match=r"stopped being readable \(.*\) after record"):
        with open_source(path) as source:
            seen.extend(source)
    assert seen and [r.number for r in seen] == list(range(1, len(seen) + 1))
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"number,name\n1,\x00\x00\n\x00\n")
    _, rows = read(nul)
    assert rows[0].data == {"number": "1", "name": "\x00\x00"} and rows[1].error is not None


def test_only_importer_errors_escape_for_binary_in_gzip(tmp_path):
    path = tmp_path / "bin.ndjson.gz"
    path.write_bytes(gzip.compress(os.urandom(200_000)))
    for encoding in (None, "utf-8", "latin-1"):
        try:
            _, rows = read(path, encoding=encoding, max_field_size=KIB)
        except ImporterError:
            continue
        assert [r.number for r in rows] == list(range(1, len(rows) + 1))
        assert all(r.error for r in rows)
