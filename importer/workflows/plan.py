"""Plans: a migration as ordered steps in one TOML file, run with ``importer plan``.

    # migration.toml
    [defaults]                # any run option, for every step
    concurrency = 32

    [[step]]
    name = "customers"
    input = "customers.csv"   # relative to the plan file
    entity = "customer"

    [[step]]
    name = "invoices"
    input = "invoices.csv"
    entity = "invoice"
    release = true

Steps run in order. A document or dunning letter whose customer failed or was
invalid in an earlier step is not sent: its outcome is ``skipped``, naming the
customer and the step. Each step keeps its own results file, so ``--resume``
continues a whole plan where it stopped.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from importer.api import default_results_path, import_records
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.load.failed import default_failed_path
from importer.load.results import SUCCESS
from importer.options import ImportOptions
from importer.sources import detect_format
from importer.summary import Summary

__all__ = ["Plan", "Step", "load_plan", "run_plan", "customer_outcomes"]

_OPTION_NAMES = {f.name for f in fields(ImportOptions)} - {"entity"}
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


def _check_options(where: str, table: dict[str, Any]) -> dict[str, Any]:
    for key in table:
        if key in _NOT_IN_FILE:
            raise ConfigError(f"{where}: {key} does not belong in a plan file; pass it as a flag or VISMA_ variable")
        if key not in _OPTION_NAMES:
            raise ConfigError(f"{where}: unknown option {key!r}")
    return dict(table)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and check a plan; every mistake is a ConfigError naming the step and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"plan file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"defaults", "step"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; expected [defaults] and [[step]]")
    defaults = _check_options(f"{path} [defaults]", data.get("defaults", {}))
    raw_steps = data.get("step") or []
    if not raw_steps:
        raise ConfigError(f"{path}: no [[step]] tables")
    base = path.parent
    steps = []
    names: set[str] = set()
    for i, raw in enumerate(raw_steps, 1):
        raw = dict(raw)
        name = str(raw.pop("name", f"step {i}"))
        where = f"{path} step {name!r}"
        if name in names:
            raise ConfigError(f"{where}: two steps share this name")
        names.add(name)
        try:
            input_, entity = raw.pop("input"), raw.pop("entity")
        except KeyError as exc:
            raise ConfigError(f"{where}: {exc.args[0]} is required") from None
        if entity not in ENTITIES:
            raise ConfigError(f"{where}: unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        options = {**defaults, **_check_options(where, raw)}
        for key in ("map", "results", "failed"):
            if options.get(key):
                options[key] = str(base / options[key])
        steps.append(Step(name, str(base / input_), entity, options))
    return Plan(str(path), tuple(steps))


def customer_outcomes(results_path: str | os.PathLike[str]) -> dict[str, tuple[str, str, str | None]]:
    """Each customer number's last (outcome, action, error) in a results file."""
    last: dict[str, tuple[str, str, str | None]] = {}
    try:
        f = open(results_path, "rb")
    except FileNotFoundError:
        return {}
    with f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            line = orjson.loads(raw)
            if line.get("outcome") in (None, "started") or not line.get("key"):
                continue
            last[str(line["key"])] = (line["outcome"], line.get("action", ""), line.get("error"))
    return last


def _update_waiting(waiting: dict[str, str], results_path: str, step: str) -> None:
    """Customers that could not be created hold their documents back; a success frees them."""
    for key, (outcome, action, error) in customer_outcomes(results_path).items():
        if outcome in SUCCESS:
            waiting.pop(key, None)
        elif outcome in ("failed", "invalid") and action == "create":
            waiting[key] = f"customer {key} {outcome} in step {step!r}" + (f": {error}" if error else "")


async def run_plan(
    plan: Plan,
    *,
    overrides: dict[str, Any] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    on_step: Callable[[Step, Summary], None] | None = None,
    handle_signals: bool = False,
    progress: bool = False,
) -> list[tuple[Step, Summary]]:
    """Run the steps in order; stops after a step that was interrupted.

    ``results_dir``: where each step's results and failed-records files go
    (default: beside each input).
    """
    done: list[tuple[Step, Summary]] = []
    waiting: dict[str, str] = {}  # customer number -> why its documents are skipped
    for step in plan.steps:
        options = {**step.options, **(overrides or {})}
        if results_dir is not None and "results" not in step.options:
            Path(results_dir).mkdir(parents=True, exist_ok=True)
            base = str(Path(results_dir) / Path(step.input).name)  # the names a run beside the input uses
            options["results"] = default_results_path(base, bool(options.get("dry_run")))
            fmt = detect_format(step.input, options.get("format"))
            options.setdefault("failed", default_failed_path(base, fmt))
        summary = await import_records(
            step.input, entity=step.entity, skip_customers=waiting,
            handle_signals=handle_signals, progress=progress, **options,
        )
        done.append((step, summary))
        if on_step is not None:
            on_step(step, summary)
        if summary.interrupted or summary.api_down:
            break
        if step.entity == "customer" and summary.results_path:
            _update_waiting(waiting, summary.results_path, step.name)
    return done
