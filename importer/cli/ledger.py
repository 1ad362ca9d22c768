"""``importer export``, ``verify`` and ``reconcile``: what the ledger holds, read back.

``export`` streams records to NDJSON or CSV (see :mod:`importer.ledger.export`);
``verify`` compares a file, record by record, with the ledger (see
:mod:`importer.ledger.verify`); ``reconcile`` compares counts and sums (see
:mod:`importer.ledger.reconcile`). Each names its mistakes before it connects.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import IO, TextIO

import orjson
from rich.table import Table
from rich.text import Text

from importer.cli.common import client_for
from importer.cli.printing import console, print_fields
from importer.company import load_company
from importer.entities import counts_documents, entity
from importer.errors import ConfigError
from importer.ledger.differences import first_differences
from importer.ledger.export import ExportFilters, export_records
from importer.ledger.reconcile import reconcile_totals
from importer.ledger.sign_off import print_reconciliation, write_csv
from importer.ledger.verify import VerifySummary, default_report_path, verify_records
from importer.logs import json_lines, tell
from importer.mapping.mapfile import input_encoding, resolve_entity
from importer.options import SaftSettings
from importer.outputs import check_outputs, printable
from importer.sources import SourceOptions
from importer.summary import counted
from importer.vocabulary import SaftDocuments

__all__ = ["export_command", "reconcile_command", "verify_command"]


async def export_command(args: argparse.Namespace, argv: list[str]) -> int:
    filters = ExportFilters(
        last_modified=args.last_modified, created=args.created, status=args.status,
        financial_period=args.financial_period, project=args.project, document_type=args.document_type,
        customer=args.customer, released=args.released, document_date=args.document_date,
        due_date=args.due_date, external_reference=args.external_reference, customer_ref=args.customer_ref,
        branch=args.branch, dunning_level=args.dunning_level, expand_attachments=args.expand_attachments,
        expand_tax_details=args.expand_tax_details, name=args.name, corporate_id=args.corporate_id,
        vat_registration_id=args.vat_registration_id, email=args.email, phone=args.phone,
    )
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own
    filters.params(entity(args.entity))  # a bad filter fails before connecting
    company = load_company(args.company) if args.company is not None else None
    async with AsyncExitStack() as stack:
        client = await client_for(args, stack, read_only=True)
        out: IO[bytes] | str = sys.stdout.buffer if args.output == "-" else args.output
        summary = await export_records(
            client, args.entity, out, format=args.format, filters=filters, page_size=args.page_size,
            columns="all" if args.all_columns else "seen", delimiter=args.delimiter, map=args.map,
            excel=args.excel, company=company,
        )
    if args.output == "-" and json_lines():  # stdout holds the data, stderr only JSON lines: the table as one
        tell(f"export {args.entity} finished: {summary.records:,} records, {summary.rows:,} rows, "
             f"{summary.calls:,} calls", logging.INFO if summary.ok else logging.WARNING,
             event="export finished", **summary.to_dict())
    else:
        print_fields(f"export {args.entity}", summary.to_dict(), sys.stderr if args.output == "-" else sys.stdout)
    return summary.exit_code


async def verify_command(args: argparse.Namespace, argv: list[str]) -> int:
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own
    report = _report_path(args)  # before connecting: a mistake costs no call
    if args.summary_json:
        check_outputs({"input": args.input}, {"--report": report, "--summary-json": args.summary_json})
    async with AsyncExitStack() as stack:
        client = await client_for(args, stack, read_only=True)
        summary = await verify_records(
            client, args.input, args.entity, report,
            source_options=SourceOptions(args.format, args.delimiter, args.max_field_size,
                                         input_encoding(args.encoding, args.map), sheet=args.sheet,
                                         header_row=args.header_row),
            decimal_comma=args.decimal_comma, date_format=args.date_format,
            concurrency=args.concurrency, strategy=args.strategy, map=args.map, results=args.results,
        )
    stream = sys.stdout
    if args.summary_json:
        blob = orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
        if args.summary_json == "-":
            sys.stdout.buffer.write(blob)
            sys.stdout.flush()
            stream = sys.stderr
        else:
            Path(args.summary_json).write_bytes(blob)
    _print_verify(summary, max(args.show, 0), stream)
    return summary.exit_code


def _print_verify(summary: VerifySummary, shown: int, stream: TextIO) -> None:
    """Counts per status (customers or documents), then the first differences as rows; the report holds them all."""
    out = console(stream)
    counts = Table(title=f"verify {summary.entity} — {summary.input}", show_header=False, box=None)
    counts.add_column("what", no_wrap=True)
    counts.add_column("value", overflow="fold")
    docs = counts_documents(summary.entity)  # the statuses count documents: read shows their rows after
    rows = [(status, f"{n:,}") for status, n in summary.counts.items() if n or status == "ok"]
    rows += [("documents read", counted(summary.units, summary.records, docs)) if docs
             else ("records read", f"{summary.records:,}"),
             ("API calls", f"{summary.calls:,} ({summary.strategy}, {summary.calls_per_record:.2f} per "
                           f"{'document' if docs else 'record'})"),
             ("elapsed", f"{summary.elapsed:.1f} s"), ("report", summary.report_path or "-")]
    if summary.unchecked:
        rows.append(("not compared", ", ".join(f"{c} ({n:,})" for c, n in summary.unchecked.items())))
    if summary.error:
        rows.append(("error", summary.error))
    for name, value in rows:
        counts.add_row(name, Text(printable(value)))  # Text: a value's [brackets] are not markup
    out.print(counts)
    if summary.report_path is None or summary.ok:
        return
    found, total = first_differences(summary.report_path, shown)
    if found:
        table = Table(title=f"first {len(found)} of {total:,} differences")
        for column in ("record", "field", "file", "ledger"):
            table.add_column(column, overflow="fold")
        for row in found:
            table.add_row(*(Text(printable(cell)) for cell in row))
        out.print(table)
    if total > len(found):
        print(f"{total - len(found):,} more in {summary.report_path}", file=stream)


def _report_path(args: argparse.Namespace) -> str:
    if args.report:
        return str(args.report)
    if args.input == "-":
        raise ConfigError("verifying stdin needs --report PATH: the comparison goes there")
    return default_report_path(args.input)


async def reconcile_command(args: argparse.Namespace, argv: list[str]) -> int:
    if args.per_customer:
        from importer.cli.signoff import per_customer_command

        return await per_customer_command(args)
    if len(args.input) > 1:
        raise ConfigError("reconcile takes one INPUT (several only with --per-customer)")
    args.input = args.input[0]
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own; before any call
    check_outputs({"input": args.input, "--map": args.map}, {"--csv": args.csv})
    async with AsyncExitStack() as stack:
        client = await client_for(args, stack, read_only=True)
        result = await reconcile_totals(
            client, args.input, args.entity,
            # A SAF-T file counts every balance it states: one not sent shows as missing.
            source_options=SourceOptions(args.input_format, args.delimiter, args.max_field_size,
                                         input_encoding(args.encoding, args.map),
                                         entity=args.entity, settings=_every_balance(args.saft_documents)),
            decimal_comma=args.decimal_comma, date_format=args.date_format, map=args.map,
            results=args.results,
        )
    try:
        if args.csv:
            write_csv(result, args.csv)
        if args.output_format == "json":
            result.write_json(sys.stdout.buffer)  # every row, streamed
            sys.stdout.flush()
        else:
            print_reconciliation(result, console(sys.stdout), args.csv)
            if args.csv:
                print(f"csv: {args.csv}")
        return result.exit_code
    finally:
        result.close()


def _every_balance(documents: SaftDocuments | None) -> SaftSettings:
    """A SAF-T file's settings for reconcile: every balance it states, its documents as --saft-documents says."""
    every = SaftSettings(allow_unbalanced=True)
    return every if documents is None else replace(every, documents=documents)
