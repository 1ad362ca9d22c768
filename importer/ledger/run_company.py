"""The company a run checks its records against: read once from the live API, kept beside the results.

A live run's preflight (:mod:`importer.load.preflight`) needs the company's reference data.
Unless told a snapshot file (``--company FILE``) or nothing (``--company none``), the run
reads it at its start (:func:`~importer.ledger.company.read_company`: read-only GETs,
counted apart from the records' calls) and keeps it beside its results file as
``<results>.company.json``, so:

- a ``--resume`` of the run reuses it, without reading the company again, and checks the
  rest of its records against what the first part was checked against;
- a ``--dry-run`` of the same input checks against it when it is there.

A company that cannot be read at all (no access to its lists, the API down) is said once,
and the run goes on without checks: the preflight spares calls, it never stops a run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass

from importer.api import build_client
from importer.company import Company, dump_company, load_company
from importer.errors import ImporterError
from importer.ledger.company import read_company
from importer.logs import tell
from importer.options import ImportOptions

__all__ = ["RunCompany", "cached_company_path", "company_for_run"]


@dataclass(frozen=True, slots=True)
class RunCompany:
    """The company found (None: none), where it came from, and the calls reading it cost."""

    company: Company | None
    source: str
    calls: int = 0


def cached_company_path(results_path: str) -> str:
    """Where a run keeps the company it read: beside its results file."""
    return f"{results_path}.company.json"


async def company_for_run(opts: ImportOptions, results_path: str | None) -> RunCompany:
    """The live company for a run: the cached one on ``--resume`` (or a dry run), else read now.

    A dry run reads nothing: it checks against the cache when there is one.
    """
    cache = cached_company_path(results_path) if results_path is not None else None
    state = opts.state
    if cache is not None and os.path.isfile(cache) and (state.resume or state.dry_run):
        return RunCompany(load_company(cache), f"the company read by the first run ({cache})")
    if state.dry_run:
        return RunCompany(None, "none")
    try:
        async with build_client(opts, read_only=True) as client:
            await client.authenticate()
            snapshot = await read_company(client, name=opts.connection.tenant_id or "")
    except ImporterError as exc:
        tell(f"importer: the company's reference data could not be read, so records are sent unchecked: {exc}",
             logging.WARNING)
        return RunCompany(None, "none")
    if cache is not None:
        try:
            dump_company(snapshot.company, cache, taken_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        except OSError as exc:
            tell(f"importer: cannot keep the company beside the results ({cache}): {exc.strerror or exc}",
                 logging.WARNING)
    return RunCompany(snapshot.company, "the live company, read at the start", snapshot.calls)
