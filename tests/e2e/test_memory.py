"""Memory stays bounded on every input, and a full temporary directory is told in words.

- A SAF-T element's text longer than ``--max-field-size`` (1 MiB by default) is not kept:
  its record is invalid, naming the element, its line and the limit, and the others are
  sent; in the Header the run stops before anything is sent. A ``.xml.gz`` is held to the
  same bound as it inflates.
- A document of more than 10,000 lines is invalid before anything of it is sent, naming its
  key, its first record and the limit; every one of its records still has one final line,
  each line stays small, and ``importer report`` reads the file.
- A temporary directory (``TMPDIR``) too small for the importer's on-disk indexes stops the
  run cleanly, naming the directory and ``TMPDIR``; a resume in a directory with room creates
  nothing twice, and a resume that finds the directory full leaves the results file as it was.

Every run is the CLI as a subprocess against a sandbox on loopback; the tests assert on what
the ledger holds and on the bytes of the files. The small temporary directory is a real
tmpfs mounted by the test (CI runs as root); where mounting is not allowed the test is skipped.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from importer.load.results import RESULTS_LINE_LIMIT
from importer.mapping.records import MAX_DOCUMENT_LINES
from tests.support.runs import (
    TOKEN,
    assert_one_final_line_per_record,
    final_lines,
    get_json,
    read_lines,
    run_cli,
    tmpfs,
)
from tests.support.saft_files import write_saft

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

NO_TERMS = 'ignore = ["PaymentTerms.Days"]\n'  # the generated customers' payment terms are not mapped


async def _stored(sandbox, entity: str) -> list[dict]:
    records = await get_json(f"{sandbox.url}/sandbox/records/{entity}")
    assert isinstance(records, list)
    return records


def _words(text: str) -> str:
    return " ".join(text.split())


def _saft_with(path: Path, old: str, new: str, *, gz: bool = False) -> Path:
    """A generated SAF-T file (three customers) with ``old`` replaced by ``new`` once."""
    plain = path.with_name(path.name + ".plain.xml")
    write_saft(plain, customers=3)
    text = plain.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    plain.unlink()
    if gz:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
            out.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- SAF-T text -----------------------------------------------------------------------------


async def test_a_saft_gz_element_inflating_past_the_default_limit_makes_only_its_customer_invalid(sandbox, tmp_path):
    giant = "ø" * (3 << 20)  # 6 MiB of UTF-8 in one <Name>; the .gz is a few KiB
    source = _saft_with(tmp_path / "export.xml.gz", "<Name>Kunde 2 AS</Name>", f"<Name>{giant}</Name>", gz=True)
    assert source.stat().st_size < 200_000
    (tmp_path / "terms.toml").write_text(NO_TERMS, encoding="utf-8")
    results = tmp_path / "r.ndjson"
    code, out, err = await run_cli("run", str(source), "--entity", "customer", "--base-url", sandbox.url,
                                   "--token", TOKEN, "--map", str(tmp_path / "terms.toml"), "--results", str(results))
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert sorted(c["number"] for c in await _stored(sandbox, "customer")) == ["K00001", "K00003"]
    finals = assert_one_final_line_per_record(results, 3)
    [bad] = [line for line in finals if line["outcome"] == "invalid"]
    assert bad["key"] == "K00002" and bad["records"] == [2]
    assert "<Customer/Name>" in bad["error"] and "--max-field-size (1,048,576 bytes)" in bad["error"]
    assert "line " in bad["error"]
    assert max(len(line) for line in results.read_bytes().splitlines()) < 10_000  # the text went nowhere


async def test_a_saft_text_over_a_small_max_field_size_is_refused_and_in_the_header_stops_the_run(sandbox, tmp_path):
    (tmp_path / "terms.toml").write_text(NO_TERMS, encoding="utf-8")
    common = ("--entity", "customer", "--base-url", sandbox.url, "--token", TOKEN, "--map", str(tmp_path / "terms.toml"),
              "--max-field-size", "100")
    header = _saft_with(tmp_path / "header.xml", "<Name>Testselskapet AS</Name>", f"<Name>{'x' * 101}</Name>")
    before = header.read_bytes()
    code, out, err = await run_cli("run", str(header), *common, "--results", str(tmp_path / "h.ndjson"))
    assert code == 1, (out, err)
    said = _words(out + err)  # the run's summary table says it: as words, however the table wraps
    assert "header.xml: Header/Company/Name at line 3 is at least 101 bytes long, more than --max-field-size " \
           "(100 bytes)" in said
    assert "Traceback" not in said
    assert await _stored(sandbox, "customer") == []  # nothing was sent
    assert header.read_bytes() == before

    source = _saft_with(tmp_path / "customer.xml", "<Name>Kunde 3 AS</Name>", f"<Name>{'y' * 101}</Name>")
    results = tmp_path / "c.ndjson"
    code, out, err = await run_cli("run", str(source), *common, "--results", str(results))
    assert code == 1, (out, err)
    assert sorted(c["number"] for c in await _stored(sandbox, "customer")) == ["K00001", "K00002"]
    [bad] = [line for line in assert_one_final_line_per_record(results, 3) if line["outcome"] != "created"]
    assert bad["outcome"] == "invalid" and bad["key"] == "K00003"
    assert "<Customer/Name>" in bad["error"] and "at least 101 bytes" in bad["error"]


# -- a document's lines ------------------------------------------------------------------------


async def _customer(sandbox, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("number,name\n10000,Kunde AS\n", encoding="utf-8")
    code, out, err = await run_cli("run", str(tmp_path / "customers.csv"), "--entity", "customer",
                                   "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, (out, err)


async def test_a_document_over_the_line_cap_is_invalid_before_sending_and_every_record_has_its_line(sandbox, tmp_path):
    await _customer(sandbox, tmp_path)
    over = MAX_DOCUMENT_LINES + 1
    rows = ["referenceNumber,customerNumber,currencyId,line.description,line.quantity,line.unitPriceInCurrency",
            "A-1,10000,NOK,first,1,10"]
    rows += [f"BIG,10000,NOK,line {n},1,10" for n in range(over)]
    rows.append("A-2,10000,NOK,last,1,10")
    path = tmp_path / "invoices.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    results = tmp_path / "invoices.results.ndjson"
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--base-url", sandbox.url,
                                   "--token", TOKEN, "--results", str(results))
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    assert sorted(i["referenceNumber"] for i in await _stored(sandbox, "invoice")) == ["A-1", "A-2"]
    finals = assert_one_final_line_per_record(results, over + 2)
    big = [line for line in finals if line["key"] == "BIG"]
    assert {line["outcome"] for line in big} == {"invalid"}
    assert sum(len(line["records"]) for line in big) == over
    assert all(len(line["records"]) <= MAX_DOCUMENT_LINES for line in big)
    assert big[0]["error"].startswith("record 2: the document 'BIG' has more than 10,000 lines")
    # the rest of the document (a second chunk of its rows) says it is the same document, and why
    assert all(big[0]["error"].split(": ", 1)[1] in line["error"] for line in big)
    # Its rows were not kept, so none is in the failed-records file: a row of empty cells says why instead.
    failed = (tmp_path / "invoices.failed.csv").read_text(encoding="utf-8").splitlines()
    assert len(failed) == 1 + len(big) and not any("BIG," in row for row in failed)
    assert all(row.startswith(",,,,,,\"record ") and "the document 'BIG' has more than" in row for row in failed[1:])
    longest = max(len(line) for line in results.read_bytes().splitlines())
    assert longest < 200_000 < RESULTS_LINE_LIMIT  # about 12 bytes a record: far below what report reads
    code, out, err = await run_cli("report", str(results))  # reads every line of it
    assert code == 0, (out, err)
    assert "has more than # lines" in _words(out) and "Traceback" not in out + err


async def test_a_document_in_the_apis_shape_over_the_line_cap_is_invalid_naming_its_lines(sandbox, tmp_path):
    await _customer(sandbox, tmp_path)

    def invoice(reference: str, lines: int) -> str:
        line = {"operation": "Insert", "quantity": {"value": 1}, "unitPriceInCurrency": {"value": 10}}
        return json.dumps({"referenceNumber": {"value": reference}, "customerNumber": {"value": "10000"},
                           "currencyId": {"value": "NOK"}, "invoiceLines": [line] * lines},
                          separators=(",", ":"))  # about 700 KB: under --max-field-size

    path = tmp_path / "invoices.ndjson"
    path.write_text(invoice("S-1", 2) + "\n" + invoice("S-BIG", MAX_DOCUMENT_LINES + 1) + "\n", encoding="utf-8")
    before = path.read_bytes()
    results = tmp_path / "r.ndjson"
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--base-url", sandbox.url,
                                   "--token", TOKEN, "--results", str(results))
    assert code == 1, (out, err)
    assert [i["referenceNumber"] for i in await _stored(sandbox, "invoice")] == ["S-1"]
    [big] = [line for line in assert_one_final_line_per_record(results, 2) if line["key"] == "S-BIG"]
    assert big["outcome"] == "invalid" and big["records"] == [2]
    assert big["error"].startswith("record 2: invoiceLines: the document 'S-BIG' has 10,001 lines, more than the "
                                   "10,000 one document may have")
    assert path.read_bytes() == before


# -- a full temporary directory --------------------------------------------------------------


@pytest.fixture
def small_tmpdir(tmp_path):
    with tmpfs(tmp_path / "tmp", "4k") as mount:
        yield mount


async def test_a_full_temporary_directory_stops_the_run_and_the_resume_creates_nothing_twice(
        sandbox, tmp_path, small_tmpdir):
    await _customer(sandbox, tmp_path)
    count = 1200
    # Long documentKeys make the index of identities outgrow its memory (2 MiB) after a few hundred records.
    path = tmp_path / "invoices.csv"
    path.write_text("documentKey,customerNumber,currencyId,invoiceText,line.description,line.quantity,"
                    "line.unitPriceInCurrency\n"
                    + "".join(f"D{n:05d}-{'k' * 2000},10000,NOK,text {n},line,1,10\n" for n in range(count)),
                    encoding="utf-8")
    results = tmp_path / "r.ndjson"
    args = ("run", str(path), "--entity", "invoice", "--base-url", sandbox.url, "--token", TOKEN,
            "--results", str(results))
    full = {"TMPDIR": str(small_tmpdir), "SQLITE_TMPDIR": ""}
    code, out, err = await run_cli(*args, env=full)
    assert code == 1, (out, err)
    said = _words(out + err)
    assert "Traceback" not in said and "OperationalError" not in said and "database or disk is full" not in said
    assert f"the temporary directory {small_tmpdir} (from TMPDIR) is full" in said
    assert "point TMPDIR at a directory with room" in said and "--resume" in err
    sent = Counter(i["invoiceText"] for i in await _stored(sandbox, "invoice"))
    assert 0 < len(sent) < count and max(sent.values()) == 1
    lines = read_lines(results)
    assert results.read_bytes().endswith(b"\n")
    started = {line["identity"] for line in lines if line["outcome"] == "started"}
    finished = {line["identity"] for line in lines if line["outcome"] != "started"}
    assert len(sent) <= len(started) and finished <= started

    code, out, err = await run_cli(*args, "--resume", env=full)  # still full: refused, the file untouched
    assert code == 1, (out, err)
    said = _words(out + err)
    assert f"the temporary directory {small_tmpdir} (from TMPDIR) is full" in said
    assert f"what {results} holds" in said and "up to about the size of that file" in said
    assert read_lines(results) == lines
    assert Counter(i["invoiceText"] for i in await _stored(sandbox, "invoice")) == sent

    room = {"TMPDIR": str(tmp_path), "SQLITE_TMPDIR": ""}
    code, out, err = await run_cli(*args, "--resume", env=room)
    assert code == 0, (out, err)
    stored = Counter(i["invoiceText"] for i in await _stored(sandbox, "invoice"))
    assert stored == Counter({f"text {n}": 1 for n in range(count)})
    assert len({line["identity"] for line in final_lines(results)}) == count
    assert os.listdir(small_tmpdir) == []  # the indexes' files are gone with the runs
