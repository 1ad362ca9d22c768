"""Company numbering on a rerun: the file's numbers the ledger holds already, so nothing is created twice.

``company`` numbering (:mod:`importer.load.numbering`) sends no number: the file's is kept
in a field (``customerRefNumber`` for documents), and the company has nothing to refuse as
a duplicate. A run that does not ``--resume`` an earlier one (``--restart``, a new
``--results``, ``--mode upsert``) would create every record again. So before its first
write such a run reads, once, which legacy numbers the ledger holds: one paged listing of
the entity (:func:`read_held`), kept as the ledger's keys by the field's value. Where the
list is longer than the input (more pages than records) and the list GET filters on the
field, the listing is left out and each record asks the filter instead, as
:mod:`importer.load.prefetch` does for upsert.

What a record whose number is held becomes (:meth:`Held.find`, used by the workers):

- a **create**: the record is read by the ledger's key and compared with what the create
  would send (the importer's own ``imp-`` reference aside: each results file makes its
  own). The same: ``created`` with ``"recovered": true`` and the ledger's key, nothing
  sent. Other values: ``failed`` ("the ledger already holds invoice AR000042 with
  customerRefNumber 'INV-1', with other values: ..."), never a second create.
- an **upsert** or an **update**: the record is the ledger's, under the ledger's key; an
  upsert updates it (or finds it holds what the file says).
- a number two records of the ledger carry: ``failed``, naming them.

A file re-saved by a spreadsheet may have lost the leading zeros of its numbers (``00123``
saved as ``123``), or gained padding. A number the ledger does not hold as it is spelled is
looked for with those left out (:func:`loose`): the one record carrying it so is the record
(compared as above, its number as the ledger spells it); where several do, the one holding
what the create would send (customer, date, amounts, lines) is, and if none or more than one
does, the record is ``failed``, naming them, and not sent. Only a listed ledger is looked at
so; a number asked of the list GET's filter is matched as it is.

A record whose number is not held is new: an upsert creates it without asking the API
for the file's number, which, the company numbering, may be another record's key.

    held = await read_held(client, entity, "customerRefNumber", input_path)
    found = await held.find(lookups, "INV-1", payload)     # Found(key="AR000042", ...)
"""

from __future__ import annotations

import math
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from importer.client.http import ApiClient, LookupUnavailable, Response
from importer.client.pages import ListError, list_pages
from importer.entities import Entity
from importer.errors import ApiError
from importer.load.lookups import LIST_FILTERS, Lookups, difference
from importer.load.prefetch import PAGE_SIZE, count_records
from importer.load.references import PREFIX
from importer.schema import unwrap_value

__all__ = ["Held", "Found", "read_held", "loose"]


@dataclass(frozen=True, slots=True)
class Found:
    """What the ledger holds of one legacy number: nothing (``key`` None), or the record."""

    key: str | None = None  # the ledger's key of the one record carrying it
    answer: Response | None = None  # a create's: the record as read, when it holds what is sent
    error: str | None = None  # why the record cannot go on (other values, several records, no read)
    other_values: bool = False  # the error: the record holds other values than the create sends


class Held:
    """The legacy numbers the ledger holds in ``field``: the ledger's keys by number.

    ``keys`` None: not listed (the list is longer than the input); each number is asked
    of the list GET's filter. ``calls``: what reading them cost.
    """

    def __init__(self, entity: Entity, field: str, keys: dict[str, list[str]] | None, calls: int) -> None:
        self.entity = entity
        self.field = field
        self.keys = keys
        self.calls = calls
        self._loose: dict[str, list[str]] | None = None  # by loose(number): the ledger's numbers, made on first use

    async def keys_of(self, lookups: Lookups, number: str) -> list[str]:
        """The ledger's keys of the records carrying ``number`` (LookupUnavailable: cannot tell)."""
        if self.keys is not None:
            return self.keys.get(number, [])
        found = await lookups.carrying(self.field, number)
        return [key for item in found if (key := _text(item.get(self.entity.key_field or ""))) is not None]

    def _spelled_otherwise(self, number: str) -> list[tuple[str, str]]:
        """(the ledger's number, its key) of the records carrying ``number`` but for leading zeros
        and padding, spelled otherwise than ``number``; none where the ledger was not listed."""
        if self.keys is None:
            return []
        if self._loose is None:
            self._loose = {}
            for held in self.keys:
                self._loose.setdefault(loose(held), []).append(held)
        return [(held, key) for held in self._loose.get(loose(number), ()) if held != number
                for key in self.keys[held]]

    async def find(self, lookups: Lookups, number: str, payload: dict[str, Any] | None) -> Found:
        """Whether the ledger holds ``number``; with ``payload`` (a create's, as it would be
        sent), whether the record holding it holds that too."""
        where = f"{self.field} {number!r}"
        try:
            keys = await self.keys_of(lookups, number)
        except LookupUnavailable as exc:
            return Found(error=f"could not tell whether the ledger already holds the {self.entity.name} with "
                               f"{where}: {exc}; it is not sent")
        if len(keys) > 1:
            return Found(error=f"the ledger already holds {len(keys)} {self._plural} with {where} "
                               f"({', '.join(keys[:5])}): it is not sent; keep one of them")
        if not keys:
            otherwise = self._spelled_otherwise(number)
            return await self._by_content(lookups, number, otherwise, payload) if otherwise else Found()
        return await self._compared(lookups, keys[0], where, payload)

    async def _by_content(self, lookups: Lookups, number: str, otherwise: list[tuple[str, str]],
                          payload: dict[str, Any] | None) -> Found:
        """The record among ``otherwise`` (numbers like ``number`` but for leading zeros or padding)
        that ``number`` stands for: the only one, or the only one holding what ``payload`` sends."""
        if len(otherwise) == 1:
            held, key = otherwise[0]
            where = f"{self.field} {held!r} (the file's {number!r}, but for leading zeros or padding)"
            return await self._compared(lookups, key, where, self._as_held(payload, held))
        named = ", ".join(f"{key} ({held!r})" for held, key in otherwise[:5])
        where = f"{self.field} {number!r} but for leading zeros or padding"
        if payload is None:
            return Found(error=f"the ledger already holds {len(otherwise)} {self._plural} with {where} "
                               f"({named}): it is not sent; keep one of them, or give the file's numbers as "
                               "the ledger spells them")
        same: list[Found] = []
        for held, key in otherwise:
            found = await self._compared(lookups, key, where, self._as_held(payload, held))
            if found.answer is not None:
                same.append(found)
            elif found.key is None and found.error is None:
                continue  # gone since it was listed
            elif found.error is not None and not found.other_values:
                return found  # could not be read: cannot tell which it is
        if len(same) == 1:
            return same[0]
        holding = f"{len(same)} of them hold" if same else "none of them holds"
        return Found(error=f"the ledger already holds {len(otherwise)} {self._plural} with {where} ({named}), "
                           f"and {holding} what the file gives: it is not sent; give the file's numbers as "
                           "the ledger spells them")

    def _as_held(self, payload: dict[str, Any] | None, held: str) -> dict[str, Any] | None:
        """``payload`` with the number as the ledger spells it: compared on the rest of what it sends."""
        if payload is None or self.field not in payload:
            return payload
        sent = payload[self.field]
        return {**payload, self.field: {**sent, "value": held} if isinstance(sent, dict) else held}

    async def _compared(self, lookups: Lookups, key: str, where: str, payload: dict[str, Any] | None) -> Found:
        """The record ``key`` (carrying the number ``where`` says), read and compared with ``payload``."""
        if payload is None:
            return Found(key)
        try:
            answer = await lookups.by_key(key)
        except LookupUnavailable as exc:
            return Found(key, error=f"the ledger already holds {self.entity.name} {key} with {where}, and it "
                                    f"could not be read to compare ({exc}): it is not created again")
        if answer is None:  # gone since it was listed: new after all
            return Found()
        record = answer.json()
        differences = lookups.differences(_without_own_reference(payload), record) if isinstance(record, dict) \
            else [{"field": self.entity.key_field, "actual": None, "expected": key}]
        if differences:
            return Found(key, error=f"the ledger already holds {self.entity.name} {key} with {where}, with other "
                                    f"values: {difference(differences[0])}; it is not created again (run with "
                                    "--mode upsert to update it)", other_values=True)
        return Found(key, answer)

    @property
    def _plural(self) -> str:
        return "documents" if self.entity.is_document else f"{self.entity.name}s"


async def read_held(client: ApiClient, entity: Entity, field: str, input_path: str | None) -> Held:
    """The legacy numbers the ledger holds in ``field``, from one paged listing of ``entity``.

    ``input_path``: the input file, counted (only as far as it matters) once the first page
    says how many pages the list has; a longer list that the API filters on ``field`` is not
    read (a filtered GET per record is cheaper). ApiError when the list cannot be read.
    """
    key_field = entity.key_field or ""
    keys: dict[str, list[str]] = {}
    before = client.stats.calls
    filtered = field in LIST_FILTERS[entity.is_document]
    try:
        async with aclosing(list_pages(client, entity, {}, page_size=PAGE_SIZE)) as pages:
            async for page in pages:
                if (page.number == 1 and filtered and input_path is not None and page.total_count is not None):
                    needed = math.ceil(page.total_count / page.page_size)
                    records = count_records(input_path, limit=needed)
                    if records is not None and needed > records + 1:
                        return Held(entity, field, None, client.stats.calls - before)
                for item in page.items:
                    number, key = _text(item.get(field)), _text(item.get(key_field))
                    if number and key is not None:
                        keys.setdefault(number, []).append(key)
    except ListError as exc:
        raise ApiError(exc.status, f"company numbering: cannot list the {entity.name} records already in the "
                                   f"ledger, to find those whose {field} holds a number of the file: {exc}") from None
    return Held(entity, field, keys, client.stats.calls - before)


def loose(number: str) -> str:
    """``number`` as a spreadsheet may have saved it: without padding and leading zeros."""
    trimmed = number.strip()
    return trimmed.lstrip("0") or ("0" if trimmed else "")


def _text(value: Any) -> str | None:
    value = unwrap_value(value)
    return str(value).strip() if value is not None else None


def _without_own_reference(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without the importer's own ``imp-`` reference: each results file makes its own."""
    reference = unwrap_value(payload.get("externalReference"))
    if isinstance(reference, str) and reference.startswith(PREFIX):
        return {k: v for k, v in payload.items() if k != "externalReference"}
    return payload
