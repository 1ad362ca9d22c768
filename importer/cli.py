"""``importer`` on the command line: a thin layer over :func:`importer.import_records`.

Settings come from, in order of precedence: the command line; the environment
(``IMPORTER_<FLAG>``, e.g. ``IMPORTER_CONCURRENCY=64``, and ``VISMA_*`` for the
connection); a TOML config file (``--config``, ``$IMPORTER_CONFIG``, else
``./importer.toml`` when present: keys are the flag names); the defaults.

Exit codes: 0 every record succeeded; 1 some failed or were invalid; 2 usage or
configuration error, nothing sent; 130 interrupted (the results file is resumable).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import sys
import tomllib
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import orjson

from importer import __version__
from importer.api import event_loop_options, import_records
from importer.entities import ENTITIES, entity
from importer.errors import AuthError, ConfigError, ImporterError
from importer.logs import json_lines, setup_logging, tell
from importer.mapping.mapfile import resolve_entity
from importer.options import DEFAULT_BASE_URL, MODES
from importer.summary import SETTLE_UNKNOWN, Summary

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
VERIFY_SHOWN = 10  # differences ``verify`` lists on the terminal; the report on disk has every one

# Flags whose environment variable is VISMA_* rather than IMPORTER_*.
_VISMA_ENV = {"base_url": "VISMA_BASE_URL", "token": "VISMA_TOKEN", "token_url": "VISMA_TOKEN_URL"}
# Never shown as a default in --help, never read from a config file.
_SECRET = {"token"}
_NO_CONFIG = ("sandbox", "columns", "report", "map")  # commands that read neither IMPORTER_* nor importer.toml


def _positive_float(text: str) -> float:
    """A rate or a number of seconds: finite and above zero (``nan`` and ``inf`` are neither)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not above zero")
    return value


def _add_connection(p: argparse.ArgumentParser, *, sandbox: bool = True) -> None:
    conn = p.add_argument_group("connection")
    conn.add_argument("--base-url", default=None,
                      help=f"everything before /v1 (env VISMA_BASE_URL; default {DEFAULT_BASE_URL})")
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


def _add_speed(p: argparse.ArgumentParser) -> None:
    speed = p.add_argument_group("speed")
    speed.add_argument("--concurrency", "-c", type=int, default=32,
                       help="requests in flight (default %(default)s)")
    speed.add_argument("--rate", type=_positive_float, default=None,
                       help="ceiling in requests per second; the API's own headers pace the run anyway")
    speed.add_argument("--timeout", type=_positive_float, default=60.0,
                       help="seconds one request may take (default %(default)s)")
    speed.add_argument("--max-attempts", type=int, default=5,
                       help="tries per record for network errors and 5xx (default %(default)s)")


def _delimiter(text: str) -> str:
    """``--delimiter``: one character; ``\\t`` or ``TAB`` for a tab."""
    return "\t" if text in ("\\t", "TAB", "tab") else text


def _add_input(p: argparse.ArgumentParser, *, mapping: bool = True) -> None:
    src = p.add_argument_group("input")
    src.add_argument("--format", choices=("csv", "ndjson"), default=None,
                     help="input format (default: by file extension)")
    src.add_argument("--delimiter", default=None, type=_delimiter,
                     help="CSV delimiter (default: sniffed among , ; TAB |); use \\t for TAB")
    src.add_argument("--encoding", default=None,
                     help="input encoding, e.g. cp1252 or latin-1 (default utf-8, BOM or not: a file that "
                          "is not is refused, naming the line, before anything is sent)")
    src.add_argument("--max-field-size", type=int, default=1 << 20, metavar="BYTES",
                     help="longest CSV field or input line read; a longer one makes its record invalid "
                          "(default 1 MiB)")
    src.add_argument("--decimal-comma", action=argparse.BooleanOptionalAction, default=None,
                     help="read 1234,50 as a number (default: on when the delimiter is ;)")
    src.add_argument("--date-format", default=None,
                     help="strptime layout of dates, e.g. %%d.%%m.%%Y (default ISO 8601)")
    if mapping:
        src.add_argument("--map", metavar="FILE.toml", default=None,
                         help="mapping file: rename source columns, constants, formats, value maps")


def _add_behaviour(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=MODES, default="create",
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


def _add_state(p: argparse.ArgumentParser, *, per_file: bool) -> None:
    out = p.add_argument_group("results and state")
    if per_file:
        out.add_argument("--results", "-o", default=None,
                         help="results file (default INPUT.results.ndjson)")
        out.add_argument("--failed", metavar="PATH", default=None,
                         help="failed-records file: the failed rows with an error column, to fix and "
                              "import again (default INPUT.failed.csv, or .ndjson for NDJSON input)")
    else:
        out.add_argument("--results-dir", default=None,
                         help="where each step's results and failed-records files go (default: beside each input)")
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


def _add_output(p: argparse.ArgumentParser) -> None:
    log = p.add_argument_group("logging")
    log.add_argument("-v", "--verbose", action="count", default=0,
                     help="-v: the run's lifecycle (start, plan steps, waits for the rate-limit window, "
                          "retries, finish with the numbers) and one line per failed record; -vv: every request")
    log.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="json: every line on stderr is one JSON object, for log collectors (no progress "
                          "line); the summary goes to stdout")
    log.add_argument("--config", default=None, metavar="FILE.toml",
                     help="config file (default $IMPORTER_CONFIG, else ./importer.toml if present)")


def _add_saft(p: argparse.ArgumentParser) -> None:
    saft = p.add_argument_group("SAF-T input (a .xml file: --entity customer, invoice or credit-note)")
    saft.add_argument("--saft-text", default=None, metavar="TEXT",
                      help="text of the opening-balance documents (default \"Opening balance <period end>\")")
    saft.add_argument("--saft-item", default=None, metavar="ITEM", help="inventory item of their line")
    saft.add_argument("--saft-account", default=None, metavar="ACCOUNT", help="account of their line")
    saft.add_argument("--saft-period", default=None, metavar="YYYYMM",
                      help="their financial period (default: the month of the file's period end)")
    saft.add_argument("--saft-allow-unbalanced", action="store_true", default=None,
                      help="send the balance of a customer whose opening balance and movements do not add up "
                           "to its closing balance in the file (default: reported, not sent)")
    _add_saft_documents(saft)


def _add_saft_documents(group: Any) -> None:
    group.add_argument("--saft-documents", choices=("balances", "invoices"), default=None,
                       help="invoices and credit notes: balances (default) is one document per customer; "
                            "invoices is each open invoice of SourceDocuments/SalesInvoices with its lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="importer",
        description="Batch importer for the Visma.net ERP customer ledger.",
    )
    parser.add_argument("--version", action="version", version=f"importer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="import a file", description="Import a CSV or NDJSON file.")
    run.add_argument("input", help="CSV or NDJSON file (.gz decompressed), or - for stdin")
    run.add_argument("--entity", "-e", default=None, choices=list(ENTITIES),
                     help="what the file holds (default: the entity its --map names)")
    _add_behaviour(run)
    _add_connection(run)
    _add_speed(run)
    _add_input(run)
    _add_state(run, per_file=True)
    _add_saft(run)
    _add_output(run)

    plan = sub.add_parser("plan", help="run a migration plan (TOML): ordered steps",
                          description="Run the steps of a plan file in order.")
    plan.add_argument("plan", help="plan file (TOML)")
    _add_connection(plan)
    _add_state(plan, per_file=False)
    _add_output(plan)

    from importer.cli_fleet import add_fleet_parser

    add_fleet_parser(sub)

    export = sub.add_parser("export", help="stream what the API holds to NDJSON or CSV",
                            description="Export records, flat in the import's column convention.")
    export.add_argument("--entity", "-e", default=None, choices=[e for e in ENTITIES if not ENTITIES[e].is_action],
                        help="what to export (default: the entity its --map names)")
    export.add_argument("--output", "-o", default="-", help="file (.gz compressed) or - for stdout (default)")
    export.add_argument("--format", choices=("csv", "ndjson"), default=None,
                        help="default: by the output's extension (required for stdout)")
    export.add_argument("--delimiter", default=None, type=_delimiter,
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
    filters = export.add_argument_group("filters")
    filters.add_argument("--last-modified", metavar="COND DATE", default=None,
                         help="e.g. '>=2020-01-14' or '<2020-01-14 13:13:13' (conditions > < >= <=)")
    filters.add_argument("--created", metavar="COND DATE", default=None, help="createdDateTime, as --last-modified")
    filters.add_argument("--status", default=None, help="e.g. balanced, open; customers: active, onhold")
    documents = export.add_argument_group("filters for invoices, credit notes and debit notes")
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
    customers = export.add_argument_group("filters for customers")
    customers.add_argument("--name", default=None)
    customers.add_argument("--corporate-id", default=None)
    customers.add_argument("--vat-registration-id", default=None)
    customers.add_argument("--email", default=None)
    customers.add_argument("--phone", default=None)
    _add_connection(export, sandbox=False)
    _add_speed(export)
    _add_output(export)

    verify = sub.add_parser("verify", help="compare a file with what the API holds",
                            description="Report records of INPUT missing from the API, or with fields that differ.")
    verify.add_argument("input", help="the file that was imported")
    verify.add_argument("--entity", "-e", default=None, choices=[e for e in ENTITIES if not ENTITIES[e].is_action],
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
    _add_connection(verify, sandbox=False)
    _add_speed(verify)
    _add_input(verify)  # --map reads a legacy file as run --map would
    _add_output(verify)

    _add_reconcile_parser(sub)

    _add_columns_and_map_parsers(sub)

    report = sub.add_parser("report", help="what results files say: outcomes, reasons, calls, timing",
                            description="Report on results files, or a plan's --results-dir.")
    report.add_argument("results", nargs="+", metavar="RESULTS", help="results file(s) or folder(s)")
    report.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (default text)")
    report.add_argument("--html", metavar="FILE", default=None,
                        help="also write a self-contained HTML page with charts")
    report.add_argument("--csv", metavar="FILE", default=None,
                        help="also write the tables as CSV: steps to FILE, reasons to FILE.reasons.csv")
    report.add_argument("--excel", action="store_true",
                        help="with --csv: UTF-8 with BOM, ';', decimal comma, CRLF, as a spreadsheet reads it")

    from importer.sandbox import add_arguments

    sandbox = sub.add_parser("sandbox", help="serve the local sandbox API",
                             description="Serve a local simulation of the customer-ledger API.")
    add_arguments(sandbox)
    return parser


# -- configuration: environment and config file under the command line ----------------------


def _config_path(argv: list[str]) -> str | None:
    """The config file this command line reads, if any (an input: no output may overwrite it)."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--config")
    known, _ = probe.parse_known_args(argv)
    path = known.config or os.environ.get("IMPORTER_CONFIG")
    if path is None and Path("importer.toml").exists():
        return "importer.toml"
    return path


def _config_file(argv: list[str]) -> dict[str, Any]:
    path = _config_path(argv)
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return {key.replace("-", "_"): value for key, value in data.items()}


def _apply_defaults(parser: argparse.ArgumentParser, config: dict[str, Any]) -> None:
    """Set each subcommand's defaults from the environment, else the config file."""
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        if name in _NO_CONFIG:
            continue
        defaults: dict[str, Any] = {}
        for action in sub._actions:
            dest = action.dest
            if not action.option_strings or dest in ("help", "config"):
                continue
            env = _VISMA_ENV.get(dest, f"IMPORTER_{dest.upper()}")
            if env in os.environ:
                defaults[dest] = _from_text(action, os.environ[env], env)
            elif dest in config:
                defaults[dest] = config[dest]
        sub.set_defaults(**defaults)
    secret = set(config) & _SECRET
    if secret:
        raise ConfigError(f"config file: {', '.join(sorted(secret))} may not be kept in a file; "
                          "use the environment (VISMA_TOKEN) or the command line")
    unknown = set(config) - _known_dests(subparsers)
    if unknown:
        raise ConfigError(f"config file: unknown setting(s) {', '.join(sorted(unknown))}")


def _known_dests(subparsers: argparse._SubParsersAction) -> set[str]:
    """The settings a config file may hold: the flags of the commands that read it."""
    return {a.dest for name, sub in subparsers.choices.items() if name not in _NO_CONFIG
            for a in sub._actions if a.option_strings}


def _from_text(action: argparse.Action, text: str, env: str) -> Any:
    if isinstance(action, argparse._StoreTrueAction | argparse.BooleanOptionalAction):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(action, argparse._CountAction):
        return int(text)
    if action.type is not None:
        try:
            return action.type(text)  # type: ignore[misc,operator]
        except (ValueError, argparse.ArgumentTypeError):
            raise ConfigError(f"{env}={text!r} is not a valid value") from None
    if action.choices is not None and text not in action.choices:
        raise ConfigError(f"{env}={text!r}: expected one of {', '.join(map(str, action.choices))}")
    return text


# -- commands ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        _apply_defaults(parser, _config_file(argv))
    except ConfigError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    if args.command in ("columns", "map"):
        return _columns(args) if args.command == "columns" else _map_init(args)
    if args.command == "report":
        return _results_report(args)
    if args.command == "sandbox":
        from importer.sandbox import main as sandbox_main

        return sandbox_main(argv[argv.index("sandbox") + 1:])
    setup_logging(args.verbose, args.log_format)
    from importer.cli_fleet import fleet_command

    command = {"run": _run, "plan": _plan, "fleet": fleet_command, "export": _export, "verify": _verify,
               "reconcile": _reconcile}[args.command]
    try:
        try:
            code = anyio.run(command, args, argv, backend_options=event_loop_options())
        except BaseExceptionGroup as group:  # a task's error, raised through its task group
            raise _single(group) from None
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except (ConfigError, AuthError) as exc:
        tell(f"importer: error: {exc}")
        return EXIT_USAGE
    except ImporterError as exc:
        tell(f"importer: error: {exc}")
        return EXIT_FAILED
    except Exception as exc:  # a bug of ours: one line, not a traceback (-vv logs it whole)
        logging.getLogger("importer").debug("internal error", exc_info=True)
        tell(f"importer: internal error: {type(exc).__name__}: {exc}; please report it with the "
             "command that caused it")
        return EXIT_FAILED
    return code


def _results_report(args: argparse.Namespace) -> int:
    """``importer report``: reads results files only; sends nothing."""
    from importer.report.build import build_report, results_files
    from importer.report.csv import reasons_csv_path, write_csv
    from importer.report.text import render_text

    try:
        if args.excel and not args.csv:
            raise ConfigError("--excel is the layout of the --csv files; add --csv FILE")
        files = results_files(args.results)
        if args.html or args.csv:
            from importer.outputs import check_outputs

            csv_paths = {"--csv": Path(args.csv), "--csv (reasons)": Path(reasons_csv_path(args.csv))} if args.csv else {}
            check_outputs({f"results file #{i}": p for i, p in enumerate(files, 1)},
                          {"--html": Path(args.html) if args.html else None, **csv_paths})
        report = build_report(args.results)  # folders kept: a fleet names its steps by company
        if args.html:
            from importer.report.html import write_html

            write_html(report, args.html)
        written = write_csv(report, args.csv, excel=args.excel) if args.csv else []
    except ImporterError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a folder it may not list, say
        print(f"importer: error: cannot read {exc.filename or 'the results'}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_text(report, width=_console(sys.stdout).width))
    if args.html:
        print(f"html report: {args.html}", file=sys.stderr if args.format == "json" else sys.stdout)
    for path in written:
        print(f"csv: {path}", file=sys.stderr if args.format == "json" else sys.stdout)
    return EXIT_OK


def _single(group: BaseExceptionGroup) -> BaseException:
    """The one error inside nested exception groups (the first, if there are several)."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """Where to send and as whom; None where the flag was not given."""
    return dict(
        base_url=args.base_url,
        token=args.token,
        client_id=os.environ.get("VISMA_CLIENT_ID"),
        client_secret=os.environ.get("VISMA_CLIENT_SECRET"),
        tenant_id=os.environ.get("VISMA_TENANT_ID"),
        token_url=args.token_url,
    )


def _common_options(args: argparse.Namespace) -> dict[str, Any]:
    """Options the run and plan commands share: connection and state."""
    return dict(
        **_connection_options(args),
        resume=args.resume,
        restart=args.restart,
        retry_failed=args.retry_failed,
        fsync=args.fsync,
        dry_run=args.dry_run,
    )


async def _with_sandbox(stack: AsyncExitStack, args: argparse.Namespace, options: dict[str, Any]) -> None:
    if args.sandbox_profile != "standard" and not args.sandbox:
        raise ConfigError("--sandbox-profile needs --sandbox (for a sandbox of your own: importer sandbox --profile)")
    if args.sandbox:
        from importer.sandbox import SandboxConfig, serve

        config = SandboxConfig(profile=args.sandbox_profile)
        running = await stack.enter_async_context(serve(config))
        options.update(base_url=running.url, token=config.static_token, client_id=None, client_secret=None)


async def _run(args: argparse.Namespace, argv: list[str]) -> int:
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own; before any socket
    options = _common_options(args)
    options.update(
        mode=args.mode, concurrency=args.concurrency, rate=args.rate, timeout=args.timeout,
        max_attempts=args.max_attempts, format=args.format,
        delimiter=args.delimiter,
        encoding=args.encoding, decimal_comma=args.decimal_comma, date_format=args.date_format,
        max_field_size=args.max_field_size,
        results=args.results, failed=args.failed, release=args.release,
        background=args.background, map=args.map, set_external_reference=args.set_external_reference,
        saft_text=args.saft_text, saft_item=args.saft_item, saft_account=args.saft_account,
        saft_period=args.saft_period, saft_allow_unbalanced=args.saft_allow_unbalanced,
        saft_documents=args.saft_documents,
    )
    options = {k: v for k, v in options.items() if v is not None}  # None: the option's default
    from importer.api import default_results_path
    from importer.outputs import check_outputs

    # Every file the run reads is an input, and is never written (before anything is opened).
    results = args.results or (default_results_path(args.input, args.dry_run) if args.input != "-" else None)
    check_outputs({"input": args.input, "--map": args.map, "config": _config_path(argv)},
                  {"--results": results, "--failed": args.failed, "--summary-json": args.summary_json})
    async with AsyncExitStack() as stack:
        await _with_sandbox(stack, args, options)
        summary = await import_records(  # JSON logs: no progress line among them
            args.input, entity=args.entity, handle_signals=True, progress=not json_lines(), **options
        )
    _report([summary], args, argv)
    return summary.exit_code


async def _plan(args: argparse.Namespace, argv: list[str]) -> int:
    from importer.plans.plan import load_plan, run_plan

    plan = load_plan(args.plan)
    overrides = {k: v for k, v in _common_options(args).items() if v not in (None, False)}
    _check_plan_outputs(plan, args, argv, overrides)
    async with AsyncExitStack() as stack:
        await _with_sandbox(stack, args, overrides)
        done = await run_plan(
            plan, overrides=overrides, results_dir=args.results_dir,
            handle_signals=True, progress=not json_lines(),
        )
    summaries = [summary for _, summary in done]
    _report(summaries, args, argv, names=[step.name for step, _ in done])
    if len(done) < len(plan.steps):
        tell(f"{len(plan.steps) - len(done)} step(s) not run.", logging.WARNING)
    codes = [s.exit_code for s in summaries]
    return 130 if 130 in codes else max(codes, default=0)


def _check_plan_outputs(plan: Any, args: argparse.Namespace, argv: list[str], overrides: dict[str, Any]) -> None:
    """No step's results or failed-records file, nor --summary-json, is the plan, the config,
    an input or a map of any step: checked before any step runs."""
    from importer.api import default_results_path
    from importer.outputs import check_outputs
    from importer.plans.plan import _outputs

    inputs: dict[str, Any] = {"plan": args.plan, "config": _config_path(argv)}
    outputs: dict[str, Any] = {"--summary-json": args.summary_json}
    chosen = _outputs(plan, overrides, args.results_dir)
    for step, options in zip(plan.steps, chosen, strict=True):
        inputs[f"input of step {step.name!r}"] = step.input
        inputs[f"map of step {step.name!r}"] = options.get("map")
        outputs[f"results of step {step.name!r}"] = options.get("results") or default_results_path(
            step.input, bool(options.get("dry_run")))
        outputs[f"failed-records file of step {step.name!r}"] = options.get("failed")
    check_outputs(inputs, outputs)


async def _client_for(args: argparse.Namespace, stack: AsyncExitStack) -> Any:
    """An open ApiClient from the connection and speed flags."""
    from importer.api import build_client
    from importer.options import ImportOptions

    options = {k: v for k, v in _connection_options(args).items() if v is not None}
    opts = ImportOptions(entity=args.entity, concurrency=args.concurrency, rate=args.rate,
                         timeout=args.timeout, max_attempts=args.max_attempts, **options)
    client = await stack.enter_async_context(build_client(opts))
    await client.authenticate()
    return client


async def _export(args: argparse.Namespace, argv: list[str]) -> int:
    from importer.ledger.export import ExportFilters, export_records

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
    async with AsyncExitStack() as stack:
        client = await _client_for(args, stack)
        out: Any = sys.stdout.buffer if args.output == "-" else args.output
        summary = await export_records(
            client, args.entity, out, format=args.format, filters=filters, page_size=args.page_size,
            columns="all" if args.all_columns else "seen", delimiter=args.delimiter, map=args.map,
            excel=args.excel,
        )
    if args.output == "-" and json_lines():  # stdout holds the data, stderr only JSON lines: the table as one
        tell(f"export {args.entity} finished: {summary.records:,} records, {summary.rows:,} rows, "
             f"{summary.calls:,} calls", logging.INFO if summary.ok else logging.WARNING,
             event="export finished", **summary.to_dict())
    else:
        _print_fields(f"export {args.entity}", summary.to_dict(), sys.stderr if args.output == "-" else sys.stdout)
    return summary.exit_code


async def _verify(args: argparse.Namespace, argv: list[str]) -> int:
    from importer.ledger.verify import verify_records
    from importer.sources import SourceOptions

    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own
    report = _report_path(args)  # before connecting: a mistake costs no call
    if args.summary_json:
        from importer.outputs import check_outputs

        check_outputs({"input": args.input}, {"--report": report, "--summary-json": args.summary_json})
    async with AsyncExitStack() as stack:
        client = await _client_for(args, stack)
        summary = await verify_records(
            client, args.input, args.entity, report,
            source_options=SourceOptions(args.format, args.delimiter, args.max_field_size, args.encoding),
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


def _print_verify(summary: Any, shown: int, stream: Any) -> None:
    """Counts per status, then the first differences as rows; the report holds them all."""
    from rich.table import Table
    from rich.text import Text

    from importer.ledger.differences import first_differences
    from importer.outputs import printable

    console = _console(stream)
    counts = Table(title=f"verify {summary.entity} — {summary.input}", show_header=False, box=None)
    counts.add_column("what", no_wrap=True)
    counts.add_column("value", overflow="fold")
    rows = [(status, f"{n:,}") for status, n in summary.counts.items() if n or status == "ok"]
    rows += [("records read", f"{summary.records:,}"),
             ("API calls", f"{summary.calls:,} ({summary.strategy}, {summary.calls_per_record:.2f} per record)"),
             ("elapsed", f"{summary.elapsed:.1f} s"), ("report", summary.report_path or "-")]
    if summary.unchecked:
        rows.append(("not compared", ", ".join(f"{c} ({n:,})" for c, n in summary.unchecked.items())))
    if summary.error:
        rows.append(("error", summary.error))
    for name, value in rows:
        counts.add_row(name, Text(printable(value)))  # Text: a value's [brackets] are not markup
    console.print(counts)
    if summary.report_path is None or summary.ok:
        return
    found, total = first_differences(summary.report_path, shown)
    if found:
        table = Table(title=f"first {len(found)} of {total:,} differences")
        for column in ("record", "field", "file", "ledger"):
            table.add_column(column, overflow="fold")
        for row in found:
            table.add_row(*(Text(printable(cell)) for cell in row))
        console.print(table)
    if total > len(found):
        print(f"{total - len(found):,} more in {summary.report_path}", file=stream)


def _report_path(args: argparse.Namespace) -> str:
    from importer.ledger.verify import default_report_path

    if args.report:
        return str(args.report)
    if args.input == "-":
        raise ConfigError("verifying stdin needs --report PATH: the comparison goes there")
    return default_report_path(args.input)


def _add_reconcile_parser(sub: Any) -> None:
    """``importer reconcile``: its own input flags, as ``--format`` is the output's here."""
    p = sub.add_parser("reconcile", help="control totals: counts and sums of the file against the ledger",
                       description="Count and sum the documents of INPUT (per currency and customer) or "
                                   "its customers' credit limits, against what the ledger holds.")
    p.add_argument("input", help="the file that was imported")
    p.add_argument("--entity", "-e", default=None, choices=[e for e in ENTITIES if not ENTITIES[e].is_action],
                   help="what the file holds (default: the entity its --map names)")
    p.add_argument("--csv", "-o", metavar="OUT.csv", default=None, help="also write the figures as CSV (UTF-8)")
    p.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                   help="stdout format (default text)")
    p.add_argument("--results", default=None, metavar="PATH",
                   help="the import's results file: the key the ledger gave each record and the reference set on each document (default INPUT.results.ndjson when it exists)")
    src = p.add_argument_group("input")
    src.add_argument("--input-format", choices=("csv", "ndjson"), default=None,
                     help="input format (default: by file extension)")
    src.add_argument("--delimiter", default=None, type=_delimiter, help="CSV delimiter (default: sniffed)")
    src.add_argument("--encoding", default=None, help="input encoding, e.g. cp1252 (default utf-8)")
    src.add_argument("--max-field-size", type=int, default=1 << 20, metavar="BYTES",
                     help="longest CSV field or input line read (default 1 MiB)")
    src.add_argument("--decimal-comma", action=argparse.BooleanOptionalAction, default=None,
                     help="read 1234,50 as a number (default: on when the delimiter is ;)")
    src.add_argument("--date-format", default=None, help="strptime layout of dates (default ISO 8601)")
    src.add_argument("--map", metavar="FILE.toml", default=None, help="mapping file the file was imported with")
    _add_saft_documents(src)
    _add_connection(p, sandbox=False)
    _add_speed(p)
    _add_output(p)


async def _reconcile(args: argparse.Namespace, argv: list[str]) -> int:
    from importer.ledger.reconcile import reconcile_totals
    from importer.ledger.sign_off import print_reconciliation, write_csv
    from importer.outputs import check_outputs
    from importer.saft.source import SaftSettings, SaftSourceOptions

    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own; before any call
    check_outputs({"input": args.input, "--map": args.map}, {"--csv": args.csv})
    async with AsyncExitStack() as stack:
        client = await _client_for(args, stack)
        result = await reconcile_totals(
            client, args.input, args.entity,
            # A SAF-T file counts every balance it states: one not sent shows as missing.
            source_options=SaftSourceOptions(args.input_format, args.delimiter, args.max_field_size, args.encoding,
                                             saft=SaftSettings(args.entity, allow_unbalanced=True,
                                                               documents=args.saft_documents or "balances")),
            decimal_comma=args.decimal_comma, date_format=args.date_format, map=args.map,
            results=args.results,
        )
    if args.csv:
        write_csv(result, args.csv)
    if args.output_format == "json":
        sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
    else:
        print_reconciliation(result, _console(sys.stdout))
        if args.csv:
            print(f"csv: {args.csv}")
    return result.exit_code


# -- reporting -----------------------------------------------------------------------------


def _report(summaries: list[Summary], args: argparse.Namespace, argv: list[str],
            names: list[str] | None = None) -> None:
    to_stdout = args.summary_json == "-"
    if args.summary_json:
        data: Any = summaries[0].to_dict() if names is None else [
            {"step": name, **s.to_dict()} for name, s in zip(names, summaries)
        ]
        write_summary_json(args.summary_json, data)
    stream = sys.stderr if to_stdout else sys.stdout
    if not (to_stdout and json_lines()):  # stdout and stderr both JSON: the finished log line tells
        if names is None:
            _print_summary(summaries[0], stream)
        else:
            _print_steps(names, summaries, stream)
        _print_short_report(summaries, stream)
    if any(s.unknown for s in summaries) and not any(s.interrupted or s.not_processed for s in summaries):
        again, secret = _without_secrets([a for a in argv if a not in ("--resume", "--restart")])
        hint = " (with the token again: --token or VISMA_TOKEN)" if secret else ""
        tell(f"Outcome unknown for {sum(s.unknown for s in summaries):,} records. Settle them with{hint}:\n"
             f"  importer {shlex.join([*again, '--resume'])}", logging.WARNING)
    if any(s.interrupted or s.api_down or s.halted or s.unrecorded or s.not_processed for s in summaries):
        again, secret = _without_secrets([a for a in argv if a not in ("--resume", "--restart")])
        again.append("--resume")
        if any(s.api_down or s.halted for s in summaries) and "--retry-failed" not in again:
            again.append("--retry-failed")  # the records that got no answer failed on the way
        hint = " (with the token again: --token or VISMA_TOKEN)" if secret else ""
        tell(f"Stopped. Resume with{hint}:\n  importer {shlex.join(again)}", logging.WARNING)


def write_summary_json(path: str, data: Any) -> None:
    """``--summary-json PATH``: the summary as indented JSON, to PATH or (``-``) stdout."""
    blob = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(blob)
        sys.stdout.flush()
    else:
        Path(path).write_bytes(blob)


def _print_short_report(summaries: list[Summary], stream: Any) -> None:
    """The report's short form after the summary, on the summary's stream.

    That is stdout, unless ``--summary-json -`` holds it: then stderr in text logs, and
    nothing with ``--log-format json`` (stdout is one JSON document and stderr JSON lines;
    ``importer report`` gives the same from the results files). A report that cannot be
    made costs the run nothing but a line saying why.
    """
    from importer.report.text import short_report

    paths = [s.results_path for s in summaries if s.results_path and os.path.isfile(s.results_path)]
    if not paths:
        return
    try:
        text = short_report(paths)
    except (ImporterError, OSError) as exc:
        tell(f"importer: no report: {exc}", logging.WARNING)
        return
    print(text, file=stream)


def _without_secrets(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` less ``--token VALUE`` / ``--token=VALUE``, and whether there was one."""
    kept: list[str] = []
    found = skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--token":
            found = skip = True
        elif arg.startswith("--token="):
            found = True
        else:
            kept.append(arg)
    return kept, found


def _console(stream: Any) -> Any:
    from rich.console import Console

    console = Console(file=stream)
    if not console.is_terminal:
        console.width = 200  # a log file or a pipe: keep each row on one line
    return console


def _print_steps(names: list[str], summaries: list[Summary], stream: Any) -> None:
    from rich.table import Table

    table = Table(title="plan")
    for column in ("step", "entity", "records", "ok", "failed", "invalid", "skipped",
                   "calls/record", "elapsed", "results"):
        table.add_column(column, overflow="fold")
    for name, s in zip(names, summaries):
        o = s.outcomes
        table.add_row(
            name, s.entity, f"{s.records:,}", f"{s.succeeded:,}",
            f"{o['failed']:,}", f"{o['invalid']:,}", f"{o['skipped']:,}",
            "-" if s.dry_run else f"{s.calls_per_record:.2f}", f"{s.elapsed:.1f} s", s.results_path or "-",
        )
    _console(stream).print(table)
    for s in summaries:
        if s.failed_path:
            print(f"failed records: {s.failed_path} (fix and import this file)", file=stream)
        if s.error:
            print(f"{s.input}: {s.error}", file=stream)


def _print_fields(title: str, data: dict[str, Any], stream: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from importer.outputs import printable

    table = Table(title=title, show_header=False, box=None)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in data.items():
        if value not in (None, [], {}, "") and value is not False:
            table.add_row(name.replace("_", " "), Text(printable(_field_text(value))))
    _console(stream).print(table)


def _field_text(value: Any) -> str:
    """A summary value as a person reads it: lists and counts by name as plain text, not JSON."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if value is True:
        return "yes"
    return str(value)


def _print_summary(summary: Summary, stream: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{summary.entity} — {summary.input}", show_header=False, box=None)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")  # paths are never cut short
    o = summary.outcomes
    rows = [
        ("records read", f"{summary.records:,}"),
        *((name, f"{count:,}") for name, count in o.items() if count),
    ]
    if summary.released or summary.release_failed or summary.release_queued:
        rows.append(("released", f"{summary.released:,} ({summary.release_failed:,} failed, "
                                 f"{summary.release_queued:,} still queued)"))
    if summary.already_done:
        rows.append(("already done (resume)", f"{summary.already_done:,}"))
    if summary.new or summary.changed or summary.gone:
        rows.append(("against the results file", f"{summary.new:,} new, {summary.changed:,} changed, "
                                                 f"{summary.gone:,} no longer in the input"))
    if summary.renumbered:
        rows.append(("renumbered", f"{summary.renumbered:,} documents got the company's own number, not the "
                                   "file's: the company numbers its documents itself; the results file "
                                   "keeps both (key, sent_key), and --release, verify, reconcile and "
                                   "--resume use the company's"))
    if summary.by_content:
        rows.append(("known by content", f"{summary.by_content:,} records have no key: a changed cell "
                                         "makes them another record"))
    if summary.not_processed:
        rows.append(("not processed (stopped)", f"{summary.not_processed:,}"))
    if summary.unrecorded:
        rows.append(("outcome not written", f"{summary.unrecorded:,} (a resume looks them up first)"))
    if summary.unknown:
        rows.append(("outcome unknown", f"{summary.unknown:,} {SETTLE_UNKNOWN}"))
    if not summary.dry_run:
        rows += [
            ("API calls", f"{summary.calls:,} ({summary.calls_per_record:.2f} per record)"),
            ("retries / 429s", f"{summary.retries:,} / {summary.throttled:,}"),
        ]
    rows += [
        ("elapsed", f"{summary.elapsed:.1f} s ({summary.records_per_second:,.0f} records/s)"),
        ("results", summary.results_path or "-"),
    ]
    if summary.failed_path:
        rows.append(("failed records", f"{summary.failed_path} (fix and import this file)"))
    if summary.error:
        rows.append(("error", summary.error))
    for name, value in rows:
        table.add_row(name, value)
    _console(stream).print(table)


# -- help that teaches: columns and map init -----------------------------------------------


def _add_columns_and_map_parsers(sub: Any) -> None:
    columns = sub.add_parser("columns", help="the columns an entity accepts: types, allowed values, formats",
                             description="Each API column of ENTITY with its type, allowed values, format, "
                                         "range and whether a create needs it.")
    columns.add_argument("entity", choices=list(ENTITIES))
    columns.add_argument("--format", choices=("text", "json"), default="text",
                         help="json: a list of objects, for tools (default text)")

    mapping = sub.add_parser("map", help="mapping files: map init writes one for a legacy export",
                             description="Work with mapping files (--map FILE.toml).")
    actions = mapping.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="write a commented skeleton map from a file's header and rows",
                              description="Match each column of INPUT to the likeliest API column, suggest "
                                          "formats and value maps from its rows, and write the map.")
    init.add_argument("input", help="the legacy CSV or NDJSON file")
    init.add_argument("--entity", "-e", required=True, choices=list(ENTITIES))
    init.add_argument("--output", "-o", metavar="MAP.toml", default=None,
                      help="where to write the map (default: stdout)")
    init.add_argument("--force", action="store_true", help="replace MAP.toml if it exists")
    init.add_argument("--format", choices=("csv", "ndjson"), default=None,
                      help="input format (default: by file extension)")
    init.add_argument("--delimiter", default=None, type=_delimiter,
                      help="CSV delimiter (default: sniffed among , ; TAB |)")
    init.add_argument("--encoding", default=None, help="input encoding, e.g. cp1252 (default utf-8)")


def _columns(args: argparse.Namespace) -> int:
    """``importer columns``: a table on a terminal, plain aligned text in a pipe, or JSON."""
    from importer.mapping.columns import column_details, describe_columns

    infos = describe_columns(entity(args.entity))
    if args.format == "json":
        sys.stdout.write(orjson.dumps([i.to_dict() for i in infos], option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    heading = ("column", "type", "required", "allowed values, format, range")
    rows = [(i.name, i.type, "yes" if i.required else "", column_details(i)) for i in infos]
    console = _console(sys.stdout)
    if console.is_terminal:
        from rich.table import Table

        table = Table(title=f"{args.entity} columns")
        for name in heading:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return EXIT_OK
    widths = [max(len(row[n]) for row in (heading, *rows)) for n in range(3)]
    for row in (heading, *rows):
        sys.stdout.write(("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3]).rstrip() + "\n")
    return EXIT_OK


def _map_init(args: argparse.Namespace) -> int:
    """``importer map init``: the skeleton to -o or stdout, what it found on stderr."""
    from importer.mapinit.skeleton import write_skeleton
    from importer.sources import SourceOptions

    try:
        skeleton, text = write_skeleton(
            args.input, entity(args.entity), args.output, force=args.force,
            options=SourceOptions(args.format, args.delimiter, encoding=args.encoding),
        )
    except ImporterError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.output is None:
        sys.stdout.write(text)
    unsure = sum(1 for g in skeleton.matched if not g.sure)
    todo = skeleton.todo_count
    unmatched = ", ".join(g.source for g in skeleton.unmatched)
    print(f"map init: {len(skeleton.matched)} of {len(skeleton.guesses)} columns matched"
          + (f" ({unsure} to check)" if unsure else "")
          + (f"; not matched, so ignored: {unmatched}" if unmatched else "")
          + (f"; {todo} TODO line(s) to decide" if todo else ""), file=sys.stderr)
    if args.output is not None:
        print(f"wrote {args.output}; rehearse it with: importer run {shlex.quote(args.input)} "
              f"--entity {args.entity} --map {shlex.quote(args.output)} --dry-run", file=sys.stderr)
    return EXIT_OK
