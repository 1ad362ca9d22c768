"""Customers' closing balances as opening-balance documents, checked against the file's own ledger.

A :class:`BalanceBook` takes one pass of the file: each customer's balances (a few per
customer) and the sums of its general-ledger movements, indexed by customer (the lines are
added up, not kept). Then, per customer, once:

- **the check**: opening balance + movements = closing balance, per currency. Movements count
  on the customer's balance accounts only (all of them when its balances name no account); a
  movement in a currency the customer has a balance in counts there at its currency amount,
  every other one on the default-currency balance at its amount. A customer whose file gives
  no balance is not checked (and sends nothing).
- **the documents**: one per currency whose closing balance is not zero: an invoice when it is
  positive (the customer owes), a credit note for the amount when it is negative. Dated at the
  period's end, one line, keyed ``OB-<customer>-<YYYYMMDD>`` (``-<currency>`` when not the
  default) as both ``documentKey`` and ``externalReference``, so a rerun or resume finds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from importer.saft.model import SaftAccount, SaftBalance, SaftCustomer, SaftHeader, SaftMovement

__all__ = ["BalanceCheck", "BalanceBook", "UnnamedLines", "BalanceDocument", "DocumentText", "opening_documents", "DOCUMENT_ENTITIES"]

ZERO = Decimal(0)
DOCUMENT_ENTITIES = ("invoice", "credit-note")


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """One customer's balance in one currency, as the file states it and as its ledger adds up."""

    customer_id: str
    line: int
    currency: str
    opening: Decimal
    movements: Decimal
    closing: Decimal

    @property
    def difference(self) -> Decimal:
        return self.opening + self.movements - self.closing

    @property
    def agrees(self) -> bool:
        return self.difference == 0

    def message(self) -> str:
        gap = self.closing - self.opening - self.movements
        return (f"customer {self.customer_id} (line {self.line}): opening balance {self.opening} + "
                f"movements {self.movements} = {self.opening + self.movements} {self.currency}, but its closing "
                f"balance is {self.closing}, {abs(gap)} {'more' if gap > 0 else 'less'}")


@dataclass(frozen=True, slots=True)
class DocumentText:
    """What the documents say besides their amount (``--saft-text``, ``--saft-item``, ...)."""

    text: str | None = None  # default "Opening balance <period end>"
    item: str | None = None  # line.inventoryNumber
    account: str | None = None  # line.accountNumber
    period: str | None = None  # financialPeriod; default the period end's YYYYMM


@dataclass(frozen=True, slots=True)
class BalanceDocument:
    """One document to send (or, when ``error`` is set, to report instead)."""

    line: int
    data: dict[str, str]
    error: str | None = None


@dataclass(slots=True)
class _Customer:
    customer_id: str
    line: int
    balances: tuple[SaftBalance, ...]
    checked: tuple[BalanceCheck, ...] | None = None  # its checks, once taken


@dataclass(slots=True)
class UnnamedLines:
    """The general-ledger lines on one receivables account that name no customer."""

    first_line: int
    total: Decimal = ZERO
    count: int = 0


_Key = tuple[str | None, str | None]  # (account, currency or None: the default currency)


class _Sums:
    """One customer's movements, summed per account and currency: flat for the first, a dict for the rest.

    Nearly every customer moves on one account in one currency, so the first sum is held in
    the object itself and ``more`` is made only for a second; the currency amount is held only
    once a line gives one (until then it is the amount). ``items()`` gives every sum as
    ``((account, currency), (amount, amount in its currency))``."""

    __slots__ = ("account", "currency", "amount", "in_currency", "more")

    def __init__(self, account: str | None, currency: str | None) -> None:
        self.account = account
        self.currency = currency
        self.amount = ZERO
        self.in_currency: Decimal | None = None  # None: the same as amount
        self.more: dict[_Key, list[Decimal]] | None = None

    def add(self, account: str | None, currency: str | None, amount: Decimal, in_currency: Decimal | None) -> None:
        if account == self.account and currency == self.currency:
            if in_currency is not None and self.in_currency is None:
                self.in_currency = self.amount
            self.amount = _plus(self.amount, amount)
            if self.in_currency is not None:
                self.in_currency += amount if in_currency is None else in_currency
            return
        more = self.more if self.more is not None else {}
        self.more = more
        sums = more.get((account, currency))
        if sums is None:
            sums = more[(account, currency)] = [ZERO, ZERO]
        sums[0] += amount
        sums[1] += amount if in_currency is None else in_currency

    def items(self) -> Iterator[tuple[_Key, tuple[Decimal, Decimal]]]:
        yield (self.account, self.currency), (self.amount, self.amount if self.in_currency is None else self.in_currency)
        if self.more:
            for key, (amount, in_currency) in self.more.items():
                yield key, (amount, in_currency)


@dataclass(slots=True)
class BalanceBook:
    """The customers' balances and the sums of their movements, from one pass of the file.

    The sums are indexed by customer, so each customer's check reads its own few sums only,
    and it is taken once (:meth:`checks` keeps it): the book is linear in the file. It also
    keeps what the subledger check needs (:mod:`importer.saft.subledger`): the file's
    general-ledger accounts and, per receivables account, the lines that name no customer.
    Per customer it keeps its balances, one flat sum (:class:`_Sums`) and, once taken, its
    checks: well under a kilobyte, with the account ids and currencies shared, not copied.
    """

    default_currency: str
    customers: list[_Customer] = field(default_factory=list)
    # customer -> its sums; a customer's lines are looked up by its id, never searched for
    sums: dict[str, _Sums] = field(default_factory=dict)
    accounts: dict[str, SaftAccount] = field(default_factory=dict)  # GeneralLedgerAccounts, by AccountID
    unnamed: dict[str, UnnamedLines] = field(default_factory=dict)  # receivables account -> lines naming no one
    names: dict[str, str] = field(default_factory=dict)  # one string per account id or currency, shared

    def _name(self, text: str | None) -> str | None:
        return text if text is None else self.names.setdefault(text, text)

    def add_customer(self, customer: SaftCustomer) -> None:
        balances = tuple(SaftBalance(self._name(b.account_id), b.opening, b.closing, self._name(b.currency))
                         for b in customer.balances)
        self.customers.append(_Customer(customer.customer_id, customer.line, balances))

    def add_account(self, account: SaftAccount) -> None:
        self.accounts.setdefault(account.account_id, account)  # an account listed twice keeps its first

    def add_movement(self, movement: SaftMovement) -> None:
        if movement.customer_id is None:
            tally = self.unnamed.get(movement.account_id or "")
            if tally is None:
                tally = self.unnamed[movement.account_id or ""] = UnnamedLines(movement.line)
            tally.total += movement.amount
            tally.count += 1
            return
        currency = movement.currency if movement.currency and movement.currency != self.default_currency else None
        account = self._name(movement.account_id)
        own = self.sums.get(movement.customer_id)
        if own is None:
            own = self.sums[movement.customer_id] = _Sums(account, self._name(currency))
        own.add(account, currency, movement.amount, movement.currency_amount)

    def _currency(self, balance: SaftBalance) -> str:
        return balance.currency or self.default_currency

    def checks(self, customer: _Customer) -> tuple[BalanceCheck, ...]:
        """The customer's balances per currency, each with the movements that make it (taken once)."""
        if customer.checked is None:
            customer.checked = self._check(customer)
        return customer.checked

    def _check(self, customer: _Customer) -> tuple[BalanceCheck, ...]:
        accounts = {b.account_id for b in customer.balances if b.account_id}
        opening: dict[str, Decimal] = {}
        closing: dict[str, Decimal] = {}
        for balance in customer.balances:  # one balance: its own figures, not copies
            currency = self._currency(balance)
            opening[currency] = balance.opening + opening[currency] if currency in opening else balance.opening
            closing[currency] = balance.closing + closing[currency] if currency in closing else balance.closing
        moved = dict.fromkeys(opening, ZERO)
        sums = self.sums.get(customer.customer_id)
        for (account, moved_in), (amount, currency_amount) in sums.items() if sums is not None else ():
            if accounts and account and account not in accounts:
                continue
            if moved_in is not None and moved_in in moved:
                moved[moved_in] = _plus(moved[moved_in], currency_amount)
            elif self.default_currency in moved:
                moved[self.default_currency] = _plus(moved[self.default_currency], amount)
            else:  # a customer with foreign balances only: a default-currency movement is off its books
                moved[self.default_currency] = amount
                opening.setdefault(self.default_currency, ZERO)
                closing.setdefault(self.default_currency, ZERO)
        return tuple(BalanceCheck(customer.customer_id, customer.line, self._name(currency) or currency,
                                  opening[currency], moved[currency], closing[currency]) for currency in opening)

    def disagreements(self) -> list[BalanceCheck]:
        return [check for customer in self.customers for check in self.checks(customer) if not check.agrees]

    def moved_on(self, customer_id: str, account: str) -> Decimal:
        """What the customer's lines moved on ``account``, in the default currency."""
        own = self.sums.get(customer_id)
        return sum((sums[0] for (on, _), sums in own.items() if on == account), ZERO) if own is not None else ZERO


def _plus(total: Decimal, amount: Decimal) -> Decimal:
    """``total + amount``; a first amount is kept as it is (the same value, not a copy of it)."""
    return amount if total is ZERO and amount else total + amount


def _document_key(customer_id: str, period_end: date, currency: str, default_currency: str) -> str:
    key = f"OB-{customer_id}-{period_end:%Y%m%d}"
    return key if currency == default_currency else f"{key}-{currency}"


def opening_documents(
    book: BalanceBook, header: SaftHeader, entity: str, text: DocumentText, *, allow_unbalanced: bool = False,
) -> Iterator[BalanceDocument]:
    """The ``entity`` documents (invoice: positive closing balances; credit-note: negative ones).

    A customer whose balances do not add up gives its documents with ``error`` set (naming
    opening, movements and closing) unless ``allow_unbalanced``."""
    if entity not in DOCUMENT_ENTITIES:
        raise ValueError(f"opening balances are invoices or credit notes, not {entity}")
    sign = 1 if entity == "invoice" else -1
    end = header.period_end
    wording = text.text or f"Opening balance {end.isoformat()}"
    for customer in book.customers:
        checks = book.checks(customer)
        wrong = [check for check in checks if not check.agrees]
        for check in checks:
            amount = check.closing * sign
            if amount <= 0:
                continue  # zero sends nothing; the other sign is the other entity's
            key = _document_key(customer.customer_id, end, check.currency, book.default_currency)
            data = {
                "documentKey": key, "externalReference": key, "customerNumber": customer.customer_id,
                "currencyId": check.currency, "documentDate": end.isoformat(),
                "financialPeriod": text.period or f"{end:%Y%m}", "invoiceText": wording,
                "line.description": wording, "line.quantity": "1", "line.unitPriceInCurrency": str(amount),
            }
            if text.item:
                data["line.inventoryNumber"] = text.item
            if text.account:
                data["line.accountNumber"] = text.account
            error = None
            if wrong and not allow_unbalanced:
                error = ("not sent: the file's own figures disagree: " + "; ".join(w.message() for w in wrong)
                         + " (--saft-allow-unbalanced sends it anyway)")
            yield BalanceDocument(customer.line, data, error)
