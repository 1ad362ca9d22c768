"""What a created document's results line says it was sent as: the brief undo checks the ledger by."""

from __future__ import annotations

import pytest

from importer.entities import ENTITIES
from importer.load.sent import document_sent

pytestmark = pytest.mark.one_profile


def _w(value: object) -> dict[str, object]:
    return {"value": value}


def test_the_brief_of_an_invoice_sums_its_lines_as_the_ledger_does():
    payload = {"customerNumber": _w(" 10000 "), "documentDate": _w("2026-01-05T00:00:00"), "invoiceLines": [
        {"quantity": _w(3), "unitPriceInCurrency": _w("10.005")},            # 30.015 → 30.02
        {"quantity": _w(1), "unitPriceInCurrency": _w(50), "discountAmountInCurrency": _w(5)},
        {"manualAmountInCurrency": _w("7.5"), "quantity": _w(9), "unitPriceInCurrency": _w(9)},
    ]}
    assert document_sent(ENTITIES["invoice"], payload) == {
        "customer": "10000", "date": "2026-01-05", "lines": 3, "amount": "82.52"}


def test_an_amount_the_ledger_may_reckon_otherwise_is_left_out():
    payload = {"customerNumber": _w("1"), "lines": [{"quantity": _w(1), "unitPriceInCurrency": _w(10),
                                                     "discountPercent": _w(10)}]}
    assert document_sent(ENTITIES["credit-note"], payload) == {"customer": "1", "lines": 1}
    assert document_sent(ENTITIES["customer"], {"number": _w("1")}) is None
