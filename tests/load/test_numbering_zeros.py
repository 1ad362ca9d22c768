"""Company numbering, the file re-saved by a spreadsheet: numbers that lost their leading zeros
(``00101`` saved as ``101``) and dates saved as date-times are the documents created before.

The company numbers the invoices (tests/support/numbering_company.py), so the ledger keeps the
file's number only in customerRefNumber. Each test loads a file, re-saves it as a spreadsheet
would, runs it again against the sandbox over a real socket and asserts on what the sandbox
stores: each document once, nothing created again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.load.held import loose
from importer.sandbox import SandboxConfig, serve
from tests.support.numbering_company import company_with, creates, run_numbered, stored_invoices, write_files
from tests.support.runs import assert_one_final_line_per_record, final_lines, read_lines

pytestmark = pytest.mark.one_profile


def _resave(path: Path, numbers: dict[str, str] | None = None) -> None:
    """``path`` as a spreadsheet saves it: numbers without their leading zeros (or as
    ``numbers`` gives them), dates as date-times at midnight, amounts with two decimals."""
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    saved = []
    for row in rows:
        number, key, customer, date, description, quantity, price = row.split(",")
        number = (numbers or {}).get(number, number.lstrip("0"))
        saved.append(f"{number},{key},{customer},{date}T00:00:00,{description},{quantity},{price}.00")
    path.write_text("\n".join([header, *saved]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("again", ["resume", "restart"])
async def test_numbers_that_lost_their_zeros_are_the_documents_created_before(tmp_path, again):
    numbers = ["00101", "00102", "0103", "104"]
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        customers, invoices = write_files(tmp_path, numbers)  # type: ignore[arg-type]
        assert (await run_numbered(sb, customers, "customer")).ok
        assert (await run_numbered(sb, invoices, "invoice")).outcomes["created"] == 4
        before, posts = await stored_invoices(sb), await creates(sb)
        assert sorted(ref for ref, _ in before.values()) == sorted(numbers)

        results = Path(f"{invoices}.results.ndjson")
        written = len(read_lines(results)) if again == "resume" else 0  # a restart starts the file anew
        _resave(invoices, {"0103": "  103 "})  # one padded, as a fixed-width export pads
        summary = await run_numbered(sb, invoices, "invoice", **{again: True})
        assert await stored_invoices(sb) == before  # each document once, as it was
        assert await creates(sb) == posts  # not one create
    by_ref = {ref: key for key, (ref, _) in before.items()}
    lines = read_lines(results)[written:]
    # Found in the ledger by their numbers less the zeros, nothing sent; 104, unchanged, is
    # already done by the results file a resume reads (no line), and found again by a restart.
    renamed = numbers[:3] if again == "resume" else numbers
    assert [(line["outcome"], line["key"], line["sent_key"], line["recovered"]) for line in lines] == [
        ("created", by_ref[n], n.lstrip("0"), True) for n in renamed]
    assert summary.held == len(renamed) and summary.sent_units == 0
    if again == "restart":
        assert_one_final_line_per_record(results, 4)


async def test_numbers_alike_but_for_zeros_are_told_apart_by_their_content(tmp_path):
    """Two documents whose numbers differ only by zeros: the one that holds what the file gives
    is the one it names; where neither does, the record is refused, never created."""
    numbers = ["0101", "00101", "0201", "00201"]
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        customers, invoices = write_files(tmp_path, numbers)  # type: ignore[arg-type]
        assert (await run_numbered(sb, customers, "customer")).ok
        assert (await run_numbered(sb, invoices, "invoice")).outcomes["created"] == 4
        before, posts = await stored_invoices(sb), await creates(sb)
        # the rows of 00101 (its content, price 102) and of 0201 with a price neither holds
        header, *rows = invoices.read_text(encoding="utf-8").splitlines()
        invoices.write_text("\n".join([header, rows[1], rows[2].replace(",103", ",999")]) + "\n", encoding="utf-8")
        _resave(invoices)
        summary = await run_numbered(sb, invoices, "invoice", results=str(tmp_path / "again.ndjson"))
        assert await stored_invoices(sb) == before and await creates(sb) == posts
    by_ref = {ref: key for key, (ref, _) in before.items()}
    found, refused = final_lines(tmp_path / "again.ndjson")
    assert (found["outcome"], found["key"], found["recovered"]) == ("created", by_ref["00101"], True)
    assert refused["outcome"] == "failed" and "none of them holds what the file gives" in refused["error"]
    assert by_ref["0201"] in refused["error"] and by_ref["00201"] in refused["error"]
    assert summary.outcomes["failed"] == 1


def test_loose_numbers():
    assert loose("00123") == loose(" 123 ") == loose("123") == "123"
    assert loose("000") == "0" and loose("") == "" and loose("0A1") == "A1"
    assert loose("1230") != loose("123")
