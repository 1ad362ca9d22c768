"""The SAF-T reader: example files, generated files of every version, big files, broken files."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from importer.errors import SourceError
from importer.saft import SaftCustomer, SaftEvent, SaftMovement, SaftProblem, is_saft, open_saft
from importer.saft import generate as saft_generate
from tests.support.saft_files import BILLION_LAUGHS, EXTERNAL_ENTITY, write_saft
from tests.support.saft_files import broken as make_broken

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "saf-t"
EXAMPLE_110 = SHARED / "example-financial-v1.10-888888888.xml"
EXAMPLE_100 = SHARED / "example-financial-v1.00-999999999.xml"
needs_examples = pytest.mark.skipif(not EXAMPLE_110.exists(), reason="the SAF-T examples are not here")


def read_all(path: Path) -> list[SaftEvent]:
    with open_saft(path) as saft:
        return list(saft.events())


def customers_of(events: list[SaftEvent]) -> dict[str, SaftCustomer]:
    return {e.customer_id: e for e in events if isinstance(e, SaftCustomer)}


def moved_per_customer(events: list[SaftEvent]) -> dict[str, Decimal]:
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for event in events:
        if isinstance(event, SaftMovement):
            moved[event.customer_id] += event.amount
    return dict(moved)


# -- the published examples -----------------------------------------------------------------

@needs_examples
def test_the_v110_example_reads_six_customers_whole_and_reconciles() -> None:
    with open_saft(EXAMPLE_110) as saft:
        assert (saft.header.version, saft.header.schema) == ("1.0", "1.10")
        assert saft.header.company_name == "Tøyen Lekefabrikk AS"
        assert (saft.header.period_start, saft.header.period_end) == (date(2017, 1, 1), date(2017, 4, 30))
        events = list(saft.events())
    customers = customers_of(events)
    assert sorted(customers) == ["1000", "1001", "1002", "1003", "1004", "1005"]
    assert not [e for e in events if isinstance(e, SaftProblem)]
    first = customers["1000"]
    assert first.name == "Leketøysbutikk Tøyen" and first.registration_number == "987654321"
    assert first.tax_registration_number == "911111111MVA"
    assert [(a.type, a.street, a.postal_code) for a in first.addresses] == [
        ("StreetAddress", "Tøyenbekken 4", "0238"), ("PostalAddress", "Postboks 8701", "0123")]
    assert first.contacts[0].first_name == "Kunde" and first.contacts[0].telephone == "21549800"
    assert first.contacts[0].email == "kontaktperson@leketoysbutikkentoyen.offline"
    assert first.payment_terms is not None and first.payment_terms.days == 30
    assert first.payment_terms.cash_discount_rate == Decimal("2.5")
    assert (first.currency, first.status) == ("NOK", "Active")
    assert all(c.addresses and c.contacts and c.payment_terms for c in customers.values())
    assert customers["1003"].balances[0].closing == Decimal("-140000")  # a credit balance is negative
    # The file agrees with itself: opening plus the customer's GL lines is its closing balance.
    moved = moved_per_customer(events)
    for cid, customer in customers.items():
        (balance,) = customer.balances
        assert balance.account_id == "1500"
        assert balance.opening + moved.get(cid, Decimal(0)) == balance.closing, cid


@needs_examples
def test_the_v100_example_reads_its_customer_whose_balance_has_no_movements() -> None:
    events = read_all(EXAMPLE_100)
    customers = customers_of(events)
    assert list(customers) == ["12000"]
    (balance,) = customers["12000"].balances
    assert (balance.opening, balance.closing) == (Decimal("1234.56"), Decimal("12345.67"))
    assert moved_per_customer(events) == {}  # so it cannot reconcile


@needs_examples
def test_the_committed_schema_facts_are_what_the_generator_writes(tmp_path: Path) -> None:
    xsds = sorted(SHARED.glob("*.xsd"))
    written = "\n".join(saft_generate._render(saft_generate.generate(xsds))) + "\n"
    assert written == Path(saft_generate.__file__).with_name("_schema.py").read_text(encoding="utf-8")
    facts = saft_generate.generate(xsds)
    customer = "MasterFiles/Customers/Customer"
    assert f"{customer}/BalanceAccount" in facts["1.30"][1] and f"{customer}/BalanceAccount" not in facts["1.10"][1]
    assert f"{customer}/OpeningDebitBalance" in facts["1.10"][1]
    assert facts["1.10"][1][f"{customer}/Address"].repeated
    assert facts["1.10"][1][f"{customer}/Name"].max_length == 70
    assert facts["1.30"][1][f"{customer}/Name"].max_length == 256


# -- generated files ------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.0", "1.10", "1.30"])
def test_every_version_reads_customers_balances_and_movements(tmp_path: Path, version: str) -> None:
    path = tmp_path / "saft.xml"
    written = write_saft(path, version=version, customers=4, lines_per_customer=3, accounts=2)
    with open_saft(path) as saft:
        header = saft.header
        events = list(saft.events())
    assert header.version == version and header.schema == ("1.30" if version == "1.30" else "1.10")
    assert (header.period_start, header.period_end) == (date(2024, 1, 1), date(2024, 2, 29))
    customers = customers_of(events)
    assert sorted(customers) == sorted(written.closing)
    for cid, customer in customers.items():
        main = customer.balances[0]
        assert (main.account_id, main.opening, main.closing) == ("1500", written.opening[cid], written.closing[cid])
        # Only 1.30 has several balance accounts per customer.
        assert len(customer.balances) == (2 if version == "1.30" else 1)
    assert moved_per_customer(events) == written.moved
    # Document order: all customers, then the movements in file order.
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["SaftCustomer"] * 4 + ["SaftMovement"] * 12
    lines = [e.line for e in events]
    assert lines == sorted(lines)


def test_a_period_given_by_dates_and_a_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "saft.xml.gz"
    written = write_saft(path, version="1.30", dates=True, gz=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with open_saft(path) as saft:
        assert (saft.header.period_start, saft.header.period_end) == (date(2024, 1, 1), date(2024, 6, 30))
        events = list(saft.events())
    assert moved_per_customer(events) == written.moved and is_saft(path)


def test_events_can_be_walked_twice(tmp_path: Path) -> None:
    path = tmp_path / "saft.xml"
    write_saft(path)
    with open_saft(path) as saft:
        assert list(saft.events()) == list(saft.events())


@pytest.mark.parametrize("purpose", ["all", "balances"])
def test_an_unread_element_empty_once_and_with_children_later_reads_nothing_of_them(
        good: Path, tmp_path: Path, purpose: str) -> None:
    # The reader takes an unread element with no children for a leaf; met again with children
    # (a Name, an Amount among them), those are not read either, and the records around it are whole.
    once = make_broken(good, tmp_path / "once.xml", "<CustomerID>K00001</CustomerID>",
                       "<Extra/><CustomerID>K00001</CustomerID>")
    path = make_broken(once, tmp_path / "later.xml", "<CustomerID>K00002</CustomerID>",
                       "<Extra><Name>Nobody</Name><Amount>1.00</Amount></Extra><CustomerID>K00002</CustomerID>")
    with open_saft(good) as saft:
        expected = list(saft.events(purpose=purpose))  # type: ignore[arg-type]
    with open_saft(path) as saft:
        found = list(saft.events(purpose=purpose))  # type: ignore[arg-type]
    assert [type(e) for e in found] == [type(e) for e in expected]
    assert [(c.customer_id, c.name, c.balances) for c in found if isinstance(c, SaftCustomer)] == \
        [(c.customer_id, c.name, c.balances) for c in expected if isinstance(c, SaftCustomer)]
    assert [m.amount for m in found if isinstance(m, SaftMovement)] == \
        [m.amount for m in expected if isinstance(m, SaftMovement)]


def test_a_large_file_streams_with_flat_memory(tmp_path: Path) -> None:
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    write_saft(small, customers=20, lines_per_customer=10)
    written = write_saft(large, customers=100, lines_per_customer=100)  # 20 000 GL lines, 3.5 MB
    assert written.lines == 20_000

    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        try:
            with open_saft(path) as saft:
                count = sum(1 for _ in saft.events())
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_count, small_peak = peak(small)
    started = time.monotonic()
    large_count, large_peak = peak(large)
    assert large_count == 100 + 10_000 and small_count == 20 + 200
    assert large_peak < 2_000_000, large_peak
    assert large_peak < small_peak + 300_000, (small_peak, large_peak)  # a file 50x larger costs no more
    assert time.monotonic() - started < 30


# -- broken files ---------------------------------------------------------------------------

@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.xml"
    write_saft(path, customers=3, lines_per_customer=2)
    return path


def test_a_file_that_is_not_xml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("number;name\n1;Acme\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"customers.csv: is not XML \(not well-formed \(invalid token\) at line 1\)"):
        open_saft(path)
    assert not is_saft(path)


@pytest.mark.parametrize(("namespace", "found"), [
    ("urn:StandardAuditFile-Taxation-Financial:DK", "in namespace urn:StandardAuditFile-Taxation-Financial:DK"),
    ("", "without a namespace"),
])
def test_another_namespace_is_not_saft(tmp_path: Path, namespace: str, found: str) -> None:
    path = tmp_path / "other.xml"
    write_saft(path, namespace=namespace)
    with pytest.raises(SourceError, match=f"root element is <AuditFile> {found}, not <AuditFile> in urn:"):
        open_saft(path)
    assert not is_saft(path)


def test_is_saft_sniffs_only_the_head(good: Path, tmp_path: Path) -> None:
    assert is_saft(good)
    cut = tmp_path / "cut.xml"
    cut.write_bytes(good.read_bytes()[:600])  # no end, but the root is there
    assert is_saft(cut)
    assert not is_saft(tmp_path / "missing.xml")
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    assert not is_saft(empty)


def test_a_truncated_file_yields_what_came_before_then_names_the_line(good: Path, tmp_path: Path) -> None:
    text = good.read_text(encoding="utf-8")
    cut_at = text.index("<Line>", text.index("<Line>", text.index("<Line>") + 1) + 1) + 20
    path = tmp_path / "cut.xml"
    path.write_text(text[:cut_at], encoding="utf-8")
    last_line = text[:cut_at].count("\n") + 1
    seen: list[SaftEvent] = []
    with open_saft(path) as saft, pytest.raises(SourceError) as raised:
        for event in saft.events():
            seen.append(event)
    assert f"the XML breaks at line {last_line}" in str(raised.value)
    assert len(customers_of(seen)) == 3
    assert [e for e in seen if isinstance(e, SaftMovement)]  # the first GL line got through


def test_a_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    whole = tmp_path / "whole.xml.gz"
    write_saft(whole, customers=50, gz=True)
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(whole.read_bytes()[:-200])
    with open_saft(path) as saft, pytest.raises(SourceError, match="cut.xml.gz: the gzip data breaks off"):
        list(saft.events())


def test_a_balance_of_the_wrong_type_keeps_that_customer_out(good: Path, tmp_path: Path) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<OpeningDebitBalance>200.50</OpeningDebitBalance>",
                       "<OpeningDebitBalance>abc</OpeningDebitBalance>")
    events = read_all(path)
    problems = [e for e in events if isinstance(e, SaftProblem)]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.element, problem.customer_id) == ("Customer/OpeningDebitBalance", "K00002")
    assert "'abc' is not an amount" in problem.message
    assert problem.line == path.read_text(encoding="utf-8").splitlines().index(
        next(line for line in path.read_text(encoding="utf-8").splitlines() if ">abc<" in line)) + 1
    assert sorted(customers_of(events)) == ["K00001", "K00003"]  # the others go on


def test_a_wrong_type_in_a_130_balance_account_is_named_by_its_path(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    write_saft(good, version="1.30", customers=2)
    path = make_broken(good, tmp_path / "bad.xml", "<ClosingDebitBalance>", "<ClosingDebitBalance>1,5")
    problems = [e for e in read_all(path) if isinstance(e, SaftProblem)]
    assert [(p.element, p.customer_id) for p in problems] == [
        ("Customer/BalanceAccount/ClosingDebitBalance", "K00001")]


def test_a_customer_without_an_id_is_a_problem(good: Path, tmp_path: Path) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<CustomerID>K00001</CustomerID>", "")
    events = read_all(path)
    assert isinstance(events[0], SaftProblem)
    assert events[0].element == "Customer/CustomerID"
    assert "the customer (Name 'Kunde 1 AS') has no CustomerID" == events[0].message
    assert events[0].line == path.read_text(encoding="utf-8")[:path.read_text(encoding="utf-8").index("<Customer>")].count("\n") + 1
    assert sorted(customers_of(events)) == ["K00002", "K00003"]


def test_a_customer_line_with_a_bad_amount_is_a_problem_not_a_movement(good: Path, tmp_path: Path) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<DebitAmount><Amount>125.40</Amount>",
                       "<DebitAmount><Amount>12 5.40</Amount>")
    events = read_all(path)
    problems = [e for e in events if isinstance(e, SaftProblem)]
    assert [(p.element, p.customer_id) for p in problems] == [("Line/DebitAmount/Amount", "K00001")]
    assert moved_per_customer(events)["K00001"] == Decimal("-45.15")  # its other line still counts


def test_a_string_longer_than_the_schema_allows_is_a_problem(good: Path, tmp_path: Path) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<Name>Kunde 3 AS</Name>", f"<Name>{'x' * 71}</Name>")
    problems = [e for e in read_all(path) if isinstance(e, SaftProblem)]
    assert [(p.element, p.customer_id) for p in problems] == [("Customer/Name", "K00003")]
    assert "71 characters long; the schema allows 70" in problems[0].message


@pytest.mark.parametrize("version", ["2.00", "1.40", ""])
def test_an_unknown_version_is_an_error(good: Path, tmp_path: Path, version: str) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<AuditFileVersion>1.10</AuditFileVersion>",
                       f"<AuditFileVersion>{version}</AuditFileVersion>")
    expected = f"AuditFileVersion {version!r} is not" if version else "Header at line 3 has no AuditFileVersion"
    with pytest.raises(SourceError, match=expected):
        open_saft(path)


def test_a_header_with_a_bad_period_is_an_error(good: Path, tmp_path: Path) -> None:
    path = make_broken(good, tmp_path / "bad.xml", "<PeriodEndYear>2024", "<PeriodEndYear>24")
    with pytest.raises(SourceError, match="Header/SelectionCriteria/PeriodEndYear at line 3 24 is below"):
        open_saft(path)


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_are_refused_at_once(tmp_path: Path, text: str) -> None:
    path = tmp_path / "entities.xml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(SourceError, match="line 2 has a document type declaration"):
        open_saft(path)
    assert time.monotonic() - started < 1
    assert is_saft(path)  # detected as SAF-T, so the user sees this refusal and not a CSV error


def test_an_entity_hidden_in_a_gzip_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "entities.xml.gz"
    path.write_bytes(gzip.compress(BILLION_LAUGHS.encode()))
    with pytest.raises(SourceError, match="document type declaration"):
        open_saft(path)


def test_a_customer_id_after_the_line_amounts_is_a_problem_not_a_line_without_amounts(good: Path, tmp_path: Path) -> None:
    # The schema puts CustomerID before the amounts; a line that names no one by then, on an account no
    # customer's balance names, is read no further.
    text = good.read_text(encoding="utf-8")
    start = text.index("<Line>", text.index("<GeneralLedgerEntries>"))
    line = text[start:text.index("</Line>", start) + len("</Line>")]
    customer = line[line.index("<CustomerID>"):line.index("</CustomerID>") + len("</CustomerID>")]
    moved = line.replace(customer, "").replace("</Line>", customer + "</Line>")
    moved = moved.replace("<AccountID>1500</AccountID>", "<AccountID>3000</AccountID>")
    assert moved != line and "<AccountID>3000</AccountID>" in moved
    path = tmp_path / "late.xml"
    path.write_text(text.replace(line, moved, 1), encoding="utf-8")
    events = read_all(path)
    problems = [e for e in events if isinstance(e, SaftProblem)]
    assert [(p.element, p.customer_id) for p in problems] == [("Line/CustomerID", "K00001")]
    assert "comes after the line's DebitAmount or CreditAmount" in problems[0].message
    def lines_of(found: list[SaftEvent]) -> int:
        return sum(1 for e in found if isinstance(e, SaftMovement) and e.customer_id == "K00001")
    assert lines_of(events) == lines_of(read_all(good)) - 1  # that line is the problem, its others still count
