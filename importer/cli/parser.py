"""The command line's tree: ``importer COMMAND ...`` with each command's flags.

Every command's flags are here, so ``importer --help`` and ``importer --version`` need
none of the commands' own modules; the groups several commands share are in
:mod:`importer.cli.groups`. The parsers are :class:`~importer.cli.flags.CommandParser`s:
they keep their flags, which the config layering (:mod:`importer.cli.config`) reads.
"""

from __future__ import annotations

import argparse

from importer import __version__
from importer.cli.flags import CommandParser, delimiter
from importer.cli.groups import (
    add_behaviour,
    add_connection,
    add_input,
    add_output,
    add_saft,
    add_saft_documents,
    add_sandbox_company,
    add_send_valid,
    add_sheet,
    add_speed,
    add_state,
    add_unattended,
)
from importer.entities import ENTITIES
from importer.options import MODES, ImportOptions, InputFormat
from importer.sandbox import add_arguments as add_sandbox_arguments

__all__ = ["VERIFY_SHOWN", "build_parser"]

VERIFY_SHOWN = 10  # differences ``verify`` lists on the terminal; the report on disk has every one

# What export, verify and reconcile take: entities that are records, not actions on them.
_RECORDS = [e for e in ENTITIES if not ENTITIES[e].is_action]


def build_parser() -> CommandParser:
    """``importer``'s parser; its :attr:`~CommandParser.commands` by name."""
    parser = CommandParser(
        prog="importer",
        description="Batch importer for the Visma.net ERP customer ledger.",
    )
    parser.add_argument("--version", action="version", version=f"importer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _run(sub.add_parser("run", help="import a file", description="Import a CSV or NDJSON file."))
    _plan(sub.add_parser("plan", help="run a migration plan (TOML): ordered steps",
                         description="Run the steps of a plan file in order."))
    _fleet(sub.add_parser(
        "fleet", help="run many companies at once, each at its own allowance (a TOML manifest)",
        description="Run every company of a manifest at the same time: each with its own token, "
                    "rate-limit window, results folder and resume."))
    _check(sub.add_parser(
        "check", help="check every record against the company before sending: nothing is sent",
        description="Map INPUT as run would and check every record's references (credit terms, VAT, items, "
                    "classes, currencies, accounts, branches, salespersons, payment methods, periods, "
                    "customers) against the company; problems grouped by column and value. Exit 0 when "
                    "the company takes every record, 1 when not."))
    _export(sub.add_parser("export", help="stream what the API holds to NDJSON or CSV",
                           description="Export records, flat in the import's column convention."))
    _verify(sub.add_parser("verify", help="compare a file with what the API holds",
                           description="Report records of INPUT missing from the API, or with fields that differ."))
    _reconcile(sub.add_parser(
        "reconcile", help="control totals: counts and sums of the file against the ledger",
        description="Count and sum the documents of INPUT (per currency and customer) or "
                    "its customers' credit limits, against what the ledger holds."))
    _signoff(sub.add_parser(
        "signoff", help="the accountant's sign-off: one HTML file (and CSVs) of receivables per customer",
        description="Hold each customer's documents (net, VAT, gross) in the inputs against the ledger's "
                    "documents and balance, and write one printable HTML file with a CSV of each table."))
    _company(sub.add_parser(
        "company", help="the target company's reference data: company snapshot --out FILE",
        description="snapshot: read the company's reference data (credit terms, VAT, classes, items, "
                    "currencies, periods, number series, accounts, ...) with read-only calls and write "
                    "one file, to rehearse against with importer sandbox --company FILE."))
    _columns(sub.add_parser(
        "columns", help="the columns an entity accepts: types, allowed values, formats",
        description="Each API column of ENTITY with its type, allowed values, format, "
                    "range and whether a create needs it."))
    _map(sub.add_parser("map", help="mapping files: map init writes one for a legacy export",
                        description="Work with mapping files (--map FILE.toml)."))
    _undo(sub.add_parser("undo", help="take back what a run created, from its results file",
                         description="Delete the unreleased invoices and credit notes a run created, after "
                                     "checking each is the one it sent; list what else it left. A dry run "
                                     "unless --yes."))
    _report(sub.add_parser("report", help="what results files say: outcomes, reasons, calls, timing",
                           description="Report on results files, or a plan's --results-dir."))
    add_sandbox_arguments(sub.add_parser("sandbox", help="serve the local sandbox API",
                                         description="Serve a local simulation of the customer-ledger API."))
    parser.commands = dict(sub.choices)
    return parser


def _run(run: CommandParser) -> None:
    run.add_argument("input", help="CSV or NDJSON file (.gz decompressed), or - for stdin")
    run.add_argument("--entity", "-e", default=None, choices=list(ENTITIES),
                     help="what the file holds (default: the entity its --map names)")
    add_behaviour(run)
    add_connection(run, checks=True)
    add_speed(run)
    add_input(run)
    add_state(run, per_file=True)
    add_saft(run)
    add_unattended(run)
    add_output(run)


def _check(check: CommandParser) -> None:
    check.add_argument("input", help="CSV or NDJSON file (.gz decompressed)")
    check.add_argument("--entity", "-e", default=None, choices=list(ENTITIES),
                       help="what the file holds (default: the entity its --map names)")
    check.add_argument("--mode", choices=MODES, default=ImportOptions.mode,
                       help="the mode the file is to be sent in (an update checks only what it sends)")
    add_connection(check, checks=True)
    add_speed(check)
    add_input(check)
    add_output(check)


def _plan(plan: CommandParser) -> None:
    plan.add_argument("plan", help="plan file (TOML)")
    add_connection(plan, checks=True)
    add_send_valid(plan)
    add_state(plan, per_file=False)
    add_unattended(plan)
    add_output(plan)


def _fleet(fleet: CommandParser) -> None:
    fleet.add_argument("manifest", help="fleet manifest (TOML): [[company]] tables")
    fleet.add_argument("--only", metavar="NAME[,NAME]", default=None,
                       help="run these companies only (a scheduler spreads a bureau over machines this way)")
    fleet.add_argument("--parallel", type=int, default=None, metavar="N",
                       help="at most N companies at a time (default: all)")
    conn = fleet.section("rehearsal")
    conn.add_argument("--sandbox", action="store_true",
                      help="start the embedded sandbox and rehearse every company on it, each in its "
                           "own tenant (own window, own ledger); credentials are not needed")
    conn.add_argument("--sandbox-profile", choices=("standard", "live"), default="standard",
                      help="with --sandbox: 'live' adds what the live API does beyond its document")
    add_sandbox_company(conn)
    add_send_valid(fleet)
    # A fleet's folder holds a folder per company.
    add_state(fleet, per_file=False,
              results_dir_help="where each company's results folder goes (default: results/ beside the manifest)")
    add_unattended(fleet)
    add_output(fleet)


def _export(export: CommandParser) -> None:
    export.add_argument("--entity", "-e", default=None, choices=_RECORDS,
                        help="what to export (default: the entity its --map names)")
    export.add_argument("--output", "-o", default="-", help="file (.gz compressed) or - for stdout (default)")
    export.add_argument("--format", choices=("csv", "ndjson"), default=None,
                        help="default: by the output's extension (required for stdout)")
    export.add_argument("--delimiter", default=None, type=delimiter,
                        help="CSV delimiter (default , or ; for a --map with decimal commas); use \\t for TAB")
    export.add_argument("--all-columns", action="store_true",
                        help="CSV: every column the entity has, not only those the first page fills")
    export.add_argument("--page-size", type=int, default=None, help="records per list call (default: the API's maximum)")
    export.add_argument("--map", metavar="FILE.toml", default=None,
                        help="write the mapping file's legacy columns (values and formats mapped back), "
                             "so run --map FILE.toml imports the file again")
    export.add_argument("--excel", action="store_true",
                        help="a CSV a spreadsheet opens right: UTF-8 with BOM, ';', decimal comma in "
                             "number columns, CRLF; run reads it back with no flags")
    export.add_argument("--company", metavar="FILE", default=None,
                        help="a company snapshot (importer company snapshot): amounts get its currencies' "
                             "decimals (default: 2)")
    filters = export.section("filters")
    filters.add_argument("--last-modified", metavar="COND DATE", default=None,
                         help="e.g. '>=2020-01-14' or '<2020-01-14 13:13:13' (conditions > < >= <=)")
    filters.add_argument("--created", metavar="COND DATE", default=None, help="createdDateTime, as --last-modified")
    filters.add_argument("--status", default=None, help="e.g. balanced, open; customers: active, onhold")
    documents = export.section("filters for invoices, credit notes and debit notes")
    documents.add_argument("--financial-period", metavar="YYYYMM", default=None)
    documents.add_argument("--project", default=None)
    documents.add_argument("--document-type", default=None, help="e.g. Invoice, CreditNote, DebitNote")
    documents.add_argument("--customer", metavar="NUMBER", default=None, help="the customer's number")
    documents.add_argument("--released", choices=("yes", "no"), default=None)
    documents.add_argument("--document-date", metavar="COND DATE", default=None, help="as --last-modified")
    documents.add_argument("--due-date", metavar="COND DATE", default=None, help="as --last-modified")
    documents.add_argument("--external-reference", default=None)
    documents.add_argument("--customer-ref", default=None, help="customerRefNumber")
    documents.add_argument("--branch", default=None, help="branch number")
    documents.add_argument("--dunning-level", default=None, help="a whole number from 0")
    documents.add_argument("--expand-attachments", action="store_true")
    documents.add_argument("--expand-tax-details", action="store_true")
    customers = export.section("filters for customers")
    customers.add_argument("--name", default=None)
    customers.add_argument("--corporate-id", default=None)
    customers.add_argument("--vat-registration-id", default=None)
    customers.add_argument("--email", default=None)
    customers.add_argument("--phone", default=None)
    add_connection(export, sandbox=False)
    add_speed(export)
    add_output(export)


def _verify(verify: CommandParser) -> None:
    verify.add_argument("input", help="the file that was imported")
    verify.add_argument("--entity", "-e", default=None, choices=_RECORDS,
                        help="what the file holds (default: the entity its --map names)")
    verify.add_argument("--report", "-o", default=None, help="report file (default INPUT.verify.ndjson)")
    verify.add_argument("--results", default=None, metavar="PATH",
                        help="the import's results file: the key the ledger gave each record and the reference set on each document (default INPUT.results.ndjson when it exists)")
    verify.add_argument("--strategy", choices=("auto", "get", "list"), default="auto",
                        help="get: one GET per record; list: page through the API's list; "
                             "auto: whichever costs fewer calls (default)")
    verify.add_argument("--summary-json", metavar="PATH", default=None,
                        help="write the summary as JSON to PATH, for tools (- for stdout; the table "
                             "then goes to stderr)")
    verify.add_argument("--show", type=int, default=VERIFY_SHOWN, metavar="N",
                        help="differences listed in the table (default %(default)s; all are in the report)")
    add_connection(verify, sandbox=False)
    add_speed(verify)
    add_input(verify)  # --map reads a legacy file as run --map would
    add_output(verify)


def _reconcile(p: CommandParser) -> None:
    """Its own input flags, as ``--format`` is the output's here."""
    p.add_argument("input", nargs="+", help="the file that was imported (--per-customer: several, "
                                            "each ENTITY=FILE or FILE with --entity)")
    p.add_argument("--per-customer", action="store_true",
                   help="per customer and currency: documents net, VAT and gross, and balances, file against ledger")
    _per_customer(p)
    p.add_argument("--entity", "-e", default=None, choices=_RECORDS,
                   help="what the file holds (default: the entity its --map names)")
    p.add_argument("--csv", "-o", metavar="OUT.csv", default=None, help="also write the figures as CSV (UTF-8)")
    p.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                   help="stdout format (default text)")
    p.add_argument("--results", default=None, metavar="PATH",
                   help="the import's results file: the key the ledger gave each record and the reference set on each document (default INPUT.results.ndjson when it exists)")
    src = p.section("input")
    src.add_argument("--input-format", choices=("csv", "ndjson", "xlsx"), default=None,
                     help="input format (default: by file extension)")
    src.add_argument("--delimiter", default=None, type=delimiter, help="CSV delimiter (default: sniffed)")
    src.add_argument("--encoding", default=None, help="input encoding, e.g. cp1252 (default utf-8)")
    src.add_argument("--max-field-size", type=int, default=InputFormat.max_field_size, metavar="BYTES",
                     help="longest CSV field or input line read (default 1 MiB)")
    src.add_argument("--decimal-comma", action=argparse.BooleanOptionalAction, default=None,
                     help="read 1234,50 as a number (default: on when the delimiter is ;)")
    src.add_argument("--date-format", default=None, help="strptime layout of dates (default ISO 8601)")
    src.add_argument("--map", metavar="FILE.toml", default=None, help="mapping file the file was imported with")
    add_saft_documents(src)
    add_connection(p, sandbox=False)
    add_speed(p)
    add_output(p)


def _per_customer(p: CommandParser) -> None:
    per = p.section("per customer")
    per.add_argument("--aged", metavar="FILE", default=None,
                     help="the legacy aged-receivables list: customer, currency, balance per row "
                          "(default: the inputs' documents are the legacy balance)")
    per.add_argument("--aged-column", action="append", default=[], metavar="WHAT=COLUMN",
                     help="the --aged file's column for customer, currency or balance (default: those names)")
    per.add_argument("--company", dest="company_file", metavar="FILE", default=None,
                     help="the company snapshot the VAT is worked out with (default: read from the API)")


def _signoff(p: CommandParser) -> None:
    p.add_argument("input", nargs="+", help="the imported documents: ENTITY=FILE (invoice, credit-note, debit-note)")
    p.add_argument("--out", "-o", required=True, metavar="FILE.html",
                   help="the sign-off document; a CSV of each table is written beside it")
    p.add_argument("--runs", nargs="*", default=[], metavar="RESULTS",
                   help="results files or folders of the runs (default: INPUT.results.ndjson of each input)")
    p.add_argument("--saft", metavar="FILE.xml", default=None,
                   help="the SAF-T file: its customers are held against the general ledger's receivables")
    p.add_argument("--entity", "-e", default=None, choices=_RECORDS, help="the entity of inputs given as FILE")
    _per_customer(p)
    add_connection(p, sandbox=False)
    add_speed(p)
    add_output(p)


def _company(company: CommandParser) -> None:
    company.add_argument("action", choices=("snapshot",), help="snapshot: read the company and write --out")
    company.add_argument("--out", "-o", required=True, metavar="FILE.json",
                         help="the snapshot file; an existing snapshot's numbering and name are kept")
    company.add_argument("--name", default=None,
                         help="the company's name in the file (default: the existing file's, else the tenant)")
    company.add_argument("--page-size", type=int, default=None,
                         help="records per list call (default: the API's maximum)")
    add_connection(company)
    add_speed(company)
    add_output(company)


def _columns(columns: CommandParser) -> None:
    columns.add_argument("entity", choices=list(ENTITIES))
    columns.add_argument("--format", choices=("text", "json"), default="text",
                         help="json: a list of objects, for tools (default text)")
    columns.add_argument("--company", metavar="FILE", default=None,
                         help="a company snapshot (importer company snapshot): list the values it allows "
                              "next to each column that names one of its records")


def _map(mapping: CommandParser) -> None:
    actions = mapping.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="write a commented skeleton map from a file's header and rows",
                              description="Match each column of INPUT to the likeliest API column, suggest "
                                          "formats and value maps from its rows, and write the map.")
    init.add_argument("input", help="the legacy CSV or NDJSON file")
    init.add_argument("--entity", "-e", required=True, choices=list(ENTITIES))
    init.add_argument("--output", "-o", metavar="MAP.toml", default=None,
                      help="where to write the map (default: stdout)")
    init.add_argument("--force", action="store_true", help="replace MAP.toml if it exists")
    init.add_argument("--format", choices=("csv", "ndjson", "xlsx"), default=None,
                      help="input format (default: by file extension)")
    init.add_argument("--delimiter", default=None, type=delimiter,
                      help="CSV delimiter (default: sniffed among , ; TAB |)")
    init.add_argument("--encoding", default=None, help="input encoding, e.g. cp1252 (default utf-8)")
    add_sheet(init)
    init.add_argument("--company", metavar="FILE", default=None,
                      help="a company snapshot (importer company snapshot): propose value maps from the "
                           "file's values to the company's ids (credit terms, VAT, classes, items, currencies...)")


def _undo(undo: CommandParser) -> None:
    undo.add_argument("results", nargs="*", metavar="RESULTS",
                      help="the run's results file(s), or a folder of them (a plan's --results-dir); "
                           "undone last run first")
    undo.add_argument("--plan", metavar="PLAN.toml", default=None,
                      help="undo a plan's steps, last step first (their results files as the plan names them)")
    undo.add_argument("--fleet", metavar="MANIFEST.toml", default=None,
                      help="undo a fleet's companies, each with its own connection as the manifest says, "
                           "each plan last step first")
    undo.add_argument("--only", metavar="NAME[,NAME]", default=None, help="with --fleet: these companies only")
    undo.add_argument("--parallel", type=int, default=None, metavar="N",
                      help="with --fleet: at most N companies at a time (default: all)")
    undo.add_argument("--results-dir", metavar="DIR", default=None,
                      help="with --plan: where the plan's results files are (as run with plan --results-dir); "
                           "with --fleet: the folder that holds a folder per company (as run with fleet --results-dir)")
    undo.add_argument("--yes", action="store_true",
                      help="do it: without it nothing is deleted or changed, and the undo file says what would be")
    undo.add_argument("--inactivate-customers", action="store_true",
                      help="set the customers the run created inactive (PUT status Inactive)")
    undo.add_argument("--undo-results", metavar="PATH", default=None,
                      help="undo's own results file, for one RESULTS (default: RESULTS less .results.ndjson, "
                           "plus .undo.ndjson; a dry run's .undo.dry-run.ndjson)")
    undo.add_argument("--show", type=int, default=20, metavar="N",
                      help="records listed on the terminal per kind (default %(default)s; the undo file has all)")
    undo.add_argument("--summary-json", metavar="PATH", default=None, help="write the summary as JSON to PATH")
    add_connection(undo, sandbox=False)
    add_speed(undo)
    add_output(undo)


def _report(report: CommandParser) -> None:
    report.add_argument("results", nargs="+", metavar="RESULTS", help="results file(s) or folder(s)")
    report.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (default text)")
    report.add_argument("--html", metavar="FILE", default=None,
                        help="also write a self-contained HTML page with charts")
    report.add_argument("--csv", metavar="FILE", default=None,
                        help="also write the tables as CSV: steps to FILE, reasons to FILE.reasons.csv")
    report.add_argument("--excel", action="store_true",
                        help="with --csv: UTF-8 with BOM, ';', decimal comma, CRLF, as a spreadsheet reads it")
