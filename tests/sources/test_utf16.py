"""UTF-16 text (Excel's "Unicode text": UTF-16LE with a BOM, TAB-separated, CRLF) read as such."""

from __future__ import annotations

import codecs

import pytest

from importer.errors import ConfigError, SourceError
from importer.sources import SourceOptions, open_source

pytestmark = pytest.mark.one_profile

TEXT = "number\tname\tmainAddress.postalCode\r\n1\tTromsø Eiendom AS\t0150\r\n2\t\"Ærlig; Bygg\"\t9008\r\n"


def read(path, **options):
    with open_source(path, SourceOptions(**options)) as source:
        return source, list(source)


@pytest.mark.parametrize(("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_a_utf16_file_with_a_bom_is_read_as_utf16(tmp_path, bom, codec):
    path = tmp_path / "kunder.txt"
    path.write_bytes(bom + TEXT.encode(codec))
    source, rows = read(path)
    assert source.delimiter == "\t" and source.columns == ["number", "name", "mainAddress.postalCode"]
    assert source.bom == codecs.BOM_UTF8 and source.line_end == b"\r\n"  # its failed file: UTF-8, a BOM
    assert [r.data for r in rows] == [
        {"number": "1", "name": "Tromsø Eiendom AS", "mainAddress.postalCode": "0150"},
        {"number": "2", "name": "Ærlig; Bygg", "mainAddress.postalCode": "9008"}]
    assert rows[0].raw == "1\tTromsø Eiendom AS\t0150\r\n".encode() and all(r.error is None for r in rows)


def test_utf16_by_name_without_a_bom_and_what_is_not_utf16(tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(TEXT.encode("utf-16-le"))
    for encoding in ("utf-16-le", "utf-16"):  # no mark to say which: little-endian, as Windows writes
        _, rows = read(path, encoding=encoding)
        assert rows[1].data["name"] == "Ærlig; Bygg"
    path.write_bytes(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le") + b"\x00")  # an odd byte at the end
    with pytest.raises(SourceError, match="is not valid UTF-16 at byte"):
        read(path)
    path.write_bytes(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))
    with pytest.raises(ConfigError, match="it is UTF-16 text, not cp1252; drop --encoding"):
        read(path, encoding="cp1252")
