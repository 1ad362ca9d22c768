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
(``createdDateTime``, ``detailTotal``, ``taxDetails``...) are left out and counted in
:attr:`ExportSummary.left_out`.

Totals: a document's ``amount``, ``balance``, ``vatTotal`` and ``status`` as the ledger
answers them (``LEDGER_TOTALS``) are written too, after the document's own columns and
before its lines'. No create takes them: an import of the file reads past them, says so
once, and the ledger works them out again from the lines. Amounts (:data:`MONEY_COLUMNS`)
are written with their currency's decimals, ``1250.00`` (``1250,00`` with ``--excel``),
from the ``company`` snapshot when one is given, else 2; a value with more decimals keeps
them. The output folder is created when it is missing.

Paging: ``pageNumber`` from 1 with a large ``pageSize``; the first page's
``metadata.maxPageSize`` (the API clamps larger sizes to it) and ``totalCount`` fix the page
size and the end, so an export costs ``ceil(total / maxPageSize)`` calls. A short or empty
page ends it too. Pages are read one ahead (:mod:`.ahead`): page N+1 is asked for while
page N is flattened and written in a worker thread, so at most two pages are in memory.
A CSV in the import's columns is written a page at a time by a plan per record shape
(:mod:`.csvplans`), the same bytes as record by record at a fraction of the cost; while the
pages come, the collector is set as for a run (:func:`~importer.client.collector.tuned_collector`,
the records held counted as requests in flight).

CSV columns: a CSV needs its header before the first row, so the first page is flattened
before anything is written and the header is the key column, then every column of
``valid_columns`` order that the first page has a value in (``columns="seen"``, the
default). A value in a later page under a column that header lacks cannot be written; it is
counted per column in :attr:`ExportSummary.dropped` and makes the summary not ``ok`` (rerun
with ``columns="all"`` for a header of every column the entity accepts).

Expanded parts: the list GET is sent the ``expand*`` flags the wanted columns need
(:mod:`importer.ledger.expand`): every column for ``"seen"``/``"all"`` and NDJSON, the
listed ones for an explicit list, the map's for ``map=``. Filters: :class:`ExportFilters`
(:mod:`importer.ledger.filters`), all checked before the first call.

Legacy layout (``map=``, ``export --map``): the rows are written in a mapping file's legacy
columns, value maps inverted and formats undone, so ``run --map`` with the same file imports
them as the same records (:mod:`importer.ledger.legacy` has the rules). The header is the
map's columns; what the map computes itself (constants, defaults without a source) is named
in ``left_out``; values the map could not read back are counted in ``unmapped`` and make the
summary not ``ok``. The delimiter is then ``;`` when the map writes decimal commas.

Excel (``excel=True``, ``export --excel``): a CSV a spreadsheet opens right, UTF-8 with a BOM,
``;``, CRLF, and a decimal comma in the number columns (by the schema's types; keys and text
as they are). ``run FILE`` reads it back as the same records with no flags. With a map, the
map's layout is written with ``;``, so its numbers get the decimal comma an import of a
``;`` file expects.

CSV cells that a spreadsheet would run as a formula are written with a leading quote, and a
file is written as ``PATH.partial`` until the last page is in (:mod:`.files`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import anyio

from importer.client import ApiClient
from importer.client.collector import tuned_collector
from importer.client.pages import ListError, Page, list_pages
from importer.company import Company
from importer.entities import Entity
from importer.entities import entity as resolve
from importer.errors import ConfigError
from importer.ledger.ahead import read_ahead
from importer.ledger.csvplans import PlannedCsvWriter
from importer.ledger.expand import expand_params
from importer.ledger.files import DEFAULT_PLACES, EXCEL, CsvStyle, CsvWriter, NdjsonWriter, Sink
from importer.ledger.filters import DOCUMENT_STATUSES, ExportFilters, parse_condition, parse_last_modified
from importer.ledger.legacy import LegacyLayout, column_map
from importer.mapping.columns import DOCUMENT_KEY, LINE_PREFIX, field_for_column, ledger_totals, valid_columns
from importer.mapping.flatten import FlatRecord, RecordFlattener
from importer.mapping.mapfile import ColumnMap
from importer.saft import kind as _saft_input  # noqa: F401  registers the SAF-T input kind (.xml)
from importer.sources import detect_format

__all__ = [
    "ExportFilters", "ExportSummary", "export_records", "parse_condition", "parse_last_modified",
    "DOCUMENT_STATUSES", "MONEY_COLUMNS",
]

HELD_RECORDS = 1_000  # records of the pages in memory, for the collector's thresholds (tuned_collector)

# Columns that hold amounts of money: written with their currency's decimals (1250.00).
MONEY_COLUMNS = frozenset({
    "amount", "balance", "vatTotal", "creditLimit",
    "line.unitPriceInCurrency", "line.discountAmountInCurrency", "line.manualAmountInCurrency",
})


@dataclass
class ExportSummary:
    """What an export did. ``calls_per_record`` is the cost figure to plan a rate budget by."""

    entity: str
    output: str
    format: str
    excel: bool = False  # the spreadsheet preset: BOM, ';', decimal comma, CRLF
    params: dict[str, str] = field(default_factory=dict)  # the filters and expand flags as sent
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
    map: str | None = None  # the mapping file whose legacy layout was written
    unmapped: dict[str, int] = field(default_factory=dict)  # legacy column -> values the map cannot read back
    error: str | None = None  # why the export stopped early; the file is then PATH.partial
    partial_path: str | None = None
    elapsed: float = 0.0

    @property
    def calls_per_record(self) -> float:
        return self.calls / self.records if self.records else float(self.calls)

    @property
    def ok(self) -> bool:
        return self.error is None and (self.explicit_columns or not self.dropped) and not self.unmapped

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "output": self.output, "format": self.format,
            "excel": self.excel, "params": dict(self.params), "records": self.records, "rows": self.rows,
            "pages": self.pages, "calls": self.calls,
            "calls_per_record": round(self.calls_per_record, 4),
            "page_size": self.page_size, "total_count": self.total_count,
            "columns": list(self.columns), "left_out": dict(self.left_out),
            "dropped": dict(self.dropped), "map": self.map, "unmapped": dict(self.unmapped),
            "error": self.error, "partial": self.partial_path,
            "elapsed_s": round(self.elapsed, 3), "exit_code": self.exit_code,
        }



def _header(entity: Entity, first: list[FlatRecord], columns: str | Sequence[str]) -> list[str]:
    """The CSV header: the key column first, then ``valid_columns`` order (see the module doc)."""
    accepted = [c for c in valid_columns(entity) if c != DOCUMENT_KEY and c != LINE_PREFIX + "operation"]
    # The ledger's totals go after the document's own columns, before its lines'.
    first_line = next((i for i, c in enumerate(accepted) if c.startswith(LINE_PREFIX)), len(accepted))
    accepted[first_line:first_line] = ledger_totals(entity)
    if columns == "all":
        chosen = accepted
    elif columns == "seen":
        seen: set[str] = set()
        for record in first:
            for row in record.rows():
                seen.update(row)
        chosen = [c for c in accepted if c in seen]
    else:
        unknown = [c for c in columns if c not in valid_columns(entity) and c not in ledger_totals(entity)]
        if unknown:
            raise ConfigError(f"unknown column(s) for {entity.name}: {', '.join(unknown)}")
        chosen = list(dict.fromkeys(columns))
    key = entity.key_field
    if key and (columns in ("seen", "all") or key in chosen):
        chosen = [key] + [c for c in chosen if c != key]
    return chosen


def number_columns(entity: Entity, columns: Sequence[str]) -> frozenset[str]:
    """The columns of ``columns`` that hold numbers by the schema (the decimal mark applies)."""
    found: set[str] = set()
    for column in columns:
        spec = field_for_column(entity, column)
        if (spec is not None and spec.type in ("number", "integer")) or column in MONEY_COLUMNS:
            found.add(column)
    return frozenset(found)


def currency_places(company: Company | None) -> Callable[[Mapping[str, Any]], int]:
    """A row's amount decimals: its ``currencyId``'s in ``company`` (the base currency's
    without one); 2 without a company, or for a currency it does not know."""
    if company is None:
        return lambda row: DEFAULT_PLACES
    known: dict[Any, int] = {}

    def places(row: Mapping[str, Any]) -> int:
        currency = row.get("currencyId")
        found = known.get(currency)
        if found is None:
            found = known[currency] = company.currency_precision(currency if isinstance(currency, str) else None)
        return found

    return places


def _style(delimiter: str | None, excel: bool, fmt: str, decimal_map: bool) -> CsvStyle:
    """The CSV layout from ``delimiter`` and ``excel``; ConfigError for a clash."""
    if excel:
        if fmt != "csv":
            raise ConfigError("--excel writes CSV; leave out --format ndjson or use a .csv output")
        if delimiter not in (None, EXCEL.delimiter):
            raise ConfigError(f"--excel writes ';' between cells; leave out --delimiter {delimiter!r}")
        return EXCEL
    if delimiter is None:
        delimiter = ";" if decimal_map else ","
    if len(delimiter) != 1:
        raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
    return CsvStyle(delimiter=delimiter)


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
    delimiter: str | None = None,
    map: str | os.PathLike[str] | ColumnMap | None = None,
    excel: bool = False,
    company: Company | None = None,
) -> ExportSummary:
    """Write every record of ``entity`` that ``filters`` select to ``out``; returns the summary.

    ``client``: an open :class:`ApiClient` (it paces and retries). ``out``: a path (``.gz``
    compressed), ``-`` for stdout, or a binary stream. ``format``: ``csv`` or ``ndjson``
    (default: by ``out``'s extension). ``page_size``: ask for pages of at most this many
    (default: the largest the API allows). ``columns`` (CSV): ``"seen"``, ``"all"`` or an
    explicit list of import columns. ``delimiter`` (CSV): default ``,`` (``;`` for a map
    with decimal commas). ``map``: a mapping file (path or loaded) whose legacy layout to
    write instead of the import's columns. ``excel``: the spreadsheet preset (see the module
    doc; ``format`` defaults to CSV, and ``delimiter`` may only be ``;``). ``company``: whose
    currencies' decimals amounts are written with (default: 2 for every currency). Bad
    arguments raise ``ConfigError`` before any call; an API failure mid-way ends the export with ``summary.error`` set (the file stays
    ``PATH.partial``).
    """
    ent = resolve(entity)
    if ent.is_action:
        raise ConfigError(f"{ent.name} is an action, not a list: it cannot be exported")
    filters = filters or ExportFilters()
    params = filters.params(ent)
    if excel and format is None and (out == "-" or hasattr(out, "write")):
        format = "csv"  # no extension to go by
    if out == "-" and format is None:
        raise ConfigError("exporting to stdout needs --format csv or --format ndjson")
    if hasattr(out, "write") and format is None:
        raise ConfigError("exporting to a stream needs format='csv' or format='ndjson'")
    fmt = format or detect_format(out)  # type: ignore[arg-type]
    if fmt not in ("csv", "ndjson"):
        raise ConfigError(f"unknown export format {fmt!r}; expected csv or ndjson")
    if page_size is not None and page_size < 1:
        raise ConfigError("--page-size must be at least 1")
    cmap = column_map(map, ent)
    if cmap is not None and columns != "seen":
        raise ConfigError("--map writes the map's own columns; leave out --all-columns and explicit columns")
    style = _style(delimiter, excel, fmt, cmap is not None and bool(cmap.decimal_comma))
    if fmt == "csv" and not isinstance(columns, str):
        _header(ent, [], columns)  # unknown explicit columns fail before any call
    elif isinstance(columns, str) and columns not in ("seen", "all"):
        raise ConfigError(f"columns must be 'seen', 'all' or a list of columns, got {columns!r}")
    layout = LegacyLayout(cmap, style.delimiter) if cmap is not None else None
    wanted: Sequence[str] | None = None  # the columns the expand flags must fill; None: all
    if layout is not None:
        wanted = layout.api_columns
    elif fmt == "csv" and not isinstance(columns, str):
        wanted = columns
    params.update(expand_params(ent, wanted, filters.expand_flags()))

    started = time.monotonic()
    calls_before = client.stats.calls + client.token_calls
    await client.authenticate()  # bad credentials fail before a file is opened
    flattener = RecordFlattener(ent, totals=layout is None)
    sink = Sink(out)
    summary = ExportSummary(ent.name, sink.name, fmt, params=params, excel=excel)
    summary.explicit_columns = fmt == "csv" and not isinstance(columns, str)
    if layout is not None:
        summary.map, summary.unmapped = cmap.path if cmap else None, layout.unmapped

    def header(first: list[FlatRecord]) -> list[str]:
        return layout.header if layout is not None else _header(ent, first, columns)

    def csv_writer() -> CsvWriter:
        if layout is not None:  # a map's layout has its numbers formatted already, in the map's own convention
            return CsvWriter(sink, summary.columns, style, summary.dropped)
        return PlannedCsvWriter(sink, summary.columns, style, summary.dropped, number_columns(ent, summary.columns),
                                MONEY_COLUMNS, currency_places(company), flattener, summary.left_out,
                                company=company is not None)

    writer: CsvWriter | NdjsonWriter | None = None
    if fmt == "ndjson":
        writer = NdjsonWriter(sink, layout.header if layout is not None else _header(ent, [], "all"))

    def write(page: Page) -> None:
        """One page flattened and written (in a worker thread, while the next page is on its way)."""
        nonlocal writer
        if writer is None:
            # Only a header of the columns seen needs the first page flattened before it is written.
            seen = columns == "seen" and layout is None
            summary.columns = header([flattener.flatten(item) for item in page.items] if seen else [])
            writer = csv_writer()
        if isinstance(writer, PlannedCsvWriter):  # by a plan per record shape (.csvplans)
            records, rows = writer.write_items(page.items)
            summary.records += records
            summary.rows += rows
            return
        for record in (flattener.flatten(item) for item in page.items):
            if layout is not None:
                summary.rows += writer.write(layout.rows(record))
            elif isinstance(writer, CsvWriter):
                summary.rows += writer.write_record(record.header, record.lines)
            else:
                summary.rows += writer.write(record.rows())
            summary.records += 1
            left_out = record.left_out + (layout.left_out(record) if layout is not None else [])
            for name in left_out:
                summary.left_out[name] = summary.left_out.get(name, 0) + 1

    success = False
    try:
        # The records of the two pages held are to the collector what a run's requests in flight are.
        with tuned_collector(HELD_RECORDS):
            async with read_ahead(list_pages(client, ent, params, page_size=page_size)) as pages:
                async for page in pages:
                    summary.pages += 1
                    if page.number == 1:
                        summary.total_count = page.total_count
                    summary.page_size = page.page_size
                    await anyio.to_thread.run_sync(write, page)
        if writer is None:  # not even a first page: still a valid (empty) CSV
            summary.columns = header([])
            writer = csv_writer()
        success = True
    except ListError as exc:
        summary.error = str(exc)
    finally:
        if writer is not None:
            writer.detach()
        sink.close(success)
        summary.calls = client.stats.calls + client.token_calls - calls_before
        summary.elapsed = time.monotonic() - started
    if not success and sink.partial:
        summary.partial_path = sink.partial
    return summary
