"""SAF-T balances in one linear pass: each customer's check is taken once, from its own sums.

The balance book indexes the movements by customer, so a customer's check never looks at
another's lines, and keeps each check once taken: reading a file for its balances, with or
without its open invoices, takes exactly one check per customer however often the run asks
for them (before sending, per document, per held customer). Counted on real files, through
the real source, by wrapping the one method that takes a check.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from importer.options import SaftSettings
from importer.saft.balances import BalanceBook
from importer.saft.source import SaftSource
from tests.support.saft_files import InvoiceLine, InvoiceSpec, write_saft

CUSTOMERS = 40


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The customers whose checks were taken, in order (the real method runs)."""
    taken: list[str] = []
    real = BalanceBook._check

    def counting(book: BalanceBook, customer):  # type: ignore[no-untyped-def]
        taken.append(customer.customer_id)
        return real(book, customer)

    monkeypatch.setattr(BalanceBook, "_check", counting)
    return taken


def _invoices() -> tuple[InvoiceSpec, ...]:
    return tuple(InvoiceSpec(f"F{n}", f"K{n:05d}", (InvoiceLine("Vare", Decimal(1), Decimal(100)),))
                 for n in range(1, CUSTOMERS + 1))


@pytest.mark.parametrize("documents", ["balances", "invoices"])
def test_every_customer_is_checked_once_however_often_the_run_asks(tmp_path, counted, documents):
    invoices = _invoices() if documents == "invoices" else ()
    closing = {spec.customer: spec.owed for spec in invoices} or None
    written = write_saft(tmp_path / "many.xml", customers=CUSTOMERS, lines_per_customer=4,
                         disagree=frozenset({3, 7}), invoices=invoices, closing=closing)
    source = SaftSource(tmp_path / "many.xml", SaftSettings(entity="invoice", documents=documents))
    for _ in range(3):  # as bind_map, the documents and the held customers ask
        wrong = source.disagreements()
    records = list(source)
    assert sorted(counted) == sorted(written.closing)  # one check per customer, no more
    assert {check.customer_id for check in wrong} == {"K00003", "K00007"}
    held = [r for r in records if r.error and "K00003" in r.error]
    assert held, "the disagreeing customer's document must be held, naming it"
    sent = [r for r in records if not r.error]
    assert len(sent) == CUSTOMERS - 2


def test_the_sums_are_indexed_by_customer(tmp_path, counted):
    written = write_saft(tmp_path / "few.xml", customers=5, lines_per_customer=3)
    source = SaftSource(tmp_path / "few.xml", SaftSettings(entity="invoice"))
    book = source.book()
    assert set(book.sums) == set(written.closing)  # each customer's lines under its own id
    for customer in book.customers:
        (check,) = book.checks(customer)
        assert check.movements == written.moved[customer.customer_id]
        assert book.checks(customer) is book.checks(customer)  # kept, not taken again
    assert len(counted) == 5
