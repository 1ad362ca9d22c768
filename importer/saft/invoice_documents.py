"""Open sales invoices as documents, one row per line, in the API's columns.

An open invoice goes in as its file says: its number, customer, date and lines. Each line's
amount is what it asks with its tax (the VAT was reported by the old system, so no VAT code
is sent and the ledger's total is the invoice's gross total); its quantity and unit price
stay as written when they make that amount, else it is quantity 1 at the amount. A partly
paid invoice gets one more line, "Paid by <period end>", of minus what its payments
settled, so the ledger's amount is exactly what is still owed.

Keys: ``SI-<InvoiceNo>`` as ``documentKey`` and ``externalReference`` (the ledger numbers
the documents itself; the old number stays findable, and a rerun or resume finds the
document). Credit notes (a negative gross total) are the ``credit-note`` entity's, with
their amounts turned positive, as the API takes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from importer.saft.balances import BalanceBook, BalanceDocument, DocumentText
from importer.saft.model import SaftInvoice, SaftInvoiceLine
from importer.saft.open_items import InvoiceBook, OpenItemsCheck

__all__ = ["open_item_checks", "invoice_documents", "document_key"]

ZERO = Decimal(0)


def document_key(invoice_no: str) -> str:
    return f"SI-{invoice_no}"


def open_item_checks(balances: BalanceBook, invoices: InvoiceBook) -> list[OpenItemsCheck]:
    """Per customer with a balance in the file: its open invoices against its default-currency closing balance."""
    totals = invoices.open_totals()
    checks = []
    for customer in balances.customers:
        if not customer.balances:
            continue
        closing = sum((c.closing for c in balances.checks(customer) if c.currency == balances.default_currency),
                      ZERO)
        total, count = totals.get(customer.customer_id, (ZERO, 0))
        checks.append(OpenItemsCheck(customer.customer_id, customer.line, balances.default_currency, total, count,
                                     closing))
    return checks


def _period(invoice: SaftInvoice) -> str:
    if invoice.period_year and invoice.period and 1 <= invoice.period <= 12:
        return f"{invoice.period_year}{invoice.period:02d}"
    return f"{invoice.invoice_date:%Y%m}"


def _price(line: SaftInvoiceLine, owed: Decimal) -> tuple[str, str]:
    """Quantity and unit price that make ``owed``: the file's own when they do, else 1 at ``owed``."""
    quantity, price = line.quantity, line.unit_price
    if quantity and price is not None and quantity * price == owed:
        return str(quantity), str(price)
    return "1", str(owed)


def _description(line: SaftInvoiceLine, invoice_no: str) -> str:
    text = line.description or f"Line {line.line_number or ''} of {invoice_no}".replace("  ", " ")
    return f"{text} ({line.product_code})" if line.product_code else text


def invoice_documents(
    invoice: SaftInvoice, book: InvoiceBook, entity: str, text: DocumentText, *, default_currency: str,
    period_end: date, error: str | None = None,
) -> Iterator[BalanceDocument]:
    """The rows of ``invoice`` as ``entity`` (nothing when it is settled or the other entity's)."""
    owed = book.still_owed(invoice.invoice_no)
    sign = 1 if entity == "invoice" else -1
    if owed * sign <= 0 or not book.is_first(invoice):
        return
    if invoice.currency and invoice.currency != default_currency and error is None:
        error = (f"invoice {invoice.invoice_no} is in {invoice.currency}; open invoices are imported in the "
                 f"file's currency {default_currency} only (import this customer's balance instead)")
    key = document_key(invoice.invoice_no)
    kind = "Invoice" if entity == "invoice" else "Credit note"
    header = {
        "documentKey": key, "externalReference": key, "customerNumber": invoice.customer_id,
        "currencyId": default_currency, "documentDate": invoice.invoice_date.isoformat(),
        "financialPeriod": text.period or _period(invoice),
        "invoiceText": text.text or f"{kind} {invoice.invoice_no}",
    }
    rows = [_row(header, _description(line, invoice.invoice_no), *_price(line, (line.amount + line.tax) * sign),
                 text) for line in invoice.lines]
    paid = book.paid(invoice.invoice_no)
    if paid:
        rows.append(_row(header, f"Paid by {period_end.isoformat()}", "1", str(-paid * sign), text))
    for data in rows:
        yield BalanceDocument(invoice.line, data, error)


def _row(header: dict[str, str], description: str, quantity: str, price: str, text: DocumentText) -> dict[str, str]:
    data = {**header, "line.description": description, "line.quantity": quantity, "line.unitPriceInCurrency": price}
    if text.item:
        data["line.inventoryNumber"] = text.item
    if text.account:
        data["line.accountNumber"] = text.account
    return data
