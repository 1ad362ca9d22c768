"""Building the model's records from the elements the reader collected for one Header, Customer or Line.

A value that does not fit its type never becomes part of a record: the customer (or GL
line) it sits in is left out whole and a ``SaftProblem`` names the element and its line,
so a customer is never created with half its facts or a balance read as zero.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from importer.errors import SourceError
from importer.saft.model import (
    SaftAccount,
    SaftAddress,
    SaftBalance,
    SaftContact,
    SaftCustomer,
    SaftEvent,
    SaftHeader,
    SaftMovement,
    SaftPaymentTerms,
    SaftProblem,
)
from importer.saft.values import Value

__all__ = ["Node", "Flaw", "build_header", "build_account", "build_customer", "build_movement"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Flaw:
    """An element whose text did not fit its type."""

    element: str  # path from the record's own element, e.g. "Customer/BalanceAccount/OpeningDebitBalance"
    line: int
    message: str


class Node:
    """One element the reader keeps for a moment: its typed leaves and its child groups.

    A plain class with slots: the reader makes one per group element it reads, so its
    making is kept to the fewest steps."""

    __slots__ = ("name", "line", "values", "children", "flaws")

    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self.line = line
        self.values: dict[str, Value] = {}
        self.children: dict[str, list[Node]] = {}
        self.flaws: list[Flaw] | None = None  # only on the record's own element

    def child(self, name: str) -> Node | None:
        found = self.children.get(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if isinstance(value, str) else None

    def amount(self, name: str) -> Decimal | None:
        value = self.values.get(name)
        return value if isinstance(value, Decimal) else None

    def number(self, name: str) -> int | None:
        value = self.values.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- Header -------------------------------------------------------------------------------

def build_header(node: Node, schema: str, where: str) -> SaftHeader:
    if node.flaws:
        flaw = node.flaws[0]
        raise SourceError(f"{where}: {flaw.element} at line {flaw.line} {flaw.message}")
    version = node.text("AuditFileVersion") or ""
    currency = node.text("DefaultCurrencyCode")
    if not currency:
        raise SourceError(f"{where}: Header at line {node.line} has no DefaultCurrencyCode")
    company = node.child("Company")
    start, end = _period(node.child("SelectionCriteria"), node.line, where)
    return SaftHeader(version=version, schema=schema, company_name=company.text("Name") if company else None,
                      default_currency=currency, period_start=start, period_end=end)


def _period(criteria: Node | None, line: int, where: str) -> tuple[date, date]:
    """The selection period: its dates, or the first day of its first period to the last of its last."""
    if criteria is None:
        raise SourceError(f"{where}: Header at line {line} has no SelectionCriteria, so the period is unknown")
    start, end = criteria.values.get("SelectionStartDate"), criteria.values.get("SelectionEndDate")
    if isinstance(start, date) and isinstance(end, date):
        return start, end
    first, first_year = criteria.number("PeriodStart"), criteria.number("PeriodStartYear")
    last, last_year = criteria.number("PeriodEnd"), criteria.number("PeriodEndYear")
    if first is None or first_year is None or last is None or last_year is None:
        raise SourceError(f"{where}: SelectionCriteria at line {criteria.line} names neither "
                          "SelectionStartDate/SelectionEndDate nor PeriodStart/PeriodStartYear/PeriodEnd/PeriodEndYear")
    if first < 1 or last < 1:
        raise SourceError(f"{where}: SelectionCriteria at line {criteria.line}: period 0 is not a month")
    # Periods above 12 are the year-end closing periods: they end with December.
    first, last = min(first, 12), min(last, 12)
    return date(first_year, first, 1), date(last_year, last, calendar.monthrange(last_year, last)[1])


# -- General-ledger account ----------------------------------------------------------------

def build_account(node: Node) -> SaftAccount | None:
    """The account and its balances; None when it has no AccountID (nothing could name it)."""
    account_id = node.text("AccountID")
    if not account_id:
        return None
    description = node.text("AccountDescription")
    if node.flaws:
        first = node.flaws[0]
        return SaftAccount(node.line, account_id, description, None, None,
                           f"<{first.element}> at line {first.line} {first.message}")
    od, oc = node.amount("OpeningDebitBalance"), node.amount("OpeningCreditBalance")
    cd, cc = node.amount("ClosingDebitBalance"), node.amount("ClosingCreditBalance")
    opening = None if od is None and oc is None else (od or _ZERO) - (oc or _ZERO)
    closing = None if cd is None and cc is None else (cd or _ZERO) - (cc or _ZERO)
    flaw = None if opening is not None and closing is not None else "gives no opening or closing balance"
    return SaftAccount(node.line, account_id, description, opening, closing, flaw)


# -- Customer ------------------------------------------------------------------------------

def build_customer(node: Node, balances_in_accounts: bool) -> list[SaftEvent]:
    """The customer, or the problems that keep it out."""
    customer_id = node.text("CustomerID")
    problems: list[SaftEvent] = [SaftProblem(f.line, f.element, f.message, customer_id) for f in node.flaws or ()]
    if not customer_id:
        name = node.text("Name")
        named = f" (Name {name!r})" if name else ""
        problems.insert(0, SaftProblem(node.line, "Customer/CustomerID", f"the customer{named} has no CustomerID"))
        return problems
    if problems:  # a flawed value; its balance would only add follow-on complaints
        return problems
    balances: list[SaftBalance] = []
    sources = node.children.get("BalanceAccount", []) if balances_in_accounts else [node]
    for source in sources:
        balance = _balance(source, node.line, customer_id, problems)
        if balance is not None:
            balances.append(balance)
    if problems:
        return problems
    return [SaftCustomer(
        line=node.line,
        customer_id=customer_id,
        name=node.text("Name"),
        registration_number=node.text("RegistrationNumber"),
        tax_registration_number=_first_tax_number(node),
        addresses=tuple(_address(a) for a in node.children.get("Address", ())),
        contacts=tuple(_contact(c) for c in node.children.get("Contact", ())),
        currency=_party(node, "CurrencyCode"),
        status=_party(node, "Status"),
        payment_terms=_payment_terms(node),
        balances=tuple(balances),
    )]


def _balance(source: Node, customer_line: int, customer_id: str, problems: list[SaftEvent]) -> SaftBalance | None:
    od, oc = source.amount("OpeningDebitBalance"), source.amount("OpeningCreditBalance")
    cd, cc = source.amount("ClosingDebitBalance"), source.amount("ClosingCreditBalance")
    if od is None and oc is None and cd is None and cc is None:
        if source.name == "BalanceAccount":  # an account with no figures at all says nothing usable
            problems.append(SaftProblem(source.line, "Customer/BalanceAccount",
                                        "has no opening or closing balance", customer_id))
        return None
    element = "Customer/BalanceAccount" if source.name == "BalanceAccount" else "Customer"
    if od is None and oc is None:
        problems.append(SaftProblem(source.line, element, "has a closing balance but no OpeningDebitBalance "
                                    "or OpeningCreditBalance", customer_id))
        return None
    if cd is None and cc is None:
        problems.append(SaftProblem(source.line, element, "has an opening balance but no ClosingDebitBalance "
                                    "or ClosingCreditBalance", customer_id))
        return None
    return SaftBalance(account_id=source.text("AccountID"), opening=(od or _ZERO) - (oc or _ZERO),
                       closing=(cd or _ZERO) - (cc or _ZERO))


def _first_tax_number(node: Node) -> str | None:
    for registration in node.children.get("TaxRegistration", ()):
        number = registration.text("TaxRegistrationNumber")
        if number:
            return number
    return None


def _address(node: Node) -> SaftAddress:
    return SaftAddress(street=node.text("StreetName"), number=node.text("Number"),
                       additional=node.text("AdditionalAddressDetail"), city=node.text("City"),
                       postal_code=node.text("PostalCode"), region=node.text("Region"),
                       country=node.text("Country"), type=node.text("AddressType"))


def _contact(node: Node) -> SaftContact:
    person = node.child("ContactPerson")
    return SaftContact(first_name=person.text("FirstName") if person else None,
                       last_name=person.text("LastName") if person else None,
                       telephone=node.text("Telephone"), fax=node.text("Fax"),
                       email=node.text("Email"), website=node.text("Website"))


def _party(node: Node, name: str) -> str | None:
    party = node.child("PartyInfo")
    return party.text(name) if party else None


def _payment_terms(node: Node) -> SaftPaymentTerms | None:
    party = node.child("PartyInfo")
    terms = party.child("PaymentTerms") if party else None
    if terms is None:
        return None
    return SaftPaymentTerms(days=terms.number("Days"), cash_discount_days=terms.number("CashDiscountDays"),
                            cash_discount_rate=terms.amount("CashDiscountRate"))


# -- General-ledger line -------------------------------------------------------------------

def build_movement(node: Node, receivables: set[str] | frozenset[str] = frozenset()) -> SaftEvent | None:
    """What a GL line moved on a customer's balance.

    A line that names no customer gives a movement without one when it is on one of the
    ``receivables`` accounts (and has its amounts), else None: lines of other accounts are
    not read, flawed or not."""
    customer_id = node.text("CustomerID")
    if not customer_id:
        if node.flaws or node.text("AccountID") not in receivables:
            return None
        debit, credit = node.child("DebitAmount"), node.child("CreditAmount")
        if (debit is None and credit is None) or any(s is not None and s.amount("Amount") is None
                                                     for s in (debit, credit)):
            return None
        return SaftMovement(line=node.line, customer_id=None, account_id=node.text("AccountID"),
                            amount=_side(debit, "Amount") - _side(credit, "Amount"))
    if node.flaws:
        flaw = node.flaws[0]
        return SaftProblem(flaw.line, flaw.element, flaw.message, customer_id)
    debit, credit = node.child("DebitAmount"), node.child("CreditAmount")
    if debit is None and credit is None:
        return SaftProblem(node.line, "Line", "names a customer but has neither DebitAmount nor CreditAmount",
                           customer_id)
    for side in (debit, credit):
        if side is not None and side.amount("Amount") is None:
            return SaftProblem(side.line, f"Line/{side.name}", "has no Amount", customer_id)
    amount = _side(debit, "Amount") - _side(credit, "Amount")
    sides = [s for s in (debit, credit) if s is not None]
    currency = next((s.text("CurrencyCode") for s in sides if s.text("CurrencyCode")), None)
    has_currency_amount = any(s.amount("CurrencyAmount") is not None for s in sides)
    currency_amount = _side(debit, "CurrencyAmount") - _side(credit, "CurrencyAmount") if has_currency_amount else None
    return SaftMovement(line=node.line, customer_id=customer_id, account_id=node.text("AccountID"),
                        amount=amount, currency=currency, currency_amount=currency_amount)


def _side(node: Node | None, name: str) -> Decimal:
    if node is None:
        return _ZERO
    return node.amount(name) or _ZERO
