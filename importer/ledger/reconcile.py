"""``reconcile``: control totals of an input file against the ledger, for an accountant's sign-off.

    async with build_client(options) as client:
        result = await reconcile_totals(client, "invoices.csv", "invoice")
    sys.exit(result.exit_code)

The input is read as an import reads it (the same reader, ``--map`` and :class:`RecordMapper`
in mode create), so a document here is the document the import sent. Then one paged listing
of the entity (:func:`list_pages`) answers the ledger's side: never a GET per record.

Documents (invoice, credit note, debit note), per currency and per customer:

- **file**: the count, and the sum of each document's amount worked out from its lines as the
  API does it (:mod:`importer.ledger.amounts`: manual amount, else quantity ×
  unit price less the discount; each line rounded to cents). VAT is added only where the file
  carries it, as tax-detail lines with a ``vatAmount`` (NDJSON in the API's shape): a flat CSV
  has no VAT column, so its figures are before VAT.
- **ledger**: like is compared with like. For a document the file gives its VAT, the list
  GET's ``amount`` (with VAT); for one it does not, the ledger's line total before the VAT
  the company worked out (``detailTotal``), so a company that adds 25 % VAT to a CSV's
  invoices still agrees with the file. Both are of the documents whose key the file has
  (``referenceNumber``); an auto-numbered document (no key, a ``documentKey`` or none) is
  matched by the ``externalReference`` its import set (the file's own, else the importer's
  ``<input stem>:<documentKey or fingerprint>``). Where ``amount`` or ``detailTotal`` is
  absent, the other and ``vatTotal`` stand for it; a document with neither is a problem of its own.
- a document of the file the ledger does not have is **missing**: it counts in the file's
  figures, with its amount, and in none of the ledger's.

Each side is grouped by its own currency and customer, so a document booked to another
customer or in another currency shows on both rows; where the file leaves the currency (or the
customer) out, the ledger's for the same document is taken, as the API defaults it.

Customers: per currency, the count and the sum of credit limits. A customer the file gives no
credit limit adds 0 to the file's sum; the ledger's side adds what the ledger holds for it.

Memory stays flat however long the file: the file's documents wait for the listing on disk
(:mod:`importer.ledger.waiting`), and the rows per customer and currency are kept there too
past a few thousand (:mod:`importer.ledger.reconcile_rows`); they are read back in order for
the table (the totals and the first :data:`SHOWN` rows that differ), the CSV and the JSON.
Call :meth:`Reconciliation.close` when done with them.

The difference is always ledger − file. Arithmetic is :class:`~decimal.Decimal`; figures are
given to two places. ``exit_code`` is 0 when every figure agrees and every record of the file
was read and matched, else 1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from importer.client import ApiClient
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.entities import entity as resolve
from importer.errors import ConfigError, RecordError, SourceError
from importer.ledger.amounts import ZERO, carries_vat, cents, document_amount, ledger_amount, number_of
from importer.ledger.expand import expand_params
from importer.ledger.legacy import column_map
from importer.ledger.reconcile_rows import Figures, Rows
from importer.ledger.waiting import Waiting
from importer.load.identity import identify
from importer.load.ledger_keys import LedgerKeys
from importer.mapping import CoerceOptions, RecordMapper, Work
from importer.mapping.mapfile import ColumnMap
from importer.saft import kind as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.schema import unwrap_value
from importer.sources import SourceOptions, open_input

__all__ = ["Figures", "Reconciliation", "reconcile_totals", "NO_VALUE", "SHOWN"]

NO_VALUE = ""  # the currency or customer of a record that names none
_LISTED = 50  # missing and invalid records named in full; the rest are counted
SHOWN = 20  # rows that differ shown in full; the rest are counted (the CSV has them all)


# -- the figures ---------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """What ``reconcile`` found; ``rows`` by (currency, customer), on disk past a few thousand
    (:class:`~importer.ledger.reconcile_rows.Rows`); customers have no customer."""

    entity: str
    input: str
    map: str | None = None
    records: int = 0  # input records read
    rows: Rows = field(default_factory=Rows)
    missing: list[dict[str, Any]] = field(default_factory=list)  # the first ones: key, records, amount
    invalid: list[dict[str, Any]] = field(default_factory=list)  # the first ones: records, error
    invalid_count: int = 0
    problems: list[str] = field(default_factory=list)  # what the ledger answered that cannot be counted
    calls: int = 0
    error: str | None = None  # why the figures are not complete (unreadable input, a failed listing)
    elapsed: float = 0.0

    @property
    def is_document(self) -> bool:
        return self.entity != "customer"

    def add(self, currency: str, customer: str, figures: Figures) -> None:
        self.rows.add(currency, customer, figures)

    def totals(self) -> dict[str, Figures]:
        """Per currency, every customer's figures added up."""
        return self.rows.totals()

    def sorted_rows(self) -> Iterator[tuple[str, str, Figures]]:
        """Every row, by currency then customer, read back a page at a time."""
        return self.rows.sorted()

    def differing(self, limit: int = SHOWN) -> tuple[list[tuple[str, str, Figures]], int]:
        """The first ``limit`` rows whose figures disagree, and how many do."""
        return self.rows.differing(limit)

    @property
    def ok(self) -> bool:
        return (self.error is None and not self.invalid_count and not self.problems
                and not self.differing(0)[1])

    @property
    def exit_code(self) -> int:
        """0: the file and the ledger agree on every figure; 1: anything else."""
        return 0 if self.ok else 1

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        """Everything found; without ``rows`` the rows are left out (:meth:`write_json` streams them)."""
        first, count = self.differing()
        return {
            "entity": self.entity, "input": self.input, "map": self.map, "records": self.records,
            "difference_is": "ledger - file",
            "rows": [_row(c, k, f) for c, k, f in self.sorted_rows()] if rows else [],
            "totals": [{"currency": c, **f.to_dict()} for c, f in self.totals().items()],
            "rows_differing": count, "first_differing": [_row(c, k, f) for c, k, f in first],
            "missing": self.missing, "invalid": self.invalid, "invalid_count": self.invalid_count,
            "problems": self.problems, "calls": self.calls, "error": self.error,
            "elapsed_s": round(self.elapsed, 3), "ok": self.ok, "exit_code": self.exit_code,
        }

    def write_json(self, out: IO[bytes]) -> None:
        """:meth:`to_dict` as indented JSON to ``out``, its rows written one at a time as they are read back."""
        head = orjson.dumps({**self.to_dict(rows=False), "rows": [_PLACE]}, option=orjson.OPT_INDENT_2)
        before, after = head.split(orjson.dumps(_PLACE), 1)
        out.write(before.rstrip())
        for n, (c, k, f) in enumerate(self.sorted_rows()):
            row = orjson.dumps(_row(c, k, f), option=orjson.OPT_INDENT_2).replace(b"\n", b"\n    ")
            out.write((b"\n    " if not n else b",\n    ") + row)
        out.write(after + b"\n")

    def close(self) -> None:
        """The rows' temporary file removed: call once the figures are shown and written."""
        self.rows.close()


_PLACE = "\u0000rows"  # where write_json puts the rows


def _row(currency: str, customer: str, figures: Figures) -> dict[str, Any]:
    return {"currency": currency, "customer": customer, **figures.to_dict()}


# -- the run -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """One customer or document of the file, waiting for its ledger record."""

    key: str  # what the listing is matched on: the record's key, or its externalReference
    records: list[int]
    currency: str
    customer: str
    amount: Decimal  # a document's amount; a customer's credit limit
    with_vat: bool = False  # the document states its VAT: compared with the ledger's amount with VAT


async def reconcile_totals(
    client: ApiClient,
    source: str | os.PathLike[str],
    entity: Entity | str,
    *,
    source_options: SourceOptions | None = None,
    coerce_options: CoerceOptions | None = None,
    decimal_comma: bool | None = None,
    date_format: str | None = None,
    map: str | os.PathLike[str] | ColumnMap | None = None,
    reference_prefix: str | None = None,
    results: str | os.PathLike[str] | None = None,
) -> Reconciliation:
    """The control totals of ``source`` against the ledger (see the module doc).

    ``client``: an open :class:`ApiClient`. ``source``: a CSV/NDJSON path (``-`` stdin, ``.gz``).
    ``source_options``, ``coerce_options``, ``decimal_comma``, ``date_format`` and ``map`` read
    the file as ``verify`` and the import read it. ``reference_prefix``: what the import put
    before an auto-numbered document's externalReference in earlier versions (default: the
    input's stem; ``stdin`` for ``-``). ``results``: the import's results file, which tells the
    key the ledger gave each record and the reference set on each document (default:
    ``SOURCE.results.ndjson`` when it exists; see :mod:`importer.load.ledger_keys`).
    ``ConfigError`` comes before any call.
    """
    ent = resolve(entity)
    if ent.is_action or not ent.key_field:
        raise ConfigError(f"{ent.name} records are actions: they have no totals in the ledger")
    cmap = column_map(map, ent)
    prefix = (reference_prefix or (Path(source).stem if os.fspath(source) != "-" else "stdin"))[:24]
    started = time.monotonic()
    calls_before = client.stats.calls + client.token_calls
    result = Reconciliation(ent.name, os.fspath(source), map=cmap.path if cmap is not None else None)
    with open_input(source, source_options or SourceOptions()) as opened:
        if decimal_comma is None:
            decimal_comma = opened.delimiter == ";"
        coerce = coerce_options or CoerceOptions(decimal_comma=decimal_comma, date_format=date_format)
        columns, bound = opened.columns, None
        if cmap is not None:
            bound = cmap.bind(columns, coerce)  # unmapped columns: ConfigError, no call
            coerce, columns = bound.options, bound.columns
        mapper = RecordMapper(ent, mode="create", options=coerce, columns=columns, check_required=False)
        await client.authenticate()
        keys = LedgerKeys.beside(source, results)
        file = _FileSide(ent, prefix, result, keys)
        try:
            async for record in opened.records():
                result.records += 1
                for work in mapper.feed(bound.map_record(record) if bound is not None else record):
                    file.take(work)
        except SourceError as exc:
            result.error = str(exc)
        for work in mapper.finish():
            file.take(work)
        if keys is not None:
            keys.close()
    try:
        await _match_ledger(client, ent, file, result)
    except ListError as exc:
        result.error = f"the ledger's {ent.name} listing failed: {exc}"
    finally:
        file.close()
    result.calls = client.stats.calls + client.token_calls - calls_before
    result.elapsed = time.monotonic() - started
    return result


class _FileSide:
    """The file's customers or documents, by the key the listing will be matched on."""

    def __init__(self, entity: Entity, prefix: str, result: Reconciliation, keys: LedgerKeys | None) -> None:
        self.entity = entity
        self.prefix = prefix
        self.keys = keys
        self.result = result
        self.by_key = Waiting("the file's records waiting for their key in the listing")
        self.by_reference = Waiting("the file's documents waiting for their externalReference in the listing")

    def take(self, work: Work) -> None:
        if work.error is not None or work.payload is None:
            self._invalid(work, work.error or "it could not be read")
            return
        payload = work.payload
        with_vat = False
        try:
            if self.entity.is_document:
                amount = document_amount(self.entity, payload)
                customer = _text(payload.get("customerNumber"))
                with_vat = carries_vat(self.entity, payload)
            else:
                amount = number_of(payload, "creditLimit", "creditLimit") or ZERO
                customer = NO_VALUE
        except RecordError as exc:
            self._invalid(work, f"record {work.records[0]}: {exc}")
            return
        currency = _text(payload.get("currencyId"))
        identity = identify(self.entity, work)[0] if self.keys is not None or not work.key else ""
        ledger_key = self.keys.key(identity) if self.keys is not None else None
        if ledger_key:  # the key the ledger gave it, as the import recorded
            entry = _Entry(ledger_key.strip(), work.records, currency, customer, amount, with_vat)
            self.by_key.add(entry.key, entry)
        elif work.key:
            entry = _Entry(str(work.key).strip(), work.records, currency, customer, amount, with_vat)
            self.by_key.add(entry.key, entry)
        elif self.entity.is_document:
            entry = _Entry(self._reference(work, identity), work.records, currency, customer, amount, with_vat)
            self.by_reference.add(entry.key, entry)
        else:
            self._invalid(work, f"record {work.records[0]}: no number: an auto-numbered customer "
                                "cannot be found in the ledger again")

    def _reference(self, work: Work, identity: str) -> str:
        """The externalReference the import gave (or was given for) this auto-numbered document:
        the file's own, else the one its results file recorded, else what earlier versions built."""
        given = _text((work.payload or {}).get("externalReference"))
        if given:
            return given
        recorded = self.keys.reference(identity) if self.keys is not None else None
        return recorded or f"{self.prefix}:{identity.split(':', 1)[1][:40]}"

    def _invalid(self, work: Work, error: str) -> None:
        self.result.invalid_count += 1
        if len(self.result.invalid) < _LISTED:
            self.result.invalid.append({"records": work.records, "error": error})

    @property
    def waiting(self) -> bool:
        return bool(self.by_key.count or self.by_reference.count)

    def taken(self, store: Waiting, keys: list[str]) -> dict[str, list[_Entry]]:
        """The entries of ``keys`` (empty ones left out), gone from ``store``, by key."""
        found: dict[str, list[_Entry]] = {}
        for key, entry in store.take(key for key in keys if key):
            found.setdefault(key, []).append(entry)
        return found

    def close(self) -> None:
        self.by_key.close()
        self.by_reference.close()


def _text(value: Any) -> str:
    found = unwrap_value(value)
    return NO_VALUE if found is None else str(found).strip()


def _ledger_customer(item: Mapping[str, Any]) -> str:
    """The document's customer number: ``customer.number`` in the DTOs."""
    customer = item.get("customer")
    if isinstance(customer, Mapping):
        return _text(customer.get("number"))
    return _text(item.get("customerNumber"))


async def _match_ledger(client: ApiClient, entity: Entity, file: _FileSide, result: Reconciliation) -> None:
    """Page through the entity once, adding each record the file has to both sides' figures.

    The file's records wait on disk (:class:`~importer.ledger.waiting.Waiting`); a page's
    keys are taken out together, then the externalReference of each item no key matched."""
    key_field = entity.key_field or ""
    # Auto-numbered documents: a rerun may have booked one twice, so the whole listing is read.
    read_all = bool(file.by_reference.count)
    matched_references: set[str] = set()
    if file.waiting:
        pages = list_pages(client, entity, expand_params(entity, ()))  # no group the totals need
        async with aclosing(pages):
            async for page in pages:
                keys = [_text(item.get(key_field)) for item in page.items]
                by_key = file.taken(file.by_key, keys)
                for item, key in zip(page.items, keys, strict=True):
                    entries = by_key.pop(key, None) if key else None
                    if entries is None:
                        reference = _text(item.get("externalReference")) if entity.is_document else NO_VALUE
                        entries = file.taken(file.by_reference, [reference]).get(reference)
                        if entries is None and reference and reference in matched_references:
                            result.problems.append(f"externalReference {reference!r}: more than one "
                                                   f"{entity.name} in the ledger (another is {key or 'unnumbered'})")
                            entries = []
                        elif entries is not None:
                            matched_references.add(reference)
                    if entries is not None:
                        _book(entity, item, key, entries, result)
                if not file.waiting and not read_all:
                    break  # every key of the file found: the rest of the listing is not needed
    for store in (file.by_key, file.by_reference):
        for entry in store.drain():
            result.add(entry.currency, entry.customer, Figures(count_file=1, sum_file=entry.amount, missing=1,
                                                               missing_sum=entry.amount))
            if len(result.missing) < _LISTED:
                result.missing.append({"key": entry.key, "records": entry.records, "currency": entry.currency,
                                       "customer": entry.customer, "amount": str(cents(entry.amount))})


def _book(entity: Entity, item: Mapping[str, Any], key: str, entries: list[_Entry], result: Reconciliation) -> None:
    """One ledger record on the ledger's side, and the file's records it stands for on the file's."""
    currency = _text(item.get("currencyId"))
    if entity.is_document:
        customer = _ledger_customer(item)
        amount = ledger_amount(item, with_vat=any(entry.with_vat for entry in entries))
        if amount is None:
            named = key or (entries[0].key if entries else "without a number")
            result.problems.append(f"{entity.name} {named}: the ledger answers no amount (nor detailTotal): "
                                   "counted as 0")
            amount = ZERO
    else:
        customer = NO_VALUE
        try:
            amount = number_of(item, "creditLimit", "creditLimit") or ZERO
        except RecordError as exc:
            result.problems.append(f"customer {key}: the ledger's {exc}: counted as 0")
            amount = ZERO
    result.add(currency, customer, Figures(count_ledger=1, sum_ledger=amount))
    for entry in entries:
        result.add(entry.currency or currency, entry.customer or customer,
                   Figures(count_file=1, sum_file=entry.amount))
