"""``export``: stream an entity's list GET to NDJSON or CSV, in the import's column convention.

    async with build_client(options) as client:
        summary = await export_records(
            client, "invoice", "invoices.csv",
            filters=ExportFilters(last_modified=">=2020-01-14", status="balanced"),
        )

What comes out can be edited and imported again: every row is flat, named by the columns
``valid_columns(entity)`` lists (``mainAddress.city``, ``line.quantity``), and a document is
one row per line with its header fields repeated, so the importer groups the rows back into
the document by ``referenceNumber``. NDJSON rows are the same rows as JSON objects (typed
values, only the columns a row has). Answers in the live API's response-DTO shape are
renamed to import columns by :mod:`importer.mapping.flatten`; fields no column takes
(``createdDateTime``, a document's ``status``, totals, ``taxDetails``...) are left out and
counted in :attr:`ExportSummary.left_out`.

Paging: ``pageNumber`` from 1 with a large ``pageSize``; the first page's
``metadata.maxPageSize`` (the API clamps larger sizes to it) and ``totalCount`` fix the page
size and the end, so an export costs ``ceil(total / maxPageSize)`` calls. A short or empty
page ends it too. Pages are written as they arrive; only the current page is in memory.

CSV columns: a CSV needs its header before the first row, so the first page is flattened
before anything is written and the header is the key column, then every column of
``valid_columns`` order that the first page has a value in (``columns="seen"``, the
default). A value in a later page under a column that header lacks cannot be written; it is
counted per column in :attr:`ExportSummary.dropped` and makes the summary not ``ok`` (rerun
with ``columns="all"`` for a header of every column the entity accepts).

CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``@``, ...) are written
with a leading quote (:func:`importer.sources.cells.neutralise`); the importer's CSV reader
takes it off again, so the export still imports as the same values.

A file is written as ``PATH.partial`` and renamed to ``PATH`` once the last page is in, so a
failed export never leaves a file that looks complete; ``.gz`` paths are compressed.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson

from importer.client import ApiClient
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.entities import entity as resolve
from importer.errors import ConfigError
from importer.mapping.columns import DOCUMENT_KEY, LINE_PREFIX, valid_columns
from importer.mapping.flatten import FlatRecord, RecordFlattener
from importer.schema import fields
from importer.sources import detect_format
from importer.sources.cells import neutralise

__all__ = [
    "ExportFilters", "ExportSummary", "export_records", "parse_last_modified",
    "DOCUMENT_STATUSES",
]

# What the first list request asks for; the API answers at most its maxPageSize (and says so
# in every item's metadata), so asking big costs nothing and learns the ceiling in one call.
# The ``status`` query enum of the document list endpoints (the OpenAPI document's
# /v1/customerinvoice, /v1/customerCreditNote, /v1/customerDebitNote GET parameters); the
# request schemas carry no document status, so it is kept here.
DOCUMENT_STATUSES: tuple[str, ...] = (
    "Hold", "Balanced", "Voided", "Scheduled", "Open", "Closed",
    "PendingPrint", "PendingEmail", "CreditHold", "CcHold", "Reserved",
)

_CONDITIONS = (">=", "<=", ">", "<")  # longest first: ">=" must not read as ">"
# The API's filter date formats: yyyy-MM-dd, yyyy-MM-dd HH:mm:ss, yyyy-MM-dd HH:mm:ss.FFF
# (the OpenAPI document also lists the same two with a "T" between date and time).
_FILTER_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)?\Z")
_PERIOD = re.compile(r"\d{4}(0[1-9]|1[0-2])\Z")


def parse_last_modified(text: str) -> tuple[str, str]:
    """``'>=2020-01-14'`` -> ``('2020-01-14', '>=')``: lastModifiedDateTime and its Condition.

    The condition is required (``>``, ``<``, ``>=`` or ``<=``, spaces allowed after it) so an
    export never guesses between "since" and "until"; the date must be in one of the API's
    three filter formats. Raises ``ConfigError`` naming what is wrong.
    """
    raw = text.strip()
    condition = next((c for c in _CONDITIONS if raw.startswith(c)), None)
    if condition is None:
        raise ConfigError(
            f"--last-modified {text!r} must start with one of >, <, >=, <= "
            "(e.g. '>=2020-01-14' for records changed on 2020-01-14 or later)"
        )
    value = raw[len(condition):].strip()
    if not _FILTER_DATE.match(value) or _as_datetime(value) is None:
        raise ConfigError(
            f"--last-modified {text!r}: {value!r} is not a date in the API's formats "
            "yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or yyyy-MM-dd HH:mm:ss.FFF"
        )
    return value, condition


def _as_datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:  # 2020-02-30, 25:00:00
        return None


@dataclass(frozen=True, slots=True)
class ExportFilters:
    """The list GET's filters, as the CLI flags give them; :meth:`params` checks and sends them.

    Checking here (not only at the API) means a typo fails before the first call, with the
    flag's name, instead of as a 400 halfway through a rate-limited hour.
    """

    last_modified: str | None = None  # "<condition><date>", e.g. ">=2020-01-14"
    financial_period: str | None = None  # YYYYMM; documents only
    status: str | None = None  # any case; matched to the entity's status enum
    project: str | None = None  # documents only
    # Documents only. Off by default: expanded attachments and tax details have no flat
    # column, so they would be left out of the file anyway; not expanding keeps pages small.
    expand_attachments: bool = False
    expand_tax_details: bool = False

    def params(self, entity: Entity) -> dict[str, str]:
        """The query parameters for ``entity``'s list GET; ``ConfigError`` on a bad value."""
        out: dict[str, str] = {}
        document_only = {
            "--financial-period": self.financial_period, "--project": self.project,
            "--expand-attachments": self.expand_attachments or None,
            "--expand-tax-details": self.expand_tax_details or None,
        }
        if not entity.is_document:
            given = [flag for flag, value in document_only.items() if value is not None]
            if given:
                raise ConfigError(f"{', '.join(given)} apply to invoices, credit notes and debit notes, not {entity.name}")
        if self.last_modified is not None:
            value, condition = parse_last_modified(self.last_modified)
            out["lastModifiedDateTime"] = value
            out["lastModifiedDateTimeCondition"] = condition
        if self.financial_period is not None:
            period = self.financial_period.strip()
            if not _PERIOD.match(period):
                raise ConfigError(f"--financial-period {self.financial_period!r} is not a period as YYYYMM (e.g. 202001)")
            out["financialPeriod"] = period
        if self.status is not None:
            allowed = DOCUMENT_STATUSES if entity.is_document else (fields(entity.schema)["status"].enum or ())
            canonical = {s.casefold(): s for s in allowed}.get(self.status.strip().casefold())
            if canonical is None:
                raise ConfigError(f"--status {self.status!r} is not a {entity.name} status; expected one of {', '.join(allowed)}")
            out["status"] = canonical
        if self.project is not None:
            if not self.project.strip():
                raise ConfigError("--project must not be empty")
            out["project"] = self.project.strip()
        if entity.is_document:
            out["expandAttachments"] = "true" if self.expand_attachments else "false"
            out["expandTaxDetails"] = "true" if self.expand_tax_details else "false"
        return out


@dataclass
class ExportSummary:
    """What an export did. ``calls_per_record`` is the cost figure to plan a rate budget by."""

    entity: str
    output: str
    format: str
    params: dict[str, str] = field(default_factory=dict)  # the filters as sent
    records: int = 0  # customers or documents written
    rows: int = 0  # rows written (a CSV/NDJSON document has one per line)
    pages: int = 0
    calls: int = 0  # HTTP calls to the API, retries and token calls included
    page_size: int | None = None  # the page size used after the first page
    total_count: int | None = None  # metadata.totalCount of the first page
    columns: list[str] = field(default_factory=list)  # the CSV header
    left_out: dict[str, int] = field(default_factory=dict)  # source field -> records it held data in
    dropped: dict[str, int] = field(default_factory=dict)  # CSV: column not in the header -> rows
    explicit_columns: bool = False  # columns were chosen by the caller: dropping is intended
    error: str | None = None  # why the export stopped early; the file is then PATH.partial
    partial_path: str | None = None
    elapsed: float = 0.0

    @property
    def calls_per_record(self) -> float:
        return self.calls / self.records if self.records else float(self.calls)

    @property
    def ok(self) -> bool:
        return self.error is None and (self.explicit_columns or not self.dropped)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "output": self.output, "format": self.format,
            "params": dict(self.params), "records": self.records, "rows": self.rows,
            "pages": self.pages, "calls": self.calls,
            "calls_per_record": round(self.calls_per_record, 4),
            "page_size": self.page_size, "total_count": self.total_count,
            "columns": list(self.columns), "left_out": dict(self.left_out),
            "dropped": dict(self.dropped), "error": self.error, "partial": self.partial_path,
            "elapsed_s": round(self.elapsed, 3), "exit_code": self.exit_code,
        }


# -- output ----------------------------------------------------------------------------------


class _Sink:
    """The output file (atomically renamed into place), stdout, or a caller's binary stream."""

    def __init__(self, out: str | os.PathLike[str] | IO[bytes]) -> None:
        self.final: str | None = None
        self.partial: str | None = None
        self._owned: IO[bytes] | None = None
        if isinstance(out, str | os.PathLike):
            name = os.fspath(out)
            if name == "-":
                self.binary: IO[bytes] = sys.stdout.buffer
                self.name = "<stdout>"
                return
            self.final, self.partial, self.name = name, name + ".partial", name
            try:
                raw: IO[bytes] = open(self.partial, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(f"cannot write {name}: {exc.strerror}") from None
            self._owned = raw
            self.binary = gzip.GzipFile(fileobj=raw, mode="wb") if name.endswith(".gz") else raw  # type: ignore[assignment]
        else:
            self.binary = out
            self.name = str(getattr(out, "name", "<stream>"))

    def close(self, success: bool) -> None:
        self.binary.flush()
        if self._owned is None:
            return
        if self.binary is not self._owned:
            self.binary.close()  # the gzip trailer
        self._owned.close()
        if success and self.final and self.partial:
            os.replace(self.partial, self.final)


class _NdjsonWriter:
    """One JSON object per row, keys in the CSV header's order (key column first)."""

    def __init__(self, sink: _Sink, entity: Entity) -> None:
        self._binary = sink.binary
        order = _header(entity, [], "all")
        self._rank = {name: i for i, name in enumerate(order)}

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        rank, last = self._rank, len(self._rank)
        for row in rows:
            ordered = dict(sorted(row.items(), key=lambda kv: rank.get(kv[0], last)))
            self._binary.write(orjson.dumps(ordered) + b"\n")
            n += 1
        return n


class _CsvWriter:
    def __init__(self, sink: _Sink, columns: Sequence[str], delimiter: str, dropped: dict[str, int]) -> None:
        self._text = io.TextIOWrapper(sink.binary, encoding="utf-8", newline="", write_through=True)  # type: ignore[arg-type]
        self._writer = csv.writer(self._text, delimiter=delimiter)
        self._columns = list(columns)
        self._known = frozenset(columns)
        self._dropped = dropped
        self._writer.writerow(self._columns)

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        n = 0
        for row in rows:
            for name in row:
                if name not in self._known:
                    self._dropped[name] = self._dropped.get(name, 0) + 1
            # A name such as ``=cmd|...`` must not run when the file is opened in a
            # spreadsheet; the CSV reader restores the value on the way back in.
            self._writer.writerow([neutralise(_cell(row.get(c))) for c in self._columns])
            n += 1
        return n

    def detach(self) -> None:
        self._text.flush()
        self._text.detach()  # the sink owns the binary stream


def _cell(value: Any) -> str:
    """A CSV cell the importer reads back as the same value (booleans as true/false)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)  # floats as repr: 12.5 -> "12.5", read back exactly


def _header(entity: Entity, first: list[FlatRecord], columns: str | Sequence[str]) -> list[str]:
    """The CSV header: the key column first, then ``valid_columns`` order (see the module doc)."""
    accepted = [c for c in valid_columns(entity) if c != DOCUMENT_KEY and c != LINE_PREFIX + "operation"]
    if columns == "all":
        chosen = accepted
    elif columns == "seen":
        seen: set[str] = set()
        for record in first:
            for row in record.rows():
                seen.update(row)
        chosen = [c for c in accepted if c in seen]
    else:
        unknown = [c for c in columns if c not in valid_columns(entity)]
        if unknown:
            raise ConfigError(f"unknown column(s) for {entity.name}: {', '.join(unknown)}")
        chosen = list(dict.fromkeys(columns))
    key = entity.key_field
    if key and (columns in ("seen", "all") or key in chosen):
        chosen = [key] + [c for c in chosen if c != key]
    return chosen


# -- the export ------------------------------------------------------------------------------


async def export_records(
    client: ApiClient,
    entity: Entity | str,
    out: str | os.PathLike[str] | IO[bytes],
    *,
    format: str | None = None,
    filters: ExportFilters | None = None,
    page_size: int | None = None,
    columns: str | Sequence[str] = "seen",
    delimiter: str = ",",
) -> ExportSummary:
    """Write every record of ``entity`` that ``filters`` select to ``out``; returns the summary.

    ``client``: an open :class:`ApiClient` (it paces and retries). ``out``: a path (``.gz``
    compressed), ``-`` for stdout, or a binary stream. ``format``: ``csv`` or ``ndjson``
    (default: by ``out``'s extension). ``page_size``: ask for pages of at most this many
    (default: the largest the API allows). ``columns`` (CSV): ``"seen"``, ``"all"`` or an
    explicit list of import columns. Bad arguments raise ``ConfigError`` before any call; an
    API failure mid-way ends the export with ``summary.error`` set (the file stays
    ``PATH.partial``).
    """
    ent = resolve(entity)
    if ent.is_action:
        raise ConfigError(f"{ent.name} is an action, not a list: it cannot be exported")
    filters = filters or ExportFilters()
    params = filters.params(ent)
    if out == "-" and format is None:
        raise ConfigError("exporting to stdout needs --format csv or --format ndjson")
    if hasattr(out, "write") and format is None:
        raise ConfigError("exporting to a stream needs format='csv' or format='ndjson'")
    fmt = format or detect_format(out)  # type: ignore[arg-type]
    if fmt not in ("csv", "ndjson"):
        raise ConfigError(f"unknown export format {fmt!r}; expected csv or ndjson")
    if page_size is not None and page_size < 1:
        raise ConfigError("--page-size must be at least 1")
    if len(delimiter) != 1:
        raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
    if fmt == "csv" and not isinstance(columns, str):
        _header(ent, [], columns)  # unknown explicit columns fail before any call
    elif isinstance(columns, str) and columns not in ("seen", "all"):
        raise ConfigError(f"columns must be 'seen', 'all' or a list of columns, got {columns!r}")

    started = time.monotonic()
    calls_before = client.stats.calls + client.token_calls
    await client.authenticate()  # bad credentials fail before a file is opened
    flattener = RecordFlattener(ent)
    sink = _Sink(out)
    summary = ExportSummary(ent.name, sink.name, fmt, params=params)
    summary.explicit_columns = fmt == "csv" and not isinstance(columns, str)
    writer: _CsvWriter | _NdjsonWriter | None = _NdjsonWriter(sink, ent) if fmt == "ndjson" else None
    success = False
    try:
        pages = list_pages(client, ent, params, page_size=page_size)
        async with aclosing(pages):
            async for page in pages:
                summary.pages += 1
                if page.number == 1:
                    summary.total_count = page.total_count
                summary.page_size = page.page_size
                flat = [flattener.flatten(item) for item in page.items]
                if writer is None:
                    summary.columns = _header(ent, flat, columns)
                    writer = _CsvWriter(sink, summary.columns, delimiter, summary.dropped)
                for record in flat:
                    summary.rows += writer.write(record.rows())
                    summary.records += 1
                    for name in record.left_out:
                        summary.left_out[name] = summary.left_out.get(name, 0) + 1
        if writer is None:  # not even a first page: still a valid (empty) CSV
            summary.columns = _header(ent, [], columns)
            writer = _CsvWriter(sink, summary.columns, delimiter, summary.dropped)
        success = True
    except ListError as exc:
        summary.error = str(exc)
    finally:
        if isinstance(writer, _CsvWriter):
            writer.detach()
        sink.close(success)
        summary.calls = client.stats.calls + client.token_calls - calls_before
        summary.elapsed = time.monotonic() - started
    if not success and sink.partial:
        summary.partial_path = sink.partial
    return summary
