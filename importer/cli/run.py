"""``importer run INPUT``: one file into the ledger (see :func:`importer.import_records`)."""

from __future__ import annotations

import argparse
from contextlib import AsyncExitStack

from importer.api import default_results_path, import_records
from importer.cli.common import common_options, with_sandbox
from importer.cli.config import config_path
from importer.cli.printing import report_summaries
from importer.logs import json_lines
from importer.mapping.mapfile import resolve_entity
from importer.options import OPTION_NAMES
from importer.outputs import check_outputs

__all__ = ["run_command"]


async def run_command(args: argparse.Namespace, argv: list[str]) -> int:
    args.entity = resolve_entity(args.entity, args.map)  # --entity, else the map's own; before any socket
    options = common_options(args)
    # Every run option the command has a flag for, by the option's own name (importer.options).
    options.update({name: getattr(args, name) for name in OPTION_NAMES if hasattr(args, name)})
    options = {k: v for k, v in options.items() if v is not None}  # None: the option's default

    # Every file the run reads is an input, and is never written (before anything is opened).
    results = args.results or (default_results_path(args.input, args.dry_run) if args.input != "-" else None)
    check_outputs({"input": args.input, "--map": args.map, "config": config_path(argv)},
                  {"--results": results, "--failed": args.failed, "--summary-json": args.summary_json})
    async with AsyncExitStack() as stack:
        sandbox = await with_sandbox(stack, args, options)
        summary = await import_records(  # JSON logs: no progress line among them
            args.input, entity=args.entity, handle_signals=True, progress=not json_lines(),
            company=sandbox.company if sandbox is not None else None,  # its numbering decides the default
            **options,
        )
    report_summaries([summary], args, argv)
    return summary.exit_code
