"""``verify``: compare an input file with what the API holds, by key.

    async with build_client(options) as client:
        summary = await verify_records(client, "customers.csv", "customer", "customers.csv.verify.ndjson")
    sys.exit(summary.exit_code)

The input is read by the importer's own reader and :class:`RecordMapper` (mode create), so a
record means here exactly what it would mean to an import: the same coercion, the same
grouping of rows into documents, the same ``invalid`` records. Each payload is unwrapped,
flattened to import columns and compared with the API's record for its key, flattened by
:class:`~importer.mapping.flatten.RecordFlattener` (which also reads the live API's DTO
shape). Only the fields the input gives are compared: an omitted field is no difference.
How values compare (numbers as numbers, dates as dates, periods by the month they name, ...)
is :mod:`importer.mapping.compare`; a different number of lines is a difference of its own.

With ``map=`` (``verify --map``) the input is read through the mapping file exactly as
``run --map`` reads it (:meth:`ColumnMap.bind` on the header, ``map_record`` on each record,
the ``RecordMapper`` behind it on the map's options), so a legacy file is checked as the
records its import sent. A listing is asked for the ``expand*`` flags the input's columns
need (:mod:`importer.ledger.expand`); a GET by key answers the whole record anyway.

Strategies (``strategy=``):

- ``get``: one GET by key per record (``encode_key``), ``concurrency`` in flight, the client
  pacing by the rate-limit headers. Memory: what is in flight.
- ``list``: page through the whole list GET once (``ceil(total / maxPageSize)`` calls) and
  compare each answered record whose key the input has. Memory: flat. What waits for its
  key to come by (record numbers and expected values, never rows or payloads) waits on disk
  (:mod:`importer.ledger.waiting`); each page takes its keys' records back.
- ``auto`` (default): the strategy that costs fewer calls. An input of one keyed record is
  one GET. An input of up to :data:`AUTO_GET_MAX` keyed records is read whole, then the
  listing's first page is asked for: it is the listing's first call and says what the rest
  costs (totalCount, maxPageSize), so when the rest takes fewer calls than there are records
  left to find the listing goes on (a ledger of one page: one call for all of them), else the
  records go by key (the one call spent to learn it). Above that one probe (a list GET with
  pageSize=1) tells what a full listing costs, and ``list`` is chosen when the input has more
  records than that (those read meanwhile wait on disk too). On a 500-calls-an-hour test
  client, 2,000 customers cost 2,000 calls by key but 2 by list; 9 customers, 1 instead of 9.

The report (NDJSON) has one line per customer or document: ``key``, ``records`` (input record
numbers), ``status`` (``ok`` | ``missing`` | ``different`` | ``invalid`` | ``error``),
``differences`` (``[{field, expected, actual}]``, with ``line`` for a line's field) and
``error`` for invalid and error lines. ``exit_code``: 0 when every record is ``ok``, else 1.
:func:`importer.ledger.differences.first_differences` reads the first of them back as rows
for a terminal table.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, aclosing
from typing import Any

import anyio
import anyio.lowlevel

from importer.client import ApiClient
from importer.client.pages import ListError, Page, list_pages
from importer.entities import Entity
from importer.entities import entity as resolve
from importer.errors import ConfigError, SourceError
from importer.keys import encode_key
from importer.ledger.expand import expand_params
from importer.ledger.legacy import column_map
from importer.ledger.verify_report import STATUSES, VerifyReport, VerifySummary, VerifyUnit, default_report_path
from importer.ledger.waiting import Waiting
from importer.load.ledger_keys import LedgerKeys
from importer.mapping import CoerceOptions, RecordMapper, Work
from importer.mapping.compare import Comparer, expected_record
from importer.mapping.mapfile import BoundMap, ColumnMap
from importer.outputs import check_outputs
from importer.saft import kind as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.sources import Input, SourceOptions, open_input

__all__ = ["VerifySummary", "verify_records", "default_report_path",
           "STATUSES", "STRATEGIES", "AUTO_GET_MAX"]

STRATEGIES = ("auto", "get", "list")
# ``auto`` verifies inputs this small by key without asking what a listing would cost.
AUTO_GET_MAX = 20
log = logging.getLogger("importer")


async def verify_records(
    client: ApiClient,
    source: str | os.PathLike[str],
    entity: Entity | str,
    report_path: str | os.PathLike[str] | None,
    *,
    source_options: SourceOptions | None = None,
    coerce_options: CoerceOptions | None = None,
    decimal_comma: bool | None = None,
    date_format: str | None = None,
    concurrency: int | None = None,
    strategy: str = "auto",
    map: str | os.PathLike[str] | ColumnMap | None = None,
    results: str | os.PathLike[str] | None = None,
) -> VerifySummary:
    """Check every record of ``source`` against the API; write the report, return the summary.

    ``client``: an open :class:`ApiClient`. ``source``: a CSV/NDJSON path (``-`` stdin,
    ``.gz``). ``report_path``: where the NDJSON report goes (None: no file, counts only).
    ``source_options``: format, delimiter, encoding, as for an import. ``coerce_options``:
    how cells are read; when None it is built from ``decimal_comma`` (None: on when the CSV
    delimiter is ``;``, as the import decides) and ``date_format``, so the CLI can pass its
    ``--decimal-comma`` / ``--date-format`` flags as they are. ``concurrency``: GETs in flight
    (default: the client's). ``strategy``: ``auto``, ``get`` or ``list`` (see the module doc).
    ``map``: a mapping file (path or loaded) the input is read through, as ``run --map`` does;
    the coerce options then apply only to columns the map gives no format. ``results``: the
    import's results file (default ``SOURCE.results.ndjson`` when it exists): each record is
    looked up under the key the ledger gave it, so documents the company numbered itself, and
    auto-numbered ones, are verified too (:mod:`importer.load.ledger_keys`).
    ``ConfigError`` (unknown column, a mistake in the map, bad arguments) is raised before any call.
    """
    ent = resolve(entity)
    if ent.is_action or not ent.key_field:
        raise ConfigError(f"{ent.name} records have no key to look up: they cannot be verified")
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    limit = concurrency or client.concurrency
    if limit < 1:
        raise ConfigError("--concurrency must be at least 1")
    check_outputs({"input": source}, {"--report": report_path})
    cmap = column_map(map, ent)  # its mistakes, before the input opens
    started = time.monotonic()
    calls_before = client.stats.calls + client.token_calls
    with ExitStack() as stack:
        opened = stack.enter_context(open_input(source, source_options or SourceOptions()))
        if decimal_comma is None:
            decimal_comma = opened.delimiter == ";"
        coerce = coerce_options or CoerceOptions(decimal_comma=decimal_comma, date_format=date_format)
        columns, bound = opened.columns, None
        if cmap is not None:  # as the import wires it: the map first, then the mapper
            bound = cmap.bind(columns, coerce)  # unmapped CSV columns: ConfigError, no call
            coerce, columns = bound.options, bound.columns
            for missing in bound.missing:
                log.warning("mapping file names column %r, which %s does not have", missing, os.fspath(source))
        mapper = RecordMapper(ent, mode="create", options=coerce, columns=columns, check_required=False)
        summary = VerifySummary(ent.name, os.fspath(source), None if report_path is None else os.fspath(report_path))
        summary.map = cmap.path if cmap is not None else None
        await client.authenticate()  # bad credentials fail before the report is opened
        report = VerifyReport(report_path, summary)
        stack.callback(report.close)
        run = _Run(client, ent, report, summary, limit, expand_params(ent, columns))
        keys = LedgerKeys.beside(source, results)
        if keys is not None:
            stack.callback(keys.close)
        try:
            await run.go(_units(ent, mapper, bound, opened, summary, keys), strategy)
        except ListError as exc:
            summary.error = str(exc)
        finally:
            summary.calls = client.stats.calls + client.token_calls - calls_before
            summary.elapsed = time.monotonic() - started
    return summary


async def _units(
    entity: Entity, mapper: RecordMapper, bound: BoundMap | None, opened: Input, summary: VerifySummary,
    keys: LedgerKeys | None,
) -> AsyncIterator[VerifyUnit]:
    """Mapped units of the input, a few at a time between checkpoints (the loop stays live)."""

    def unit(work: Work) -> VerifyUnit:
        if keys is not None:
            work = keys.applied(entity, work)
        if work.error is not None or work.payload is None or not work.key:
            return VerifyUnit(work.key, work.records, None, work.error)
        return VerifyUnit(work.key, work.records, expected_record(entity, work.payload))

    try:
        async for record in opened.records():  # checkpoints now and then: the loop stays live
            summary.records += 1
            if bound is not None:  # --map: source columns -> API columns, first
                record = bound.map_record(record)
            for work in mapper.feed(record):
                yield unit(work)
    except SourceError as exc:
        summary.error = str(exc)
    for work in mapper.finish():
        yield unit(work)


class _Run:
    def __init__(self, client: ApiClient, entity: Entity, report: VerifyReport, summary: VerifySummary, limit: int,
                 list_params: dict[str, str]) -> None:
        self.client = client
        self.list_params = list_params  # the expand flags the input's columns need
        self.entity = entity
        self.report = report
        self.summary = summary
        self.limit = limit
        self.comparer = Comparer(entity, summary.unchecked)

    def _invalid(self, unit: VerifyUnit) -> bool:
        """Report a unit that cannot be looked up; True when it was one."""
        if unit.expected is not None:
            return False
        error = unit.error or (
            f"record {unit.records[0]}: no {self.entity.key_field}: an auto-numbered record "
            "cannot be looked up by key"
        )
        self.report.write(unit, "invalid", error=error)
        return True

    async def go(self, units: AsyncIterator[VerifyUnit], strategy: str) -> None:
        if strategy == "get":
            self.summary.strategy = "get"
            await self._by_get(units)
            return
        waiting = Waiting("the records it compares with the ledger's listing")
        try:
            if strategy == "list":
                self.summary.strategy = "list"
                await self._by_list(units, waiting)
            else:
                await self._auto(units, waiting)
        finally:
            waiting.close()

    async def _auto(self, units: AsyncIterator[VerifyUnit], waiting: Waiting) -> None:
        """Hold keyed units (on disk) until a listing is known to cost fewer calls than they are."""
        budget: float | None = None  # the calls a full listing takes, once probed
        async for unit in units:
            if self._invalid(unit):
                continue
            waiting.add(str(unit.key).strip(), unit)
            if budget is None and waiting.count > AUTO_GET_MAX:
                budget = await self._listing_cost()
                self.summary.list_calls_estimate = None if math.isinf(budget) else int(budget)
            if budget is not None and math.isinf(budget):
                break  # a listing's cost cannot be told: by key, from here on
            if budget is not None and waiting.count > budget:
                self.summary.strategy = "list"
                await self._by_list(units, waiting)
                return
        else:
            if budget is None and waiting.count > 1 and await self._first_page_lists(waiting):
                return  # the whole input was read, and the listing found (or missed) each record
        self.summary.strategy = "get"
        await self._by_get(_chain(waiting.drain(), units))

    async def _first_page_lists(self, waiting: Waiting) -> bool:
        """A small input, read whole: ask the listing's first page; go on listing when the pages
        left cost fewer calls than the records left to find (True), else close it (False)."""
        pages = list_pages(self.client, self.entity, self.list_params)
        async with aclosing(pages):
            try:
                first = await pages.__anext__()
            except (ListError, StopAsyncIteration):
                return False  # cannot tell: by key, which needs no listing
            self._take(first.items, waiting)
            left = _pages_left(first.total_count, first.page_size, len(first.items))
            self.summary.list_calls_estimate = None if left is None else left + 1
            if waiting.count and (left is None or left >= waiting.count):
                return False  # the records found are reported; the rest go by key
            self.summary.strategy = "list"
            await self._match_pages(pages, waiting)
        return True

    async def _listing_cost(self) -> float:
        """One list GET of one record: totalCount and maxPageSize give the pages a listing takes."""
        # The probe reads totalCount and maxPageSize only: nothing needs expanding.
        pages = list_pages(self.client, self.entity, expand_params(self.entity, ()), page_size=1)
        try:
            async with aclosing(pages):
                first = await pages.__anext__()
        except ListError:
            return math.inf  # cannot tell: verify by key, which needs no listing
        meta = first.items[0].get("metadata") if first.items else None
        total = first.total_count or 0
        max_size = meta.get("maxPageSize") if isinstance(meta, dict) else None
        if not isinstance(max_size, int) or max_size < 1:
            max_size = 1  # unknown: assume the worst, listing then never looks cheaper
        return max(1, math.ceil(total / max_size))

    async def _by_get(self, units: AsyncIterator[VerifyUnit]) -> None:
        slots = anyio.Semaphore(self.limit)

        async def check(unit: VerifyUnit) -> None:
            try:
                await self._check_by_key(unit)
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            async for unit in units:
                if self._invalid(unit):
                    continue
                await slots.acquire()  # at most ``limit`` in flight, and no more read ahead
                tg.start_soon(check, unit)

    async def _check_by_key(self, unit: VerifyUnit) -> None:
        path = f"{self.entity.path}/{encode_key(str(unit.key).strip())}"
        attempt = await self.client.request("GET", path)
        response = attempt.response
        if response is None:
            self.report.write(unit, "error", error=attempt.error or "no answer")
        elif response.status == 404:
            self.report.write(unit, "missing")
        elif response.status != 200 or not isinstance(response.json(), dict):
            self.report.write(unit, "error", error=f"HTTP {response.status}: {response.error_text()}")
        else:
            self._compare(unit, response.json())

    def _compare(self, unit: VerifyUnit, answer: dict[str, Any]) -> None:
        assert unit.expected is not None
        diffs = self.comparer.differences(unit.expected, answer)
        self.report.write(unit, "different" if diffs else "ok", diffs)

    async def _by_list(self, units: AsyncIterator[VerifyUnit], waiting: Waiting) -> None:
        """Every keyed unit waits on disk; each page of the listing takes those of its keys."""
        async for unit in units:
            if not self._invalid(unit):
                waiting.add(str(unit.key).strip(), unit)
        pages = list_pages(self.client, self.entity, self.list_params)
        async with aclosing(pages):
            await self._match_pages(pages, waiting)

    def _take(self, items: list[dict[str, Any]], waiting: Waiting) -> None:
        """Compare the waiting units whose keys this page answers."""
        key_field = self.entity.key_field or ""
        answers: dict[str, dict[str, Any]] = {}
        for item in items:
            key = item.get(key_field)  # number / referenceNumber: same name in the DTOs
            if key is not None:
                answers.setdefault(str(key).strip(), item)
        for key, unit in waiting.take(answers):
            self._compare(unit, answers[key])

    async def _match_pages(self, pages: AsyncIterator[Page], waiting: Waiting) -> None:
        """The listing's (remaining) pages against the waiting units; what no page has is missing."""
        try:
            while waiting.count:  # every input key found: the rest of the listing is not needed
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    break
                self._take(page.items, waiting)
        except ListError as exc:
            for unit in waiting.drain():
                self.report.write(unit, "error", error=str(exc))
            raise
        for unit in waiting.drain():
            self.report.write(unit, "missing")


def _pages_left(total: int | None, size: int, seen: int) -> int | None:
    """Calls the rest of a listing takes after its first page (None: it cannot be told)."""
    if seen < size:
        return 0  # a short first page is the whole listing
    if total is None:
        return None
    return max(0, math.ceil((total - seen) / max(1, size)))


async def _chain(first: Iterator[VerifyUnit], rest: AsyncIterator[VerifyUnit] | None) -> AsyncIterator[VerifyUnit]:
    for unit in first:
        yield unit
    if rest is not None:
        async for unit in rest:
            yield unit
