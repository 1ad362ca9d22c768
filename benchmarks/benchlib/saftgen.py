"""A large SAF-T Financial file for the reading benchmark (m), written in chunks.

Per customer: a ``<Customer>`` as an accounting system writes it (addresses, contact, tax
registration, balance on account 1500, payment terms), ``lines`` general-ledger lines (half
on the customer's account naming it, half the revenue side naming no one) and, when
``invoices`` is set, two sales invoices of two lines each and one payment settling the first.
Every customer's figures add up (its lines alternate debit and credit, its one open invoice is
its closing balance), and account 1500 in ``GeneralLedgerAccounts`` closes at the customers'
total, so the file reads as a clean one: the reading is what is measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["write_saft_file", "saft_head", "NAMESPACE"]

NAMESPACE = "urn:StandardAuditFile-Taxation-Financial:NO"


def saft_head(period_end: int = 12) -> str:
    """The XML declaration, the AuditFile element and a v1.10 Header for a year ending in ``period_end``."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<AuditFile xmlns="{NAMESPACE}">\n<Header><AuditFileVersion>1.10'
            "</AuditFileVersion><AuditFileCountry>NO</AuditFileCountry><AuditFileDateCreated>2025-01-10"
            "</AuditFileDateCreated><SoftwareCompanyName>Gen AS</SoftwareCompanyName><SoftwareID>gen</SoftwareID>"
            "<SoftwareVersion>1</SoftwareVersion><Company><RegistrationNumber>999888777</RegistrationNumber>"
            "<Name>Testselskapet AS</Name><Address><City>Oslo</City></Address><Contact><ContactPerson>"
            "<FirstName>A</FirstName><LastName>B</LastName></ContactPerson></Contact></Company>"
            "<DefaultCurrencyCode>NOK</DefaultCurrencyCode><SelectionCriteria><PeriodStart>1</PeriodStart>"
            f"<PeriodStartYear>2024</PeriodStartYear><PeriodEnd>{period_end}</PeriodEnd>"
            "<PeriodEndYear>2024</PeriodEndYear></SelectionCriteria><TaxAccountingBasis>A</TaxAccountingBasis>"
            "</Header>\n")


_AMOUNT = 100  # each customer line moves this much; each customer closes at it (its open invoice)


def _account(account: str, description: str, opening: int, closing: int) -> str:
    return (f"<Account><AccountID>{account}</AccountID><AccountDescription>{description}</AccountDescription>"
            f"<StandardAccountID>{account[:2]}</StandardAccountID><AccountType>GL</AccountType>"
            f"<OpeningDebitBalance>{opening}</OpeningDebitBalance><ClosingDebitBalance>{closing}"
            "</ClosingDebitBalance></Account>\n")


def _customer(n: int, opening: int) -> str:
    return (f"<Customer><RegistrationNumber>9{n:08d}</RegistrationNumber><Name>Kunde {n} AS</Name>"
            f"<Address><StreetName>Gate {n}</StreetName><City>Bergen</City><PostalCode>5003</PostalCode>"
            "<Country>NO</Country><AddressType>StreetAddress</AddressType></Address>"
            f"<Contact><ContactPerson><FirstName>Fornavn{n}</FirstName><LastName>Etternavn</LastName>"
            f"</ContactPerson><Telephone>55001234</Telephone><Email>k{n}@example.org</Email></Contact>"
            f"<TaxRegistration><TaxRegistrationNumber>9{n:08d}MVA</TaxRegistrationNumber></TaxRegistration>"
            f"<CustomerID>K{n:06d}</CustomerID><AccountID>1500</AccountID>"
            f"<OpeningDebitBalance>{opening}</OpeningDebitBalance><ClosingDebitBalance>{_AMOUNT}</ClosingDebitBalance>"
            "<PartyInfo><PaymentTerms><Days>30</Days></PaymentTerms><CurrencyCode>NOK</CurrencyCode>"
            "<Status>Active</Status></PartyInfo></Customer>\n")


def _line(record: int, account: str, customer: int | None, side: str) -> str:
    who = f"<CustomerID>K{customer:06d}</CustomerID>" if customer is not None else ""
    return (f"<Line><RecordID>{record}</RecordID><AccountID>{account}</AccountID>{who}"
            f"<Description>Salg {record}</Description><{side}><Amount>{_AMOUNT}.00</Amount></{side}></Line>")


def _invoice(number: str, customer: int) -> str:
    lines = "".join(
        f"<Line><LineNumber>{i}</LineNumber><ProductCode>P{i}</ProductCode><Quantity>2</Quantity>"
        f"<UnitPrice>20.00</UnitPrice><TaxPointDate>2024-02-05</TaxPointDate><Description>Vare {i}</Description>"
        "<InvoiceLineAmount><Amount>40.00</Amount></InvoiceLineAmount><DebitCreditIndicator>C</DebitCreditIndicator>"
        "<TaxInformation><TaxType>MVA</TaxType><TaxCode>3</TaxCode><TaxPercentage>25</TaxPercentage>"
        "<TaxAmount><Amount>10.00</Amount></TaxAmount></TaxInformation></Line>" for i in (1, 2))
    return (f"<Invoice><InvoiceNo>{number}</InvoiceNo><CustomerInfo><CustomerID>K{customer:06d}</CustomerID>"
            "</CustomerInfo><Period>2</Period><PeriodYear>2024</PeriodYear><InvoiceDate>2024-02-05</InvoiceDate>"
            f"{lines}<DocumentTotals><NetTotal>80.00</NetTotal><GrossTotal>100.00</GrossTotal></DocumentTotals>"
            "</Invoice>\n")


def _payment(number: str, customer: int) -> str:
    amount = "<PaymentLineAmount><Amount>100.00</Amount></PaymentLineAmount>"
    return (f"<Payment><PaymentRefNo>B{number}</PaymentRefNo><TransactionDate>2024-02-20</TransactionDate>"
            f"<Line><SourceDocumentID>{number}</SourceDocumentID><AccountID>1500</AccountID>"
            f"<CustomerID>K{customer:06d}</CustomerID><DebitCreditIndicator>C</DebitCreditIndicator>{amount}</Line>"
            f"<Line><SourceDocumentID>{number}</SourceDocumentID><AccountID>1920</AccountID>"
            f"<DebitCreditIndicator>D</DebitCreditIndicator>{amount}</Line></Payment>\n")


def _body(customers: int, lines: int, invoices: bool) -> Iterator[str]:
    per_customer = max(1, lines // 2)  # customer lines, alternately debit and credit; as many revenue lines
    opening = _AMOUNT - (_AMOUNT if per_customer % 2 else 0)
    yield saft_head()
    yield "<MasterFiles><GeneralLedgerAccounts>\n"
    yield _account("1500", "Kundefordringer", opening * customers, _AMOUNT * customers)
    yield _account("3000", "Salgsinntekt", 0, 0)
    yield "</GeneralLedgerAccounts><Customers>\n"
    for n in range(customers):
        yield _customer(n, opening)
    yield "</Customers></MasterFiles>\n<GeneralLedgerEntries><Journal><JournalID>S</JournalID>\n"
    record = 0
    for n in range(customers):
        yield f"<Transaction><TransactionID>{n}</TransactionID><TransactionDate>2024-01-15</TransactionDate>\n"
        for i in range(per_customer):
            record += 2
            debit, credit = ("DebitAmount", "CreditAmount") if i % 2 == 0 else ("CreditAmount", "DebitAmount")
            yield _line(record, "1500", n, debit) + _line(record + 1, "3000", None, credit) + "\n"
        yield "</Transaction>\n"
    yield "</Journal></GeneralLedgerEntries>\n"
    if invoices:
        yield "<SourceDocuments><SalesInvoices>\n"
        for n in range(customers):
            yield _invoice(f"F{n}-1", n) + _invoice(f"F{n}-2", n)
        yield "</SalesInvoices><Payments>\n"
        for n in range(customers):
            yield _payment(f"F{n}-1", n)
        yield "</Payments></SourceDocuments>\n"
    yield "</AuditFile>\n"


def write_saft_file(path: Path, customers: int, lines: int, *, invoices: bool = True) -> int:
    """Write the file; returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as out:
        chunk: list[str] = []
        for piece in _body(customers, lines, invoices):
            chunk.append(piece)
            if len(chunk) >= 4000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return path.stat().st_size
