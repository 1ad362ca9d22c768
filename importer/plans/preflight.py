"""A plan's preflight: every step's input checked against the company before the first step sends.

A run's preflight (:mod:`importer.load.preflight`) stops that run before it sends. In a plan
that is not enough: an invoice step with a bad VAT category would be refused only after the
customers step had sent its customers, half-loading the company. So before its first step,
a live plan (``importer plan`` without ``--sandbox``, each company of ``importer fleet``):

- reads the live company once (:func:`~importer.ledger.run_company.company_for_run`), keeping it
  beside the first step's results as ``<results>.company.json``; a ``--resume`` of a plan that
  wrote outcomes reuses it, and a ``--dry-run`` checks against it when it is there. A step's
  ``preflight_company`` (``--company``) of a FILE or ``none`` is that step's instead;
- scans every step's input against it, a document's customer counting as known when a
  customers step of the plan creates it (and the ledger listed once, for the others);
- when any record of any step would be refused and the step was not told ``send_valid``,
  raises :class:`PlanRefused`: nothing is sent, no outcome is written, and the problems are
  listed per step, grouped by column and value. With ``send_valid`` the failures are
  ``invalid`` in their own step's results (each step checks again as it runs).

A step whose options or input are wrong is not scanned here: it says so itself when its
turn comes, as it did before the plan had a preflight.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Container, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from importer.api import build_client, default_results_path, mapped_work
from importer.client import ApiClient
from importer.company import Company, load_company
from importer.entities import ENTITIES
from importer.errors import ConfigError, ImporterError
from importer.ledger.run_company import company_for_run
from importer.load.input_state import KnownKeys
from importer.load.preflight import Preflight, Scan, grouped, scan
from importer.load.tempdb import TemporarySpaceError
from importer.mapping import Work
from importer.options import ImportOptions

__all__ = ["PlanCheck", "PlanRefused", "documents_follow", "plan_company", "preflight_plan"]

log = logging.getLogger("importer.plan")


@dataclass
class PlanCheck:
    """What a plan's preflight found and cost: each step's scan, the calls it made."""

    company: Company | None = None
    source: str = "none"
    calls: int = 0  # reading the company and listing the ledger's customers
    scans: list[tuple[str, Scan, bool]] = field(default_factory=list)  # (step, scan, send_valid)


class PlanRefused(ConfigError):
    """A live plan's preflight found records the company would refuse in a step not told ``send_valid``."""

    def __init__(self, plan: str, check: PlanCheck) -> None:
        self.check = check
        failing = [(name, found) for name, found, _ in check.scans if not found.clean]
        refused = sum(found.refused for _, found in failing)
        records = sum(found.records for _, found, _ in check.scans)
        lines = [f"{plan}: the company would refuse {refused:,} of the {records:,} records of the plan, so "
                 "nothing was sent by any step and no outcome written:"]
        for name, found in failing:
            lines.append(f"step {name!r}: {found.refused:,} of {found.records:,} records")
            lines += grouped(found)
        lines.append("fix the map or the file and run again, or pass --send-valid to send the valid records "
                     "of every step (the others are then invalid in their step's results, each with its reason)")
        super().__init__("\n".join(lines))


async def plan_company(first: ImportOptions, results: str, *, live: bool) -> PlanCheck:
    """The company a plan checks against when its steps do not name one: read now (live), the
    one kept beside ``results`` (the first step's live results file), or none."""
    if not live:
        return PlanCheck()
    found = await company_for_run(first, results)
    return PlanCheck(found.company, found.source, found.calls)


def live_results(step_input: str, options: dict[str, Any]) -> str:
    """Where a step's live results file is (a dry run's company is the one a live run kept)."""
    return options.get("results") or default_results_path(step_input)


def step_company(opts: ImportOptions, given: Company | None) -> Company | None:
    """What a step is checked against: its ``preflight_company`` FILE, nothing for ``none``,
    else the company the plan was given or read."""
    option = opts.behaviour.preflight_company
    if option is None or option == "live":
        return given
    if option.strip().casefold() == "none":
        return None
    return load_company(option)


async def preflight_plan(
    steps: list[tuple[str, str, ImportOptions]], check: PlanCheck, client: ApiClient | None, plan: str,
) -> None:
    """Scan every step's input (name, input, options) before any step sends; :class:`PlanRefused`
    when a step not told ``send_valid`` has records the company would refuse."""
    async with AsyncExitStack() as stack:
        known = KnownKeys("the customers a step of the plan creates")  # on disk: a fleet checks every company at once
        stack.callback(known.close)
        ledger: Container[str] | None = None  # the ledger's customers, listed once for every step
        for at, (name, source, opts) in enumerate(steps):
            try:
                company = step_company(opts, check.company)
            except ConfigError:
                continue  # its snapshot file is wrong: the step says so when its turn comes
            entity = ENTITIES[opts.entity]
            if company is None or entity.is_action:
                continue
            if client is None:
                client = await stack.enter_async_context(build_client(opts))
                await client.authenticate()
            preflight = Preflight(company, entity, opts.mode, known=known)  # only customers steps add to it
            preflight.ledger = ledger
            before = client.stats.calls
            try:
                noting = opts.entity == "customer" and documents_follow(o.entity for _, _, o in steps[at + 1:])
                found = await scan(_noting(mapped_work(source, opts, on_bound=preflight.bind), known, noting),
                                   preflight, client)
            except TemporarySpaceError:  # no room for the plan's customers: no step could keep its indexes
                raise
            except ImporterError as exc:  # an unreadable input: the step says so when its turn comes
                log.info("plan step %r not checked before sending: %s", name, exc)
                continue
            finally:
                check.calls += client.stats.calls - before
            ledger = preflight.ledger
            check.scans.append((name, found, opts.behaviour.send_valid))
    if any(not found.clean and not send_valid for _, found, send_valid in check.scans):
        raise PlanRefused(plan, check)


def documents_follow(later: Iterable[str]) -> bool:
    """Whether any of the ``later`` steps' entities is a document: only those ask which customers
    the plan creates, so without one a customers step's keys are not noted at all."""
    return any(ENTITIES[entity].is_document for entity in later)


async def _noting(works: AsyncIterator[Work], known: KnownKeys, customers: bool) -> AsyncIterator[Work]:
    """``works`` as they are; a customers step's keys noted in ``known`` on the way."""
    async for work in works:
        if customers and work.key is not None:  # an invalid one too: its documents wait (the gate)
            known.add(work.key)
        yield work
