"""Encodings proved against the bytes, exports joined end to end, and unreadable rows told apart.

Each case runs the CLI as a user would, against a real sandbox, and looks at what the
ledger holds and at the bytes of the files involved.
"""

import codecs
import json

import pytest

from importer.errors import ConfigError
from importer.sources import SourceOptions, open_source
from tests.support.runs import TOKEN, assert_one_final_line_per_record, final_lines, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

UTF8_CUSTOMERS = "number;name\n1;Tromsø Eiendom AS\n2;Ærlig Bygg AS\n3;Blåbær Øl\n".encode()
NAMES = {"1": "Tromsø Eiendom AS", "2": "Ærlig Bygg AS", "3": "Blåbær Øl"}


async def customers(sandbox) -> dict[str, str]:
    return {c["number"]: c["name"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}


async def run(sandbox, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    return await run_cli(*args, "--base-url", sandbox.url, "--token", TOKEN, stdin=stdin)


def read(path, **options):
    with open_source(path, SourceOptions(**options)) as source:
        return list(source)


# -- item 3: an explicit encoding is checked against the bytes -----------------------------------

@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "iso-8859-15"])
async def test_utf8_read_as_a_code_page_is_stopped_with_both_readings(sandbox, tmp_path, encoding):
    path = tmp_path / "kunder.csv"
    path.write_bytes(UTF8_CUSTOMERS)
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", encoding)
    assert code == 2, out + err
    mojibake = "1;Tromsø Eiendom AS".encode().decode(encoding)  # 'TromsÃ¸' in latin-1 and cp1252
    assert f"kunder.csv is UTF-8 text, not {encoding}: line 2 says {mojibake!r} read as {encoding}, " \
           "'1;Tromsø Eiendom AS' read as UTF-8" in err
    assert "drop --encoding (or pass --encoding utf-8)" in err and "Traceback" not in err + out
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == 0
    assert await customers(sandbox) == {}
    assert path.read_bytes() == UTF8_CUSTOMERS
    assert not (tmp_path / "kunder.csv.results.ndjson").exists()
    # The fix the message gives works, and the names go in as written.
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", "utf-8",
                               "--results", str(tmp_path / "again.ndjson"))
    assert code == 0, out + err
    assert await customers(sandbox) == NAMES


async def test_a_plans_encoding_is_checked_too(sandbox, tmp_path):
    (tmp_path / "kunder.csv").write_bytes(UTF8_CUSTOMERS)
    plan = tmp_path / "plan.toml"
    plan.write_text('[[step]]\ninput = "kunder.csv"\nentity = "customer"\nencoding = "cp1252"\n', encoding="utf-8")
    code, out, err = await run(sandbox, "plan", str(plan))
    assert code == 2, out + err
    assert "is UTF-8 text, not cp1252" in err and "'1;TromsÃ¸ Eiendom AS'" in err
    assert await customers(sandbox) == {}


async def test_a_gzipped_utf8_file_is_checked_inflated(sandbox, tmp_path):
    import gzip

    path = tmp_path / "kunder.csv.gz"
    path.write_bytes(gzip.compress(UTF8_CUSTOMERS))
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", "cp1252")
    assert code == 2 and "is UTF-8 text, not cp1252" in err, out + err
    assert await customers(sandbox) == {}


async def test_a_utf8_bom_read_as_cp1252_is_named_as_a_bom(sandbox, tmp_path):
    data = codecs.BOM_UTF8 + b"Fakturanr;name\n1;A\n"
    path = tmp_path / "kunder.csv"
    path.write_bytes(data)
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", "cp1252")
    assert code == 2, out + err
    assert "starts with a UTF-8 byte-order mark: it is UTF-8, not cp1252" in err
    assert "ï»¿" not in err and "Traceback" not in err
    assert path.read_bytes() == data and await customers(sandbox) == {}
    # The same from a pipe, which cannot be read twice.
    code, out, err = await run(sandbox, "run", "-", "--format", "csv", "--entity", "customer",
                               "--encoding", "cp1252", "--results", str(tmp_path / "pipe.ndjson"), stdin=data)
    assert code == 2 and "UTF-8 byte-order mark" in err, out + err
    assert await customers(sandbox) == {}


def test_a_utf16_bom_under_a_code_page_is_named_as_utf16(tmp_path):
    path = tmp_path / "kunder.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "number;name\n1;A\n".encode("utf-16-le"))
    with pytest.raises(ConfigError, match="UTF-16 byte-order mark: it is UTF-16 text, not cp1252"):
        read(path, encoding="cp1252")


async def test_a_genuine_cp1252_file_still_goes_in(sandbox, tmp_path):
    # An ASCII first line, then cp1252 letters far past the checked prefix: proved line by line.
    data = b"number;name\n" + b"\n" * (1 << 20) + "1;Tromsø Eiendom AS\n2;Ærlig Bygg AS\n".encode("cp1252")
    path = tmp_path / "kunder.csv"
    path.write_bytes(data)
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", "cp1252")
    assert code == 0, out + err
    assert await customers(sandbox) == {"1": "Tromsø Eiendom AS", "2": "Ærlig Bygg AS"}


async def test_utf8_past_the_checked_prefix_is_refused_record_by_record(sandbox, tmp_path):
    # Blank lines hold no record: the first MiB is ASCII, so only the reader sees the UTF-8 rows.
    data = b"number;name\n4;Plain AS\n" + b"\n" * (1 << 20) + UTF8_CUSTOMERS.split(b"\n", 1)[1]
    path = tmp_path / "kunder.csv"
    path.write_bytes(data)
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer", "--encoding", "cp1252")
    assert code == 1, out + err
    finals = assert_one_final_line_per_record(tmp_path / "kunder.csv.results.ndjson", 4)
    invalid = {line["key"]: line["error"] for line in finals if line["outcome"] == "invalid"}
    assert set(invalid) == {"1", "2", "3"}
    assert "is UTF-8 text, not cp1252: it says '1;TromsÃ¸ Eiendom AS' read as cp1252" in invalid["1"]
    assert await customers(sandbox) == {"4": "Plain AS"}  # no name with mojibake
    assert path.read_bytes() == data


async def test_a_pipe_read_as_cp1252_doubts_until_a_line_proves_it(sandbox, tmp_path):
    utf8 = UTF8_CUSTOMERS  # a pipe is read once: --send-valid lets the preflight check each record as it comes
    code, out, err = await run(sandbox, "run", "-", "--format", "csv", "--entity", "customer", "--send-valid",
                               "--encoding", "cp1252", "--results", str(tmp_path / "u.ndjson"), stdin=utf8)
    assert code == 1, out + err
    assert {line["outcome"] for line in final_lines(tmp_path / "u.ndjson")} == {"invalid"}
    assert await customers(sandbox) == {}
    cp1252 = "number;name\n5;Ærlig AS\n6;Blåbær Øl\n".encode("cp1252")
    code, out, err = await run(sandbox, "run", "-", "--format", "csv", "--entity", "customer", "--send-valid",
                               "--encoding", "cp1252", "--results", str(tmp_path / "c.ndjson"), stdin=cp1252)
    assert code == 0, out + err
    assert await customers(sandbox) == {"5": "Ærlig AS", "6": "Blåbær Øl"}


def test_a_header_in_utf8_read_from_a_pipe_as_cp1252_is_refused(tmp_path):
    import io

    from importer.sources import open_input

    stream = io.BytesIO("Kundenr;Beløp\n1;2\n".encode())
    with pytest.raises(ConfigError, match="header row is not cp1252: line 1 is UTF-8 text.*'Kundenr;BelÃ¸p'"):
        with open_input(stream, SourceOptions(format="csv", encoding="cp1252")):
            pass


# -- item 4, CSV: a header row repeated inside the data ------------------------------------------

@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
async def test_joined_exports_refuse_the_second_header_as_a_record(sandbox, tmp_path, bom):
    jan = b'number,name\n1,Jan AS\n2,"Feb, Mar AS"\n'
    feb = bom + b'number,name\n3,Apr AS\n4,Mai AS\n'
    path = tmp_path / "all.csv"
    path.write_bytes(jan + feb)  # cat jan.csv feb.csv
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer")
    assert code == 1, out + err
    finals = assert_one_final_line_per_record(tmp_path / "all.csv.results.ndjson", 5)
    [header] = [line for line in finals if line["outcome"] == "invalid"]
    assert header["records"] == [3] and header["error"].startswith(
        "record 3 (line 4) repeats the header row" + (" (after a UTF-8 byte-order mark)" if bom else "")
        + ": were two exports joined?")
    stored = await customers(sandbox)
    assert stored == {"1": "Jan AS", "2": "Feb, Mar AS", "3": "Apr AS", "4": "Mai AS"}
    assert "name" not in stored.values() and "number" not in stored
    assert path.read_bytes() == jan + feb
    failed = (tmp_path / "all.failed.csv").read_bytes()
    assert failed.startswith(b"number,name,error\n" + bom + b"number,name,")


def test_a_quoted_header_after_a_bom_is_recognised_in_a_code_page(tmp_path):
    # A cp1252 export (its letters prove the code page) joined to one saved as UTF-8 with a BOM.
    data = ('"number";"name"\n1;Blåbær\n'.encode("cp1252") + codecs.BOM_UTF8
            + b'"number";"name"\n2;Plain\n')
    path = tmp_path / "all.csv"
    path.write_bytes(data)
    rows = read(path, encoding="cp1252")
    assert [r.error is None for r in rows] == [True, False, True]
    assert rows[1].error.startswith("record 2 (line 3) repeats the header row (after a UTF-8 byte-order mark)")
    assert rows[1].data == {} and rows[2].data == {"number": "2", "name": "Plain"}


# -- item 6: unreadable rows have identities of their own ------------------------------------------

UNREADABLE = [b'2,"Cut"here\n', b'3,"Also"cut\n', b"4,too,many\n"]


async def test_unreadable_rows_are_counted_one_by_one_and_keep_their_identity_when_moved(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"number,name\n1,Good AS\n" + b"".join(UNREADABLE) + UNREADABLE[0])
    code, out, err = await run(sandbox, "run", str(path), "--entity", "customer")
    assert code == 1, out + err
    finals = assert_one_final_line_per_record(tmp_path / "c.csv.results.ndjson", 5)
    bad = {line["records"][0]: line["identity"] for line in finals if line["outcome"] == "invalid"}
    assert len({bad[2], bad[3], bad[4]}) == 3 and bad[5] == bad[2]  # the same bytes: the same record
    code, out, err = await run_cli("report", str(tmp_path / "c.csv.results.ndjson"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["outcomes"] == {"created": 1, "invalid": 4}  # record 5 repeats record 2: a record of its own
    assert await customers(sandbox) == {"1": "Good AS"}
    # The same rows elsewhere in another file (the last without its line end) are the same records.
    moved = tmp_path / "moved.csv"
    moved.write_bytes(b"number,name\n" + UNREADABLE[2] + UNREADABLE[1] + b"1,Good AS\n" + UNREADABLE[0].rstrip())
    code, out, err = await run(sandbox, "run", str(moved), "--entity", "customer", "--dry-run")
    assert code == 1, out + err
    again = {line["records"][0]: line["identity"] for line in final_lines(tmp_path / "moved.csv.dry-run.ndjson")
             if line["outcome"] == "invalid"}
    assert again == {1: bad[4], 2: bad[3], 4: bad[2]}


def test_rows_with_bytes_the_encoding_cannot_read_are_told_apart(tmp_path):
    from importer.entities import ENTITIES
    from importer.load.identity import identify
    from importer.mapping import RecordMapper

    path = tmp_path / "c.csv"
    path.write_bytes(b"number,name\n,Bl\xe5\n,Bl\xe6\n")  # no key, and bytes UTF-8 cannot read
    mapper = RecordMapper(ENTITIES["customer"], columns=["number", "name"])
    identities = [identify(ENTITIES["customer"], work)[0] for record in read(path, encoding="utf-8")
                  for work in mapper.feed(record)]
    assert len(identities) == 2 and identities[0] != identities[1]


async def test_the_failed_file_of_joined_exports_does_not_send_the_header_either(sandbox, tmp_path):
    """The refused header row goes to the failed-records file with an error cell; imported
    again, it is still the header, not a customer named 'name'."""
    joined = tmp_path / "all.csv"
    joined.write_bytes(b"number,name\nJ1,Jan AS\nnumber,name\nJ2,Feb AS\n")
    code, out, err = await run_cli("run", str(joined), "-e", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, out + err
    failed = tmp_path / "all.failed.csv"
    assert failed.read_text(encoding="utf-8").splitlines()[1].startswith("number,name,")
    code, out, err = await run_cli("run", str(failed), "-e", "customer", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1, out + err
    [line] = final_lines(f"{failed}.results.ndjson")
    assert line["outcome"] == "invalid" and "repeats the header row" in line["error"]
    names = sorted(c["name"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer"))
    assert names == ["Feb AS", "Jan AS"]
