"""Building sales invoices and invoice settlements from what the reader collected of ``SourceDocuments``.

Signs follow the customer: a credit (``C``) invoice line is revenue the customer owes, a
debit (``D``) line one it is owed back; on a payment line, a credit is the customer paying.
As with customers, a value that does not fit its type keeps the whole invoice out and a
``SaftProblem`` names the element and its line.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from importer.saft.model import SaftEvent, SaftInvoice, SaftInvoiceLine, SaftProblem, SaftSettlement
from importer.saft.records import Node

__all__ = ["build_invoice", "build_settlement", "INVOICE_TEXTS"]

# What of an invoice only its documents carry (texts, quantities, prices, period), not its
# gross total nor its check: the open items' first pass leaves these unread and the second
# reads them (a value among them that does not fit its type is found there). As problems name them.
INVOICE_TEXTS = frozenset(("Invoice/Period", "Invoice/PeriodYear", "Invoice/DocumentTotals/NetTotal",
                           *(f"Invoice/Line/{leaf}" for leaf in
                             ("LineNumber", "ProductCode", "Quantity", "UnitPrice", "Description"))))

_ZERO = Decimal(0)
_SIGNS = {"C": 1, "D": -1}
# TaxInformation's amount: 1.10 writes TaxAmount (signed as its line), 1.30 a debit or credit one.
_TAX_SIGNS = {"CreditTaxAmount": 1, "DebitTaxAmount": -1}


def build_invoice(node: Node) -> list[SaftEvent]:
    """The invoice, or the problems that keep it out."""
    number = node.text("InvoiceNo")
    info = node.child("CustomerInfo")
    customer_id = info.text("CustomerID") if info else None
    if node.flaws:
        return [SaftProblem(f.line, f.element, f"invoice {number or '?'}: {f.message}", customer_id)
                for f in node.flaws]
    if not number:
        return [SaftProblem(node.line, "Invoice/InvoiceNo", "the invoice has no InvoiceNo", customer_id)]
    if not customer_id:
        return [SaftProblem(node.line, "Invoice/CustomerInfo/CustomerID",
                            f"invoice {number} names no customer (CustomerInfo/CustomerID)")]
    invoice_date = node.values.get("InvoiceDate")
    if not isinstance(invoice_date, date):
        return [SaftProblem(node.line, "Invoice/InvoiceDate", f"invoice {number} has no InvoiceDate", customer_id)]
    lines: list[SaftInvoiceLine] = []
    currency: str | None = None
    for source in node.children.get("Line", ()):
        built = _line(source, number, customer_id)
        if isinstance(built, SaftProblem):
            return [built]
        line, line_currency = built
        lines.append(line)
        currency = currency or line_currency
    if not lines:
        return [SaftProblem(node.line, "Invoice/Line", f"invoice {number} has no lines", customer_id)]
    owed = sum((line.amount + line.tax for line in lines), _ZERO)
    totals = node.child("DocumentTotals")
    written = totals.amount("GrossTotal") if totals else None
    gross = owed if written is None else (-abs(written) if written < 0 or owed < 0 else written)
    if gross != owed:
        element = "Invoice/DocumentTotals/GrossTotal"
        return [SaftProblem(totals.line if totals else node.line, element,
                            f"invoice {number}: its lines with their tax add up to {owed}, but its GrossTotal "
                            f"is {written}", customer_id)]
    return [SaftInvoice(line=node.line, invoice_no=number, customer_id=customer_id, invoice_date=invoice_date,
                        period=node.number("Period"), period_year=node.number("PeriodYear"),
                        lines=tuple(lines), gross=gross, currency=currency)]


def _line(node: Node, number: str, customer_id: str) -> tuple[SaftInvoiceLine, str | None] | SaftProblem:
    signed = _signed_amount(node, "Invoice/Line", "InvoiceLineAmount", f"invoice {number}: a line", customer_id)
    if isinstance(signed, SaftProblem):
        return signed
    sign, amount = signed
    amount_node = node.child("InvoiceLineAmount")
    tax = _ZERO
    for information in node.children.get("TaxInformation", ()):
        for name, group in information.children.items():
            tax_sign = _TAX_SIGNS.get(name, sign)
            tax += tax_sign * sum((g.amount("Amount") or _ZERO for g in group), _ZERO)
    line = SaftInvoiceLine(line=node.line, line_number=node.text("LineNumber"), product_code=node.text("ProductCode"),
                           description=node.text("Description"), quantity=node.amount("Quantity"),
                           unit_price=node.amount("UnitPrice"), amount=sign * amount, tax=tax)
    return line, amount_node.text("CurrencyCode") if amount_node else None


def _signed_amount(node: Node, path: str, element: str, what: str, customer_id: str) -> tuple[int, Decimal] | SaftProblem:
    """A line's sign (its DebitCreditIndicator: C is +1, D -1) and its ``element``/Amount, or what is wrong."""
    sign = _SIGNS.get((node.text("DebitCreditIndicator") or "").upper())
    if sign is None:
        return SaftProblem(node.line, f"{path}/DebitCreditIndicator", f"{what} needs DebitCreditIndicator D or C",
                           customer_id)
    amount_node = node.child(element)
    amount = amount_node.amount("Amount") if amount_node else None
    if amount is None:
        return SaftProblem(node.line, f"{path}/{element}", f"{what} has no {element}/Amount", customer_id)
    return sign, amount


def build_settlement(node: Node) -> SaftEvent | None:
    """What a payment line settled of an invoice; None for a line that names no invoice or no customer."""
    invoice_no, customer_id = node.text("SourceDocumentID"), node.text("CustomerID")
    if not invoice_no or not customer_id:
        return None  # the bank side of a payment, or a line on another account
    if node.flaws:
        flaw = node.flaws[0]
        return SaftProblem(flaw.line, flaw.element, f"payment of invoice {invoice_no}: {flaw.message}", customer_id)
    signed = _signed_amount(node, "Payment/Line", "PaymentLineAmount", f"payment of invoice {invoice_no}: the line",
                            customer_id)
    if isinstance(signed, SaftProblem):
        return signed
    sign, amount = signed
    return SaftSettlement(line=node.line, invoice_no=invoice_no, customer_id=customer_id, amount=sign * amount)
