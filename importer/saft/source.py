"""A SAF-T file as an input of the importer: customers, or opening-balance documents.

The same file is read as what the run imports (``SaftSettings.entity``):

- ``customer``: one record per ``<Customer>`` with SAF-T-named columns
  (:mod:`importer.saft.customers`), bound by the built-in map (:meth:`SaftSource.bind_map`);
- ``invoice`` / ``credit-note``: one opening-balance document per customer and currency
  (:mod:`importer.saft.balances`), already in the API's columns. The file is read once
  through before the first document, for the movements that check each balance and for
  the subledger check against the general ledger (:mod:`importer.saft.subledger`).
  With ``documents="invoices"``, each open sales invoice of ``SourceDocuments`` instead,
  with its lines (:mod:`importer.saft.invoice_documents`); that first pass also sums the
  payments per invoice, and the second streams the invoices out.

Whatever the reader could not take (a :class:`SaftProblem`) comes out as an invalid record
naming the line and the element, so nothing is dropped silently. That includes an element
whose text is longer than ``--max-field-size``: the reader keeps no more of it than that.

This module is SAF-T's one seam with the rest of the importer: it registers the input kind
``saft`` (:mod:`importer.sources.kinds`), whose ``Input`` carries the file's columns, and the
reader binds its records itself (:meth:`SaftSource.bind_map`: the built-in map and the file's
own checks), so the import (:mod:`importer.api`) reads a SAF-T file as it reads any other.
The run's SAF-T options are one group, :class:`~importer.options.SaftSettings`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Literal, Protocol

from importer.entities import Entity
from importer.errors import ConfigError
from importer.logs import tell
from importer.mapping import CoerceOptions
from importer.mapping.binding import BoundMap
from importer.mapping.mapfile import load_map
from importer.options import SaftSettings
from importer.saft.balances import DOCUMENT_ENTITIES, BalanceBook, BalanceCheck, DocumentText, opening_documents
from importer.saft.customers import CUSTOMER_COLUMNS, check_payment_terms, customer_map, customer_record
from importer.saft.invoice_documents import invoice_documents, open_item_checks
from importer.saft.invoice_records import INVOICE_TEXTS
from importer.saft.model import (
    SaftAccount,
    SaftCustomer,
    SaftEvent,
    SaftHeader,
    SaftInvoice,
    SaftMovement,
    SaftProblem,
    SaftSettlement,
)
from importer.saft.open_items import InvoiceBook, OpenItemsCheck
from importer.saft.subledger import SubledgerCheck, subledger_check
from importer.sources import ByteCounter, Input, SourceOptions, SourceRecord, is_regular_file

__all__ = ["SaftSettings", "SaftSource", "SaftFile", "FORMAT", "open_input"]

FORMAT = "saft"  # the input kind's name, as importer.saft.kind registers it (a test holds the two equal)

ENTITIES = ("customer", *DOCUMENT_ENTITIES)


class SaftFile(Protocol):
    """What the reader gives of one opened file."""

    header: SaftHeader

    def events(self, documents: bool = False, purpose: Literal["all", "balances", "invoices"] = "all"
               ) -> Iterator[SaftEvent]: ...


Opener = Callable[[str, int], AbstractContextManager[SaftFile]]  # (path, max_field_size)


def _reader_opener(path: str, max_field_size: int) -> AbstractContextManager[SaftFile]:
    from importer.saft.reader import open_saft  # the XML reader: loaded only for SAF-T input

    return open_saft(path, max_field_size)


class SaftSource:
    """The records of one SAF-T file for one entity; iterable more than once (each pass reads the file)."""

    format = FORMAT
    delimiter: str | None = None
    encoding = "utf-8"
    bom = b""
    line_end = b"\n"

    def __init__(self, path: str | os.PathLike[str], settings: SaftSettings, opener: Opener = _reader_opener,
                 *, max_field_size: int = SourceOptions.max_field_size) -> None:
        """``max_field_size``: the most bytes of one element's text the reader keeps (``--max-field-size``)."""
        entity = settings.entity
        if entity not in ENTITIES:
            what = f"not as {entity}" if entity else "say which with --entity"
            raise ConfigError(f"{os.fspath(path)}: a SAF-T file is read as customers or as their opening balances "
                              f"(--entity {', '.join(ENTITIES)}); {what}")
        self.name = os.fspath(path)
        self.settings = settings  # its --saft-documents and --saft-period were checked as it was made
        self.document = DocumentText(settings.text, settings.item, settings.account, settings.period)
        self.entity: str = entity
        self._opener = opener
        if max_field_size < 1:
            raise ConfigError(f"--max-field-size must be at least 1 byte, got {max_field_size}")
        self.max_field_size = max_field_size
        self.columns: list[str] | None = list(CUSTOMER_COLUMNS) if entity == "customer" else None
        self.progress = ByteCounter(None, None)
        self._book: BalanceBook | None = None
        self._invoices: InvoiceBook | None = None
        self._problems: list[SaftProblem] = []
        self._wrong: list[BalanceCheck | OpenItemsCheck] | None = None
        self.header: SaftHeader | None = None

    def _open(self) -> AbstractContextManager[SaftFile]:
        return self._opener(self.name, self.max_field_size)

    # -- customers -------------------------------------------------------------------------

    @property
    def by_invoice(self) -> bool:
        return self.settings.documents == "invoices" and self.entity in DOCUMENT_ENTITIES

    def customers(self) -> Iterator[SaftCustomer]:
        """The file's customers; reading stops at the first ledger line (customers come before)."""
        with self._open() as file:
            self.header = file.header
            for event in file.events():
                if isinstance(event, SaftMovement):
                    return
                if isinstance(event, SaftCustomer):
                    yield event

    def _customer_records(self) -> Iterator[SourceRecord]:
        """Customers, and the problems among them; what is wrong in the ledger lines is the balances' to tell."""
        number = 0
        with self._open() as file:
            self.header = file.header
            for event in file.events():
                if isinstance(event, SaftMovement | SaftInvoice | SaftSettlement):
                    return  # the ledger or the documents: the customers are over
                if isinstance(event, SaftAccount):
                    continue  # the chart of accounts, before the customers
                number += 1
                if isinstance(event, SaftCustomer):
                    yield SourceRecord(number, customer_record(event))
                else:  # with its id, when the file gave one, so that its documents wait for it
                    yield _problem_record(number, event, {"CustomerID": event.customer_id or ""})

    # -- balances --------------------------------------------------------------------------

    def book(self) -> BalanceBook:
        """Every customer's balances and movements (and the invoices' totals and payments): one pass, done once."""
        if self._book is None:
            invoices = InvoiceBook()
            with self._open() as file:
                self.header = file.header
                book = BalanceBook(file.header.default_currency)
                for event in file.events(documents=self.by_invoice, purpose="balances"):
                    if isinstance(event, SaftMovement):
                        book.add_movement(event)
                    elif isinstance(event, SaftCustomer):
                        book.add_customer(event)
                    elif isinstance(event, SaftInvoice):
                        invoices.add_invoice(event)
                    elif isinstance(event, SaftSettlement):
                        invoices.add_settlement(event)
                    elif isinstance(event, SaftAccount):
                        book.add_account(event)
                    else:
                        self._problems.append(event)
            self._problems.extend(invoices.problems)
            self._problems.extend(invoices.overpaid())
            self._book, self._invoices = book, invoices
        return self._book

    def disagreements(self) -> list[BalanceCheck | OpenItemsCheck]:
        """The customers whose figures disagree: their ledger, and (by invoice) their open invoices (found once)."""
        if self._wrong is None:
            wrong: list[BalanceCheck | OpenItemsCheck] = list(self.book().disagreements())
            if self.by_invoice:
                assert self._invoices is not None
                wrong.extend(check for check in open_item_checks(self.book(), self._invoices) if not check.agrees)
            self._wrong = wrong
        return self._wrong

    def subledger(self) -> SubledgerCheck:
        """The customers' closing balances against the receivables accounts they post to."""
        return subledger_check(self.book())

    def _document_records(self) -> Iterator[SourceRecord]:
        book = self.book()
        assert self.header is not None
        number = 0
        for problem in self._problems:
            number += 1
            yield _problem_record(number, problem)
        documents = opening_documents(book, self.header, self.entity, self.document,
                                      allow_unbalanced=self.settings.allow_unbalanced)
        for document in documents:
            number += 1
            yield SourceRecord(number, document.data, document.error)

    def _invoice_records(self) -> Iterator[SourceRecord]:
        """The open invoices (or credit notes), one record per line; a second pass of the file."""
        self.book()
        invoices, header = self._invoices, self.header
        assert invoices is not None and header is not None
        held = self._held_customers()
        number = 0
        for problem in self._problems:
            number += 1
            yield _problem_record(number, problem)
        with self._open() as file:
            for event in file.events(documents=True, purpose="invoices"):
                if not isinstance(event, SaftInvoice):
                    if isinstance(event, SaftProblem) and event.element in INVOICE_TEXTS:
                        number += 1  # a value only this pass reads: the first counted the invoice in, unsent
                        yield _problem_record(number, event)
                    continue
                for row in invoice_documents(event, invoices, self.entity, self.document,
                                             default_currency=header.default_currency, period_end=header.period_end,
                                             error=held.get(event.customer_id)):
                    number += 1
                    yield SourceRecord(number, row.data, row.error)

    def _held_customers(self) -> dict[str, str]:
        """Customer -> why its invoices are not sent: its figures disagree (unless allowed)."""
        if self.settings.allow_unbalanced:
            return {}
        held: dict[str, list[str]] = {}
        for check in self.disagreements():
            held.setdefault(check.customer_id, []).append(check.message())
        return {cid: "not sent: the file's own figures disagree: " + "; ".join(messages)
                + " (--saft-allow-unbalanced sends it anyway)" for cid, messages in held.items()}

    def bind_map(self, entity: Entity, map_path: str | None, coerce: CoerceOptions) -> BoundMap | None:
        """Before anything is sent: the map this file's records are bound with, and the file's checks.

        Customers: the built-in map with ``map_path`` laid over it; every payment-terms value the
        map leaves without a credit terms id is a ConfigError. Balances: ``map_path`` as for any
        input, and every customer whose figures disagree is told on stderr now, then the
        subledger check (:mod:`importer.saft.subledger`): the customers against the general ledger.
        """
        if entity.name == "customer":
            cmap = customer_map(map_path, entity)
            bound = cmap.bind(self.columns, coerce)
            check_payment_terms(self.customers(), cmap)
            return bound
        wrong = self.disagreements()
        if wrong:
            what = "sent anyway (--saft-allow-unbalanced)" if self.settings.allow_unbalanced else "not sent"
            tell(f"{self.name}: {len(wrong)} customer balance(s) do not add up; their {entity.name} documents are "
                 f"{what}:", logging.WARNING)
            for check in wrong:
                tell(f"  {check.message()}", logging.WARNING)
        ledger = self.subledger()
        tell(f"{self.name}: {ledger.text()}", logging.INFO if ledger.agrees or not ledger.listed else logging.WARNING)
        if map_path is None:
            return None
        return load_map(map_path, entity).bind(None, coerce)

    def __iter__(self) -> Iterator[SourceRecord]:
        if self.entity == "customer":
            return self._customer_records()
        return self._invoice_records() if self.by_invoice else self._document_records()


def _problem_record(number: int, problem: SaftProblem, data: dict[str, str] | None = None) -> SourceRecord:
    who = f"customer {problem.customer_id}, " if problem.customer_id else ""
    return SourceRecord(number, data or {}, f"{who}line {problem.line}: <{problem.element}>: {problem.message}")


def open_input(path: str, options: SourceOptions) -> Input:
    """A SAF-T file as an import's input, read as ``options.entity`` with ``options.settings``."""
    is_regular_file(path)  # a missing file or a folder: ConfigError now, as for CSV
    settings = options.settings if isinstance(options.settings, SaftSettings) else SaftSettings()
    if options.entity is not None:
        settings = replace(settings, entity=options.entity)
    reader = SaftSource(path, settings, max_field_size=options.max_field_size)
    return Input(reader, path, path, reader.format, reader.columns, None, reader.progress)

