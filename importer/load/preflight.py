"""The preflight: every record checked against the company before a call is spent on it.

With a company (``--company FILE``, the live company read once, or the sandbox's), each
unit of work is checked by :mod:`importer.company.checks` before it is sent: a record
naming credit terms, a VAT category, an item, a class, a currency, an account, a branch,
a salesperson, a payment method or a financial period the company does not have or cannot
use is ``invalid`` without a call, and so is a document whose customer is neither in the
ledger nor in this plan. Its message names the record, the file's column (the map's
source column when a ``--map`` feeds it), the value and the closest values the company
has::

    record 7, column creditTermsId: `30 dager netto` is not a credit terms id of this
    company; it has `30` (30 dager netto), `10` (10 dager netto), `14` (14 dager netto)

:class:`Preflight` judges one unit (:meth:`Preflight.verdict`, used by the pipeline's
producer); :func:`scan` reads a whole input first and counts what would be refused, grouped
by column and value (a wrong map gives one value × every record), for ``importer check``
and for a live run, which sends nothing while any record would be refused unless told
``--send-valid``; :func:`ledger_customers` lists the ledger's customer numbers once, when
documents name customers neither the file nor the plan has.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Container
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from importer.client.http import ApiClient
from importer.client.pages import ListError, list_pages
from importer.company import Company
from importer.company.checks import Problem, check_customer, check_document, check_periods
from importer.company.columns import one, usable
from importer.company.kinds import kind
from importer.entities import ENTITIES, Entity
from importer.errors import ApiError, ConfigError
from importer.load.input_state import KnownKeys
from importer.load.prefetch import PAGE_SIZE
from importer.mapping import Work
from importer.mapping.columns import LINE_PREFIX
from importer.mapping.flatten import unwrap
from importer.mapping.mapfile import BoundMap
from importer.options import ImportOptions
from importer.schema import unwrap_value

__all__ = ["Preflight", "Found", "Scan", "Refused", "scan", "before_sending", "read_once", "ledger_customers", "grouped", "SHOWN"]

SHOWN = 20  # failures a refused run lists before it counts the rest
_LINE_PATH = re.compile(r"^(\w+)\[(\d+)\]\.(.*)$")


@dataclass(frozen=True, slots=True)
class Found:
    """One problem of one unit: the record it is on, the file's column, the value, the message."""

    record: int
    column: str
    value: str
    message: str  # ``record 7, column creditTermsId: `X` is not ...``
    reason: str  # the message without the record: the same for every record of one mistake


class Preflight:
    """The checks of one run: its company, how its records' columns are named, the customers known.

    ``known``: customers a document may name without the ledger's word (a plan's customer
    step's; the caller's own, which a scan only reads); ``waiting``: customers whose documents
    the plan holds back (its gate answers those); ``ledger``: the ledger's customer numbers,
    once listed (None: not asked, so a document's customer is not checked).
    """

    def __init__(self, company: Company, entity: Entity, mode: str, bound: BoundMap | None = None, *,
                 known: Container[str] = frozenset(), waiting: Collection[str] = ()) -> None:
        self.company = company
        self.entity = entity
        self.mode = mode
        self.known = known  # read, never changed here
        self.waiting = set(waiting)
        self.ledger: Container[str] | None = None
        self._sources = _sources_of(bound)
        self._near: dict[tuple[str, str], str] = {}
        self.refused = 0  # records refused before any call: at least one call saved each
        self.calls = 0  # the calls the preflight made through the run's client (listing customers)

    def bind(self, bound: BoundMap | None) -> None:
        """Name columns as ``bound`` (the run's map) reads them."""
        self._sources = _sources_of(bound)

    def findings(self, work: Work) -> list[Found]:
        """Every problem of ``work`` (none for a unit already invalid, or an action)."""
        if work.payload is None or work.error is not None or self.entity.is_action:
            return []
        record = unwrap(work.payload)
        if self.entity.is_document:
            problems = check_document(self.company, record, self.entity.line_field or "")
            problems += check_periods(self.company, record, derive=self.mode != "update")
        else:
            problems = check_customer(self.company, record, creating=self.mode != "update")
        lines = len(record.get(self.entity.line_field or "") or ()) if self.entity.is_document else 0
        found = [self._found(work, p, lines) for p in problems]
        customer = self.unknown_customer(work)
        if customer is not None:
            reason = f"column customerNumber: customer `{customer}` is in neither the ledger nor this plan"
            found.append(Found(work.records[0], "customerNumber", customer,
                               f"record {work.records[0]}, {reason}", reason))
        return found

    def verdict(self, work: Work) -> str | None:
        """The message that makes ``work`` invalid, or None when the company takes it."""
        found = self.findings(work)
        if not found:
            return None
        self.refused += len(work.records)
        return "; ".join(f.message for f in found)

    def customer_of(self, work: Work) -> str | None:
        """A document's customer, when neither the plan knows it nor holds it back."""
        if not self.entity.is_document or work.payload is None:
            return None
        customer = unwrap_value(work.payload.get("customerNumber"))
        if customer is None or str(customer) in self.known or str(customer) in self.waiting:
            return None
        return str(customer)

    def unknown_customer(self, work: Work) -> str | None:
        customer = self.customer_of(work) if self.ledger is not None else None
        if customer is None or self.ledger is None or customer in self.ledger:
            return None
        return customer

    # -- one problem ----------------------------------------------------------------------

    def _found(self, work: Work, p: Problem, lines: int) -> Found:
        """A row per line: the line's row; one record of several lines: the record, and which line."""
        column, line = self._column(p.path)
        rows = work.records
        by_row = line is not None and len(rows) == lines
        record = rows[line] if by_row and line is not None else rows[0]
        where = f", line {line + 1}" if line is not None and not by_row else ""
        reason = f"column {column}{where}: {self._text(p)}"
        return Found(record, column, p.value, f"record {record}, {reason}", reason)

    def _column(self, path: str) -> tuple[str, int | None]:
        """The file's column of a request field, and its line index (None: the header's)."""
        match = _LINE_PATH.match(path)
        line = None
        if match is not None and match.group(1) == self.entity.line_field:
            path, line = LINE_PREFIX + match.group(3), int(match.group(2))
        api = re.sub(r"\[\d+\].*$", "", path)  # a subaccount's segment: its column
        sources = self._sources.get(api)
        return (f"{sources} ({api})" if sources else api), line

    def _text(self, p: Problem) -> str:
        if p.reason == "required":
            return f"a value is required: {one(kind(p.kind).label)} {p.why}"
        if p.reason == "unit":
            return f"unit `{p.value}` {p.why}; {p.hint}"
        said = p.why if p.reason == "unknown" else f"{kind(p.kind).label} {p.why}" if p.kind != "financialPeriods" \
            else f"financial period {p.why}"
        text = f"`{p.value}` {said}"
        return f"{text}; it has {self._nearest(p.kind, p.value)}" if p.closest_known else text

    def _nearest(self, kind_name: str, value: str) -> str:
        """``10`` (10 dager netto), ... : the usable records closest to ``value`` (cached: one
        wrong value is usually on many records)."""
        key = (kind_name, value)
        if key not in self._near:
            records = self.company.records[kind_name]
            near = [r for r in self.company.closest(kind_name, value, n=len(records)) if usable(kind_name, r) is None]
            id_field = kind(kind_name).id_field
            shown = []
            for r in near[:3]:
                text = str(r.get("description") or r.get("name") or "")
                rid = str(r.get(id_field, ""))
                shown.append(f"`{rid}` ({text})" if text and text != rid else f"`{rid}`")
            self._near[key] = ", ".join(shown) if shown else "none"
        return self._near[key]


def _sources_of(bound: BoundMap | None) -> dict[str, str]:
    """API column -> the map's source column(s) that feed it."""
    if bound is None:
        return {}
    sources: dict[str, list[str]] = {}
    for src, targets in bound.map.columns.items():
        for api in targets:
            sources.setdefault(api, []).append(src)
    return {api: " / ".join(names) for api, names in sources.items()}


@dataclass
class Scan:
    """What a pass over a whole input found: counts, and problems grouped by column and value."""

    records: int = 0
    refused: int = 0  # records with at least one problem
    groups: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (column, value, reason) -> records
    first: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # the first records of each

    def add(self, work: Work, found: list[Found]) -> None:
        self.records += len(work.records)
        if not found:
            return
        self.refused += len(work.records)
        for f in found:
            key = (f.column, f.value, f.reason)
            self.groups[key] += 1
            shown = self.first.setdefault(key, [])
            if len(shown) < 3:
                shown.append(f.record)

    @property
    def clean(self) -> bool:
        return self.refused == 0


def grouped(found: Scan, most: int = SHOWN) -> list[str]:
    """One line per mistake, the commonest first: ``  3,000 × column creditTermsId: `30 dager
    netto` is not ... (records 2, 3, 4, ...)``; the rest counted."""
    lines = []
    for key, count in found.groups.most_common(most):
        records = found.first[key]
        named = ", ".join(str(r) for r in records) + (", ..." if count > len(records) else "")
        lines.append(f"{count:>7,} × {key[2]} (record{'s' if count > 1 else ''} {named})")
    rest = len(found.groups) - most
    if rest > 0:
        lines.append(f"    ... and {rest:,} more problems (importer check lists them all)")
    return lines


class Refused(ConfigError):
    """A live run's preflight found records the company would refuse, and was not told to send the rest."""

    def __init__(self, found: Scan) -> None:
        self.scan = found
        valid = found.records - found.refused
        super().__init__(
            f"the company would refuse {found.refused:,} of the {found.records:,} records, so nothing was "
            "sent and no outcome written:\n" + "\n".join(grouped(found)) + "\n"
            f"fix the map or the file and run again, or pass --send-valid to send the {valid:,} valid "
            "records (the others are then invalid, each with its reason)")


async def scan(works: AsyncIterator[Work], preflight: Preflight, client: ApiClient | None = None) -> Scan:
    """Check every unit of ``works``; with ``client``, the ledger's customers are listed once,
    at the first document that names a customer the plan does not know, and checked from then on."""
    result = Scan()
    async for work in works:
        if client is not None and preflight.ledger is None and preflight.customer_of(work) is not None:
            preflight.ledger = await ledger_customers(client)
        result.add(work, preflight.findings(work))
    return result


async def ledger_customers(client: ApiClient) -> KnownKeys:
    """Every customer number the ledger holds: one paged listing, kept on disk (a fleet's
    companies are checked at once, and a company may hold tens of thousands of customers)."""
    entity = ENTITIES["customer"]
    numbers = KnownKeys("the customer numbers the ledger holds")
    try:
        async with aclosing(list_pages(client, entity, {}, page_size=PAGE_SIZE)) as pages:
            async for page in pages:
                for item in page.items:
                    value: Any = unwrap_value(item.get(entity.key_field or "number"))
                    if value is not None:
                        numbers.add(str(value))
    except ListError as exc:
        raise ApiError(exc.status, f"preflight: cannot list the ledger's customers: {exc}") from None
    return numbers


def read_once(opts: ImportOptions) -> None:
    """ConfigError unless ``send_valid``: an input read once (stdin, records) has no pass before sending."""
    if not opts.behaviour.send_valid:
        raise ConfigError(
            "the preflight checks every record against the company before anything is sent, and "
            "this input cannot be read twice: pass --send-valid (records the company would refuse "
            "are invalid, the rest is sent), or --company none to check nothing")


async def before_sending(preflight: Preflight, client: ApiClient, opts: ImportOptions,
                         rescan: Callable[[], AsyncIterator[Work]] | None) -> None:
    """Before a live run sends anything: check the whole input against the company.

    Records the company would refuse make the run send nothing (:class:`Refused`) unless
    ``send_valid``: then they are ``invalid`` as they come, and the rest is sent.
    """
    before = client.stats.calls
    try:
        if rescan is None:  # stdin or records: read once, so no pass before sending
            read_once(opts)
            if preflight.entity.is_document:
                preflight.ledger = await ledger_customers(client)
            return
        found = await scan(rescan(), preflight, client)
        if not found.clean and not opts.behaviour.send_valid:
            raise Refused(found)
    finally:
        preflight.calls += client.stats.calls - before
