"""Which sales invoices are still open, and whether they add up to each customer's closing balance.

An :class:`InvoiceBook` takes the first pass of the file: per invoice number only its
customer, line and signed gross total, and per invoice number the sum of the payment lines
that settle it (``Payment/Line/SourceDocumentID``, lines naming a customer; the bank side of
a payment names none). Then:

- **open**: an invoice whose settlements do not cover its gross total; what is still owed is
  gross minus settled (a credit note: negative, and its refunds are debits). An invoice paid
  more than its gross total is not open: it is told, for the balance check will show it.
- **the check**: per customer, the open invoices (credit notes counted negative) must add up
  to its closing balance in the default currency. A customer whose file gives no balance is
  not checked, as in the balances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from importer.saft.model import SaftInvoice, SaftProblem, SaftSettlement

__all__ = ["InvoiceBook", "OpenItemsCheck"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OpenItemsCheck:
    """One customer's open invoices against its closing balance."""

    customer_id: str
    line: int
    currency: str
    open_total: Decimal
    open_count: int
    closing: Decimal

    @property
    def agrees(self) -> bool:
        return self.open_total == self.closing

    def message(self) -> str:
        gap = self.closing - self.open_total
        return (f"customer {self.customer_id} (line {self.line}): its {self.open_count} open invoice(s) and credit "
                f"note(s) add up to {self.open_total} {self.currency}, but its closing balance is {self.closing}, "
                f"{abs(gap)} {'more' if gap > 0 else 'less'}")


@dataclass(slots=True)
class _Invoice:
    customer_id: str
    line: int
    gross: Decimal


@dataclass(slots=True)
class InvoiceBook:
    """The invoices' gross totals and what settled them, from one pass of the file."""

    invoices: dict[str, _Invoice] = field(default_factory=dict)
    settled: dict[str, Decimal] = field(default_factory=dict)
    problems: list[SaftProblem] = field(default_factory=list)

    def add_invoice(self, invoice: SaftInvoice) -> None:
        first = self.invoices.get(invoice.invoice_no)
        if first is not None:  # which of the two is owed cannot be told: the first stays, the second is told
            self.problems.append(SaftProblem(invoice.line, "Invoice/InvoiceNo",
                                             f"invoice {invoice.invoice_no} is in the file twice (first at line "
                                             f"{first.line}); this one is not imported", invoice.customer_id))
            return
        self.invoices[invoice.invoice_no] = _Invoice(invoice.customer_id, invoice.line, invoice.gross)

    def add_settlement(self, settlement: SaftSettlement) -> None:
        self.settled[settlement.invoice_no] = self.settled.get(settlement.invoice_no, ZERO) + settlement.amount

    def is_first(self, invoice: SaftInvoice) -> bool:
        """Whether this is the invoice the book keeps under its number (a second one with it is not)."""
        kept = self.invoices.get(invoice.invoice_no)
        return kept is not None and kept.line == invoice.line

    def paid(self, invoice_no: str) -> Decimal:
        return self.settled.get(invoice_no, ZERO)

    def still_owed(self, invoice_no: str) -> Decimal:
        """What the invoice still asks (signed as its gross); zero when settled or overpaid."""
        kept = self.invoices.get(invoice_no)
        if kept is None:
            return ZERO
        rest = kept.gross - self.paid(invoice_no)
        return rest if rest * kept.gross > 0 else ZERO

    def overpaid(self) -> list[SaftProblem]:
        """Invoices settled for more than they ask: told, since no document can carry that."""
        found = []
        for number, kept in self.invoices.items():
            rest = kept.gross - self.paid(number)
            if rest != 0 and rest * kept.gross < 0:
                found.append(SaftProblem(kept.line, "Invoice", f"invoice {number} of {kept.gross} is settled by "
                                         f"{self.paid(number)} in Payments, {abs(rest)} more than it asks; "
                                         "it is not imported", kept.customer_id))
        return found

    def open_totals(self) -> dict[str, tuple[Decimal, int]]:
        """Per customer: what its open invoices still ask, and how many there are."""
        totals: dict[str, tuple[Decimal, int]] = {}
        for number, kept in self.invoices.items():
            owed = self.still_owed(number)
            if owed:
                total, count = totals.get(kept.customer_id, (ZERO, 0))
                totals[kept.customer_id] = (total + owed, count + 1)
        return totals
