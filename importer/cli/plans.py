"""``importer plan PLAN`` and ``importer fleet MANIFEST``: many steps, many companies.

``plan`` runs a plan's steps in order (see :mod:`importer.plans.plan`) and prints a
row per step. ``fleet`` runs every company of a manifest at once (see
:mod:`importer.plans.fleet`) and prints a table of the companies when they are done
(to stdout), the whole fleet's line, and how to resume the companies that stopped
short; exit code 130 when it was interrupted, else the worst company's (0, 1 or 2).
Both check every output path against every input before anything runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.table import Table

from importer.api import default_results_path
from importer.cli.common import EXIT_INTERRUPTED, common_options, monitor_for, sandbox_company, with_sandbox
from importer.cli.config import config_path
from importer.cli.printing import console, report_summaries, write_summary_json
from importer.errors import ConfigError
from importer.logs import json_lines, tell
from importer.outputs import check_outputs
from importer.plans.company_run import CompanyRun
from importer.plans.fleet import RUN_OPTIONS, FleetResult, run_fleet
from importer.plans.manifest import Manifest, load_manifest, select
from importer.plans.plan import Plan, _outputs, load_plan, run_plan
from importer.summary import counted

__all__ = ["fleet_command", "plan_command", "print_fleet"]


async def plan_command(args: argparse.Namespace, argv: list[str]) -> int:
    plan = load_plan(args.plan)
    overrides = {k: v for k, v in common_options(args).items() if v not in (None, False)}
    if args.send_valid:
        overrides["send_valid"] = True
    if args.grace is not None:
        overrides["grace"] = args.grace  # 0 too: no grace at all
    checks = args.preflight_company
    if args.sandbox and checks != "live":
        args.sandbox_company = checks  # one --company: the sandbox's, and what the records are checked against
    elif checks is not None and checks != "live":
        overrides["preflight_company"] = checks  # a snapshot FILE, or none: every step's
    first = _check_plan_outputs(plan, args, argv, overrides)
    async with AsyncExitStack() as stack:
        sandbox = await with_sandbox(stack, args, overrides, company=plan.sandbox_company, results=first)
        monitor = await stack.enter_async_context(monitor_for(args))
        done = await run_plan(
            plan, overrides=overrides, results_dir=args.results_dir,
            handle_signals=True, progress=not json_lines(),
            company=sandbox.company if sandbox is not None else None,  # checked against; its numbering decides
            live_company=sandbox is None,  # else the live company, read once at the start
        )
        summaries = [summary for _, summary in done]
        codes = [s.exit_code for s in summaries]
        code = monitor.exit_code = EXIT_INTERRUPTED if EXIT_INTERRUPTED in codes else max(codes, default=0)
    report_summaries(summaries, args, argv, names=[step.name for step, _ in done])
    if len(done) < len(plan.steps):
        tell(f"{len(plan.steps) - len(done)} step(s) not run.", logging.WARNING)
    return code


def _check_plan_outputs(plan: Plan, args: argparse.Namespace, argv: list[str], overrides: dict[str, Any]) -> str | None:
    """No step's results or failed-records file, nor --summary-json, is the plan, the config,
    an input or a map of any step: checked before any step runs. The first step's results file
    (where a ``--sandbox`` plan keeps its ledger), None without steps."""
    inputs: dict[str, Any] = {"plan": args.plan, "config": config_path(argv)}
    outputs: dict[str, Any] = {"--summary-json": args.summary_json, "--metrics-file": args.metrics_file}
    chosen = _outputs(plan, overrides, args.results_dir)
    for step, options in zip(plan.steps, chosen, strict=True):
        inputs[f"input of step {step.name!r}"] = step.input
        inputs[f"map of step {step.name!r}"] = options.get("map")
        outputs[f"results of step {step.name!r}"] = options.get("results") or default_results_path(
            step.input, bool(options.get("dry_run")))
        outputs[f"failed-records file of step {step.name!r}"] = options.get("failed")
    check_outputs(inputs, outputs)
    return next((str(v) for k, v in outputs.items() if k.startswith("results of step") and v), None)


async def fleet_command(args: argparse.Namespace, argv: list[str]) -> int:
    if args.sandbox_profile != "standard" and not args.sandbox:
        raise ConfigError("--sandbox-profile needs --sandbox")
    if sandbox_company(args) and not args.sandbox:
        raise ConfigError("--company needs --sandbox")
    manifest = select(load_manifest(args.manifest, results_dir=args.results_dir,
                                    check_credentials=not args.sandbox and not args.dry_run), args.only)
    _check_fleet_outputs(manifest, args)
    flags = {name: getattr(args, name) for name in RUN_OPTIONS}
    async with AsyncExitStack() as stack:
        sandbox, snapshot = None, None
        if args.sandbox:
            from importer.sandbox import SandboxConfig, serve  # here: see with_sandbox
            from importer.sandbox.config import with_company

            config = with_company(SandboxConfig(profile=args.sandbox_profile),
                                  sandbox_company(args) or manifest.sandbox_company)
            running = await stack.enter_async_context(serve(config))
            sandbox, snapshot = running.url, config.company
        monitor = await stack.enter_async_context(monitor_for(args))
        result = await run_fleet(manifest, sandbox=sandbox, parallel=args.parallel, handle_signals=True,
                                 progress=not json_lines(), snapshot=snapshot, **flags)
        monitor.exit_code = result.exit_code
    to_stdout = args.summary_json == "-"
    if args.summary_json:
        write_summary_json(args.summary_json, result.to_dict())
    if not (to_stdout and json_lines()):
        print_fleet(result, sys.stderr if to_stdout else sys.stdout)
    _resume_hint(result, argv, sandbox=bool(args.sandbox))
    return result.exit_code


def print_fleet(result: FleetResult, stream: TextIO) -> None:
    """A row per company, the totals, where the results are. Counts are in customers, documents
    and actions (what was read: documents first, their rows after, as the plan table counts);
    failed counts the failed, invalid and skipped ones."""
    table = Table(title=f"fleet — {result.manifest}", box=box.SIMPLE_HEAD)
    for column in ("company", "state", "steps", "read", "ok", "failed", "calls", "429s", "time", "exit"):
        table.add_column(column, overflow="fold", min_width=len(column),
                         justify="left" if column in ("company", "state") else "right")
    documents = any(run.documents for run in result.companies)
    for run in result.companies:
        table.add_row(run.name, run.state, f"{len(run.steps)}/{len(run.company.plan.steps)}",
                      *_fleet_counts([run], run.documents), f"{run.total('calls'):,}",
                      f"{run.total('throttled'):,}", f"{run.elapsed:.1f} s", str(run.exit_code))
    total = result.to_dict()["total"]
    table.add_section()
    table.add_row("total", f"{total['companies_ok']}/{total['companies']} ok", "",
                  *_fleet_counts(result.companies, documents), f"{total['calls']:,}", f"{total['throttled']:,}",
                  f"{result.elapsed:.1f} s", str(result.exit_code))
    console(stream).print(table)
    for run in result.companies:
        if run.error:
            print(f"{run.name}: {run.error}", file=stream)
        for step, summary in run.steps:
            if summary.error:
                print(f"{run.name} step {step.name!r}: {summary.error}", file=stream)
            if summary.failed_path:
                print(f"{run.name} step {step.name!r}: failed records in {summary.failed_path}", file=stream)
    folders = sorted({str(Path(run.company.results_dir).parent) for run in result.companies})
    print(f"results: a folder per company in {', '.join(folders)}; "
          f"report: importer report {shlex.join(folders)} --html report.html", file=stream)


def _fleet_counts(runs: list[CompanyRun], documents: bool) -> tuple[str, str, str]:
    """read, ok and failed over ``runs``: in units, what was read with its rows after."""
    def units(name: str) -> int:
        return sum(run.units(name) for run in runs)

    read = counted(units("units"), sum(run.total("records") for run in runs), documents)
    return read, f"{units('units_succeeded'):,}", f"{units('failed') + units('invalid') + units('skipped'):,}"


def _resume_hint(result: FleetResult, argv: list[str], *, sandbox: bool = False) -> None:
    """For the companies that stopped short: the command that continues them. A ``--sandbox``
    fleet's ledger went with its process, so what it prints starts them over (``--restart``)."""
    short = [run for run in result.companies
             if run.state in ("stopped", "not started", "failed", "refused") or run.not_run
             or any(s.unrecorded or s.not_processed for s in run.summaries)]
    if not short:
        return
    again: list[str] = []
    skip = False
    for arg in argv:  # the command as given, less the flags this hint sets anew
        if skip:
            skip = False
        elif arg == "--only":
            skip = True
        elif arg not in ("--resume", "--restart") and not arg.startswith("--only="):
            again.append(arg)
    again += ["--restart" if sandbox else "--resume", "--only", ",".join(run.name for run in short)]
    if not sandbox and any(s.api_down or s.halted for run in short for s in run.summaries) and "--retry-failed" not in again:
        again.append("--retry-failed")  # the records that got no answer failed on the way
    names = ", ".join(run.name for run in short)
    how = ("The --sandbox ledger they went to is gone with the run: rehearse them again with"
           if sandbox else "Continue them with")
    tell(f"{len(short)} of {len(result.companies)} companies stopped short ({names}). "
         f"{how}:\n  importer {shlex.join(again)}", logging.WARNING)


def _check_fleet_outputs(manifest: Manifest, args: argparse.Namespace) -> None:
    """No company's results or failed-records file, nor --summary-json, is the manifest, a plan,
    a secrets file, an input or a map of any company: checked before any company runs."""
    inputs: dict[str, Any] = {"manifest": args.manifest}
    outputs: dict[str, Any] = {"--summary-json": args.summary_json, "--metrics-file": args.metrics_file}
    for company in manifest.companies:
        where = f"company {company.name!r}"
        inputs[f"plan of {where}"] = company.plan.path if os.path.isfile(company.plan.path) else None
        inputs[f"secrets file of {where}"] = company.credentials.secrets_file
        for step, options in zip(company.plan.steps, _outputs(company.plan, {}, company.results_dir), strict=True):
            inputs[f"input of {where}, step {step.name!r}"] = step.input
            inputs[f"map of {where}, step {step.name!r}"] = options.get("map")
            outputs[f"results of {where}, step {step.name!r}"] = options.get("results") or default_results_path(
                step.input, bool(options.get("dry_run") or args.dry_run))
            outputs[f"failed-records file of {where}, step {step.name!r}"] = options.get("failed")
    check_outputs(inputs, outputs)
