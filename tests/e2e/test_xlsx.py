"""An Excel workbook of customers imported as a consultant gets it, and its failed records as a workbook.

The workbook's customers are on its second sheet, under a title; postal codes are numbers
formatted ``0000``, organisation numbers text, dates real dates, the payment days a formula
with its value. What the sandbox stores is compared with what Excel shows; the failed
records come back as ``.xlsx`` with the same columns plus ``error``, read independently
(openpyxl) and by the importer itself.
"""

from __future__ import annotations

import datetime as dt

import pytest

from importer.sources import SourceOptions, open_input
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, run_cli
from tests.support.workbooks import CUSTOMER_HEADER, Cell, customer_rows, write_book

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

COUNT = 10_000


def _bad_rows(first: int) -> list[list[object]]:
    row = COUNT + 4  # the sheet rows after the title, a blank row, the header and the customers
    return [
        [first, "Uten verdi AS", Cell(150, "0000"), "Oslo", "1", "", 1000, Cell(formula=f"=G{row}+1", value=None)],
        [first + 1, "Feil AS", Cell(9008, "0000"), "Tromsø", "2", "", Cell(formula="=1/0", value="#DIV/0!"), 14],
        [first + 2, "Tekst AS", Cell(5003, "0000"), "Bergen", "3", "", "mye", 14],
    ]


async def test_a_workbook_of_customers_goes_in_as_excel_shows_it(sandbox, tmp_path):
    rows = customer_rows(COUNT)
    bad = _bad_rows(10_001 + COUNT)
    path = write_book(tmp_path / "kunder.xlsx", {
        "Info": [["Eksport fra gammelt system"], ["Kunder på neste ark"]],
        "Kunder": [["Kundeliste 2026"], [], CUSTOMER_HEADER, *rows, *bad],
    })
    code, out, err = await run_cli("run", str(path), "--entity", "customer", "--sheet", "Kunder",
                                   "--concurrency", "32", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 1 and "Traceback" not in out + err, out + err  # 1: some records failed
    assert_one_final_line_per_record(tmp_path / "kunder.xlsx.results.ndjson", COUNT + len(bad))

    stored = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert len(stored) == COUNT
    for i in (0, 1, 8849, 8850, COUNT - 1):
        customer = stored[str(10_001 + i)]
        assert customer["name"] == f"Kunde {10_001 + i} AS"
        assert customer["mainAddress"]["postalCode"] == f"{150 + i % 9000:04d}"  # 0150, not 150
        assert customer["corporateId"] == f"{900000000 + i}"
        assert customer["note"] == (dt.date(2024, 1, 1) + dt.timedelta(days=i % 700)).isoformat()
        assert customer["creditLimit"] == 1000 + i % 50
        assert customer["creditDaysPastDue"] == (30 if 1000 + i % 50 > 1020 else 14)
    assert {len(c["mainAddress"]["postalCode"]) for c in stored.values()} == {4}

    failed = tmp_path / "kunder.failed.xlsx"
    import openpyxl

    book = openpyxl.load_workbook(failed, read_only=True)
    assert book.sheetnames == ["Kunder"]
    got = [list(r) for r in book["Kunder"].iter_rows(values_only=True)]
    book.close()
    assert got[0] == [*CUSTOMER_HEADER, "error"] and len(got) == 4
    assert [r[:4] for r in got[1:]] == [[str(10_001 + COUNT), "Uten verdi AS", "0150", "Oslo"],
                                        [str(10_002 + COUNT), "Feil AS", "9008", "Tromsø"],
                                        [str(10_003 + COUNT), "Tekst AS", "5003", "Bergen"]]
    assert f"cell H{COUNT + 4} (column 'creditDaysPastDue'): the formula =G{COUNT + 4}+1 was saved without" in got[1][8]
    assert f"cell G{COUNT + 5} (column 'creditLimit'): holds the error #DIV/0!" in got[2][8]
    assert "creditLimit" in got[3][8] and "mye" in got[3][8]
    # The importer reads its own failed file back: the error column is the file's, the cells are text.
    with open_input(str(failed), SourceOptions()) as opened:
        again = list(opened.reader)
    assert opened.columns == [*CUSTOMER_HEADER, "error"] and len(again) == 3
    assert again[0].data["mainAddress.postalCode"] == "0150" and again[0].data["creditLimit"] == "1000"


async def test_a_plan_steps_sheet_and_header_row(sandbox, tmp_path):
    from importer.plans.plan import load_plan, run_plan

    write_book(tmp_path / "kunder.xlsx", {
        "Info": [["number", "name"], [1, "Not this sheet"]],
        "Kunder": [["Kundenr", "Navn"], ["number", "name"], [7, "Sju AS"], [8, Cell(8, "0000")]],
    })
    plan_path = tmp_path / "plan.toml"
    plan_path.write_text('[[step]]\ninput = "kunder.xlsx"\nentity = "customer"\nsheet = "2"\nheader_row = 2\n',
                         encoding="utf-8")
    done = await run_plan(load_plan(plan_path), overrides={"base_url": sandbox.url, "token": TOKEN})
    assert done[0][1].outcomes["created"] == 2, done[0][1].outcomes
    stored = {c["number"]: c["name"] for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert stored == {"7": "Sju AS", "8": "0008"}
