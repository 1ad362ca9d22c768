"""``importer`` on the command line: a thin layer over :func:`importer.import_records`.

Exit codes: 0 every record succeeded; 1 some failed or were invalid; 2 usage or
configuration error, nothing sent; 130 interrupted (the results file is resumable).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from contextlib import AsyncExitStack
from typing import Any

import anyio
import orjson

from importer import __version__
from importer.api import _backend_options, import_records
from importer.entities import ENTITIES, entity
from importer.errors import AuthError, ConfigError, ImporterError
from importer.mapping import valid_columns
from importer.options import DEFAULT_BASE_URL, MODES
from importer.summary import Summary

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(name, default)


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="CSV or NDJSON file (.gz decompressed), or - for stdin")
    p.add_argument("--entity", "-e", required=True, choices=list(ENTITIES))
    p.add_argument("--mode", choices=MODES, default=_env("IMPORTER_MODE", "create"),
                   help="create: POST each record; update: PUT each by its key; upsert: PUT when the "
                        "key exists, else POST (keys prefetched in pages) (default: create)")
    p.add_argument("--release", action="store_true",
                   help="release each invoice, credit note or debit note after it is created or updated")
    p.add_argument("--background", action="store_true",
                   help="queue each request with erp-api-background and poll until it is done "
                        "(for requests the API takes minutes over)")
    conn = p.add_argument_group("connection")
    conn.add_argument("--base-url", default=_env("VISMA_BASE_URL", DEFAULT_BASE_URL),
                      help="everything before /v1 (env VISMA_BASE_URL; default %(default)s)")
    conn.add_argument("--token", default=None,
                      help="Bearer token (env VISMA_TOKEN); else client credentials from "
                           "VISMA_CLIENT_ID, VISMA_CLIENT_SECRET, VISMA_TENANT_ID")
    conn.add_argument("--token-url", default=None, help="token endpoint (env VISMA_TOKEN_URL)")
    conn.add_argument("--sandbox", action="store_true",
                      help="start the embedded sandbox in this process and import into it")
    speed = p.add_argument_group("speed")
    speed.add_argument("--concurrency", "-c", type=int, default=int(_env("IMPORTER_CONCURRENCY", 32)),
                       help="requests in flight (default %(default)s)")
    speed.add_argument("--rate", type=_positive_float, default=_env("IMPORTER_RATE"),
                       help="ceiling in requests per second; the API's own headers pace the run anyway")
    speed.add_argument("--timeout", type=_positive_float, default=float(_env("IMPORTER_TIMEOUT", 60)),
                       help="seconds one request may take (default %(default)s)")
    speed.add_argument("--max-attempts", type=int, default=int(_env("IMPORTER_MAX_ATTEMPTS", 5)),
                       help="tries per record for network errors and 5xx (default %(default)s)")
    src = p.add_argument_group("input")
    src.add_argument("--format", choices=("csv", "ndjson"), default=_env("IMPORTER_FORMAT"),
                     help="input format (default: by file extension)")
    src.add_argument("--delimiter", default=_env("IMPORTER_DELIMITER"),
                     help="CSV delimiter (default: sniffed among , ; TAB |); use \\t for TAB")
    src.add_argument("--encoding", default=_env("IMPORTER_ENCODING", "utf-8"),
                     help="input encoding, e.g. cp1252 or latin-1 (default utf-8, BOM or not)")
    src.add_argument("--decimal-comma", action=argparse.BooleanOptionalAction, default=None,
                     help="read 1234,50 as a number (default: on when the delimiter is ;)")
    src.add_argument("--date-format", default=_env("IMPORTER_DATE_FORMAT"),
                     help="strptime layout of dates, e.g. %%d.%%m.%%Y (default ISO 8601)")
    out = p.add_argument_group("results")
    out.add_argument("--results", "-o", default=_env("IMPORTER_RESULTS"),
                     help="results file (default INPUT.results.ndjson)")
    out.add_argument("--failed", metavar="PATH",
                     help="failed-records file: the failed rows with an error column, to fix and "
                          "import again (default INPUT.failed.csv, or .ndjson for NDJSON input)")
    out.add_argument("--resume", action="store_true",
                     help="continue a run: skip records the results file has finished")
    out.add_argument("--retry-failed", action="store_true",
                     help="with --resume, send the failed records again")
    out.add_argument("--fsync", action="store_true",
                     help="force every results line to disk (survives power loss; slower)")
    out.add_argument("--dry-run", action="store_true",
                     help="map and validate everything, write the payloads to INPUT.dry-run.ndjson, send nothing")
    out.add_argument("--summary-json", metavar="PATH",
                     help="write the summary as JSON to PATH (- for stdout)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="importer",
        description="Batch importer for the Visma.net ERP customer ledger.",
    )
    parser.add_argument("--version", action="version", version=f"importer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="import a file", description="Import a CSV or NDJSON file.")
    _add_run_arguments(run)
    columns = sub.add_parser("columns", help="list the columns an entity accepts")
    columns.add_argument("entity", choices=list(ENTITIES))
    from importer.sandbox import add_arguments

    sandbox = sub.add_parser("sandbox", help="serve the local sandbox API",
                             description="Serve a local simulation of the customer-ledger API.")
    add_arguments(sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "columns":
        print("\n".join(valid_columns(entity(args.entity))))
        return EXIT_OK
    if args.command == "sandbox":
        from importer.sandbox import main as sandbox_main

        return sandbox_main(argv[argv.index("sandbox") + 1:])
    try:
        summary = anyio.run(_run, args, backend_options=_backend_options())
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except (ConfigError, AuthError) as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ImporterError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _report(summary, args, argv)
    return summary.exit_code


async def _run(args: argparse.Namespace) -> Summary:
    options: dict[str, Any] = dict(
        mode=args.mode, base_url=args.base_url, concurrency=args.concurrency,
        rate=float(args.rate) if args.rate else None, timeout=args.timeout,
        max_attempts=args.max_attempts, format=args.format,
        delimiter="\t" if args.delimiter in ("\\t", "TAB", "tab") else args.delimiter,
        encoding=args.encoding, decimal_comma=args.decimal_comma, date_format=args.date_format,
        results=args.results, resume=args.resume or args.retry_failed,
        retry_failed=args.retry_failed, fsync=args.fsync, dry_run=args.dry_run,
        release=args.release, background=args.background, failed=args.failed,
        token=args.token or _env("VISMA_TOKEN"),
        client_id=_env("VISMA_CLIENT_ID"), client_secret=_env("VISMA_CLIENT_SECRET"),
        tenant_id=_env("VISMA_TENANT_ID"), token_url=args.token_url or _env("VISMA_TOKEN_URL"),
    )
    async with AsyncExitStack() as stack:
        if args.sandbox:
            from importer.sandbox import SandboxConfig, serve

            running = await stack.enter_async_context(serve(SandboxConfig()))
            options.update(base_url=running.url, token=SandboxConfig().static_token,
                           client_id=None, client_secret=None)
        return await import_records(
            args.input, entity=args.entity, handle_signals=True, progress=True, **options
        )
    raise AssertionError("unreachable")


def _report(summary: Summary, args: argparse.Namespace, argv: list[str]) -> None:
    data = summary.to_dict()
    to_stdout = args.summary_json == "-"
    if args.summary_json:
        blob = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
        if to_stdout:
            sys.stdout.buffer.write(blob)
            sys.stdout.flush()
        else:
            with open(args.summary_json, "wb") as f:
                f.write(blob)
    _print_summary(summary, sys.stderr if to_stdout else sys.stdout)
    if summary.interrupted or summary.api_down:
        again = [a for a in argv if a not in ("--resume", "--retry-failed")]
        again.append("--resume")
        if summary.api_down:
            again.append("--retry-failed")  # the records that got no answer failed on the way
        print(f"Stopped. Resume with:\n  importer {shlex.join(again)}", file=sys.stderr)


def _print_summary(summary: Summary, stream: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary.entity} — {summary.input}", show_header=False, box=None)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")  # paths are never cut short
    o = summary.outcomes
    rows = [
        ("records read", f"{summary.records:,}"),
        *((name, f"{count:,}") for name, count in o.items() if count),
    ]
    if summary.released or summary.release_failed:
        rows.append(("released", f"{summary.released:,} ({summary.release_failed:,} failed)"))
    if summary.already_done:
        rows.append(("already done (resume)", f"{summary.already_done:,}"))
    if summary.not_processed:
        rows.append(("not processed (stopped)", f"{summary.not_processed:,}"))
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
    console = Console(file=stream)
    if not console.is_terminal:
        console.width = 200  # a log file or a pipe: keep each row on one line
    console.print(table)
