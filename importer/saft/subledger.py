"""The customers against the general ledger: the subledger check of a SAF-T file.

A SAF-T file states each customer's balance (``MasterFiles/Customers``) and, apart, every
general-ledger account's (``MasterFiles/GeneralLedgerAccounts``); a customer names the
receivables account its balance sits on (``AccountID``; in 1.30 each ``BalanceAccount``'s).
Per such account the customers' closing balances should add up to the account's. Where they
do not, the difference is taken apart into what explains it, to the cent:

- **opening**: the customers' opening balances already differed from the account's;
- **unnamed lines**: lines on the account that name no customer moved it but no customer;
- **other customers' lines**: lines on it naming a customer whose balance is elsewhere (or no
  customer of the file);
- **customers**: customers whose own figures do not add up on it (opening + their lines on
  the account is not their closing balance);
- **the account**: its own figures do not (opening + every line on it is not its closing).

Since customers' closing − account's closing = opening difference + customers' own gaps −
unnamed lines − other customers' lines − the account's own gap, the parts always make the
difference. A receivables account the file does not list, and customers whose balance names
no account, are told as such. A file that lists no accounts at all is not checked.

:func:`subledger_check` takes it from the :class:`~importer.saft.balances.BalanceBook` of the
one pass; :meth:`SubledgerCheck.text` is its paragraph for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from importer.saft.balances import BalanceBook

__all__ = ["CauseKind", "Part", "Cause", "AccountComparison", "SubledgerCheck", "subledger_check"]

ZERO = Decimal(0)
SHOWN = 5  # customers named in the text per cause; the result keeps them all

CauseKind = Literal["opening", "unnamed-lines", "other-customers", "customers", "account", "not-listed",
                    "no-account"]


@dataclass(frozen=True, slots=True)
class Part:
    """One customer's share of a cause."""

    customer_id: str
    line: int | None  # where the customer is in the file; None for a customer the file does not list
    amount: Decimal

    @property
    def subject(self) -> str:
        return f"customer {self.customer_id}" + (f" (line {self.line})" if self.line is not None else "")


@dataclass(frozen=True, slots=True)
class Cause:
    """What explains part of a difference: ``amount`` is its share of it (customers minus ledger)."""

    kind: CauseKind
    amount: Decimal
    text: str
    parts: tuple[Part, ...] = ()  # the customers that make it, largest first

    def describe(self) -> str:
        if not self.parts:
            return self.text
        named = ", ".join(f"{p.subject} {_money(p.amount)}" for p in self.parts[:SHOWN])
        more = f" and {len(self.parts) - SHOWN} more" if len(self.parts) > SHOWN else ""
        return f"{self.text}: {named}{more}"


@dataclass(frozen=True, slots=True)
class AccountComparison:
    """One receivables account: its customers' balances against its own."""

    account_id: str
    description: str | None
    customers: int  # the customers whose balance names it
    customers_opening: Decimal
    customers_closing: Decimal
    opening: Decimal | None  # None: the file does not list it, or its balances cannot be read
    closing: Decimal | None
    causes: tuple[Cause, ...]  # empty when it agrees

    @property
    def difference(self) -> Decimal:
        return self.customers_closing - (self.closing or ZERO)

    @property
    def agrees(self) -> bool:
        return self.closing is not None and self.difference == 0

    @property
    def name(self) -> str:
        return f"{self.account_id} {self.description}" if self.description else self.account_id


@dataclass(frozen=True, slots=True)
class SubledgerCheck:
    """The customers' closing balances against the receivables accounts they post to, in ``currency``."""

    currency: str
    listed: bool  # the file lists GeneralLedgerAccounts; when not, nothing could be compared
    customers: int  # customers with a balance
    customers_closing: Decimal
    ledger_closing: Decimal  # the receivables accounts' closing balances, added up
    accounts: tuple[AccountComparison, ...]
    no_account: Cause | None = None  # customers whose balance names no account

    @property
    def difference(self) -> Decimal:
        return self.customers_closing - self.ledger_closing

    @property
    def agrees(self) -> bool:
        return self.listed and self.no_account is None and all(a.agrees for a in self.accounts)

    def text(self) -> str:
        """One paragraph: the totals, the difference, and per account what explains it."""
        head = "Subledger against the general ledger"
        if not self.listed:
            return (f"{head}: not checked: the file lists no general-ledger accounts (GeneralLedgerAccounts), "
                    f"so the {self.customers} customer(s)' closing balances, {_money(self.customers_closing)} "
                    f"{self.currency}, have nothing to be compared with.")
        names = ", ".join(a.name for a in self.accounts) or "none"
        if self.agrees:
            return (f"{head}: the {self.customers} customer(s)' closing balances add up to "
                    f"{_money(self.customers_closing)} {self.currency}, as the receivables account(s) they post to "
                    f"({names}) close.")
        gap = self.difference
        compared = [a.account_id for a in self.accounts if a.closing is not None]
        ledger = (f"the receivables account(s) they post to ({names}) close at {_money(self.ledger_closing)}"
                  if len(compared) == len(self.accounts) else
                  f"of the receivables accounts they post to ({names}) the file gives the balances of "
                  f"{', '.join(compared) or 'none'}, closing at {_money(self.ledger_closing)}")
        said = [f"{head}: the {self.customers} customer(s)' closing balances add up to "
                f"{_money(self.customers_closing)} {self.currency}, but {ledger}: the customers are "
                f"{_money(abs(gap))} {'more' if gap > 0 else 'less'}."]
        for account in self.accounts:
            if account.agrees:
                continue
            if account.closing is None:
                said.append(f"Account {account.account_id}: {account.causes[0].describe()}.")
                continue
            said.append(f"Account {account.name}: its {account.customers} customer(s) close at "
                        f"{_money(account.customers_closing)} against its {_money(account.closing)}, "
                        f"{_money(abs(account.difference))} {'more' if account.difference > 0 else 'less'}; "
                        + "; ".join(cause.describe() for cause in account.causes) + ".")
        if self.no_account is not None:
            said.append(self.no_account.describe() + ".")
        return " ".join(said)


def _money(amount: Decimal) -> str:
    return f"{amount:,f}"


def subledger_check(book: BalanceBook) -> SubledgerCheck:
    """The check, from a book that has read the whole file (one look at each customer and its sums)."""
    members: dict[str, dict[str, tuple[int, Decimal, Decimal]]] = {}  # account -> customer -> (line, open, close)
    loose: list[Part] = []
    counted = 0
    total = ZERO
    for customer in book.customers:
        if not customer.balances:
            continue
        counted += 1
        for balance in customer.balances:
            total += balance.closing
            if not balance.account_id:
                loose.append(Part(customer.customer_id, customer.line, balance.closing))
                continue
            mine = members.setdefault(balance.account_id, {})
            line, opening, closing = mine.get(customer.customer_id, (customer.line, ZERO, ZERO))
            mine[customer.customer_id] = (line, opening + balance.opening, closing + balance.closing)
    strangers = _other_customers(book, members)
    accounts = tuple(_compare(book, account, members[account], strangers.get(account, []))
                     for account in sorted(members))
    ledger = sum((a.closing for a in accounts if a.closing is not None), ZERO)
    no_account = None
    if loose:
        amount = sum((p.amount for p in loose), ZERO)
        no_account = Cause("no-account", amount, f"{len(loose)} customer balance(s) name no account "
                           f"(AccountID), {_money(amount)} on no account", _largest(loose))
    return SubledgerCheck(book.default_currency, bool(book.accounts), counted, total, ledger, accounts, no_account)


def _other_customers(book: BalanceBook, members: dict[str, dict[str, tuple[int, Decimal, Decimal]]],
                     ) -> dict[str, list[Part]]:
    """Per receivables account, the customers with lines on it whose balance is not on it (one look at the sums)."""
    lines = {c.customer_id: c.line for c in book.customers}
    found: dict[str, dict[str, Decimal]] = {}
    for customer_id, sums in book.sums.items():
        for (account, _currency), (amount, _in_currency) in sums.items():
            if account in members and customer_id not in members[account]:
                mine = found.setdefault(account, {})
                mine[customer_id] = mine.get(customer_id, ZERO) + amount
    return {account: [Part(cid, lines.get(cid), amount) for cid, amount in moved.items() if amount]
            for account, moved in found.items()}


def _compare(book: BalanceBook, account_id: str, members: dict[str, tuple[int, Decimal, Decimal]],
             strangers: list[Part]) -> AccountComparison:
    opening = sum((m[1] for m in members.values()), ZERO)
    closing = sum((m[2] for m in members.values()), ZERO)
    listed = book.accounts.get(account_id)
    description = listed.description if listed else None
    if listed is None or listed.opening is None or listed.closing is None:
        why = (f"its balances cannot be read: {listed.flaw}" if listed is not None
               else "the file does not list it among its GeneralLedgerAccounts")
        cause = Cause("not-listed", closing, f"{why}, so its {len(members)} customer(s)' {_money(closing)} "
                      "cannot be compared with it")
        return AccountComparison(account_id, description, len(members), opening, closing, None, None, (cause,))
    if closing == listed.closing:
        return AccountComparison(account_id, description, len(members), opening, closing, listed.opening,
                                 listed.closing, ())
    causes: list[Cause] = []
    if opening != listed.opening:
        causes.append(Cause("opening", opening - listed.opening, f"the opening balances already differed by "
                            f"{_money(opening - listed.opening)} (customers {_money(opening)}, account "
                            f"{_money(listed.opening)})"))
    unnamed = book.unnamed.get(account_id)
    moved = ZERO  # every line on the account
    if unnamed is not None:
        moved += unnamed.total
        if unnamed.total:
            causes.append(Cause("unnamed-lines", -unnamed.total, f"{unnamed.count} line(s) on the account name no "
                                f"customer (the first at line {unnamed.first_line}), moving it by "
                                f"{_money(unnamed.total)} and no customer"))
    if strangers:
        amount = sum((p.amount for p in strangers), ZERO)
        moved += amount
        causes.append(Cause("other-customers", -amount, f"lines on the account name customers whose balance is "
                            f"not on it, moving it by {_money(amount)}", _largest(strangers)))
    gaps = []
    for customer_id, (line, own_opening, own_closing) in members.items():
        own_moved = book.moved_on(customer_id, account_id)
        moved += own_moved
        gap = own_closing - own_opening - own_moved
        if gap:
            gaps.append(Part(customer_id, line, gap))
    if gaps:
        amount = sum((p.amount for p in gaps), ZERO)
        causes.append(Cause("customers", amount, f"{len(gaps)} customer(s)' closing balances are "
                            f"{_money(amount)} off their opening balance and their lines on the account",
                            _largest(gaps)))
    own_gap = listed.opening + moved - listed.closing
    if own_gap:
        causes.append(Cause("account", own_gap, f"the account's own figures: its opening balance and every line "
                            f"on it make {_money(listed.opening + moved)}, not its closing {_money(listed.closing)}"))
    return AccountComparison(account_id, description, len(members), opening, closing, listed.opening,
                             listed.closing, tuple(causes))


def _largest(parts: list[Part]) -> tuple[Part, ...]:
    return tuple(sorted(parts, key=lambda p: abs(p.amount), reverse=True))
