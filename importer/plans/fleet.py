"""Many companies in one process, each at its own allowance: ``importer fleet``.

    result = await importer.run_fleet("bureau.toml", only=["acme"], resume=True)
    for company in result.companies:
        print(company.name, company.exit_code, company.error)

Every company of the manifest (see :mod:`importer.plans.manifest`) runs
its plan at the same time as the others, with a client of its own: its own token,
its own pacer reading its own ``X-RateLimit-*`` headers (one client for all its
steps, so what a step learnt of the window holds for the next), its own results
folder, failed-records files and resume. A company that fails (bad credentials,
its API down) is reported and never stops the others. One Ctrl-C asks every
company to stop cleanly; a second stops at once.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio

from importer.api import build_client
from importer.client.collector import tuned_collector
from importer.company import Company as CompanySnapshot
from importer.errors import AuthError, ConfigError, ImporterError
from importer.logs import company_context
from importer.options import WHOLE_RUN, ImportOptions, Pace, group_names
from importer.plans.company_run import CompanyRun
from importer.plans.manifest import Manifest, load_manifest, select
from importer.plans.plan import run_plan
from importer.plans.preflight import PlanRefused
from importer.runinfo import command_run_id, run_id, utc
from importer.stopping import StopRequest
from importer.vocabulary import CompanyState

__all__ = ["run_fleet", "run_fleet_sync", "FleetResult", "CompanyRun", "RUN_OPTIONS"]

log = logging.getLogger("importer.fleet")

# What a fleet run may be told for every company at once (the command line's flags).
RUN_OPTIONS = (*WHOLE_RUN, "send_valid", "grace")
_FILES_PER_COMPANY = 8  # descriptors a company holds besides its sockets (input, results, failed, state)


@dataclass
class FleetResult:
    manifest: str
    companies: list[CompanyRun]
    elapsed: float = 0.0
    run_id: str = field(default_factory=run_id)  # every company's steps carry it too
    started_wall: float = field(default_factory=time.time)
    finished_wall: float | None = None

    @property
    def exit_code(self) -> int:
        codes = [c.exit_code for c in self.companies]
        return 130 if 130 in codes else max(codes, default=0)

    def total(self, name: str) -> int:
        return sum(company.total(name) for company in self.companies)

    @property
    def succeeded(self) -> int:
        return sum(s.succeeded for c in self.companies for s in c.summaries)

    def to_dict(self) -> dict[str, Any]:
        totals = {name: self.total(name) for name in (
            "records", "failed", "invalid", "skipped", "calls", "token_calls", "retries", "throttled")}
        from importer.version import __version__

        return {
            "run_id": self.run_id,
            "version": __version__,
            "started": utc(self.started_wall),
            "finished": utc(self.finished_wall),
            "manifest": self.manifest,
            "companies": [company.to_dict() for company in self.companies],
            "total": {"companies": len(self.companies),
                      "companies_ok": sum(c.exit_code == 0 for c in self.companies),
                      "succeeded": self.succeeded, **totals, "elapsed_s": round(self.elapsed, 3)},
            "exit_code": self.exit_code,
        }


async def run_fleet(
    manifest: Manifest | str | os.PathLike[str],
    *,
    only: str | list[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    sandbox: str | None = None,
    parallel: int | None = None,
    handle_signals: bool = False,
    progress: bool = False,
    environ: Mapping[str, str] | None = None,
    on_company: Callable[[CompanyRun], None] | None = None,
    snapshot: CompanySnapshot | None = None,
    **run_options: Any,
) -> FleetResult:
    """Run every company of ``manifest`` (or those ``only`` names) at once.

    ``run_options``: any of :data:`RUN_OPTIONS` (``resume=True``, ...), for every
    company. ``sandbox``: a sandbox's base URL to rehearse on instead: each company
    signs in there for its own tenant, so keeps its own window and ledger.
    ``parallel``: at most this many companies at a time (default: all).
    ``on_company`` is called as each company ends. ``progress``: a table on a
    terminal's stderr, a row per company. ``snapshot``: the company snapshot every company's
    steps choose their numbering from (with ``sandbox``: the sandbox's company).
    """
    unknown = set(run_options) - set(RUN_OPTIONS)
    if unknown:
        raise TypeError(f"unknown option(s) for a fleet: {', '.join(sorted(unknown))}; "
                        f"expected some of {', '.join(RUN_OPTIONS)}")
    if parallel is not None and parallel < 1:
        raise ConfigError("--parallel must be at least 1")
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest, results_dir=results_dir, environ=environ,
                                 check_credentials=sandbox is None)
    manifest = select(manifest, only)
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in run_options.items() if v is not None and v is not False}  # a grace of 0 too
    if not overrides.get("dry_run"):
        # Every credential now, before any company sends: a typo in one stops the run whole.
        connections = {c.name: c.connection(env, sandbox) for c in manifest.companies}
    else:
        connections = {c.name: {} for c in manifest.companies}
    runs = [CompanyRun(company) for company in manifest.companies]
    _allow_descriptors(manifest)
    started, result = time.monotonic(), FleetResult(manifest.path, runs)
    limiter = anyio.CapacityLimiter(parallel or len(runs))
    async with AsyncExitStack() as stack:
        stack.enter_context(tuned_collector(0))  # each company's runs add their requests in flight
        stack.enter_context(command_run_id(result.run_id))  # each company's steps take the fleet's run id
        if progress and sys.stderr.isatty():
            from importer.plans.progress import FleetProgress

            stack.enter_context(FleetProgress(runs))
        async with anyio.create_task_group() as signals:
            stop = StopRequest()
            if handle_signals:
                signals.start_soon(stop.from_signals)
            async with anyio.create_task_group() as tg:
                for run in runs:
                    tg.start_soon(_run_company, run, connections[run.name], overrides, limiter, stop, on_company,
                                  snapshot, sandbox is None)
            signals.cancel_scope.cancel()
    result.elapsed, result.finished_wall = time.monotonic() - started, time.time()
    return result


def run_fleet_sync(manifest: Manifest | str | os.PathLike[str], **kwargs: Any) -> FleetResult:
    """Blocking form of :func:`run_fleet`, for scripts."""
    from importer.api import event_loop_options

    async def main() -> FleetResult:
        return await run_fleet(manifest, **kwargs)

    return anyio.run(main, backend_options=event_loop_options())


async def _run_company(
    run: CompanyRun, connection: dict[str, Any], overrides: dict[str, Any],
    limiter: anyio.CapacityLimiter, stop: StopRequest, on_company: Callable[[CompanyRun], None] | None,
    snapshot: CompanySnapshot | None = None, live: bool = False,
) -> None:
    company = run.company
    with company_context(company.name):
        async with limiter:
            if stop.asked:  # a stop came while it waited for its turn
                run.state = "not started"
                return
            run.state, run.started_at = "running", time.monotonic()
            try:
                await _run_plan(run, connection, overrides, stop, snapshot, live)
            except PlanRefused as exc:  # its preflight: nothing of this company's was sent
                run.error, run.error_code, run.refused = str(exc), 2, True
            except (ConfigError, AuthError) as exc:  # nothing of this company's could go in
                run.error, run.error_code = str(exc), 2
            except ImporterError as exc:
                run.error, run.error_code = str(exc), 1
            except OSError as exc:  # its results folder cannot be made, say
                run.error, run.error_code = f"{exc.strerror}: {exc.filename}", 1
            run.elapsed = time.monotonic() - run.started_at
            run.state = _final_state(run)
            _log_company(run)
            if on_company is not None:
                on_company(run)


async def _run_plan(run: CompanyRun, connection: dict[str, Any], overrides: dict[str, Any], stop: StopRequest,
                    snapshot: CompanySnapshot | None = None, live: bool = False) -> None:
    """``live``: not on a sandbox, so the company's own live company is read once at its start
    and every step's input checked against it before its first step sends."""
    company = run.company
    os.makedirs(company.results_dir, exist_ok=True)
    options = {**connection, **overrides}
    async with AsyncExitStack() as stack:
        client = None
        if not overrides.get("dry_run"):
            speed = {k: v for k, v in company.options.items() if k in group_names(Pace)}
            client = build_client(ImportOptions(entity=company.plan.steps[0].entity, **speed, **connection))
            run.client = await stack.enter_async_context(client)
        await run_plan(
            company.plan, overrides=options, results_dir=company.results_dir, client=client, stop=stop,
            watch=run.watch, on_step=lambda step, summary: run.steps.append((step, summary)), company=snapshot,
            live_company=live,
        )


def _final_state(run: CompanyRun) -> CompanyState:
    """stopped (asked to), refused (its preflight found records its company would refuse), failed
    (it could not go on: an error, its API down, steps left), or done."""
    if run.interrupted:
        return "stopped"
    if run.refused:
        return "refused"
    if run.error or run.not_run or any(s.api_down or s.halted for _, s in run.steps):
        return "failed"
    return "done"  # its records' own failures, if any, are in its counts and exit code


def _log_company(run: CompanyRun) -> None:
    log.info("company %s %s: %s records, %s succeeded, exit code %d%s", run.name, run.state,
             f"{run.total('records'):,}", f"{sum(s.succeeded for s in run.summaries):,}", run.exit_code,
             f": {run.why}" if run.why else "",
             extra={"event": "company finished", "state": run.state, "error": run.why, "exit_code": run.exit_code,
                    "records_read": run.total("records"), "elapsed_s": round(run.elapsed, 3)})


def _allow_descriptors(manifest: Manifest) -> None:
    """Raise the open-files limit to what the companies may hold at once (within the hard limit).

    Each company keeps up to ``concurrency`` connections and a few files open; a
    bureau's hundred companies pass the usual soft limit of 1,024. Windows has no such
    limit for sockets, and no ``resource`` module.
    """
    try:
        import resource  # POSIX; Windows has no such limit on sockets
    except ImportError:
        return
    needed = sum(int(c.options.get("concurrency", Pace.concurrency)) + _FILES_PER_COMPANY
                 for c in manifest.companies) + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
