"""What a SAF-T Financial file says, as the importer uses it: plain frozen records.

The reader (``reader.py``) streams a file into these, in document order; the customer
records and the balance documents are built from them (``customers.py``, ``balances.py``).
Amounts are ``Decimal``; a balance is debit minus credit (positive: the customer owes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "SaftAddress", "SaftContact", "SaftPaymentTerms", "SaftBalance", "SaftCustomer", "SaftAccount",
    "SaftHeader", "SaftMovement", "SaftProblem", "SaftEvent",
    "SaftInvoiceLine", "SaftInvoice", "SaftSettlement",
]


@dataclass(frozen=True, slots=True)
class SaftAddress:
    street: str | None = None  # StreetName
    number: str | None = None  # Number
    additional: str | None = None  # AdditionalAddressDetail
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    type: str | None = None  # AddressType: StreetAddress, PostalAddress, BillingAddress, ShipToAddress, ShipFromAddress


@dataclass(frozen=True, slots=True)
class SaftContact:
    first_name: str | None = None
    last_name: str | None = None
    telephone: str | None = None
    fax: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class SaftPaymentTerms:
    days: int | None = None
    cash_discount_days: int | None = None
    cash_discount_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SaftBalance:
    """One balance of a customer: the opening and closing balance on one account."""

    account_id: str | None
    opening: Decimal  # OpeningDebitBalance - OpeningCreditBalance
    closing: Decimal  # ClosingDebitBalance - ClosingCreditBalance
    currency: str | None = None  # None: the file's default currency


@dataclass(frozen=True, slots=True)
class SaftCustomer:
    line: int  # where <Customer> starts in the file
    customer_id: str
    name: str | None = None
    registration_number: str | None = None
    tax_registration_number: str | None = None
    addresses: tuple[SaftAddress, ...] = ()
    contacts: tuple[SaftContact, ...] = ()
    currency: str | None = None  # PartyInfo/CurrencyCode
    status: str | None = None  # PartyInfo/Status
    payment_terms: SaftPaymentTerms | None = None
    balances: tuple[SaftBalance, ...] = ()  # v1.0/1.10: one, on AccountID; v1.30: BalanceAccount each


@dataclass(frozen=True, slots=True)
class SaftAccount:
    """A general-ledger account of ``MasterFiles/GeneralLedgerAccounts``, with its balances."""

    line: int
    account_id: str
    description: str | None
    opening: Decimal | None  # OpeningDebitBalance - OpeningCreditBalance; None when the file gives none
    closing: Decimal | None  # ClosingDebitBalance - ClosingCreditBalance
    flaw: str | None = None  # why its balances could not be read (they are then None)


@dataclass(frozen=True, slots=True)
class SaftHeader:
    version: str  # AuditFileVersion as written ("1.0", "1.10", "1.30")
    schema: str  # the version the reader treats it as: "1.10" (1.0 and 1.10) or "1.30"
    company_name: str | None
    default_currency: str  # DefaultCurrencyCode
    period_start: date  # first day of SelectionCriteria's start period (or SelectionStartDate)
    period_end: date  # last day of its end period (or SelectionEndDate)


@dataclass(frozen=True, slots=True)
class SaftMovement:
    """A general-ledger line that names a customer: what it moved on the customer's balance.

    A line naming no customer is one too (``customer_id`` None) when it is on an account a
    customer's balance names: it moves that receivables account but no customer's balance."""

    line: int
    customer_id: str | None
    account_id: str | None
    amount: Decimal  # DebitAmount/Amount - CreditAmount/Amount, in the default currency
    currency: str | None = None  # CurrencyCode of the line's amount, if given
    currency_amount: Decimal | None = None  # signed like amount


@dataclass(frozen=True, slots=True)
class SaftProblem:
    """Something in the file the reader could not take; the rest of the file goes on."""

    line: int
    element: str  # e.g. "Customer", "Customer/OpeningDebitBalance"
    message: str
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class SaftInvoiceLine:
    """One line of a sales invoice; ``amount`` and ``tax`` are signed as the customer owes them."""

    line: int
    line_number: str | None
    product_code: str | None
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal  # InvoiceLineAmount/Amount: + for a credit (C) line, - for a debit (D) line
    tax: Decimal  # its TaxInformation's tax amounts, signed the same way


@dataclass(frozen=True, slots=True)
class SaftInvoice:
    """A ``SourceDocuments/SalesInvoices/Invoice``; ``gross`` is what it asks of the customer (- a credit note)."""

    line: int
    invoice_no: str
    customer_id: str
    invoice_date: date
    period: int | None  # Period and PeriodYear, when the file gives them
    period_year: int | None
    lines: tuple[SaftInvoiceLine, ...]
    gross: Decimal  # DocumentTotals/GrossTotal, signed; the lines' sum when the file gives no totals
    currency: str | None = None  # the lines' CurrencyCode when it is not the default currency


@dataclass(frozen=True, slots=True)
class SaftSettlement:
    """A payment line that names a customer and an invoice: what it settled of that invoice."""

    line: int
    invoice_no: str  # SourceDocumentID
    customer_id: str
    amount: Decimal  # + a credit (C: the customer paid), - a debit (a refund)


SaftEvent = SaftCustomer | SaftMovement | SaftProblem | SaftInvoice | SaftSettlement | SaftAccount
