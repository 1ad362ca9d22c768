"""The flag groups several commands share: connection, speed, input, behaviour, state, logging, SAF-T.

Each ``add_*`` adds one group to a command's parser; the commands in
:mod:`importer.cli.parser` pick the groups they take. A flag means the same in every
command that has it. A flag's default is its option group's (:mod:`importer.options`),
read from there, so ``--help``, plans and the Python API say one thing.
"""

from __future__ import annotations

import argparse

from importer.cli.flags import CommandParser, Section, delimiter, positive_float, seconds
from importer.options import MODES, Behaviour, Connection, ImportOptions, InputFormat, Pace
from importer.vocabulary import DEFAULT_METRICS_EVERY, DEFAULT_PROGRESS_EVERY, NUMBERING_MODES

__all__ = ["add_sheet", "add_unattended", "add_behaviour", "add_check_company", "add_connection", "add_input", "add_output", "add_saft", "add_saft_documents",
           "add_sandbox_company", "add_send_valid", "add_speed", "add_state"]


def add_connection(p: CommandParser, *, sandbox: bool = True, checks: bool = False) -> None:
    """``checks``: the command checks records against a company (run, check): its ``--company``
    names that company, and with ``--sandbox`` the sandbox's too."""
    conn = p.section("connection")
    conn.add_argument("--base-url", default=None,
                      help=f"everything before /v1 (env VISMA_BASE_URL; default {Connection.base_url})")
    conn.add_argument("--token", default=None,
                      help="Bearer token (env VISMA_TOKEN); else client credentials from "
                           "VISMA_CLIENT_ID, VISMA_CLIENT_SECRET, VISMA_TENANT_ID")
    conn.add_argument("--token-url", default=None, help="token endpoint (env VISMA_TOKEN_URL)")
    if sandbox:  # for commands that send; an empty sandbox has nothing to export or verify
        conn.add_argument("--sandbox", action="store_true",
                          help="start the embedded sandbox in this process and send to it")
        conn.add_argument("--sandbox-profile", choices=("standard", "live"), default="standard",
                          help="with --sandbox: 'live' adds what the live API does beyond its "
                               "document (loose filters, queued releases, odd error bodies, ...)")
        if checks:
            add_check_company(conn)
        else:
            add_sandbox_company(conn)
    elif checks:
        add_check_company(conn)


def add_check_company(group: Section) -> None:
    """``--company FILE|live|none``: what every record is checked against before it is sent."""
    group.add_argument("--company", dest="preflight_company", metavar="FILE|live|none", default=None,
                       help="check every record against this company before anything is sent: a snapshot "
                            "(importer company snapshot), live (read once at the start and kept beside the "
                            "results as RESULTS.company.json; a --resume reuses it), or none; with --sandbox "
                            "a FILE or none is the sandbox's company too (default: live for a run, the "
                            "sandbox's company with --sandbox, the kept one for --dry-run)")


def add_sandbox_company(group: Section) -> None:
    """``--company FILE|none``: the company the embedded sandbox is."""
    group.add_argument("--company", dest="sandbox_company", metavar="FILE|none", default=None,
                       help="with --sandbox: the company the sandbox is, a snapshot from importer company "
                            "snapshot; 'none' checks no reference data (default: the built-in demo company)")


def add_speed(p: CommandParser) -> None:
    speed = p.section("speed")
    speed.add_argument("--concurrency", "-c", type=int, default=Pace.concurrency,
                       help="requests in flight (default %(default)s)")
    speed.add_argument("--rate", type=positive_float, default=None,
                       help="ceiling in requests per second; the API's own headers pace the run anyway")
    speed.add_argument("--timeout", type=positive_float, default=Pace.timeout,
                       help="seconds one request may take; a write whose answer is lost is waited for as "
                            "long again before it is looked up a second time (default %(default)s)")
    speed.add_argument("--max-attempts", type=int, default=Pace.max_attempts,
                       help="tries per record for network errors and 5xx, and per token fetch "
                            "(default %(default)s)")


def add_sheet(group: Section | CommandParser) -> None:
    group.add_argument("--sheet", default=None, metavar="NAME|N",
                       help="an Excel workbook's sheet, by name or 1-based place (default: the first)")
    group.add_argument("--header-row", type=int, default=None, metavar="N",
                       help="an Excel sheet's header row (default: the first row of two or more text cells)")


def add_input(p: CommandParser, *, mapping: bool = True) -> None:
    src = p.section("input")
    src.add_argument("--format", choices=("csv", "ndjson", "xlsx"), default=None,
                     help="input format (default: by file extension)")
    src.add_argument("--delimiter", default=None, type=delimiter,
                     help="CSV delimiter (default: sniffed among , ; TAB |); use \\t for TAB")
    src.add_argument("--encoding", default=None,
                     help="input encoding, e.g. cp1252 or latin-1 (default utf-8, BOM or not: a file that "
                          "is not is refused, naming the line, before anything is sent)")
    src.add_argument("--max-field-size", type=int, default=InputFormat.max_field_size, metavar="BYTES",
                     help="longest CSV field or input line read; a longer one makes its record invalid "
                          "(default 1 MiB)")
    src.add_argument("--decimal-comma", action=argparse.BooleanOptionalAction, default=None,
                     help="read 1234,50 as a number (default: on when the delimiter is ;)")
    src.add_argument("--date-format", default=None,
                     help="strptime layout of dates, e.g. %%d.%%m.%%Y (default ISO 8601)")
    add_sheet(src)
    if mapping:
        src.add_argument("--map", metavar="FILE.toml", default=None,
                         help="mapping file: rename source columns, constants, formats, value maps")


def add_behaviour(p: CommandParser) -> None:
    p.add_argument("--mode", choices=MODES, default=ImportOptions.mode,
                   help="create: POST each record; update: PUT each by its key; upsert: PUT when the "
                        "key exists, else POST (keys prefetched in pages) (default: create)")
    p.add_argument("--release", action="store_true",
                   help="release each invoice, credit note or debit note after it is created or updated")
    p.add_argument("--background", action="store_true",
                   help="queue each request with erp-api-background and poll until it is done "
                        "(for requests the API takes minutes over)")
    p.add_argument("--external-reference", dest="set_external_reference", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="give documents without an externalReference one of the importer's (imp-...), so a "
                        "create whose answer is lost can be found again (default: on)")
    p.add_argument("--numbering", choices=NUMBERING_MODES, default=None,
                   help="how created records are numbered: company (no number sent; the company's series "
                        "numbers them), manual (the file's number, on a manual series), override (the file's "
                        "number on an automatic series that allows manual numbering on imports) (default: the "
                        "map's, else chosen from the company and each record)")
    add_send_valid(p)
    p.add_argument("--numbering-field", metavar="FIELD", default=None,
                   help="with company numbering: the field that keeps the file's number, so the record can be "
                        "found again (default for documents: customerRefNumber)")


def add_send_valid(p: CommandParser) -> None:
    p.add_argument("--send-valid", action="store_true", default=None,
                   help="when the preflight finds records the company would refuse, send the others (the "
                        "refused ones are invalid, each with its reason); without it such a run sends nothing")


def add_state(p: CommandParser, *, per_file: bool,
              results_dir_help: str = "where each step's results and failed-records files go "
                                      "(default: beside each input)") -> None:
    out = p.section("results and state")
    if per_file:
        out.add_argument("--results", "-o", default=None,
                         help="results file (default INPUT.results.ndjson)")
        out.add_argument("--failed", metavar="PATH", default=None,
                         help="failed-records file: the failed rows with an error column, to fix and "
                              "import again (default INPUT.failed.csv, or .ndjson for NDJSON input)")
    else:
        out.add_argument("--results-dir", default=None, help=results_dir_help)
    out.add_argument("--resume", action="store_true",
                     help="continue: records the results file has finished (by identity, wherever their "
                          "row is now) are not sent again")
    out.add_argument("--restart", action="store_true",
                     help="start over although the results file holds outcomes; the old file is kept beside it")
    out.add_argument("--retry-failed", action="store_true",
                     help="resume, and send the failed and invalid records again (implies --resume)")
    out.add_argument("--fsync", action="store_true",
                     help="force every results line to disk (survives power loss; slower)")
    out.add_argument("--dry-run", action="store_true",
                     help="map and validate everything, write the payloads to INPUT.dry-run.ndjson, send nothing")
    out.add_argument("--summary-json", metavar="PATH", default=None,
                     help="write the summary as JSON to PATH (- for stdout)")


def add_output(p: CommandParser) -> None:
    log = p.section("logging")
    log.add_argument("-v", "--verbose", action="count", default=0,
                     help="-v: the run's lifecycle (start, plan steps, waits for the rate-limit window, "
                          "retries, finish with the numbers) and one line per failed record; -vv: every request")
    log.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="json: every line on stderr is one JSON object, for log collectors (no progress "
                          "line); the summary goes to stdout")
    log.add_argument("--config", default=None, metavar="FILE.toml",
                     help="config file (default $IMPORTER_CONFIG, else ./importer.toml if present)")


def add_saft(p: CommandParser) -> None:
    saft = p.section("SAF-T input (a .xml file: --entity customer, invoice or credit-note)")
    saft.add_argument("--saft-text", default=None, metavar="TEXT",
                      help="text of the opening-balance documents (default \"Opening balance <period end>\")")
    saft.add_argument("--saft-item", default=None, metavar="ITEM", help="inventory item of their line")
    saft.add_argument("--saft-account", default=None, metavar="ACCOUNT", help="account of their line")
    saft.add_argument("--saft-period", default=None, metavar="YYYYMM",
                      help="their financial period (default: the month of the file's period end)")
    saft.add_argument("--saft-allow-unbalanced", action="store_true", default=None,
                      help="send the balance of a customer whose opening balance and movements do not add up "
                           "to its closing balance in the file (default: reported, not sent)")
    add_saft_documents(saft)


def add_saft_documents(group: Section) -> None:
    group.add_argument("--saft-documents", choices=("balances", "invoices"), default=None,
                       help="invoices and credit notes: balances (default) is one document per customer; "
                            "invoices is each open invoice of SourceDocuments/SalesInvoices with its lines")


def add_unattended(p: CommandParser) -> None:
    """``run``, ``plan`` and ``fleet``: how a run stops, and what it tells whoever watches it unattended."""
    watch = p.section("unattended runs")
    watch.add_argument("--grace", type=seconds, default=None, metavar="SECONDS",
                       help="once SIGTERM or Ctrl-C asks for a stop, the seconds requests in flight get to "
                            "finish before the run writes its last lines and exits 130; give a scheduler's "
                            f"grace period more than this (default {Behaviour.grace:g})")
    watch.add_argument("--progress-every", type=seconds, default=None, metavar="SECONDS",
                       help="a progress event on stderr every SECONDS (done, left, rate, ETA, the window), "
                            f"terminal or not; 0 for none (default: every {DEFAULT_PROGRESS_EVERY:g} with "
                            "--log-format json, else none)")
    watch.add_argument("--metrics-file", metavar="PATH", default=None,
                       help="keep PATH (e.g. a node-exporter textfile folder's importer.prom) in the Prometheus "
                            "text format: records by outcome, calls, 429s, window waits, last success")
    watch.add_argument("--metrics-every", type=positive_float, default=DEFAULT_METRICS_EVERY, metavar="SECONDS",
                       help="with --metrics-file: rewrite it every SECONDS, and at the end (default %(default)g)")
