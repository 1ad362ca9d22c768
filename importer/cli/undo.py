"""``importer undo``: take back what runs created, last run first (see :mod:`importer.undo`).

RESULTS are results files, or folders of them; ``--plan`` takes a plan's steps; ``--fleet``
a fleet manifest's companies, each with its own connection and credentials and its plan's
results files in its own folder. Runs are undone in the reverse of the order they were made
in: a plan's steps last step first (so a step's documents go before the customers of an
earlier step); files given on the command line, and a folder's, by when their first record
ended, latest first. Each results file has an undo file of its own. Mistakes in the flags,
and every company's credentials, are named before any call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
import orjson
from rich import box
from rich.table import Table

from importer.api import build_client
from importer.cli.common import client_for, connection_options
from importer.cli.printing import console, write_summary_json
from importer.errors import AuthError, ConfigError, ImporterError
from importer.load.results import iter_results
from importer.logs import company_context
from importer.options import ImportOptions, Pace, group_names
from importer.outputs import printable
from importer.plans.manifest import Company, Manifest, load_manifest, select
from importer.plans.plan import load_plan, step_results
from importer.undo import UndoSummary, undo_results

__all__ = ["undo_command", "runs_to_undo", "undo_fleet", "CompanyUndo", "print_fleet_undo"]

_DONE = {"deleted": "deleted", "inactivated": "set inactive"}
_WOULD = {"delete": "would be deleted", "inactivate": "would be set inactive"}
_LEFT = {"released": "released: left", "different": "not as sent: left", "left": "left",
         "absent": "no longer in the ledger", "inactive": "inactive already", "failed": "failed"}


async def undo_command(args: argparse.Namespace, argv: list[str]) -> int:
    if args.fleet is not None:
        return await _fleet_command(args)
    if args.only is not None or args.parallel is not None:
        raise ConfigError(f"{'--only' if args.only is not None else '--parallel'} goes with --fleet")
    runs = runs_to_undo(args.results, args.plan, args.results_dir)
    if args.undo_results is not None and len(runs) != 1:
        raise ConfigError("--undo-results names the undo file of one results file; "
                          f"{len(runs)} are to be undone (leave it out: each gets its own)")
    total = UndoSummary(dry_run=not args.yes)
    async with AsyncExitStack() as stack:
        client = await client_for(args, stack, delete=args.yes)
        for path in runs:
            summary = await undo_results(
                client, path, yes=args.yes, inactivate_customers=args.inactivate_customers,
                undo_path=args.undo_results, concurrency=args.concurrency,
                tenant=os.environ.get("VISMA_TENANT_ID") if os.environ.get("VISMA_CLIENT_ID") else None,
            )
            total.add(summary)
    if args.summary_json:
        write_summary_json(args.summary_json, total.to_dict())
    print_undo(total, args.show)
    return total.exit_code


def runs_to_undo(given: list[str], plan: str | None, results_dir: str | None) -> list[str]:
    """The results files to undo, in the order to undo them (the last run first)."""
    if plan is not None:
        if given:
            raise ConfigError("give RESULTS or --plan, not both")
        steps = step_results(load_plan(plan), results_dir)
        found = [path for _, path in reversed(steps) if os.path.isfile(path)]
        if not found:
            raise ConfigError(f"{plan}: no step has a results file "
                              f"({', '.join(path for _, path in steps)}); pass --results-dir where it ran with one")
        return found
    if results_dir is not None:
        raise ConfigError("--results-dir goes with --plan (for a folder of results files, give the folder as RESULTS)")
    if not given:
        raise ConfigError("say what to undo: RESULTS (a run's results file, or a folder of them) or --plan PLAN.toml")
    runs: list[str] = []
    for item in given:
        if os.path.isdir(item):
            runs += _folder(Path(item))
        elif os.path.isfile(item):
            runs.append(item)
        else:
            raise ConfigError(f"no results file or folder at {item}")
    return sorted(dict.fromkeys(runs), key=_first_end, reverse=True)


def _folder(folder: Path) -> list[str]:
    """The folder's results files."""
    files = sorted(str(p) for p in folder.glob("*.results.ndjson") if p.is_file())
    if not files:
        raise ConfigError(f"{folder} holds no results files (*.results.ndjson)")
    return files


def _first_end(path: str) -> tuple[str, str]:
    """When the first record of ``path`` ended (its first final line's ``at``), to order runs by."""
    for line in iter_results(path):
        if line.at is not None:
            return line.at, path
    return "", path


def print_undo(summary: UndoSummary, show: int) -> None:
    out = console(sys.stdout)
    title = "undo — dry run: nothing was deleted or changed" if summary.dry_run else "undo"
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for results, undo in summary.paths:
        table.add_row("results", f"{printable(results)} → {printable(undo)}")
    names = {**_DONE, **_WOULD, **_LEFT}
    for kind, count in sorted(summary.counts.items(), key=lambda item: list(names).index(item[0])
                              if item[0] in names else len(names)):
        table.add_row(names.get(kind, kind), f"{count:,}")
    if summary.earlier:
        table.add_row("undone before", f"{summary.earlier:,} (by an earlier undo: not sent again)")
    table.add_row("API calls", f"{summary.calls:,}")
    if summary.halted:
        table.add_row("stopped", f"{printable(summary.halted)}: run undo again once it is put right")
    out.print(table)
    if summary.planned:
        would = sum(summary.counts[kind] for kind in _WOULD)
        out.print(f"\n--yes would send ({would:,}):", markup=False)
        for item in summary.planned[:max(0, show)]:
            out.print(f"  {printable(str(item['request']))}  ({item['entity']}, records "
                      f"{orjson.dumps(item['records']).decode()})", markup=False, highlight=False)
        if len(summary.planned) > show:
            out.print("  … and the rest in the undo file", markup=False)
    by_kind: dict[str, list[dict[str, object]]] = {}
    for item in summary.left:
        by_kind.setdefault(str(item["undo"]), []).append(item)
    for kind, items in by_kind.items():
        out.print(f"\n{names.get(kind, kind)} ({summary.counts[kind]:,}):", markup=False)
        for item in items[:max(0, show)]:
            why = item.get("remedy") or item.get("error") or ""
            out.print(f"  {item['entity']} {printable(str(item['key']))} (records "
                      f"{orjson.dumps(item['records']).decode()}): {printable(str(why))}", markup=False,
                      highlight=False)
        if summary.counts[kind] > show:
            out.print(f"  … and {summary.counts[kind] - show:,} more in the undo file", markup=False)


# -- a fleet's companies ------------------------------------------------------------------

@dataclass
class CompanyUndo:
    """One company's undo in a fleet: its results files undone, what came of them, or why not."""

    name: str
    summary: UndoSummary
    state: str = "waiting"  # then: done, failed, or nothing to undo (no step of its plan has a results file)
    files: int = 0
    error: str | None = None
    error_code: int = 0  # 2: nothing of it could be undone (its credentials, a file not its own); 1: else
    elapsed: float = 0.0

    @property
    def exit_code(self) -> int:
        return self.error_code or self.summary.exit_code

    def to_dict(self) -> dict[str, Any]:
        return {"company": self.name, "state": self.state, "error": self.error, "exit_code": self.exit_code,
                "elapsed_s": round(self.elapsed, 3), **self.summary.to_dict()}


async def undo_fleet(
    manifest: Manifest, *, yes: bool, inactivate_customers: bool = False, parallel: int | None = None,
    environ: Mapping[str, str] | None = None, speed: Mapping[str, Any] | None = None,
) -> list[CompanyUndo]:
    """Undo every company of ``manifest``: its plan's results files (in its results folder) last step
    first, with a client of its own from its connection and credentials, at most ``parallel``
    companies at a time (default: all). Every company's credentials are resolved before any sends.
    A company that fails is reported and never stops the others. ``speed``: Pace options for every
    company's client where its manifest sets none."""
    if parallel is not None and parallel < 1:
        raise ConfigError("--parallel must be at least 1")
    env = os.environ if environ is None else environ
    connections = {company.name: company.connection(env) for company in manifest.companies}
    undos = [CompanyUndo(company.name, UndoSummary(dry_run=not yes)) for company in manifest.companies]
    limiter = anyio.CapacityLimiter(parallel or max(1, len(undos)))

    async def one(company: Company, undo: CompanyUndo) -> None:
        with company_context(company.name):
            async with limiter:
                started = time.monotonic()
                try:
                    await _undo_company(company, undo, connections[company.name], yes=yes,
                                        inactivate_customers=inactivate_customers, speed=speed or {})
                except (ConfigError, AuthError) as exc:
                    undo.error, undo.error_code = str(exc), 2
                except ImporterError as exc:
                    undo.error, undo.error_code = str(exc), 1
                except OSError as exc:
                    undo.error, undo.error_code = f"{exc.strerror}: {exc.filename}", 1
                undo.elapsed = time.monotonic() - started
                if undo.error is not None:
                    undo.state = "failed"
                elif undo.state != "nothing to undo":
                    undo.state = "done"

    async with anyio.create_task_group() as tg:
        for company, undo in zip(manifest.companies, undos, strict=True):
            tg.start_soon(one, company, undo)
    return undos


async def _undo_company(company: Company, undo: CompanyUndo, connection: dict[str, Any], *, yes: bool,
                        inactivate_customers: bool, speed: Mapping[str, Any]) -> None:
    steps = step_results(company.plan, company.results_dir)
    runs = [path for _, path in reversed(steps) if os.path.isfile(path)]
    if not runs:
        undo.state = "nothing to undo"
        return
    undo.state = "running"
    pace = {**speed, **{k: v for k, v in company.options.items() if k in group_names(Pace)}}
    options = ImportOptions(entity=company.plan.steps[0].entity, **pace, **connection)
    async with build_client(options, delete=yes) as client:
        await client.authenticate()
        for path in runs:
            undo.summary.add(await undo_results(
                client, path, yes=yes, inactivate_customers=inactivate_customers,
                concurrency=options.pace.concurrency, tenant=company.tenant_id))
            undo.files += 1
            if undo.summary.halted:  # its token refused, its API down: its other files not tried in vain
                undo.error, undo.error_code = undo.summary.halted, undo.summary.exit_code
                return


def fleet_exit_code(undos: list[CompanyUndo]) -> int:
    """As a fleet's: the worst company's (0, 1 or 2)."""
    return max((undo.exit_code for undo in undos), default=0)


async def _fleet_command(args: argparse.Namespace) -> int:
    given = [flag for flag, value in (("RESULTS", args.results), ("--plan", args.plan),
                                      ("--undo-results", args.undo_results)) if value]
    given += [f"--{name.replace('_', '-')}" for name, value in connection_options(args).items()
              if value is not None and name in ("base_url", "token", "token_url")]
    if given:
        raise ConfigError(f"--fleet undoes each company's results files with its own connection, as the manifest "
                          f"says: leave out {', '.join(given)}")
    manifest = select(load_manifest(args.fleet, results_dir=args.results_dir), args.only)
    speed = {name: getattr(args, name) for name in group_names(Pace) if getattr(args, name, None) is not None}
    undos = await undo_fleet(manifest, yes=args.yes, inactivate_customers=args.inactivate_customers,
                             parallel=args.parallel, speed=speed)
    if not any(undo.files or undo.error for undo in undos):
        raise ConfigError(f"{args.fleet}: no company has a results file in its folder "
                          f"({', '.join(sorted({str(Path(c.results_dir).parent) for c in manifest.companies}))}); "
                          "pass --results-dir where the fleet ran with one")
    code = fleet_exit_code(undos)
    if args.summary_json:
        write_summary_json(args.summary_json, {"manifest": manifest.path, "dry_run": not args.yes,
                                               "companies": [undo.to_dict() for undo in undos], "exit_code": code})
    total = UndoSummary(dry_run=not args.yes)
    for undo in undos:
        total.add(undo.summary)
    print_undo(total, args.show)
    print_fleet_undo(manifest.path, undos, sys.stdout)
    return code


def print_fleet_undo(manifest: str, undos: list[CompanyUndo], stream: TextIO) -> None:
    """A row per company: its state, results files undone, and what came of their records."""
    dry = bool(undos) and undos[0].summary.dry_run
    title = f"undo — {manifest}" + (" — dry run: nothing was deleted or changed" if dry else "")
    table = Table(title=title, box=box.SIMPLE_HEAD)
    heads = ("company", "state", "files", "would delete" if dry else "deleted",
             "would set inactive" if dry else "set inactive", "left", "failed", "undone before", "calls", "exit")
    for head in heads:
        table.add_column(head, overflow="fold", justify="left" if head in ("company", "state") else "right")
    for undo in undos:
        counts = undo.summary.counts
        done = counts["delete" if dry else "deleted"], counts["inactivate" if dry else "inactivated"]
        left = sum(counts.values()) - sum(done) - counts["failed"]
        table.add_row(undo.name, undo.state, str(undo.files), f"{done[0]:,}", f"{done[1]:,}", f"{left:,}",
                      f"{counts['failed']:,}", f"{undo.summary.earlier:,}", f"{undo.summary.calls:,}",
                      str(undo.exit_code))
    console(stream).print(table)
    for undo in undos:
        if undo.error:
            print(f"{undo.name}: {undo.error}", file=stream)
