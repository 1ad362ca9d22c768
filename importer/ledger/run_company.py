"""The company a run checks its records against: read once from the live API, kept beside the results.

A live run's preflight (:mod:`importer.load.preflight`) needs the company's reference data.
Unless told a snapshot file (``--company FILE``) or nothing (``--company none``), the run
reads it at its start (:func:`~importer.ledger.company.read_company`: read-only GETs,
counted apart from the records' calls) and keeps it beside its results file as
``<results>.company.json``, so:

- a ``--resume`` of the run reuses it, without reading the company again, and checks the
  rest of its records against what the first part was checked against;
- a ``--dry-run`` of the same input checks against it when it is there.

The kept company is taken only when the results file holds outcomes: a run refused before
it sent anything (the preflight's refusal) leaves none, so its ``--resume`` reads the company
again, as does the ``--resume`` of a results file from before the preflight (none beside it:
read once then, and kept). A kept file that cannot be read is said and read again.

A company that cannot be read at all (no access to its lists, the API down) is said once,
and the run goes on without checks: the preflight spares calls, it never stops a run. What
would stop the run at its first write stops it at this read instead, with the same message
and exit code, and nothing sent: credentials the token endpoint refuses or never answers
(:class:`~importer.errors.AuthError`, after the same bounded tries), a token the API refuses,
and an answer that is not the API's (a sign-in page, a redirect: the base URL or a proxy is
wrong). Each costs the calls the first write would have cost, not a second round by the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass

from importer.api import build_client
from importer.client.halting import not_the_api
from importer.company import Company, dump_company, load_company
from importer.errors import ApiError, AuthError, ConfigError
from importer.ledger.company import CompanySnapshot, NotTheApi, read_company
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
    """The live company for a run: the kept one on ``--resume`` (or a dry run), else read now.

    A dry run reads nothing: it checks against the kept one when there is one.
    """
    cache = cached_company_path(results_path) if results_path is not None else None
    state = opts.state
    if cache is not None and (state.dry_run or (state.resume and _holds_outcomes(results_path))):
        kept = _kept(cache, "nothing is checked" if state.dry_run else "it is read again")
        if kept is not None:
            return RunCompany(kept, f"the company read by the first run ({cache})")
    if state.dry_run:
        return RunCompany(None, "none")
    snapshot = await _read(opts)
    if snapshot is None:
        return RunCompany(None, "none")
    if cache is not None:
        _keep(snapshot.company, cache)
    return RunCompany(snapshot.company, "the live company, read at the start", snapshot.calls)


async def _read(opts: ImportOptions) -> CompanySnapshot | None:
    """The company, read now; None (said) when it cannot be read; an error when the run cannot go on."""
    async with build_client(opts, read_only=True) as client:  # no credentials: the run's own ConfigError
        await client.authenticate()  # AuthError: as the run's own sign-in would end, after as many tries
        try:
            return await read_company(client, name=opts.connection.tenant_id or "")
        except ApiError as exc:
            if client.halted is not None:  # a refused token, a base URL nothing can be sent to
                raise (AuthError if exc.status == 401 else ConfigError)(client.halted) from None
            if isinstance(exc, NotTheApi):
                raise ConfigError(not_the_api(f"the first read of the company ({exc.what})", exc.status or 0,
                                              exc.reason, "stopped before anything was sent")) from None
            tell(f"importer: the company's reference data could not be read, so records are sent unchecked: {exc}",
                 logging.WARNING)
            return None


def _holds_outcomes(results_path: str | None) -> bool:
    """Whether the results file holds an earlier run's lines (a refused run leaves none)."""
    try:
        return results_path is not None and os.path.getsize(results_path) > 0
    except OSError:
        return False


def _kept(cache: str, instead: str) -> Company | None:
    """The company kept beside the results; None when there is none or it cannot be read (said,
    with what happens ``instead``)."""
    if not os.path.isfile(cache):
        return None
    try:
        return load_company(cache)
    except ConfigError as exc:
        tell(f"importer: the company kept beside the results cannot be used, so {instead}: {exc}",
             logging.WARNING)
        return None


def _keep(company: Company, cache: str) -> None:
    """Write the company beside the results, whole or not at all (a full disk leaves no half file)."""
    partial = f"{cache}.partial"
    try:
        dump_company(company, partial, taken_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        os.replace(partial, cache)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        tell(f"importer: cannot keep the company beside the results ({cache}): {exc.strerror or exc}; "
             "a --resume reads it again", logging.WARNING)
