"""A planned export's columns of numbers and amounts are written as ``money_cell`` and
``number_cell`` write each value, byte for byte, whichever way the column went.

:mod:`importer.ledger.celltexts` writes a whole column with ``orjson.dumps`` and pads the
amounts' decimals; a value orjson writes otherwise than ``repr`` (an exponent, ``null``)
or cannot write sends the column value by value. Any double, int or mix of them must come
out as the functions the CSV writer uses write it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.ledger.celltexts import MONEY, NUMBER, PLAIN, Alarm, column_texts, money_texts, number_texts
from importer.ledger.files import money_cell, number_cell

pytestmark = pytest.mark.one_profile  # no API involved

EDGES = [0.8, 950.0, 12.5, 12.25, 12.345, 0.1 + 0.2, -0.0, 0.0, 1e16, 9999999999999998.0, 1e15 + 0.5, 1e-5,
         0.0001, 1.5e-7, 5e-324, 1.7976931348623157e308, 70368744177663.5, 2.0**53 + 2, -12.5, 100, -7, 0,
         2**63 - 1, -(2**63), 2**64, -(2**70), float("nan"), float("inf"), float("-inf")]
NUMBERS = st.one_of(st.floats(), st.integers(), st.integers(-10**25, 10**25), st.sampled_from(EDGES),
                    st.floats(-1e6, 1e6).map(lambda v: round(v, 1)), st.floats(-1e6, 1e6).map(lambda v: round(v, 2)))


def _outcome(write: Callable[[], Any]) -> Any:
    """What ``write`` returns, or the type of what it raises (``money_cell`` refuses an
    amount past Decimal's 28 digits once quantized, and so must the column)."""
    try:
        return list(write())
    except ArithmeticError as error:
        return type(error)


def test_edge_values_are_written_as_money_cell_and_number_cell_write_them() -> None:
    fits = [v for v in EDGES if v != 1.7976931348623157e308]
    for places in (2, 0, 3):
        assert money_texts(fits, places, False) == [money_cell(v, places, False) for v in fits]
        assert money_texts(fits[:20], places, True) == [money_cell(v, places, True) for v in fits[:20]]
    assert money_texts([12.5, 12.25, 12.345, 100, -0.0], 2, False) == ["12.50", "12.25", "12.345", "100.00", "-0.00"]
    finite = [v for v in EDGES if v == v and abs(v) != float("inf")]
    assert number_texts(finite) == [number_cell(v, False) for v in finite]
    assert number_texts([1e16, 1e-5, 7.5, 1]) == ["10000000000000000", "0.00001", "7.5", "1"]


@settings(max_examples=200, deadline=None)
@given(column=st.lists(NUMBERS, min_size=1, max_size=20), places=st.sampled_from([2, 2, 0, 3]), comma=st.booleans())
def test_any_column_of_amounts_is_money_cells(column: list[Any], places: int, comma: bool) -> None:
    expected = _outcome(lambda: [money_cell(v, places, comma) for v in column])
    assert _outcome(lambda: money_texts(column, places, comma)) == expected
    assert _outcome(lambda: money_texts(tuple(column), [places] * len(column), comma)) == expected
    assert _outcome(lambda: column_texts(column, MONEY, places, comma, Alarm(","))[0]) == expected


@settings(max_examples=200, deadline=None)
@given(column=st.lists(NUMBERS.filter(lambda v: v == v and abs(v) != float("inf")), min_size=1, max_size=20))
def test_any_column_of_numbers_is_number_cells(column: list[Any]) -> None:
    assert number_texts(column) == [number_cell(v, False) for v in column]
    assert list(column_texts(column, NUMBER, 2, True, Alarm(";"))[0]) == [number_cell(v, True) for v in column]


def test_a_text_column_says_whether_a_cell_may_need_quoting() -> None:
    alarm = Alarm(";")
    assert column_texts(["a", "b,c", "=1+1"], PLAIN, 2, False, alarm) == (["a", "b,c", "'=1+1"], False)
    for odd in ("a;b", 'say "hi"', "two\nlines", "cr\r"):
        assert column_texts(["a", odd], PLAIN, 2, False, alarm)[1] is True


def test_the_installed_orjson_writes_columns_in_one_call() -> None:
    """Else every column goes value by value: the same cells, at several times the cost."""
    from importer.ledger import celltexts

    assert celltexts._LIKE_REPR
    assert celltexts._dumped([8907.25, 1, -0.0]) == b"[8907.25,1,-0.0]"
    assert celltexts._dumped([1e16]) is None and celltexts._dumped([2**64]) is None
