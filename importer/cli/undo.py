"""``importer undo``: take back what runs created, last run first (see :mod:`importer.undo`).

RESULTS are results files, or folders of them; ``--plan`` takes a plan's steps. Runs are
undone in the reverse of the order they were made in: a plan's steps last step first (so a
step's documents go before the customers of an earlier step); files given on the command
line, and a folder's, by when their first record ended, latest first.
Each results file has an undo file of its own. Mistakes in the flags are named before any call.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import orjson
from rich.table import Table

from importer.cli.common import client_for
from importer.cli.printing import console, write_summary_json
from importer.errors import ConfigError
from importer.load.results import iter_results
from importer.outputs import printable
from importer.plans.plan import load_plan, step_results
from importer.undo import UndoSummary, undo_results

__all__ = ["undo_command", "runs_to_undo"]

_DONE = {"deleted": "deleted", "inactivated": "set inactive"}
_WOULD = {"delete": "would be deleted", "inactivate": "would be set inactive"}
_LEFT = {"released": "released: left", "different": "not as sent: left", "left": "left",
         "absent": "no longer in the ledger", "inactive": "inactive already", "failed": "failed"}


async def undo_command(args: argparse.Namespace, argv: list[str]) -> int:
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
