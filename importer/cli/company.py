"""``importer company snapshot --out FILE``: the target company's reference data, in one file.

Reads every kind of reference data the importer checks against (see
:mod:`importer.ledger.company`) with read-only calls, and writes the snapshot a person
can read and diff, and ``importer sandbox --company FILE`` (or ``--sandbox --company
FILE``) rehearses against. It prints the records of each kind and the calls spent.

What the API cannot tell is kept from an existing FILE: the number series each entity
uses and whether they allow manual numbering on imports (``numbering``), and the
company's name unless ``--name`` gives one. A FILE that exists and is not a company
snapshot is refused, before anything is sent. The file holds no credentials: the token
and the client secret go to the API and nowhere else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from importer.api import build_client
from importer.cli.common import company_name, connection_options, with_sandbox
from importer.cli.config import config_path
from importer.cli.printing import console
from importer.company import Company, dump_company, load_company
from importer.errors import ConfigError
from importer.ledger.company import CompanySnapshot, read_company
from importer.logs import json_lines, tell
from importer.options import ImportOptions
from importer.outputs import check_outputs, printable

if TYPE_CHECKING:
    pass

__all__ = ["company_command"]


async def company_command(args: argparse.Namespace, argv: list[str]) -> int:
    """``importer company snapshot``: the only action so far."""
    out = Path(args.out)
    check_outputs({"config": config_path(argv)}, {"--out": out})
    previous = _previous(out)  # before connecting: a file that is not a snapshot costs no call
    if args.page_size is not None and args.page_size < 1:
        raise ConfigError("--page-size must be at least 1")
    options = connection_options(args)
    async with AsyncExitStack() as stack:
        sandbox = await with_sandbox(stack, args, options)
        # The options need an entity to be built; the snapshot reads no customer.
        settings = ImportOptions(entity="customer", concurrency=1, rate=args.rate, timeout=args.timeout,
                                 max_attempts=args.max_attempts,
                                 **{k: v for k, v in options.items() if v is not None})
        client = await stack.enter_async_context(build_client(settings, read_only=True))
        await client.authenticate()
        snapshot = await read_company(
            client, name=args.name or (previous.name if previous else "") or company_name(options, sandbox),
            numbering=previous.numbering if previous else None,
            **({"page_size": args.page_size} if args.page_size else {}),
        )
        snapshot.calls = client.stats.calls + client.token_calls  # the sign-in's token call too
    taken = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _write(snapshot.company, out, taken)
    _print(snapshot, out)
    return 0


def _previous(out: Path) -> Company | None:
    """The snapshot already at ``out``, whose numbering and name are kept; None when there is none."""
    if not out.exists():
        return None
    try:
        return load_company(out)
    except ConfigError as exc:
        raise ConfigError(f"--out {out} exists and is not a company snapshot, so it is left alone ({exc}); "
                          "choose another file or remove it") from None


def _write(company: Company, out: Path, taken: str) -> None:
    """Write beside ``out`` and move it into place, so a failed write leaves the old file whole."""
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        dump_company(company, temp, taken_at=taken)
        os.replace(temp, out)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write --out {out}: {exc.strerror or exc}") from None


def _print(snapshot: CompanySnapshot, out: Path) -> None:
    """A row per kind (records, calls, or why it could not be read), then the calls in all."""
    unavailable = [k.name for k in snapshot.kinds if k.unavailable is not None]
    if json_lines():
        tell(f"company snapshot written to {out}: {snapshot.calls} calls", logging.INFO,
             event="company snapshot", file=str(out), **snapshot.to_dict())
        return
    table = Table(title=f"company snapshot — {printable(snapshot.company.name)}")
    for column in ("kind", "records", "calls"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for k in snapshot.kinds:
        records = f"not readable (HTTP {k.unavailable})" if k.unavailable is not None else f"{k.records:,}"
        table.add_row(k.name, Text(records), f"{k.calls:,}")
    dimension = snapshot.company.customer_dimension
    table.add_row("customerDimension", "yes" if dimension else "not readable", "1")
    out_console = console(sys.stdout)
    out_console.print(table)
    print(f"calls: {snapshot.calls:,}")
    print(f"written: {out}")
    if unavailable:
        print(f"not readable with this token: {', '.join(unavailable)}; the file marks them unavailable, "
              "and a sandbox of it answers them as the API did")
