"""Plans: may a document go out yet? Only once its customer is known to exist.

A document's customer exists if, in this plan, the customer's create succeeded,
or was refused because the customer already exists, or the API has it. Customers
whose create failed (or whose row was invalid, its key still readable) hold their
documents back: before skipping such a document the gate asks the API once per
customer (cached, counted in the run's calls), since the customer may be there
after all; a document still without its customer is ``skipped``, naming why, and
goes into the step's failed-records file, to be sent by a later ``--resume``.

The gate also knows the customers the plan's steps created (``customer in gate``), kept on
disk as it reads their results: a document step's own check before sending takes them as
known, so it lists the ledger's customers only for a document naming one the plan did not
create, not for every document step of every company of a fleet at once.
"""

from __future__ import annotations

import os
import re

import anyio

from importer.client.http import ApiClient, LookupUnavailable
from importer.entities import ENTITIES
from importer.load.input_state import KnownKeys
from importer.load.lookups import Lookups
from importer.load.results import SUCCESS, iter_results
from importer.load.results_reader import ResultsLine

__all__ = ["CustomerGate"]

# How the API words a refusal of a customer that is there already.
_ALREADY_THERE = re.compile(r"already exists?|duplicate|is not unique", re.IGNORECASE)


class CustomerGate:
    """Which customers hold their documents back (``waiting``: customer -> why).

    Only customers whose create did not succeed are kept in memory, never every customer a
    step created: a plan of 100,000 customers keeps its failures, not 100,000 keys. ``exists``
    holds the few of them the API was asked about and has after all. Those the steps created
    are kept on disk, for ``customer in gate``. ``close`` when the plan ends.
    """

    def __init__(self, waiting: dict[str, str] | None = None, *, ask_api: bool = True) -> None:
        self.exists: set[str] = set()
        self._created = KnownKeys("the customers the plan's steps created")
        self.waiting: dict[str, str] = dict(waiting or {})  # customer -> why its documents wait
        self.ask_api = ask_api
        self._answers: dict[str, bool] = {}  # what the API said, per customer asked about
        self._asking: dict[str, anyio.Event] = {}  # customers being asked about right now
        self._learned: list[str] = []  # the customer steps' results files taken in, in order

    def learn(self, results_path: str | os.PathLike[str], step: str, *, note_created: bool = True) -> None:
        """Take in a customer step's results: who holds documents back now, who no longer does.

        A customer holds them back when the step failed it (or it was invalid, or skipped)
        and no line of this step or of an earlier one created it (or was refused because it
        is there already). The file is read once; again, with the earlier steps', only for
        the customers that failed, so memory follows the failures. ``note_created``: keep
        the customers it created for ``customer in gate`` (a plan with no document step
        after this one asks nothing of them).
        """
        failed: dict[str, str] = {}
        for line in iter_results(results_path):
            if line.key is None or line.outcome in ("started", "unsent", "valid"):
                continue
            if _created(line):
                self.waiting.pop(line.key, None)
                failed.pop(line.key, None)
                if note_created:
                    self._created.add(line.key)
            elif line.outcome in ("failed", "invalid", "skipped") and line.key not in self.exists:
                failed[line.key] = f"customer {line.key} {line.outcome} in step {step!r}" + (
                    f": {line.error}" if line.error else "")
        for path in (*self._learned, results_path) if failed else ():
            for line in iter_results(path):  # created before it failed, here or in an earlier step
                if line.key in failed and _created(line):
                    del failed[line.key]
        self._learned.append(os.fspath(results_path))
        for key in self.exists:
            self.waiting.pop(key, None)
        self.waiting.update(failed)

    def __contains__(self, customer: object) -> bool:
        """Whether the plan knows ``customer`` exists: a step created it, or the API said it has it."""
        return customer in self.exists or customer in self._created

    def close(self) -> None:
        self._created.close()

    async def reason_to_wait(self, customer: str, client: ApiClient | None) -> str | None:
        """Why a document for ``customer`` must not be sent yet; None when it may."""
        if customer in self.exists:
            return None
        reason = self.waiting.get(customer)
        if reason is None:
            return None
        if not self.ask_api or client is None:
            return reason
        while (asking := self._asking.get(customer)) is not None:
            await asking.wait()  # another document of this customer is asking: one call, not two
        there = self._answers.get(customer)
        if there is None:
            self._asking[customer] = anyio.Event()
            try:
                there = await Lookups(client, ENTITIES["customer"]).by_key(customer) is not None
            except LookupUnavailable as exc:
                return f"{reason}; {exc}"
            finally:
                self._asking.pop(customer).set()
            self._answers[customer] = there
            if there:
                self.exists.add(customer)
        return None if there else f"{reason}; the API does not have it either"


def _created(line: ResultsLine) -> bool:
    """The line made its customer exist: created, or refused because it is there already."""
    return line.outcome in SUCCESS or (line.outcome == "failed" and bool(_ALREADY_THERE.search(line.error or "")))
