"""Whatever the bytes, the readers yield numbered records or raise an ImporterError: random
bytes and random CSV-ish text, written to real files and read through open_source/open_input."""

from __future__ import annotations

import gzip
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import ImporterError
from importer.sources import SourceOptions, open_input, open_source
from importer.sources.lines import CR, LF, RawLines

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Pieces CSV and NDJSON are made of, and the characters that break them.
CSVISH = st.lists(st.sampled_from([
    ",", ";", "\t", "|", '"', '""', "\r", "\n", "\r\n", "'", "=", "{", "}", "[", "]", ":",
    "a", "number", "name", "1", " ", "æ", "Ø", "€", "\ufeff", "\x00", "\x85", "\u2028",
]), max_size=60).map("".join)
ENCODINGS = st.sampled_from([None, "utf-8", "cp1252", "latin-1"])
FORMATS = st.sampled_from(["csv", "ndjson"])
LIMITS = st.sampled_from([4, 16, 1 << 20])


def physical_lines(data: bytes) -> int:
    return len(re.findall(rb"\r\n|\r|\n", data)) + 1


def check_records(read_all, data: bytes, fmt: str) -> None:
    """Only ImporterErrors escape; records come numbered 1..N, no more than there are lines."""
    try:
        records = read_all()
    except ImporterError:
        return
    assert [r.number for r in records] == list(range(1, len(records) + 1))
    assert len(records) <= physical_lines(data) - (fmt == "csv")
    for record in records:
        assert isinstance(record.data, dict)
        assert record.error is None or isinstance(record.error, str)
        assert record.raw is None or (record.raw and record.raw in data)


def read_path(path, options: SourceOptions):
    def read_all():
        with open_source(path, options) as source:
            return list(source)
    return read_all


@FUZZ
@given(data=st.binary(max_size=300), fmt=FORMATS, encoding=ENCODINGS, limit=LIMITS,
       compress=st.booleans())
def test_random_bytes_in_a_file(tmp_path, data, fmt, encoding, limit, compress):
    path = tmp_path / f"in.{fmt}{'.gz' if compress else ''}"
    path.write_bytes(gzip.compress(data) if compress else data)
    check_records(read_path(path, SourceOptions(format=fmt, encoding=encoding, max_field_size=limit)), data, fmt)


# A good first line half the time, so the random part is read as records, not refused as a header.
HEADERS = st.sampled_from(["", "", "number,name\n", "number;name\r\n", "a|b|c\r", '{"number": "1"}\n'])


@FUZZ
@given(header=HEADERS, text=CSVISH, fmt=FORMATS, encoding=ENCODINGS, limit=LIMITS,
       delimiter=st.sampled_from([None, ",", ";"]))
def test_random_csvish_text_in_a_file(tmp_path, header, text, fmt, encoding, limit, delimiter):
    data = (header + text).encode("utf-8", "surrogatepass")
    path = tmp_path / f"in.{fmt}"
    path.write_bytes(data)
    options = SourceOptions(format=fmt, encoding=encoding, max_field_size=limit, delimiter=delimiter)
    check_records(read_path(path, options), data, fmt)


@FUZZ
@given(header=HEADERS, text=CSVISH, fmt=FORMATS, limit=LIMITS, as_text=st.booleans())
def test_random_csvish_text_in_a_file_object(header, text, fmt, limit, as_text):
    text = header + text
    data = text.encode("utf-8")
    stream = io.StringIO(text, newline="") if as_text else io.BytesIO(data)

    def read_all():
        with open_input(stream, SourceOptions(format=fmt, max_field_size=limit)) as opened:
            return list(opened.reader)

    check_records(read_all, data, fmt)


@FUZZ
@given(data=st.lists(st.sampled_from([b"a", b"b", CR, LF, b"\r\n"]), max_size=40).map(b"".join),
       size=st.integers(1, 9))
def test_lines_come_in_bounded_pieces_that_join_back_to_the_input(data, size):
    lines = RawLines(io.BufferedReader(io.BytesIO(data), buffer_size=3), drop_bom=False)
    pieces: list[tuple[bytes, bool]] = []
    while piece := lines.read(size):
        complete = piece.endswith(lines.terminators)
        assert len(piece) <= size + complete  # one more only for a CR LF pair
        pieces.append((piece, complete))
    assert b"".join(p for p, _ in pieces) == data
    assert all(len(p) == size for p, complete in pieces[:-1] if not complete)  # a longer line's pieces
    first = re.search(rb"\r\n|\r|\n", data)
    assert lines.line_end == (first.group() if first else None)
