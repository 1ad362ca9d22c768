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
Numbers compare as numbers (``12.5 == 12.50``), dates as dates (``2020-01-27`` matches
``2020-01-27T00:00:00``), booleans as booleans, enum values without regard to case, other
strings exactly. Document lines compare by ``lineNumber`` when every input line gives one,
else by position; a different number of lines is a difference of its own. Columns the
response DTOs never return (:data:`~importer.mapping.flatten.WRITE_ONLY`) and list-valued
fields are counted as unchecked when the answer lacks them, not reported as differences.

Strategies (``strategy=``):

- ``get``: one GET by key per record (``encode_key``), ``concurrency`` in flight, the client
  pacing by the rate-limit headers. Memory: what is in flight.
- ``list``: page through the whole list GET once (``ceil(total / maxPageSize)`` calls) and
  compare each answered record whose key the input has. Memory: every input record (the
  flattened expected values) until its key comes by.
- ``auto`` (default): inputs of up to :data:`AUTO_GET_MAX` keyed records use ``get``; above
  that one probe (a list GET with pageSize=1, for totalCount and maxPageSize) tells what a
  full listing costs, and ``list`` is chosen when the input has more records than that. On a
  500-calls-an-hour test client, 2,000 customers cost 2,000 calls by key but 2 by list.

The report (NDJSON) has one line per customer or document: ``key``, ``records`` (input record
numbers), ``status`` (``ok`` | ``missing`` | ``different`` | ``invalid`` | ``error``),
``differences`` (``[{field, expected, actual}]``, with ``line`` for a line's field) and
``error`` for invalid and error lines. ``exit_code``: 0 when every record is ``ok``, else 1.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack, aclosing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import anyio
import anyio.lowlevel
import orjson

from importer.client import ApiClient
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.entities import entity as resolve
from importer.errors import ConfigError, RecordError, SourceError
from importer.keys import encode_key
from importer.mapping import CoerceOptions, RecordMapper, Work
from importer.mapping.coerce import parse_bool
from importer.mapping.columns import LINE_PREFIX, field_for_column
from importer.mapping.flatten import WRITE_ONLY, FlatRecord, RecordFlattener, flatten_object, unwrap
from importer.outputs import check_outputs
from importer.schema import Field
from importer.sources import Input, SourceOptions, open_input

__all__ = ["VerifySummary", "verify_records", "default_report_path", "STATUSES", "STRATEGIES", "AUTO_GET_MAX"]

STATUSES = ("ok", "missing", "different", "invalid", "error")
STRATEGIES = ("auto", "get", "list")
# ``auto`` verifies inputs this small by key without asking what a listing would cost.
AUTO_GET_MAX = 20
_ABSENT = object()


def default_report_path(input_path: str) -> str:
    return f"{input_path}.verify.ndjson"


@dataclass
class VerifySummary:
    entity: str
    input: str
    report_path: str | None
    strategy: str = "get"  # the strategy used (``auto`` resolves to one of the others)
    records: int = 0  # input records read
    units: int = 0  # customers / documents compared or reported
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    unchecked: dict[str, int] = field(default_factory=dict)  # column -> times it could not be compared
    calls: int = 0  # HTTP calls to the API, probe, retries and token calls included
    list_calls_estimate: int | None = None  # what ``auto`` expected a full listing to cost
    error: str | None = None  # why the run ended early (unreadable input, a failed listing)
    elapsed: float = 0.0

    @property
    def calls_per_record(self) -> float:
        """Calls per customer or document checked against the API."""
        checked = self.units - self.counts["invalid"]
        return self.calls / checked if checked else float(self.calls)

    @property
    def ok(self) -> bool:
        return self.error is None and self.counts["ok"] == self.units

    @property
    def exit_code(self) -> int:
        """0: every record is in the API as the input says; 1: anything else."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "input": self.input, "report": self.report_path,
            "strategy": self.strategy, "records": self.records, "units": self.units,
            "counts": dict(self.counts), "unchecked": dict(self.unchecked),
            "calls": self.calls, "calls_per_record": round(self.calls_per_record, 4),
            "list_calls_estimate": self.list_calls_estimate, "error": self.error,
            "elapsed_s": round(self.elapsed, 3), "exit_code": self.exit_code,
        }


# -- comparing -------------------------------------------------------------------------------


def _expected(entity: Entity, payload: dict[str, Any]) -> FlatRecord:
    """A mapped payload (request shape) as import columns, the way the answer is flattened."""
    data = unwrap(payload)
    line_field = entity.line_field
    header = {k: v for k, v in flatten_object({k: v for k, v in data.items() if k != line_field}) if v is not None}
    lines = None
    if line_field and data.get(line_field):
        lines = [
            {LINE_PREFIX + k: v for k, v in flatten_object(line) if v is not None and k != "operation"}
            for line in data[line_field] if isinstance(line, dict)
        ]
    return FlatRecord(None, header, lines)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _when(value: Any) -> tuple[datetime, bool] | None:
    """(date-time, has a time part) of an ISO date or date-time, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day), False
        return datetime.fromisoformat(text.replace("Z", "+00:00")), True
    except ValueError:
        return None


def _same(spec: Field | None, expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    kind = spec.type if spec is not None else None
    if kind in ("number", "integer"):
        e, a = _decimal(expected), _decimal(actual)
        return e is not None and e == a
    if kind == "boolean":
        try:
            return parse_bool(expected) == parse_bool(actual)
        except RecordError:
            return False
    if kind == "datetime":
        e, a = _when(expected), _when(actual)
        if e is None or a is None:
            return expected == actual
        if not e[1] or not a[1]:  # a date on either side: compare the days as written
            return e[0].date() == a[0].date()
        ed, ad = e[0], a[0]
        if (ed.tzinfo is None) != (ad.tzinfo is None):  # naive vs aware: compare the wall-clock times
            ed, ad = ed.replace(tzinfo=None), ad.replace(tzinfo=None)
        return ed == ad
    if kind == "uuid":
        try:
            return uuid.UUID(str(expected)) == uuid.UUID(str(actual))
        except ValueError:
            return False
    if isinstance(actual, bool):
        actual = "true" if actual else "false"
    elif isinstance(actual, int | float):
        actual = str(actual)
    if spec is not None and spec.enum and isinstance(expected, str) and isinstance(actual, str):
        return expected.casefold() == actual.casefold()
    return expected == actual


class _Comparer:
    """Compares an expected record with an answered one, column by column."""

    def __init__(self, entity: Entity, unchecked: dict[str, int]) -> None:
        self.entity = entity
        self.flattener = RecordFlattener(entity)
        self.write_only = WRITE_ONLY.get(entity.name, frozenset())
        self.unchecked = unchecked

    def differences(self, expected: FlatRecord, answer: dict[str, Any]) -> list[dict[str, Any]]:
        actual = self.flattener.flatten(answer)
        diffs = self._fields(expected.header, actual.header, None)
        if expected.lines:
            have = actual.lines or []
            by_number = all(LINE_PREFIX + "lineNumber" in line for line in expected.lines)
            if len(have) != len(expected.lines):
                diffs.append({"field": "lines", "expected": len(expected.lines), "actual": len(have)})
            if by_number:
                index = {line.get(LINE_PREFIX + "lineNumber"): line for line in have}
                pairs = [(e, index.get(e[LINE_PREFIX + "lineNumber"])) for e in expected.lines]
            else:
                pairs = [(e, have[i] if i < len(have) else None) for i, e in enumerate(expected.lines)]
            for position, (want, got) in enumerate(pairs, 1):
                if got is None:
                    diffs.append({"field": "line", "line": position, "expected": want, "actual": None})
                else:
                    diffs.extend(self._fields(want, got, position))
        return diffs

    def _fields(self, expected: dict[str, Any], actual: dict[str, Any], line: int | None) -> list[dict[str, Any]]:
        diffs = []
        for column, want in expected.items():
            got = actual.get(column, _ABSENT)
            if isinstance(want, list | dict) or (got is _ABSENT and column in self.write_only):
                self.unchecked[column] = self.unchecked.get(column, 0) + 1
                continue
            if got is _ABSENT or not _same(field_for_column(self.entity, column), want, got):
                diff: dict[str, Any] = {"field": column}
                if line is not None:
                    diff["line"] = line
                diff["expected"] = want
                diff["actual"] = None if got is _ABSENT else got
                diffs.append(diff)
        return diffs


# -- the run ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    work: Work
    expected: FlatRecord | None  # None: invalid or keyless


class _Report:
    def __init__(self, path: str | os.PathLike[str] | None, summary: VerifySummary) -> None:
        self.summary = summary
        self._file: IO[bytes] | None = None
        if path is not None:
            try:
                self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(f"cannot write the report {os.fspath(path)}: {exc.strerror}") from None

    def write(self, work: Work, status: str, differences: list[dict[str, Any]] | None = None,
              error: str | None = None) -> None:
        self.summary.counts[status] += 1
        self.summary.units += 1
        if self._file is None:
            return
        line: dict[str, Any] = {"key": work.key, "records": work.records, "status": status}
        if differences is not None:
            line["differences"] = differences
        if error is not None:
            line["error"] = error
        self._file.write(orjson.dumps(line, default=str) + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


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
) -> VerifySummary:
    """Check every record of ``source`` against the API; write the report, return the summary.

    ``client``: an open :class:`ApiClient`. ``source``: a CSV/NDJSON path (``-`` stdin,
    ``.gz``). ``report_path``: where the NDJSON report goes (None: no file, counts only).
    ``source_options``: format, delimiter, encoding, as for an import. ``coerce_options``:
    how cells are read; when None it is built from ``decimal_comma`` (None: on when the CSV
    delimiter is ``;``, as the import decides) and ``date_format``, so the CLI can pass its
    ``--decimal-comma`` / ``--date-format`` flags as they are. ``concurrency``: GETs in flight
    (default: the client's). ``strategy``: ``auto``, ``get`` or ``list`` (see the module doc).
    ``ConfigError`` (unknown column, bad arguments) is raised before any call.
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
    started = time.monotonic()
    calls_before = client.stats.calls + client.token_calls
    with ExitStack() as stack:
        opened = stack.enter_context(open_input(source, source_options or SourceOptions()))
        if decimal_comma is None:
            decimal_comma = opened.delimiter == ";"
        coerce = coerce_options or CoerceOptions(decimal_comma=decimal_comma, date_format=date_format)
        mapper = RecordMapper(ent, mode="create", options=coerce, columns=opened.columns, check_required=False)
        summary = VerifySummary(ent.name, os.fspath(source), None if report_path is None else os.fspath(report_path))
        await client.authenticate()  # bad credentials fail before the report is opened
        report = _Report(report_path, summary)
        stack.callback(report.close)
        run = _Run(client, ent, report, summary, limit)
        try:
            await run.go(_units(ent, mapper, opened, summary), strategy)
        except ListError as exc:
            summary.error = str(exc)
        finally:
            summary.calls = client.stats.calls + client.token_calls - calls_before
            summary.elapsed = time.monotonic() - started
    return summary


async def _units(entity: Entity, mapper: RecordMapper, opened: Input, summary: VerifySummary) -> AsyncIterator[_Unit]:
    """Mapped units of the input, a few at a time between checkpoints (the loop stays live)."""

    def unit(work: Work) -> _Unit:
        if work.error is not None or work.payload is None or not work.key:
            return _Unit(work, None)
        return _Unit(work, _expected(entity, work.payload))

    try:
        async for record in opened.records():  # checkpoints now and then: the loop stays live
            summary.records += 1
            for work in mapper.feed(record):
                yield unit(work)
    except SourceError as exc:
        summary.error = str(exc)
    for work in mapper.finish():
        yield unit(work)


class _Run:
    def __init__(self, client: ApiClient, entity: Entity, report: _Report, summary: VerifySummary, limit: int) -> None:
        self.client = client
        self.entity = entity
        self.report = report
        self.summary = summary
        self.limit = limit
        self.comparer = _Comparer(entity, summary.unchecked)

    def _invalid(self, unit: _Unit) -> bool:
        """Report a unit that cannot be looked up; True when it was one."""
        if unit.expected is not None:
            return False
        work = unit.work
        error = work.error or (
            f"record {work.records[0]}: no {self.entity.key_field}: an auto-numbered record "
            "cannot be looked up by key"
        )
        self.report.write(work, "invalid", error=error)
        return True

    async def go(self, units: AsyncIterator[_Unit], strategy: str) -> None:
        if strategy == "get":
            self.summary.strategy = "get"
            await self._by_get(units)
            return
        if strategy == "list":
            self.summary.strategy = "list"
            await self._by_list(units)
            return
        buffered: list[_Unit] = []
        keyed = 0
        budget: float | None = None  # the calls a full listing takes, once probed
        async for unit in units:
            buffered.append(unit)
            keyed += unit.expected is not None
            if budget is None and keyed > AUTO_GET_MAX:
                budget = await self._listing_cost()
                self.summary.list_calls_estimate = None if math.isinf(budget) else int(budget)
            if budget is not None and keyed > budget:
                self.summary.strategy = "list"
                await self._by_list(_chain(buffered, units))
                return
        self.summary.strategy = "get"
        await self._by_get(_chain(buffered, None))

    async def _listing_cost(self) -> float:
        """One list GET of one record: totalCount and maxPageSize give the pages a listing takes."""
        pages = list_pages(self.client, self.entity, _list_params(self.entity), page_size=1)
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

    async def _by_get(self, units: AsyncIterator[_Unit]) -> None:
        slots = anyio.Semaphore(self.limit)

        async def check(unit: _Unit) -> None:
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

    async def _check_by_key(self, unit: _Unit) -> None:
        work = unit.work
        path = f"{self.entity.path}/{encode_key(str(work.key).strip())}"
        attempt = await self.client.request("GET", path)
        response = attempt.response
        if response is None:
            self.report.write(work, "error", error=attempt.error or "no answer")
        elif response.status == 404:
            self.report.write(work, "missing")
        elif response.status != 200 or not isinstance(response.json(), dict):
            self.report.write(work, "error", error=f"HTTP {response.status}: {response.error_text()}")
        else:
            self._compare(unit, response.json())

    def _compare(self, unit: _Unit, answer: dict[str, Any]) -> None:
        assert unit.expected is not None
        diffs = self.comparer.differences(unit.expected, answer)
        self.report.write(unit.work, "different" if diffs else "ok", diffs)

    async def _by_list(self, units: AsyncIterator[_Unit]) -> None:
        waiting: dict[str, list[_Unit]] = {}
        async for unit in units:
            if not self._invalid(unit):
                waiting.setdefault(str(unit.work.key).strip(), []).append(unit)
        key_field = self.entity.key_field or ""
        try:
            pages = list_pages(self.client, self.entity, _list_params(self.entity))
            async with aclosing(pages):
                async for page in pages:
                    for item in page.items:
                        key = item.get(key_field)  # number / referenceNumber: same name in the DTOs
                        for unit in waiting.pop(str(key).strip(), ()) if key is not None else ():
                            self._compare(unit, item)
                    if not waiting:
                        break  # every input key found: the rest of the listing is not needed
        except ListError as exc:
            for units_left in waiting.values():
                for unit in units_left:
                    self.report.write(unit.work, "error", error=str(exc))
            raise
        for units_left in waiting.values():
            for unit in units_left:
                self.report.write(unit.work, "missing")


def _list_params(entity: Entity) -> dict[str, str]:
    # The comparison never looks at attachments or tax details: do not have them expanded.
    return {"expandAttachments": "false", "expandTaxDetails": "false"} if entity.is_document else {}


async def _chain(first: list[_Unit], rest: AsyncIterator[_Unit] | None) -> AsyncIterator[_Unit]:
    for unit in first:
        yield unit
    if rest is not None:
        async for unit in rest:
            yield unit
