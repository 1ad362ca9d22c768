"""The company's numbering: each mode, under each kind of number series, leaves the ledger with
the numbers it should and the results file with the ledger's keys.

Every test runs the importer against the sandbox over a real socket, with a company whose
invoice series is automatic, automatic allowing manual numbering on imports, or manual
(tests/load/numbering_company.py), and asserts on the invoices the sandbox stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import importer
from importer.company import Company
from importer.errors import ConfigError
from importer.mapping.mapfile import parse_map
from importer.sandbox import SandboxConfig, serve
from importer.schema import unwrap_value
from tests.support.numbering_company import FIRST, company_with, write_files
from tests.support.runs import TOKEN, final_lines, get_json


async def _run(sb: Any, path: Path, entity: str, **options: Any) -> importer.Summary:
    options.setdefault("retry_base", 0.01)
    return await importer.import_records(path, entity=entity, base_url=sb.url, token=TOKEN, **options)


async def _invoices(sb: Any) -> dict[str, str | None]:
    """The ledger's invoices: number -> customerRefNumber."""
    return {str(unwrap_value(d["referenceNumber"])): unwrap_value(d.get("customerRefNumber"))  # type: ignore[misc]
            for d in await get_json(f"{sb.url}/sandbox/records/invoice")}  # type: ignore[union-attr]


async def _load(tmp_path: Path, company: Company, numbers: list[str | None], profile: str = "standard",
                snapshot: Company | None | str = "same", **options: Any) -> tuple[Any, dict[str, str | None], list[dict[str, Any]], importer.Summary]:
    customers, invoices = write_files(tmp_path, numbers)
    async with serve(SandboxConfig(seed=1, profile=profile, company=company)) as sb:
        assert (await _run(sb, customers, "customer")).ok
        known = company if snapshot == "same" else snapshot  # what the importer is told of the company
        summary = await _run(sb, invoices, "invoice", company=known, **options)
        ledger = await _invoices(sb)
        stats = await get_json(f"{sb.url}/sandbox/stats")
    return stats, ledger, final_lines(f"{invoices}.results.ndjson"), summary


# (series, --numbering) -> the numbers the ledger holds for INV-1 and INV-2, or the refusal.
CASES = [
    ("automatic", "company", [FIRST, "AR000043"]),
    ("automatic", "manual", [FIRST, "AR000043"]),  # an automatic series ignores the number sent
    ("automatic", "override", "does not allow manual numbering on imports"),
    ("allowing", "company", [FIRST, "AR000043"]),
    ("allowing", "manual", [FIRST, "AR000043"]),
    ("allowing", "override", ["INV-1", "INV-2"]),
    ("manual", "company", "cannot be empty"),
    ("manual", "manual", ["INV-1", "INV-2"]),
    ("manual", "override", ["INV-1", "INV-2"]),
]


@pytest.mark.parametrize(("series", "mode", "expected"), CASES, ids=[f"{s}-{m}" for s, m, _ in CASES])
async def test_each_mode_under_each_series(tmp_path, series, mode, expected):
    _, ledger, lines, summary = await _load(tmp_path, company_with(series), ["INV-1", "INV-2"], numbering=mode)
    assert summary.numbering is not None and summary.numbering.startswith(f"{mode} for ")
    if isinstance(expected, str):  # refused by the company, record by record, naming why
        assert ledger == {}
        assert [line["outcome"] for line in lines] == ["failed", "failed"]
        assert all(expected in line["error"] for line in lines), lines
        if mode == "override":
            assert all("'Allow manual numbering on imports' on the number series" in line["error"] for line in lines)
        return
    assert sorted(ledger) == expected
    assert [(line["outcome"], line["key"]) for line in lines] == [("created", n) for n in expected]
    for line, legacy in zip(lines, ["INV-1", "INV-2"], strict=True):
        assert line["location"].endswith(f"/v1/customerinvoice/{line['key']}")  # the ledger's key, from the V2 create
        assert line.get("sent_key") == (legacy if line["key"] != legacy else None)
        if mode == "company":
            assert ledger[line["key"]] == legacy  # the file's number, kept where it can be found again


@pytest.mark.parametrize(("series", "expected", "why"), [
    ("automatic", [FIRST, "AR000043"], "company for invoices with a number (number series 'ARINV' is automatic "
                                       "and does not allow manual numbering on imports"),
    ("allowing", ["INV-1", "INV-2"], "override for invoices with a number (number series 'ARINV' is automatic "
                                     "and allows manual numbering on imports)"),
    ("manual", ["INV-1", "INV-2"], "manual for all invoices (number series 'ARINV' is manual)"),
])
async def test_the_default_is_chosen_from_the_company(tmp_path, series, expected, why):
    _, ledger, lines, summary = await _load(tmp_path, company_with(series), ["INV-1", "INV-2"])
    assert summary.numbering is not None and summary.numbering.startswith(why)
    assert sorted(ledger) == expected
    assert [line["key"] for line in lines] == expected


async def test_without_a_company_own_numbers_are_kept_and_the_rest_numbered(tmp_path):
    """No snapshot: a number of the file's is sent with overrideNumberSeries on the V2 create
    (honoured by a series allowing it), a document without one is numbered by the company."""
    stats, ledger, lines, summary = await _load(tmp_path, company_with("allowing"), ["INV-1", None], snapshot=None)
    assert summary.numbering == ("override for invoices with a number (no company snapshot says how its series "
                                 "numbers them: the file's numbers are kept); company for those without (the "
                                 "record has no number of its own)")
    assert sorted(ledger) == [FIRST, "INV-1"]
    assert [line["key"] for line in lines] == ["INV-1", FIRST]


async def test_manual_numbering_refuses_a_record_without_a_number_before_any_call(tmp_path):
    # (preflight off: its listing of the ledger's customers is a call of its own)
    stats, ledger, lines, _ = await _load(tmp_path, company_with("manual"), ["INV-1", None], preflight_company="none")
    assert sorted(ledger) == ["INV-1"]
    invalid = [line for line in lines if line["outcome"] == "invalid"]
    assert [line["records"] for line in invalid] == [[2]]
    assert invalid[0]["error"].startswith("record 2: referenceNumber is empty, but numbering is manual "
                                          "(number series 'ARINV' is manual)")
    assert stats["by_status"] == {"201": 2}  # the customer and INV-1: no call for record 2


async def test_company_numbering_finds_a_create_whose_answer_was_lost_by_the_legacy_number(tmp_path):
    """Every write is stored and then answered 500: each invoice is found again by the
    customerRefNumber it carries (not by a number it was never sent with, nor by an
    externalReference: none is set), once, and a resume creates nothing twice."""
    customers, invoices = write_files(tmp_path, ["INV-1", "INV-2", "INV-3"])
    company = company_with("automatic")
    async with serve(SandboxConfig(seed=1, company=company, fault_rate=1.0, faults=("store-then-fail",))) as sb:
        assert (await _run(sb, customers, "customer")).ok
        # No externalReference of the importer's: only the legacy number can find them.
        summary = await _run(sb, invoices, "invoice", company=company, set_external_reference=False)
        again = await _run(sb, invoices, "invoice", company=company, resume=True, retry_failed=True,
                           set_external_reference=False)
        ledger = await _invoices(sb)
    assert ledger == {FIRST: "INV-1", "AR000043": "INV-2", "AR000044": "INV-3"}
    lines = final_lines(f"{invoices}.results.ndjson")
    assert [(line["outcome"], line["key"], line["sent_key"], line["recovered"]) for line in lines] == [
        ("created", FIRST, "INV-1", True), ("created", "AR000043", "INV-2", True),
        ("created", "AR000044", "INV-3", True)]
    assert summary.outcomes["created"] == 3 and summary.lookups == 3
    assert again.already_done == 3 and again.sent_units == 0


async def test_company_numbering_of_customers_needs_a_field(tmp_path):
    customers, _ = write_files(tmp_path, [])
    async with serve(SandboxConfig(seed=1, company=company_with("automatic"))) as sb:
        with pytest.raises(ConfigError, match="company numbering of customers needs --numbering-field"):
            await _run(sb, customers, "customer", numbering="company")
        assert await get_json(f"{sb.url}/sandbox/records/customer") == []


async def test_the_live_profile_numbers_the_same(tmp_path):
    """The live API's quirks (errors reshaped, a share of a POST's 400s answered 500) leave the
    V2 creates and their Location as they are."""
    _, ledger, lines, _ = await _load(tmp_path, company_with("automatic"), ["INV-1", "INV-2"], profile="live")
    assert ledger == {FIRST: "INV-1", "AR000043": "INV-2"}
    assert [(line["key"], line["sent_key"]) for line in lines] == [(FIRST, "INV-1"), ("AR000043", "INV-2")]


def test_a_numbering_the_company_has_no_word_for_is_refused_where_it_is_written():
    with pytest.raises(ConfigError, match="numbering: expected 'company', 'manual', 'override', got 'auto'"):
        parse_map('entity = "invoice"\nnumbering = "auto"\n')
    with pytest.raises(ConfigError, match="--numbering applies to customers and documents, not to dunning-letter"):
        importer.ImportOptions("dunning-letter", numbering="company")
    with pytest.raises(ConfigError, match="--numbering is company, manual, override, not 'auto'"):
        importer.ImportOptions("invoice", numbering="auto")  # type: ignore[arg-type]
