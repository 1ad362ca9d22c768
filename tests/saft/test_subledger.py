"""The subledger check: the customers' closing balances against the receivables accounts they post to.

The published v1.10 example is the case in point: its six customers close at 135,500 while
account 1500 closes at 103,700, a difference the opening balances already had. Variants of
it, each changed in one known way, show every part of an explanation adding up to the
difference to the cent; a hypothesis test shows it for any books. The CLI prints the check
before anything is sent (and in ``--dry-run``), and the documents still reach the ledger.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.api import import_records
from importer.options import SaftSettings
from importer.saft.balances import BalanceBook
from importer.saft.model import SaftAccount, SaftBalance, SaftCustomer, SaftMovement
from importer.saft.source import SaftSource
from importer.saft.subledger import SubledgerCheck, subledger_check
from tests.support.runs import TOKEN, final_lines, get_json, run_cli
from tests.support.saft_files import broken, write_saft

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "saf-t"
V110 = EXAMPLES / "example-financial-v1.10-888888888.xml"
needs_examples = pytest.mark.skipif(not V110.is_file(), reason="the published SAF-T examples are not here")
TABS = "\n\t\t\t\t\t"


def _check(path: Path) -> SubledgerCheck:
    return SaftSource(path, SaftSettings(entity="invoice")).subledger()


def _causes(check: SubledgerCheck) -> dict[str, Decimal]:
    (account,) = check.accounts
    return {cause.kind: cause.amount for cause in account.causes}


@needs_examples
def test_the_v110_example_customers_are_31800_more_than_account_1500_since_the_opening():
    check = _check(V110)
    assert (check.customers, check.customers_closing, check.ledger_closing) == (6, D(135500), D(103700))
    assert check.difference == D(31800) and not check.agrees
    (account,) = check.accounts
    assert (account.account_id, account.description) == ("1500", "Kundefordringer")
    assert (account.customers_opening, account.opening) == (D(46800), D(15000))
    assert _causes(check) == {"opening": D(31800)}
    text = check.text()
    assert "135,500 NOK" in text and "103,700" in text and "31,800 more" in text
    assert "opening balances already differed by 31,800 (customers 46,800, account 15,000)" in text


@needs_examples
def test_each_kind_of_cause_is_found_and_they_add_up_to_the_difference(tmp_path):
    # 1001's sale of 440,000 names no customer; 1000's sale of 50,000 names one the file does not list;
    # the account closes 3,700 below what its own lines make.
    step = broken(V110, tmp_path / "a.xml", f"<n1:CustomerID>1001</n1:CustomerID>{TABS}<n1:Description>Salg av div",
                  f"{TABS}<n1:Description>Salg av div")
    step = broken(step, tmp_path / "b.xml", f"<n1:CustomerID>1000</n1:CustomerID>{TABS}<n1:Description>Salg av bam",
                  f"<n1:CustomerID>9999</n1:CustomerID>{TABS}<n1:Description>Salg av bam")
    step = broken(step, tmp_path / "c.xml", "<n1:ClosingDebitBalance>103700<", "<n1:ClosingDebitBalance>100000<")
    check = _check(step)
    assert check.difference == D(35500)
    causes = _causes(check)
    assert causes == {"opening": D(31800), "unnamed-lines": D(-440000), "other-customers": D(-50000),
                      "customers": D(490000), "account": D(3700)}
    assert sum(causes.values()) == check.difference
    (account,) = check.accounts
    by_kind = {cause.kind: cause for cause in account.causes}
    assert [(p.customer_id, p.amount) for p in by_kind["customers"].parts] == [("1001", D(440000)),
                                                                                ("1000", D(50000))]
    assert [(p.customer_id, p.line) for p in by_kind["other-customers"].parts] == [("9999", None)]
    text = check.text()
    assert "1 line(s) on the account name no customer" in text and "customer 9999 50,000" in text
    assert "customer 1001 (line " in text and "not its closing 100,000" in text


@needs_examples
def test_an_account_the_file_does_not_list_and_a_customer_on_no_account_are_told(tmp_path):
    step = broken(V110, tmp_path / "a.xml", "<n1:AccountID>1500</n1:AccountID>\n\t\t\t\t<n1:AccountDescription>"
                  "Kundefordringer", "<n1:AccountID>1599</n1:AccountID>\n\t\t\t\t<n1:AccountDescription>Annet")
    step = broken(step, tmp_path / "b.xml", "<n1:CustomerID>1004</n1:CustomerID>\n\t\t\t\t<n1:AccountID>1500"
                  "</n1:AccountID>", "<n1:CustomerID>1004</n1:CustomerID>")
    check = _check(step)
    (account,) = check.accounts
    assert account.closing is None and account.causes[0].kind == "not-listed"
    assert check.no_account is not None and check.no_account.amount == D(10000)
    assert [p.customer_id for p in check.no_account.parts] == ["1004"]
    text = check.text()
    assert "the file does not list it among its GeneralLedgerAccounts" in text
    assert "1 customer balance(s) name no account" in text


def test_a_file_without_general_ledger_accounts_is_not_checked(tmp_path):
    written = write_saft(tmp_path / "plain.xml", customers=3)
    check = _check(tmp_path / "plain.xml")
    assert not check.listed and not check.agrees
    assert check.customers_closing == sum(written.closing.values())
    assert "not checked: the file lists no general-ledger accounts" in check.text()


_amounts = st.integers(min_value=-10_000, max_value=10_000).map(lambda n: D(n) / 100)


@settings(max_examples=60, deadline=None)
@given(customers=st.lists(st.tuples(_amounts, _amounts, st.lists(st.tuples(st.sampled_from(["1500", "1510", "3000"]),
                                                                           _amounts), max_size=4)),
                          min_size=1, max_size=6),
       unnamed=st.lists(st.tuples(st.sampled_from(["1500", "1510"]), _amounts), max_size=3),
       strangers=st.lists(_amounts, max_size=2), ledger=st.tuples(_amounts, _amounts))
def test_the_causes_always_make_the_difference(customers, unnamed, strangers, ledger):
    book = BalanceBook("NOK")
    book.add_account(SaftAccount(1, "1500", "Kunder", ledger[0], ledger[1]))
    book.add_account(SaftAccount(2, "1510", None, D(0), D(0)))
    for n, (opening, closing, lines) in enumerate(customers):
        cid = f"C{n}"
        book.add_customer(SaftCustomer(line=10 + n, customer_id=cid, balances=(SaftBalance("1500", opening, closing),)))
        for account, amount in lines:
            book.add_movement(SaftMovement(100, cid, account, amount))
    for account, amount in unnamed:
        book.add_movement(SaftMovement(200, None, account, amount))
    for amount in strangers:
        book.add_movement(SaftMovement(300, "STRANGER", "1500", amount))
    check = subledger_check(book)
    (account,) = check.accounts
    assert sum((cause.amount for cause in account.causes), D(0)) == account.difference
    assert account.agrees == (not account.causes)
    assert check.difference == account.difference


@needs_examples
@pytest.mark.one_profile  # what it checks is decided before anything is sent
async def test_the_cli_reports_it_before_sending_and_in_a_dry_run(sandbox, tmp_path):
    source = shutil.copy(V110, tmp_path / "export.xml")
    terms = tmp_path / "terms.map.toml"
    terms.write_text('[values.creditTermsId]\n"15" = "15"\n"30" = "30"\n', encoding="utf-8")
    customers = await import_records(source, entity="customer", base_url=sandbox.url, token=TOKEN, map=str(terms))
    assert customers.outcomes["created"] == 6, customers.outcomes
    code, out, err = await run_cli("run", str(source), "-e", "invoice", "--dry-run",
                                   "--results", str(tmp_path / "dry.ndjson"))
    assert code == 0, out + err
    assert "Subledger against the general ledger" in err and "the customers are 31,800 more" in err
    assert await get_json(f"{sandbox.url}/sandbox/records/invoice") == []  # a dry run sends nothing
    code, out, err = await run_cli("run", str(source), "-e", "invoice", "--base-url", sandbox.url, "--token", TOKEN)
    assert code == 0, out + err
    assert "opening balances already differed by 31,800" in err
    stored = await get_json(f"{sandbox.url}/sandbox/records/invoice")
    assert sorted(d["customerNumber"] for d in stored) == ["1001", "1004"]  # told, not held back
    assert [line["outcome"] for line in final_lines(tmp_path / "export.xml.invoice.results.ndjson")] == \
        ["created", "created"]
