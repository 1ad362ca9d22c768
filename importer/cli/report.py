"""``importer report RESULTS...``: what results files say (see :mod:`importer.report.build`).

It reads results files only and sends nothing: text or JSON on stdout, and on request a
self-contained HTML page and CSV tables. A mistake is one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from importer.cli.exits import EXIT_OK, EXIT_USAGE
from importer.cli.printing import console
from importer.errors import ConfigError, ImporterError
from importer.outputs import check_outputs
from importer.report.build import build_report, results_files
from importer.report.csv import reasons_csv_path, write_csv
from importer.report.html import write_html
from importer.report.text import render_text

__all__ = ["report_command"]


def report_command(args: argparse.Namespace) -> int:
    try:
        if args.excel and not args.csv:
            raise ConfigError("--excel is the layout of the --csv files; add --csv FILE")
        files = results_files(args.results)
        if args.html or args.csv:
            csv_paths = {"--csv": Path(args.csv), "--csv (reasons)": Path(reasons_csv_path(args.csv))} if args.csv else {}
            check_outputs({f"results file #{i}": p for i, p in enumerate(files, 1)},
                          {"--html": Path(args.html) if args.html else None, **csv_paths})
        report = build_report(args.results)  # folders kept: a fleet names its steps by company
        if args.html:
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
        sys.stdout.write(render_text(report, width=console(sys.stdout).width))
    if args.html:
        print(f"html report: {args.html}", file=sys.stderr if args.format == "json" else sys.stdout)
    for path in written:
        print(f"csv: {path}", file=sys.stderr if args.format == "json" else sys.stdout)
    return EXIT_OK
