"""SAF-T Financial files for tests, written from scratch: any version, any number of customers and GL lines,
and sales invoices with the payments that settle them (``SourceDocuments``).

``write_saft`` streams the XML to disk (a file of hundreds of thousands of lines costs no
memory) and returns what the file says per customer, so a test can compare the reader's
output with the figures the file was built from. Broken variants are made from a small
file's text with ``broken``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

NAMESPACE = "urn:StandardAuditFile-Taxation-Financial:NO"
CUSTOMER_ACCOUNT = "1500"


@dataclass
class Written:
    """What a generated file holds, per customer id."""

    opening: dict[str, Decimal] = field(default_factory=dict)
    closing: dict[str, Decimal] = field(default_factory=dict)
    moved: dict[str, Decimal] = field(default_factory=dict)
    lines: int = 0  # GL lines written, with or without a customer


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax: Decimal = Decimal(0)  # VAT of the line, positive

    @property
    def net(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class InvoiceSpec:
    """A sales invoice (or, with ``credit``, a credit note) for ``customer``, and what payments settled of it."""

    number: str
    customer: str
    lines: tuple[InvoiceLine, ...]
    credit: bool = False
    paid: Decimal = Decimal(0)  # settled by payment lines citing it (a refund, for a credit note)
    negative_total: bool = True  # a credit note writes its GrossTotal negative (else positive, with D lines)

    @property
    def gross(self) -> Decimal:
        """What it asks of the customer, signed: negative for a credit note."""
        total = sum((line.net + line.tax for line in self.lines), Decimal(0))
        return -total if self.credit else total

    @property
    def owed(self) -> Decimal:
        return self.gross - (-self.paid if self.credit else self.paid)


def _invoice(version: str, spec: InvoiceSpec) -> Iterator[str]:
    side = "D" if spec.credit else "C"
    yield (f"<Invoice><InvoiceNo>{spec.number}</InvoiceNo><CustomerInfo><CustomerID>{spec.customer}</CustomerID>"
           "<BillingAddress><City>Bergen</City></BillingAddress></CustomerInfo><Period>2</Period>"
           "<PeriodYear>2024</PeriodYear><InvoiceDate>2024-02-05</InvoiceDate>")
    for number, line in enumerate(spec.lines, 1):
        if version == "1.30":
            tax_name = "DebitTaxAmount" if spec.credit else "CreditTaxAmount"
        else:
            tax_name = "TaxAmount"
        tax = (f"<TaxInformation><TaxType>MVA</TaxType><TaxCode>3</TaxCode><TaxPercentage>25</TaxPercentage>"
               f"<{tax_name}><Amount>{line.tax:.2f}</Amount></{tax_name}></TaxInformation>") if line.tax else ""
        yield (f"<Line><LineNumber>{number}</LineNumber><ProductCode>P{number}</ProductCode>"
               f"<Quantity>{line.quantity}</Quantity><UnitPrice>{line.unit_price}</UnitPrice>"
               f"<TaxPointDate>2024-02-05</TaxPointDate><Description>{line.description}</Description>"
               f"<InvoiceLineAmount><Amount>{line.net:.2f}</Amount></InvoiceLineAmount>"
               f"<DebitCreditIndicator>{side}</DebitCreditIndicator>{tax}</Line>")
    net = sum((line.net for line in spec.lines), Decimal(0))
    gross = abs(spec.gross)
    if spec.credit and spec.negative_total:
        net, gross = -net, -gross
    yield f"<DocumentTotals><NetTotal>{net:.2f}</NetTotal><GrossTotal>{gross:.2f}</GrossTotal></DocumentTotals></Invoice>\n"


def _payment(number: int, spec: InvoiceSpec) -> str:
    customer_side, bank_side = ("D", "C") if spec.credit else ("C", "D")
    amount = f"<PaymentLineAmount><Amount>{spec.paid:.2f}</Amount></PaymentLineAmount>"
    # The bank side cites the invoice too but names no customer: it must not count as a settlement.
    return (f"<Payment><PaymentRefNo>B{number}</PaymentRefNo><TransactionDate>2024-02-20</TransactionDate>"
            f"<Description>Innbetaling</Description><Line><SourceDocumentID>{spec.number}</SourceDocumentID>"
            f"<AccountID>{CUSTOMER_ACCOUNT}</AccountID><CustomerID>{spec.customer}</CustomerID>"
            f"<DebitCreditIndicator>{customer_side}</DebitCreditIndicator>{amount}</Line>"
            f"<Line><SourceDocumentID>{spec.number}</SourceDocumentID><AccountID>1920</AccountID>"
            f"<DebitCreditIndicator>{bank_side}</DebitCreditIndicator>{amount}</Line></Payment>\n")


def _source_documents(version: str, invoices: tuple[InvoiceSpec, ...]) -> Iterator[str]:
    yield (f"<SourceDocuments><SalesInvoices><NumberOfEntries>{len(invoices)}</NumberOfEntries>"
           "<TotalDebit>0</TotalDebit><TotalCredit>0</TotalCredit>\n")
    for spec in invoices:
        yield from _invoice(version, spec)
    paid = [spec for spec in invoices if spec.paid]
    yield "</SalesInvoices>"
    if paid:
        yield (f"<Payments><NumberOfEntries>{len(paid)}</NumberOfEntries><TotalDebit>0</TotalDebit>"
               "<TotalCredit>0</TotalCredit>\n")
        for number, spec in enumerate(paid, 1):
            yield _payment(number, spec)
        yield "</Payments>"
    yield "</SourceDocuments>\n"


def _money(value: Decimal, debit: str, credit: str) -> str:
    name = debit if value >= 0 else credit
    return f"<{name}>{abs(value):.2f}</{name}>"


def _header(version: str, dates: bool) -> Iterator[str]:
    yield "<Header>"
    yield f"<AuditFileVersion>{version}</AuditFileVersion><AuditFileCountry>NO</AuditFileCountry>"
    yield "<AuditFileDateCreated>2025-01-10</AuditFileDateCreated><SoftwareCompanyName>Gen AS</SoftwareCompanyName>"
    yield "<SoftwareID>gen</SoftwareID><SoftwareVersion>1</SoftwareVersion>"
    yield "<Company><RegistrationNumber>999888777</RegistrationNumber><Name>Testselskapet AS</Name>"
    yield "<Address><City>Oslo</City></Address><Contact><ContactPerson><FirstName>A</FirstName>"
    yield "<LastName>B</LastName></ContactPerson></Contact></Company>"
    yield "<DefaultCurrencyCode>NOK</DefaultCurrencyCode><SelectionCriteria>"
    if dates:
        yield "<SelectionStartDate>2024-01-01</SelectionStartDate><SelectionEndDate>2024-06-30</SelectionEndDate>"
    else:
        yield "<PeriodStart>1</PeriodStart><PeriodStartYear>2024</PeriodStartYear>"
        yield "<PeriodEnd>2</PeriodEnd><PeriodEndYear>2024</PeriodEndYear>"
    yield "</SelectionCriteria><TaxAccountingBasis>A</TaxAccountingBasis></Header>"


def _customer(version: str, number: int, opening: Decimal, closing: Decimal, accounts: int) -> Iterator[str]:
    cid = f"K{number:05d}"
    yield "<Customer>"
    yield f"<RegistrationNumber>9{number:08d}</RegistrationNumber><Name>Kunde {number} AS</Name>"
    yield (f"<Address><StreetName>Gate {number}</StreetName><City>Bergen</City><PostalCode>50{number % 100:02d}"
           "</PostalCode><Country>NO</Country><AddressType>StreetAddress</AddressType></Address>")
    yield (f"<Address><StreetName>Postboks {number}</StreetName><City>Bergen</City><PostalCode>5804</PostalCode>"
           "<Country>NO</Country><AddressType>PostalAddress</AddressType></Address>")
    yield (f"<Contact><ContactPerson><FirstName>Fornavn{number}</FirstName><LastName>Etternavn</LastName>"
           f"</ContactPerson><Telephone>5500{number % 10000:04d}</Telephone><Email>k{number}@example.org</Email>"
           "</Contact>")
    yield f"<TaxRegistration><TaxRegistrationNumber>9{number:08d}MVA</TaxRegistrationNumber></TaxRegistration>"
    yield f"<CustomerID>{cid}</CustomerID>"
    balance = (_money(opening, "OpeningDebitBalance", "OpeningCreditBalance")
               + _money(closing, "ClosingDebitBalance", "ClosingCreditBalance"))
    if version == "1.30":
        # The whole balance on the first account; any further account opens and closes at zero.
        yield f"<BalanceAccount><AccountID>{CUSTOMER_ACCOUNT}</AccountID>{balance}</BalanceAccount>"
        for extra in range(1, accounts):
            yield (f"<BalanceAccount><AccountID>15{extra:02d}</AccountID><OpeningDebitBalance>0</OpeningDebitBalance>"
                   "<ClosingDebitBalance>0</ClosingDebitBalance></BalanceAccount>")
    else:
        yield f"<AccountID>{CUSTOMER_ACCOUNT}</AccountID>{balance}"
    yield ("<PartyInfo><PaymentTerms><Days>30</Days><CashDiscountDays>8</CashDiscountDays>"
           "<CashDiscountRate>2.0</CashDiscountRate></PaymentTerms><CurrencyCode>NOK</CurrencyCode>"
           "<Status>Active</Status></PartyInfo>")
    yield "</Customer>"


def _line(record: int, account: str, amount: Decimal, customer: str | None) -> str:
    side = "DebitAmount" if amount >= 0 else "CreditAmount"
    who = f"<CustomerID>{customer}</CustomerID>" if customer else ""
    return (f"<Line><RecordID>{record}</RecordID><AccountID>{account}</AccountID>{who}"
            f"<Description>Linje {record}</Description><{side}><Amount>{abs(amount):.2f}</Amount></{side}></Line>")


def write_saft(path: Path, *, version: str = "1.10", customers: int = 3, lines_per_customer: int = 2,
               disagree: frozenset[int] = frozenset(), accounts: int = 1, dates: bool = False,
               namespace: str = NAMESPACE, gz: bool = False, invoices: tuple[InvoiceSpec, ...] = (),
               closing: dict[str, Decimal] | None = None) -> Written:
    """Write a SAF-T file; customers listed in ``disagree`` get a closing balance one krone off their movements.

    ``invoices`` go in SourceDocuments after the ledger; ``closing`` sets a customer's closing
    balance (its opening balance is then what makes its movements add up to it)."""
    written = Written()
    movements = [Decimal("125.40"), Decimal("-45.15"), Decimal("10.00")]

    def body() -> Iterator[str]:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield f'<AuditFile xmlns="{namespace}">\n'
        yield from _header(version, dates)
        yield "\n<MasterFiles><Customers>\n"
        for number in range(1, customers + 1):
            cid = f"K{number:05d}"
            opening = Decimal(number * 100) + Decimal("0.50")
            moved = sum((movements[i % 3] for i in range(lines_per_customer)), Decimal(0))
            if closing is not None and cid in closing:
                opening = closing[cid] - moved
            ends = opening + moved + (1 if number in disagree else 0)
            written.opening[cid], written.closing[cid], written.moved[cid] = opening, ends, moved
            yield from _customer(version, number, opening, ends, accounts)
            yield "\n"
        yield "</Customers></MasterFiles>\n<GeneralLedgerEntries><NumberOfEntries>1</NumberOfEntries>"
        yield "<TotalDebit>0</TotalDebit><TotalCredit>0</TotalCredit><Journal><JournalID>S</JournalID>"
        yield "<Description>Salg</Description><Type>GL</Type>\n"
        for i in range(lines_per_customer):
            yield (f"<Transaction><TransactionID>{i}</TransactionID><Period>1</Period><PeriodYear>2024</PeriodYear>"
                   "<TransactionDate>2024-01-15</TransactionDate><Description>Faktura</Description>"
                   "<SystemEntryDate>2024-01-15</SystemEntryDate><GLPostingDate>2024-01-15</GLPostingDate>\n")
            for number in range(1, customers + 1):
                amount = movements[i % 3]
                yield _line(2 * number, CUSTOMER_ACCOUNT, amount, f"K{number:05d}") + "\n"
                yield _line(2 * number + 1, "3000", -amount, None) + "\n"  # the revenue side: no customer
                written.lines += 2
            yield "</Transaction>\n"
        yield "</Journal></GeneralLedgerEntries>\n"
        if invoices:
            yield from _source_documents(version, invoices)
        yield "</AuditFile>\n"

    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as out:  # type: ignore[operator]
        buffer: list[str] = []
        for piece in body():
            buffer.append(piece)
            if len(buffer) >= 2000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    return written


def broken(source: Path, target: Path, old: str, new: str, count: int = 1) -> Path:
    """``source``'s text with ``old`` replaced by ``new`` (which must occur), written to ``target``."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {source.name}"
    target.write_text(text.replace(old, new, count), encoding="utf-8")
    return target


BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE AuditFile [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<AuditFile xmlns="{NAMESPACE}"><Header><AuditFileVersion>1.10</AuditFileVersion>
<SoftwareID>&i;</SoftwareID></Header></AuditFile>
"""

EXTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE AuditFile [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<AuditFile xmlns="{NAMESPACE}"><Header><AuditFileVersion>1.10</AuditFileVersion>
<SoftwareID>&secret;</SoftwareID></Header></AuditFile>
"""
