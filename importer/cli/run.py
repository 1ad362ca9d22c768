"""``importer run INPUT``: one file into the ledger (see :func:`importer.import_records`)."""

from __future__ import annotations

import argparse
from contextlib import AsyncExitStack
from typing import Any

from importer.api import CompanyReader, default_results_path, import_records
from importer.cli.common import common_options, monitor_for, with_sandbox
from importer.cli.config import config_path
from importer.cli.printing import report_summaries
from importer.company import Company
from importer.ledger.run_company import company_for_run
from importer.logs import json_lines
from importer.mapping.mapfile import resolve_entity
from importer.options import OPTION_NAMES, ImportOptions
from importer.outputs import check_outputs

__all__ = ["run_command", "run_company"]


def run_company(args: argparse.Namespace, options: dict[str, Any], sandbox: Company | None) -> Company | CompanyReader | None:
    """What a run checks against (``--company``): a file or none the run loads itself; with
    ``--sandbox`` the sandbox's company; else the live company, read once the run goes ahead
    (or kept beside its results: :mod:`importer.ledger.run_company`)."""
    chosen = options.get("preflight_company")
    if chosen is not None and chosen != "live":
        return sandbox  # numbers by the sandbox's, if any; the file (or none) is for the run to load
    if args.sandbox and chosen is None:
        return sandbox
    options.pop("preflight_company", None)

    async def read(opts: ImportOptions, results: str | None) -> tuple[Company | None, str, int]:
        live = opts.with_(results=None) if not opts.state.dry_run else opts
        kept = default_results_path(args.input) if opts.state.dry_run and args.input != "-" and not args.results \
            else results
        found = await company_for_run(live, kept)
        return found.company, found.source, found.calls

    return read


async def run_command(args: argparse.Namespace, argv: list[str]) -> int:
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own; before any socket
    options = common_options(args)
    # Every run option the command has a flag for, by the option's own name (importer.options).
    options.update({name: getattr(args, name) for name in OPTION_NAMES if hasattr(args, name)})
    options = {k: v for k, v in options.items() if v is not None}  # None: the option's default

    # Every file the run reads is an input, and is never written (before anything is opened).
    results = args.results or (default_results_path(args.input, args.dry_run) if args.input != "-" else None)
    check_outputs({"input": args.input, "--map": args.map, "config": config_path(argv)},
                  {"--results": results, "--failed": args.failed, "--summary-json": args.summary_json,
                   "--metrics-file": args.metrics_file})
    checks = args.preflight_company
    if args.sandbox and checks != "live":
        args.sandbox_company = checks  # one --company: the sandbox's, and what the records are checked against
    async with AsyncExitStack() as stack:
        sandbox = await with_sandbox(stack, args, options, results=results)
        company = run_company(args, options, sandbox.company if sandbox is not None else None)
        await stack.enter_async_context(monitor_for(args))  # closed first: its last write counts everything
        summary = await import_records(  # JSON logs: no progress line among them
            args.input, entity=args.entity, handle_signals=True, progress=not json_lines(),
            company=company,  # checked against, and its numbering decides the default
            **options,
        )
    report_summaries([summary], args, argv)
    return summary.exit_code
