"""Plans: a migration as ordered steps in one TOML file, run with ``importer plan``.

    # migration.toml
    [defaults]                # any run option, for every step
    concurrency = 8

    sandbox_company = "acme.company.json"  # with --sandbox: the company it is (a snapshot, or "none")

    [[step]]
    name = "customers"
    input = "customers.csv"   # relative to the plan file
    entity = "customer"

    [[step]]
    name = "invoices"
    input = "invoices.csv"
    entity = "invoice"
    release = true

    [[step]]
    name = "legacy customers"
    input = "kunder.csv"
    map = "kunder.map.toml"   # a map that names its entity = "..." needs no entity here

Steps run in order. A document or dunning letter whose customer failed or was
invalid in an earlier step is not sent unless the API has that customer after all
(asked once per customer): its outcome is ``skipped``, naming the customer and the
step, and it goes into the step's failed-records file; a plan ``--resume`` sends it
once its customer exists. Each step keeps its own results file, so ``--resume``
continues a whole plan where it stopped.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from importer.api import build_client, default_results_path, import_records
from importer.client import ApiClient
from importer.client.collector import tuned_collector
from importer.company import Company
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.failed import default_failed_path
from importer.load.gate import CustomerGate
from importer.mapping.mapfile import resolve_entity
from importer.options import OPTION_NAMES, ImportOptions
from importer.plans.preflight import PlanCheck, documents_follow, live_results, plan_company, preflight_plan
from importer.runinfo import command_run_id, run_id
from importer.sources import detect_format
from importer.stopping import StopRequest
from importer.summary import Summary

__all__ = ["Plan", "Step", "load_plan", "parse_steps", "run_plan", "sandbox_company_key", "step_results"]

log = logging.getLogger("importer.plan")

# Options a plan file may not set: they belong to the command line or the environment.
_NOT_IN_FILE = {"token", "client_secret"}


@dataclass(frozen=True)
class Step:
    name: str
    input: str  # resolved against the plan file's folder
    entity: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    path: str
    steps: tuple[Step, ...]
    # With --sandbox: the company the embedded sandbox is (a snapshot file, resolved
    # against the plan's folder, or "none"); None: the sandbox's default.
    sandbox_company: str | None = None


def _check_options(where: str, table: Any, refused: dict[str, str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    for key in table:
        if key in refused:
            raise ConfigError(f"{where}: {key} does not belong here; {refused[key]}")
        if key not in OPTION_NAMES:
            raise ConfigError(f"{where}: unknown option {key!r}")
    return dict(table)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and check a plan; every mistake is a ConfigError naming the step and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"plan file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"defaults", "step", "sandbox_company"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; expected [defaults] and [[step]]")
    return Plan(str(path), parse_steps(str(path), data.get("defaults", {}), data.get("step"), path.parent),
                sandbox_company_key(path, data))


def sandbox_company_key(path: Path, data: dict[str, Any]) -> str | None:
    """A plan's or manifest's ``sandbox_company``: "none", or a file resolved against its folder."""
    value = data.get("sandbox_company")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: sandbox_company must be a company snapshot file or \"none\"")
    return value if value.strip().lower() == "none" else str(path.parent / value)


def parse_steps(
    where: str, defaults: dict[str, Any], raw_steps: Any, base: Path, *, not_here: dict[str, str] | None = None,
) -> tuple[Step, ...]:
    """A plan's ``[[step]]`` tables (paths relative to ``base``), each with ``defaults`` under it.

    ``not_here``: options refused in these tables, with the reason (a fleet manifest
    keeps the connection to the company).
    """
    refused = {**{key: "pass it as a flag or VISMA_ variable" for key in _NOT_IN_FILE}, **(not_here or {})}
    defaults = _check_options(f"{where} [defaults]", defaults, refused)
    if not raw_steps:
        raise ConfigError(f"{where}: no [[step]] tables")
    if not isinstance(raw_steps, list) or not all(isinstance(raw, dict) for raw in raw_steps):
        raise ConfigError(f"{where}: step must be an array of tables ([[step]])")
    steps = []
    names: set[str] = set()
    for i, raw in enumerate(raw_steps, 1):
        raw = dict(raw)
        name = str(raw.pop("name", f"step {i}"))
        at = f"{where} step {name!r}"
        if name in names:
            raise ConfigError(f"{at}: two steps share this name")
        names.add(name)
        if "input" not in raw:
            raise ConfigError(f"{at}: input is required")
        input_, entity = raw.pop("input"), raw.pop("entity", None)
        if not isinstance(input_, str) or not input_:
            raise ConfigError(f"{at}: input must be a file name")
        if entity is not None and (not isinstance(entity, str) or entity not in ENTITIES):
            raise ConfigError(f"{at}: unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        options = {**defaults, **_check_options(at, raw, refused)}
        for key in ("map", "results", "failed"):
            if options.get(key):
                options[key] = str(base / options[key])
        steps.append(Step(name, str(base / input_), _step_entity(at, entity, options.get("map")), options))
    return tuple(steps)


def _step_entity(where: str, entity: str | None, map_path: str | None) -> str:
    """The step's entity: its own, else the one its map names; checked now, before any step runs."""
    if entity is None and not map_path:
        raise ConfigError(f"{where}: entity is required (or a map whose file names its entity = \"...\")")
    try:
        return resolve_entity(entity, map_path or None)
    except ConfigError as exc:  # a missing or broken map, or one for another entity
        raise ConfigError(f"{where}: {exc}") from None


def _outputs(plan: Plan, overrides: dict[str, Any], results_dir: str | os.PathLike[str] | None) -> list[dict[str, Any]]:
    """Each step's options with its results and failed-records paths, unique within the plan.

    Steps name their outputs after their input (``customers.csv.results.ndjson``, beside it
    or in ``results_dir``); when two steps would share a name (the same input, or inputs
    with the same file name in other folders), each of them takes its step name as well.
    """
    chosen: list[dict[str, Any]] = []
    for step in plan.steps:
        options = {**step.options, **overrides}
        base = str(Path(results_dir) / Path(step.input).name) if results_dir is not None else step.input
        chosen.append({**options, "_base": base})
    bases = [o["_base"] for o in chosen]
    for step, options in zip(plan.steps, chosen, strict=True):
        base = options.pop("_base")
        if bases.count(base) > 1 or base != step.input:
            if bases.count(base) > 1:
                base = str(Path(base).with_name(f"{_slug(step.name)}.{Path(base).name}"))
            options.setdefault("results", default_results_path(base, bool(options.get("dry_run"))))
            options.setdefault("failed", default_failed_path(base, detect_format(step.input, options.get("format"))))
    paths: dict[str, str] = {}
    for step, options in zip(plan.steps, chosen, strict=True):
        for kind in ("results", "failed"):
            path = options.get(kind)
            if path is None:
                continue
            real = os.path.realpath(path)
            if real in paths:
                raise ConfigError(f"{plan.path}: steps {paths[real]!r} and {step.name!r} would share the "
                                  f"{kind} file {path}; give one of them its own")
            paths[real] = step.name
    return chosen


def step_results(plan: Plan, results_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """(step name, results file) of each step, in the plan's order, named as :func:`run_plan` names them."""
    chosen = _outputs(plan, {"dry_run": False}, results_dir)
    return [(step.name, options.get("results") or default_results_path(step.input, False))
            for step, options in zip(plan.steps, chosen, strict=True)]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "step"


async def run_plan(
    plan: Plan,
    *,
    overrides: dict[str, Any] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    on_step: Callable[[Step, Summary], None] | None = None,
    handle_signals: bool = False,
    progress: bool = False,
    client: ApiClient | None = None,
    stop: StopRequest | None = None,
    watch: Callable[[Step, Summary], None] | None = None,
    company: Company | None = None,
    live_company: bool = False,
) -> list[tuple[Step, Summary]]:
    """Run the steps in order; stops after a step that was interrupted or stopped early.

    ``results_dir``: where each step's results and failed-records files go
    (default: beside each input). ``client``: one open client for every step, so
    its pacer carries what it knows of the window from one step to the next (else
    the plan makes one itself when its steps agree on where they send, as whom and
    how fast; when they do not, each step builds its own). ``stop`` and ``watch``: as
    :func:`~importer.api.import_records` takes them, ``watch`` with the step too. ``company``:
    the company's snapshot (the sandbox's company on ``--sandbox``), given to every step, from
    which each chooses how it numbers what it creates (:mod:`importer.load.numbering`) and which
    every record is checked against before the first step sends (:mod:`importer.plans.preflight`).
    ``live_company``: without ``company``, read the live company once at the start (kept beside
    the first step's results, reused by ``--resume``; a ``--dry-run`` takes the kept one), as
    ``importer plan`` does without ``--sandbox``. The check raises
    :class:`~importer.plans.preflight.PlanRefused`, nothing sent, when a step not told
    ``send_valid`` has records the company would refuse.
    """
    steps = _outputs(plan, overrides or {}, results_dir)
    if results_dir is not None:
        Path(results_dir).mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        stack.enter_context(tuned_collector(0))  # frozen from one step to the next; each adds its requests
        stack.enter_context(command_run_id(run_id()))  # every step takes the plan's run id (a fleet's, in one)
        if client is None and (shared := _shared_client(plan, steps)) is not None:
            client = await stack.enter_async_context(shared)
        check = await _check_plan(plan, steps, overrides or {}, results_dir, company, client, live_company)
        return await _run_steps(plan, steps, on_step, handle_signals, progress, client, stop, watch, check)


async def _check_plan(
    plan: Plan, steps: list[dict[str, Any]], overrides: dict[str, Any], results_dir: str | os.PathLike[str] | None,
    company: Company | None, client: ApiClient | None, live_company: bool,
) -> PlanCheck:
    """The company the steps number by and are checked against, and every step's input checked
    against it before the first step sends (not in a dry run: each step marks its own)."""
    chosen: list[tuple[str, str, ImportOptions]] = []
    for step, options in zip(plan.steps, steps, strict=True):
        try:
            chosen.append((step.name, step.input, ImportOptions(entity=step.entity, **options)))
        except ConfigError:
            continue  # that step says so itself when its turn comes
    if not chosen:
        return PlanCheck(company)
    check = PlanCheck(company, "given" if company is not None else "none")
    if company is None and live_company and any(
            opts.behaviour.preflight_company in (None, "live") for _, _, opts in chosen):
        live = _outputs(plan, {**overrides, "dry_run": False}, results_dir)[0]
        check = await plan_company(chosen[0][2], live_results(plan.steps[0].input, live), live=True)
    if chosen[0][2].state.dry_run:
        return check
    await preflight_plan(chosen, check, client, plan.path)
    return check


async def _run_steps(
    plan: Plan, steps: list[dict[str, Any]], on_step: Callable[[Step, Summary], None] | None,
    handle_signals: bool, progress: bool, client: ApiClient | None, stop: StopRequest | None,
    watch: Callable[[Step, Summary], None] | None, check: PlanCheck,
) -> list[tuple[Step, Summary]]:
    done: list[tuple[Step, Summary]] = []
    gate = CustomerGate()  # which customers exist, and which hold their documents back
    try:
        company = check.company
        for number, (step, options) in enumerate(zip(plan.steps, steps, strict=True), 1):
            where = {"plan": plan.path, "step": step.name, "step_number": number, "steps": len(plan.steps)}
            log.info("plan step %d/%d %r started: %s from %s", number, len(plan.steps), step.name, step.entity,
                     step.input, extra={"event": "step started", "entity": step.entity, "input": step.input, **where})
            summary = await import_records(
                step.input, entity=step.entity, customer_gate=gate, company=company,
                handle_signals=handle_signals, progress=progress, client=client, stop=stop,
                watch=None if watch is None else partial(watch, step), **options,
            )
            log.info("plan step %d/%d %r finished: %s of %s records succeeded, exit code %d", number,
                     len(plan.steps), step.name, f"{summary.succeeded:,}", f"{summary.records:,}", summary.exit_code,
                     extra={"event": "step finished", "entity": step.entity, "records_read": summary.records,
                            "succeeded": summary.succeeded, "exit_code": summary.exit_code, **where})
            if not done:  # the plan's preflight, before any step: counted with the first
                summary.preflight_calls += check.calls
            done.append((step, summary))
            if on_step is not None:
                on_step(step, summary)
            if summary.interrupted or summary.api_down or summary.halted:
                break
            if step.entity == "customer" and summary.results_path and not summary.dry_run:
                gate.learn(summary.results_path, step.name,
                           note_created=documents_follow(later.entity for later in plan.steps[number:]))
    finally:
        gate.close()  # its index of the customers the steps created
    return done


def _shared_client(plan: Plan, steps: list[dict[str, Any]]) -> ApiClient | None:
    """One client for every step, when they all send to one place as one caller at one pace.

    Its pacer then knows at each step's start how much of the window the steps before
    it spent (a fresh one would learn it from 429s). None when the steps differ, or
    a step's options are wrong: that step says so itself when its turn comes.
    """
    try:
        chosen = [ImportOptions(entity=step.entity, **options) for step, options in zip(plan.steps, steps, strict=True)]
    except ConfigError:
        return None
    first = chosen[0]
    conn = first.connection
    if any(o.state.dry_run for o in chosen) or not (conn.token or (conn.client_id and conn.client_secret)):
        return None
    # A client is its connection and its pace; its pool is as large as the busiest step's.
    widest = max(o.pace.concurrency for o in chosen)
    if any(o.connection != conn or replace(o.pace, concurrency=widest) != replace(first.pace, concurrency=widest)
           for o in chosen):
        return None
    try:
        return build_client(first.with_(concurrency=widest))
    except ConfigError:
        return None
