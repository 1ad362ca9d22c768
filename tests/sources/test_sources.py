import codecs
import gzip
import io

import pytest

from importer.errors import ConfigError, SourceError
from importer.sources import SourceOptions, open_input, open_source


def read(path, **options):
    with open_source(path, SourceOptions(**options)) as source:
        return source, list(source)


def test_csv_comma_with_bom(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffnumber,name\n1,Ærlig AS\n".encode("utf-8"))
    source, rows = read(path)
    assert source.columns == ["number", "name"]
    assert rows[0].data == {"number": "1", "name": "Ærlig AS"}


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "c.csv"
    path.write_text(f"number{delimiter}name\n1{delimiter}A, B og C\n", encoding="utf-8")
    source, rows = read(path)
    assert source.delimiter == delimiter
    assert rows[0].data["name"] == "A, B og C"


def test_cp1252_input(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("number;name\n1;Blåbær Øl\n".encode("cp1252"))
    _, rows = read(path, encoding="cp1252")
    assert rows[0].data["name"] == "Blåbær Øl"


def test_undecodable_bytes_spoil_only_their_record(tmp_path):
    # With an explicit encoding there is no check of the whole file: each line is decoded on its own.
    path = tmp_path / "c.csv"
    path.write_bytes("number;name\n1;ok\n2;Bl\xe5b\xe6r\n3;ok\n".encode("latin-1"))
    _, rows = read(path, encoding="utf-8")
    assert [r.error is None for r in rows] == [True, False, True]
    assert "line 3" in rows[1].error and "--encoding cp1252" in rows[1].error
    assert rows[1].raw == b"2;Bl\xe5b\xe6r\n"  # the bytes as they came, to be written back
    ndjson = tmp_path / "r.ndjson"
    ndjson.write_bytes(b'{"number": "1"}\n{"name": "Bl\xe5"}\n{"number": "3"}\n')
    _, rows = read(ndjson, encoding="utf-8")
    assert [r.error is None for r in rows] == [True, False, True]
    assert "line 2" in rows[1].error and rows[1].raw == b'{"name": "Bl\xe5"}\n'


def test_a_file_that_is_not_utf8_stops_before_its_first_record(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("number;name\n1;ok\n2;Blåbær\n".encode("cp1252"))
    with pytest.raises(ConfigError, match=r"line 3, byte 5 of the line is the byte 0xe5.*--encoding cp1252") as caught:
        read(path)
    assert "'2;Blåbær'" in str(caught.value)


def test_gzip_and_truncated_gzip(tmp_path):
    body = "number,name\n" + "".join(f"{i},Kunde {i}\n" for i in range(1, 5001))
    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    _, rows = read(path)
    assert len(rows) == 5000 and rows[-1].number == 5000
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    records = []
    with pytest.raises(SourceError, match="stopped being readable"):
        with open_source(cut) as source:
            for record in source:
                records.append(record)
    assert records and records[-1].number == len(records)


def test_rows_with_the_wrong_width_are_kept_with_an_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n2\n3,C,extra\n\n4,D\n", encoding="utf-8")
    _, rows = read(path)
    assert [r.number for r in rows] == [1, 2, 3, 4]
    assert rows[1].error == "row has 1 fields, the header has 2"
    assert rows[2].error is not None and rows[3].error is None


def test_a_csv_cut_mid_row_keeps_the_partial_row_as_invalid(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('number,name,note\n1,A,x\n2,"B', encoding="utf-8")
    _, rows = read(path)
    assert rows[0].error is None
    assert rows[-1].number == 2 and rows[-1].error is not None


def test_a_10_mb_field_is_read_when_max_field_size_allows_it(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,note\n1," + "x" * 10_000_000 + "\n2,y\n", encoding="utf-8")
    _, rows = read(path, max_field_size=16 << 20)
    assert len(rows[0].data["note"]) == 10_000_000 and rows[0].error is None
    _, rows = read(path)  # the default: 1 MiB
    assert "longer than --max-field-size (1048576 bytes)" in rows[0].error
    assert rows[1].data == {"number": "2", "note": "y"}


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(ConfigError, match="empty"):
        read(empty)
    header = tmp_path / "h.csv"
    header.write_text("number,name\n")
    _, rows = read(header)
    assert rows == []


def test_ndjson_flat_shaped_and_broken_lines(tmp_path):
    path = tmp_path / "r.ndjson"
    path.write_text('{"number": "1"}\n\n{"name": {"value": "x"}}\nnot json\n[1]\n', encoding="utf-8")
    _, rows = read(path)
    assert [r.number for r in rows] == [1, 2, 3, 4]
    assert rows[0].data == {"number": "1"}
    assert "not valid JSON" in rows[2].error
    assert "list" in rows[3].error


def test_format_by_extension_and_unknown(tmp_path):
    path = tmp_path / "r.dat"
    path.write_text("a,b\n")
    with pytest.raises(ConfigError, match="--format"):
        read(path)
    _, rows = read(path, format="csv")
    assert rows == []


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read(tmp_path / "nope.csv")


def test_every_record_keeps_its_bytes_and_the_file_its_layout(tmp_path):
    path = tmp_path / "c.csv"
    body = b'number;name\r\n1;"Linje 1\r\nLinje 2"\r\n\r\n2;B\r\n3;C'
    path.write_bytes(codecs.BOM_UTF8 + body)
    source, rows = read(path)
    assert (source.encoding, source.bom, source.line_end) == ("utf-8", codecs.BOM_UTF8, b"\r\n")
    assert source.header_raw == b"number;name\r\n"
    assert [r.raw for r in rows] == [b'1;"Linje 1\r\nLinje 2"\r\n', b"2;B\r\n", b"3;C"]
    assert rows[0].data["name"] == "Linje 1\r\nLinje 2"
    ndjson = tmp_path / "r.ndjson"
    ndjson.write_bytes(b'{"number": "1"}\r\n\r\n{"number": "2"}')
    source, rows = read(ndjson, encoding="cp1252")
    assert (source.encoding, source.bom, source.line_end) == ("cp1252", b"", b"\r\n")
    assert [r.raw for r in rows] == [b'{"number": "1"}\r\n', b'{"number": "2"}']


def test_cells_the_importer_made_inert_are_restored(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name,note\n1,'=SUM(A1),'-x\n2,''@y,'plain\n3,-12,'-12\n", encoding="utf-8")
    _, rows = read(path)
    assert [(r.data["name"], r.data["note"]) for r in rows] == [
        ("=SUM(A1)", "-x"), ("'@y", "'plain"), ("-12", "'-12")]
    assert rows[0].raw == b"1,'=SUM(A1),'-x\n"  # the bytes stay as they were


def test_file_objects_binary_and_text_keep_raw_bytes():
    with open_input(io.BytesIO(b"number,name\r1,A\r2,B\r"), SourceOptions(format="csv")) as opened:
        rows = list(opened.reader)
        assert opened.reader.line_end == b"\r"
    assert [r.raw for r in rows] == [b"1,A\r", b"2,B\r"]
    text = io.StringIO('{"name": "Ærlig"}\n')
    with open_input(text, SourceOptions(format="ndjson")) as opened:
        [row] = list(opened.reader)
    assert row.data == {"name": "Ærlig"} and row.raw == '{"name": "Ærlig"}\n'.encode()
