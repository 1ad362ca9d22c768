"""The balance book's memory per customer: what a file of many customers keeps once read.

A file's balances are read in one pass into a :class:`~importer.saft.balances.BalanceBook`,
which keeps per customer its balances, one flat sum of its ledger lines and, once taken, its
check, and nothing of the lines themselves. Measured with ``tracemalloc`` over the real
reading of a real file (the book built and every customer checked, as a run does before it
sends anything): what is still held afterwards, per customer, stays under a bound at 1,000
and at 20,000 customers, and does not grow with their number.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from importer.options import SaftSettings
from importer.saft.source import SaftSource
from tests.support.saft_files import write_saft

# Bytes held per customer once its book is read and checked: about 870 at 20,000 (its balance,
# one sum, its check and their few Decimals); a fixed part (the reader's caches) shows at 1,000.
BOUND = {1_000: 1_300, 3_000: 1_250}


def _held_per_customer(path: Path, customers: int) -> float:
    tracemalloc.start()
    try:
        source = SaftSource(path, SaftSettings(entity="invoice"))
        wrong = source.disagreements()  # every customer's check, taken and kept
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(source.book().customers) == customers and wrong == []
    return held / customers


@pytest.mark.parametrize("customers", sorted(BOUND))
def test_the_balance_book_holds_a_bounded_few_hundred_bytes_per_customer(tmp_path: Path, customers: int) -> None:
    path = tmp_path / "many.xml"
    written = write_saft(path, customers=customers, lines_per_customer=2, disagree=frozenset())
    assert len(written.closing) == customers
    per_customer = _held_per_customer(path, customers)
    assert per_customer <= BOUND[customers], f"{per_customer:,.0f} bytes per customer at {customers:,}"
