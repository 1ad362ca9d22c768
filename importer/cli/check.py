"""``importer check INPUT``: every record checked against the company, nothing sent.

Maps the file as ``importer run`` would (``--map``, the input flags) and checks each record
against the company (:mod:`importer.load.preflight`): a snapshot (``--company FILE``), the
live company (``--company live``, or by default when a connection is given: read-only
calls), or the sandbox's (``--sandbox``). Documents' customers are checked against the
ledger when there is one to ask. Problems are printed grouped by column and value, each with
how many records it is on and the first of them: a wrong map is one line, not 3,000.

Exit 0 when the company would take every record, 1 when not, 2 when the check itself
could not be made (no company, an unreadable file).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import Any

from importer.api import build_client, mapped_work
from importer.cli.common import EXIT_FAILED, EXIT_OK, connection_options, with_sandbox
from importer.cli.config import config_path
from importer.client import ApiClient
from importer.company import Company, load_company
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.ledger.company import read_company
from importer.load.preflight import Preflight, Scan, scan
from importer.mapping.mapfile import resolve_entity
from importer.options import ImportOptions, InputFormat
from importer.outputs import check_outputs

__all__ = ["check_command"]


async def check_command(args: argparse.Namespace, argv: list[str]) -> int:
    args.entity = resolve_entity(args.entity, args.map)
    check_outputs({"input": args.input, "--map": args.map, "config": config_path(argv)}, {})
    chosen = args.preflight_company
    if chosen is not None and chosen.casefold() == "none":
        raise ConfigError("importer check checks against a company: --company FILE, --company live or --sandbox")
    if args.sandbox and chosen != "live":
        args.sandbox_company = chosen
    options = {k: v for k, v in connection_options(args).items() if v is not None}
    form = {f.name: getattr(args, f.name) for f in fields(InputFormat)}
    async with AsyncExitStack() as stack:
        sandbox = await with_sandbox(stack, args, options)
        opts = ImportOptions(args.entity, mode=args.mode, input=InputFormat(**form), concurrency=1,
                             timeout=args.timeout, max_attempts=args.max_attempts, **options)
        client = None
        if chosen == "live" or sandbox is not None or (chosen is None and _has_credentials(options)):
            client = await stack.enter_async_context(build_client(opts, read_only=True))
            await client.authenticate()
        company = await _company(chosen, client, sandbox.company if sandbox is not None else None)
        preflight = Preflight(company, ENTITIES[opts.entity], opts.mode)
        found = await scan(mapped_work(args.input, opts, on_bound=preflight.bind, thousands=True), preflight, client)
    _print(found, company, args.input, ledger=preflight.ledger is not None or not ENTITIES[opts.entity].is_document)
    return EXIT_OK if found.clean else EXIT_FAILED


def _has_credentials(options: dict[str, Any]) -> bool:
    return bool(options.get("token") or (options.get("client_id") and options.get("client_secret")))


async def _company(chosen: str | None, client: ApiClient | None, sandbox: Company | None) -> Company:
    if chosen is not None and chosen != "live":
        return load_company(chosen)
    if chosen is None and sandbox is not None:
        return sandbox
    if client is None:
        raise ConfigError("importer check needs a company: --company FILE (importer company snapshot), or "
                          "--company live with a connection (--token, or VISMA_CLIENT_ID...), or --sandbox")
    return (await read_company(client)).company


def _print(found: Scan, company: Company, name: str, *, ledger: bool) -> None:
    out = sys.stdout
    print(f"{name}: {found.records:,} records checked against {company.name or 'the company'}"
          + ("" if ledger else " (documents' customers not checked: no ledger to ask)"), file=out)
    if found.clean:
        print("the company takes every record", file=out)
        return
    print(f"{found.refused:,} records would be refused:", file=out)
    by_column: dict[str, list[tuple[tuple[str, str, str], int]]] = {}
    for key, count in found.groups.most_common():
        by_column.setdefault(key[0], []).append((key, count))
    for column, rows in by_column.items():
        total = sum(count for _, count in rows)
        print(f"column {column}: {total:,} record{'s' if total > 1 else ''}", file=out)
        for key, count in rows:
            records = found.first[key]
            named = ", ".join(str(r) for r in records) + (", ..." if count > len(records) else "")
            reason = key[2].split(": ", 1)[1] if ": " in key[2] else key[2]
            print(f"  {count:>7,} × {reason} (record{'s' if count > 1 else ''} {named})", file=out)
