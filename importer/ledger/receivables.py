"""``reconcile --per-customer``: what each customer owes, file against ledger, gross and net.

    result = await reconcile_receivables(client, [("invoice", "inv.csv"), ("credit-note", "cn.csv")],
                                         company)

For each customer and currency:

- **file**: the documents of the inputs (read as the import read them: the same reader,
  ``--map`` and mapper), each document's net (its lines, :func:`amounts.line_amount`), its VAT
  as the company works it out (:mod:`importer.company.vat`, the same computation the sandbox
  answers with) and its gross; credit notes count negative. A document that states its VAT
  (tax-detail lines) keeps its own.
- **ledger**: the customer documents (``GET /v1/customerdocument``, paged by
  ``pageNumber``/``pageSize``) of types Invoice, DebitNote and CreditNote: gross ``amount``,
  net ``amount − vatTotal``, credit notes negative; and each customer's ``balance``
  (``GET /v1/customer/balance``, paged by ``numberToRead``/``skipRecords``), what it owes in
  the company's currency (the ledger counts released documents only).
- **legacy balance**: the file's gross (default), or an aged-receivables file (``aged``:
  customer, currency, balance per row), held against the ledger's balance.
- **differences**: ledger − file, and the documents that make them: ``missing`` (in the file,
  not in the ledger), ``extra`` (in the ledger, not in the file), ``different`` (both, another
  amount); listed with both figures, gross and net.

Documents match on their type and key: the key the ledger gave (the import's results file,
``INPUT.results.ndjson``), else the file's own, else the ``externalReference`` the import set.
Every call is counted. ``exit_code`` is 0 when every row agrees and no document differs.

Memory: the documents of both sides are read one at a time (the file's) and a page at a time
(the ledger's) and wait on disk (:mod:`.receivables_store`) until they are compared; what
stays in memory is a row per customer and currency, the documents that differ, and the
ledger's customers' VAT zones and classes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from importer.client import ApiClient
from importer.company.model import Company
from importer.company.vat import document_figures
from importer.entities import entity as resolve
from importer.errors import ConfigError, RecordError
from importer.ledger.amounts import ZERO, carries_vat, cents, document_amount, line_amount
from importer.ledger.legacy import column_map
from importer.ledger.receivables_files import read_aged, read_documents
from importer.ledger.receivables_ledger import SIGN, Doc, ledger_balances, ledger_customers, ledger_documents
from importer.ledger.receivables_store import DocStore
from importer.schema import unwrap_value

__all__ = ["Doc", "Owed", "Receivables", "reconcile_receivables", "fingerprint", "plain"]



def fingerprint(path: str | os.PathLike[str]) -> str:
    """A file's sha256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plain(value: Any) -> Any:
    """``value`` without the API's ``{"value": x}`` wrappers, at every depth."""
    value = unwrap_value(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass(slots=True)
class Owed:
    """One customer in one currency: the file's, the ledger's and the legacy balance."""

    file_net: Decimal = ZERO
    file_vat: Decimal = ZERO
    file_gross: Decimal = ZERO
    ledger_net: Decimal = ZERO
    ledger_vat: Decimal = ZERO
    ledger_gross: Decimal = ZERO
    ledger_balance: Decimal | None = None
    legacy_balance: Decimal | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)  # the differences' documents

    @property
    def difference(self) -> Decimal:
        return cents(self.ledger_gross) - cents(self.file_gross)

    @property
    def net_difference(self) -> Decimal:
        return cents(self.ledger_net) - cents(self.file_net)

    @property
    def balance_difference(self) -> Decimal | None:
        if self.legacy_balance is None:
            return None
        return cents(self.ledger_balance or ZERO) - cents(self.legacy_balance)

    @property
    def agrees(self) -> bool:
        return (not self.documents and self.difference == 0 and self.net_difference == 0
                and not self.balance_difference)


@dataclass
class Receivables:
    """What ``reconcile --per-customer`` found; ``rows`` by (customer, currency)."""

    company: str
    inputs: list[dict[str, Any]] = field(default_factory=list)  # path, entity, sha256, documents
    aged: dict[str, Any] | None = None
    rows: dict[tuple[str, str], Owed] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> file/ledger
    open_items: list[dict[str, Any]] = field(default_factory=list)  # ledger documents not yet released
    problems: list[str] = field(default_factory=list)
    calls: int = 0

    def row(self, customer: str, currency: str) -> Owed:
        return self.rows.setdefault((customer, currency), Owed())

    def sorted_rows(self) -> list[tuple[str, str, Owed]]:
        """Rows that differ first (largest difference first), then the rest by customer."""
        rows = [(k[0], k[1], o) for k, o in self.rows.items()]
        return sorted(rows, key=lambda r: (r[2].agrees, -abs(r[2].difference), r[0], r[1]))

    def totals(self) -> dict[str, Owed]:
        """Per currency, every customer's figures added up (documents not carried)."""
        out: dict[str, Owed] = {}
        for (_, currency), o in sorted(self.rows.items(), key=lambda kv: kv[0][1]):
            t = out.setdefault(currency, Owed())
            t.file_net += o.file_net
            t.file_vat += o.file_vat
            t.file_gross += o.file_gross
            t.ledger_net += o.ledger_net
            t.ledger_vat += o.ledger_vat
            t.ledger_gross += o.ledger_gross
            if o.ledger_balance is not None:
                t.ledger_balance = (t.ledger_balance or ZERO) + o.ledger_balance
            if o.legacy_balance is not None:
                t.legacy_balance = (t.legacy_balance or ZERO) + o.legacy_balance
        return out

    def differences(self) -> list[dict[str, Any]]:
        return [d for _, _, o in self.sorted_rows() for d in o.documents]

    @property
    def ok(self) -> bool:
        return not self.problems and all(o.agrees for o in self.rows.values())

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company, "inputs": self.inputs, "aged": self.aged, "difference_is": "ledger - file",
            "rows": [{"customer": c, "currency": k, **owed_dict(o)} for c, k, o in self.sorted_rows()],
            "totals": [{"currency": k, **owed_dict(o)} for k, o in self.totals().items()],
            "counts": self.counts, "differences": self.differences(), "open_items": self.open_items,
            "problems": self.problems, "calls": self.calls, "ok": self.ok, "exit_code": self.exit_code,
        }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(cents(value))


def owed_dict(o: Owed) -> dict[str, Any]:
    return {
        "file_net": _money(o.file_net), "file_vat": _money(o.file_vat), "file_gross": _money(o.file_gross),
        "ledger_net": _money(o.ledger_net), "ledger_vat": _money(o.ledger_vat),
        "ledger_gross": _money(o.ledger_gross), "difference": _money(o.difference),
        "net_difference": _money(o.net_difference), "ledger_balance": _money(o.ledger_balance),
        "legacy_balance": _money(o.legacy_balance), "balance_difference": _money(o.balance_difference),
        "documents": len(o.documents), "agrees": o.agrees,
    }


# -- the run -------------------------------------------------------------------------------


async def reconcile_receivables(
    client: ApiClient, inputs: Sequence[tuple[str, str | os.PathLike[str]]], company: Company, *,
    maps: Mapping[str, str | os.PathLike[str] | None] | None = None, aged: str | os.PathLike[str] | None = None,
    aged_columns: Mapping[str, str] | None = None, decimal_comma: bool | None = None,
    today: str | None = None,
) -> Receivables:
    """Per customer and currency, the documents of ``inputs`` ((entity, path) pairs) against the
    ledger (see the module doc). ``maps``: a ``--map`` per input path; ``aged``: an
    aged-receivables file with ``aged_columns`` (customer, currency, balance -> its column).
    ``company`` works out the file's VAT. ``ConfigError`` comes before any call."""
    result = Receivables(company.name)
    calls_before = client.stats.calls + client.token_calls
    base = next((str(r.get("id")) for r in company.records["currencies"] if r.get("isBaseCurrency")), "")
    prepared = []
    for name, path in inputs:
        ent = resolve(name)
        if ent.name not in SIGN:
            raise ConfigError(f"{os.fspath(path)}: per customer, the inputs are invoices, credit notes and "
                              f"debit notes, not {ent.name}")
        prepared.append((ent, path, column_map((maps or {}).get(os.fspath(path)), ent)))
    await client.authenticate()
    customers = await ledger_customers(client)
    store = DocStore()  # both sides' documents wait on disk, not in memory
    try:
        for ent, path, cmap in prepared:
            entry: dict[str, Any] = {"path": os.fspath(path), "entity": ent.name, "sha256": fingerprint(path),
                                     "documents": 0}
            async with aclosing(read_documents(path, ent, cmap, decimal_comma, result.problems)) as docs:
                async for key, records, payload in docs:
                    try:
                        doc = _file_doc(ent.name, key, records, plain(payload), company, customers, base, today)
                    except RecordError as exc:
                        result.problems.append(f"{os.fspath(path)} record {records[0]}: {exc}")
                        continue
                    entry["documents"] += 1
                    store.add("file", doc)
            result.inputs.append(entry)
        async with aclosing(ledger_documents(client, base, result.problems)) as ledger:
            async for doc in ledger:
                store.add("ledger", doc)
        _compare(result, store)
    finally:
        store.close()
    balances = await ledger_balances(client)
    for (customer, currency), owed in result.rows.items():
        if customer in balances and currency == base:
            owed.ledger_balance = balances[customer]
        owed.legacy_balance = owed.file_gross if aged is None else None
    if aged is not None:
        result.aged = {"path": os.fspath(aged), "sha256": fingerprint(aged)}
        for (customer, currency), balance in read_aged(aged, aged_columns or {}, decimal_comma).items():
            owed = result.row(customer, currency := currency or base)
            owed.legacy_balance = (owed.legacy_balance or ZERO) + balance
            if owed.ledger_balance is None and currency == base:
                owed.ledger_balance = balances.get(customer, ZERO)
    result.calls = client.stats.calls + client.token_calls - calls_before
    return result


def _file_doc(entity: str, key: str, records: list[int], payload: Mapping[str, Any], company: Company,
              customers: Mapping[str, Mapping[str, Any]], base: str, today: str | None) -> Doc:
    ent = resolve(entity)
    line_field = ent.line_field or ""
    lines = [line for line in payload.get(line_field) or () if isinstance(line, Mapping)]
    amounts = [line_amount(line, f"{line_field}.") for line in lines]
    customer = str(payload.get("customerNumber") or "").strip()
    currency = str(payload.get("currencyId") or base).strip()
    if carries_vat(ent, payload):  # the file states its VAT: it is taken as stated
        gross = document_amount(ent, payload)
        net = sum(amounts, ZERO)
        vat = gross - net
    else:
        figures = document_figures(company, {**payload, line_field: lines}, customers.get(customer), line_field,
                                   amounts, today or _today())
        net, vat, gross = figures["detailTotal"], figures["vatTotal"], figures["amount"]
    sign = SIGN[entity]
    return Doc(entity, key, customer, currency, sign * net, sign * vat, sign * gross, records=records)


def _today() -> str:
    from datetime import date

    return date.today().isoformat()


def _compare(result: Receivables, store: DocStore) -> None:
    for doc, found in store.side("file"):
        owed = result.row(doc.customer, doc.currency)
        owed.file_net += doc.net
        owed.file_vat += doc.vat
        owed.file_gross += doc.gross
        result.counts.setdefault(doc.entity, {"file": 0, "ledger": 0})["file"] += 1
        if found is None:
            owed.documents.append(_difference("missing", doc, None))
        elif cents(found.gross) != cents(doc.gross) or cents(found.net) != cents(doc.net):
            owed.documents.append(_difference("different", doc, found))
    for doc, in_file in store.side("ledger"):
        owed = result.row(doc.customer, doc.currency)
        owed.ledger_net += doc.net
        owed.ledger_vat += doc.vat
        owed.ledger_gross += doc.gross
        result.counts.setdefault(doc.entity, {"file": 0, "ledger": 0})["ledger"] += 1
        if in_file is None:
            owed.documents.append(_difference("extra", None, doc))
        if doc.status != "Open":
            result.open_items.append({"entity": doc.entity, "key": doc.key, "customer": doc.customer,
                                      "currency": doc.currency, "gross": str(cents(doc.gross)),
                                      "status": doc.status, "why": "not released: not in the balance"})


def _difference(kind: str, file: Doc | None, ledger: Doc | None) -> dict[str, Any]:
    doc = file or ledger
    assert doc is not None
    fg, lg = (file.gross if file else ZERO), (ledger.gross if ledger else ZERO)
    fn, ln = (file.net if file else ZERO), (ledger.net if ledger else ZERO)
    return {
        "kind": kind, "entity": doc.entity, "key": doc.key, "customer": doc.customer, "currency": doc.currency,
        "records": file.records if file else [],
        "file_gross": _money(fg) if file else None, "ledger_gross": _money(lg) if ledger else None,
        "file_net": _money(fn) if file else None, "ledger_net": _money(ln) if ledger else None,
        "difference": _money(lg - fg), "net_difference": _money(ln - fn),
    }
