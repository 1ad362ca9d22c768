"""The customer ledger's business rules: create, update, delete, read, list, release, dunning letters.

A Ledger serves one tenant (company) over its own tables (``store.TenantTables``): its
records, auto-numbers and customer references never meet another tenant's.

Everything here is driven by ``importer.entities.ENTITIES``: customers (an entity with a
key and no lines), documents (an entity with lines) and action entities are told apart by
the table's columns, never by one class per entity.

Records are stored the way the request spelled them, minus the ``{"value": ...}``
wrappers, plus ``createdDateTime``, ``lastModifiedDateTime`` and ``status`` (and
``released`` for documents); /sandbox/records shows that shape. GETs answer the response
DTOs instead, made from it by ``views.View`` (``customer: {number, name}`` where the
request sent ``customerNumber``, ``postPeriod`` as YYYYMM, computed totals).

The "live" profile adds what integrators report of the live API at this level: the
``externalReference`` filter matches loosely (``listing.py``), list items carry no
``metadata``, and release and createDunningLetter answer ``Queued`` and finish a moment
later (``queue_delay`` seconds). A queued release is marked in the stored record until it
finishes; a server stopped in between finishes it on the next start.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from importer.company import Company
from importer.entities import ENTITIES, Entity
from importer.keys import encode_key
from importer.sandbox.answers import Answer, ApiError, ipp_error, json_answer, message_error
from importer.sandbox.dates import now_iso
from importer.sandbox.derived import derive_document
from importer.sandbox.listing import ListQuery
from importer.sandbox.numbering import draw_number, plan_number
from importer.sandbox.periods import PERIODS
from importer.sandbox.references import References
from importer.sandbox.store import Record, TenantTables
from importer.sandbox.validation import Validator, parse_body
from importer.sandbox.views import Groups, View
from importer.schema import fields

__all__ = ["Ledger", "Rules", "build_rules"]

_CUSTOMER = "customer"  # the entity documents point at through customerNumber
_NO_CONTENT = Answer(204)
_RELEASE_QUEUED = "releaseQueued"  # stored mark of a release answered Queued, not yet done
_QUEUE_DELAY = 0.1  # seconds a queued action takes (live profile)


@dataclass(frozen=True, slots=True)
class Rules:
    """What the ledger needs to know about one entity, worked out once."""

    entity: Entity
    validate: Validator
    label: str  # for messages: "Customer", "Credit note"
    tax_field: str | None  # the document's tax-detail array ("taxDetails" / "taxDetailLines")
    periods: tuple[str, ...]  # period fields present in the schema
    request_fields: frozenset[str]  # the request schema's top-level fields
    listing: ListQuery | None
    view: View | None  # how reads answer a stored record; None for action entities
    company: Company | None = None  # the company behind the API (numbering, VAT); None: anything goes

    @classmethod
    def of(cls, entity: Entity, max_page_size: int, live: bool = False, company: Company | None = None) -> Rules:
        table = fields(entity.schema)
        tax = next((f.name for f in table.values() if f.kind == "array" and f.ref == "TaxDetailUpdateDto"), None)
        readable = not entity.is_action
        return cls(
            entity=entity,
            validate=Validator(entity.schema),
            label=entity.name.replace("-", " ").capitalize(),
            tax_field=tax,
            periods=tuple(p for p in PERIODS if p in table),
            request_fields=frozenset(table),
            listing=ListQuery(entity, max_page_size, loose=live) if readable else None,
            view=View(entity, tax, company) if readable else None,
            company=company,
        )


def build_rules(max_page_size: int, live: bool = False, company: Company | None = None) -> dict[str, Rules]:
    """Rules for every entity; they hold no records, so one set serves every tenant's ledger."""
    return {name: Rules.of(e, max_page_size, live, company) for name, e in ENTITIES.items()}


def _key_of(record: Record, key_field: str) -> str | None:
    """The record's key as sent (trimmed), or None when absent or blank (auto-number)."""
    value = record.get(key_field)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _merge(base: Record, changes: Record) -> Record:
    """A copy of ``base`` with ``changes`` applied; nested objects merge, the rest replaces."""
    out = dict(base)
    for name, value in changes.items():
        old = out.get(name)
        if type(value) is dict and type(old) is dict:
            out[name] = _merge(old, value)
        else:
            out[name] = value
    return out


def _apply_lines(current: list[Record], ops: list[Record], field: str) -> list[Record]:
    """Document lines after Insert/Update/Delete operations (operation defaults to Insert).

    Insert appends with the next line number (a number sent with it is ignored); Update
    merges into the line with the sent ``lineNumber``; Delete removes it.
    """
    lines = list(current)
    next_number = max((line.get("lineNumber") or 0 for line in lines), default=0) + 1
    for i, op in enumerate(ops):
        kind = op.pop("operation", "Insert")
        if kind == "Insert":
            op["lineNumber"] = next_number
            next_number += 1
            lines.append(op)
            continue
        number = op.get("lineNumber")
        if number is None:
            raise ipp_error(f"'{field}[{i}].lineNumber' is required for operation {kind}.")
        index = next((j for j, line in enumerate(lines) if line.get("lineNumber") == number), None)
        if index is None:
            raise ipp_error(f"'{field}[{i}].lineNumber': the document has no line {number} to {kind.lower()}.")
        if kind == "Update":
            lines[index] = _merge(lines[index], op)
        else:
            del lines[index]
    return lines


class Ledger:
    """The API's operations over one tenant's tables; each returns an Answer or raises ApiError.

    ``rules`` may be shared by the ledgers of every tenant (``build_rules``); without it
    the ledger builds its own.
    """

    def __init__(
        self, tables: TenantTables, max_page_size: int, profile: str = "standard",
        queue_delay: float = _QUEUE_DELAY, rules: Mapping[str, Rules] | None = None,
        company: Company | None = None,
    ) -> None:
        self.tables = tables
        self.company = company
        self.references = References(company) if company is not None else None
        self.max_page_size = max_page_size
        self.live = profile == "live"
        self.queue_delay = queue_delay
        self._customers = tables.records[_CUSTOMER]
        self.rules: Mapping[str, Rules] = rules if rules is not None else build_rules(max_page_size, self.live)
        self._finish_queued()

    # -- writes ----------------------------------------------------------------------------

    def create(self, rules: Rules, body: bytes, base: str, v2: bool = False) -> Answer:
        """POST on a collection (``v2``: a V2 document create): 201 with the new resource's
        Location (a V2 create also an ETag); the number as the company's series decide."""
        entity = rules.entity
        record = rules.validate(parse_body(body))
        key_field = entity.key_field or ""
        table = self.tables.records[entity.name]
        plan = plan_number(
            rules.company, entity, _key_of(record, key_field), record.get("overrideNumberSeries") is True,
            v2=v2, label=rules.label,
        )
        key = plan.key
        if key is not None and key in table:
            self.tables.stats.duplicates_refused += 1
            raise ipp_error(f"{rules.label} '{key}' already exists ({key_field} must be unique).")
        if entity.is_document:
            self._check_document(rules, record, creating=True)
            self._against_company(rules, record, None)
            line_field = entity.line_field or ""
            record[line_field] = _apply_lines([], record.get(line_field) or [], line_field)
            record["status"] = "Hold" if record.get("hold") else "Balanced"
            record["released"] = False
        else:
            name = record.get("name")
            if name is None or not name.strip():
                raise ipp_error(f"'name' is required to create a {rules.label.lower()}.")
            if record.get("status") is None:
                record["status"] = "Active"
            if self.references is not None:
                self.references.check_customer(record, creating=True)
        if key is None:
            key = draw_number(self.tables, entity, plan.series, rules.label) if plan.automatic \
                else self.tables.next_number(entity.name)
        record[key_field] = key
        record["createdDateTime"] = record["lastModifiedDateTime"] = now_iso()
        self.tables.put(entity.name, key, record)
        headers = {"Location": f"{base}{entity.path}/{encode_key(key)}"}
        if v2:
            headers["ETag"] = f'"{uuid.uuid5(uuid.NAMESPACE_URL, key + record["lastModifiedDateTime"])}"'
        return Answer(201, b"", headers)

    def update(self, rules: Rules, key: str, body: bytes) -> Answer:
        """PUT on a resource: only the fields sent change; 204."""
        entity = rules.entity
        current = self._existing(rules, key)
        changes = rules.validate(parse_body(body))
        key_field = entity.key_field or ""
        if key_field in changes:
            sent = _key_of(changes, key_field)
            if sent is not None and sent != key:
                raise ipp_error(f"'{key_field}' cannot be changed: the URL names '{key}', the body '{sent}'.")
            del changes[key_field]
        if entity.is_document:
            if current.get("released") or current.get(_RELEASE_QUEUED):
                raise ipp_error(f"{rules.label} '{key}' is released and can no longer be changed.")
            self._check_document(rules, changes, creating=False)
            self._against_company(rules, changes, current)
            line_field = entity.line_field or ""
            ops = changes.pop(line_field, None)
            record = _merge(current, changes)
            if ops is not None:
                record[line_field] = _apply_lines(current.get(line_field) or [], ops, line_field)
            if "hold" in changes:
                record["status"] = "Hold" if changes["hold"] else "Balanced"
        else:
            if "name" in changes and not (changes["name"] or "").strip():
                raise ipp_error(f"'name' cannot be emptied on a {rules.label.lower()}.")
            if self.references is not None:
                self.references.check_customer(changes, creating=False)
            record = _merge(current, changes)
        record["lastModifiedDateTime"] = now_iso()
        self.tables.put(entity.name, key, record)
        return _NO_CONTENT

    def release(self, rules: Rules, key: str) -> Answer:
        """POST .../action/release: a Balanced document becomes Open (released).

        Live profile: answered ``Queued``; the document stays as it was until the release
        finishes ``queue_delay`` seconds later (a second release meanwhile is refused).
        """
        current = self._existing(rules, key)
        if current.get("released"):
            raise ipp_error(f"{rules.label} '{key}' is already released.")
        if current.get(_RELEASE_QUEUED):
            raise ipp_error(f"{rules.label} '{key}' is already being released.")
        if current.get("status") == "Hold":
            raise ipp_error(f"{rules.label} '{key}' is on hold; take it off hold before releasing it.")
        name = rules.entity.name
        answer = {"actionId": str(uuid.uuid4()), "actionResult": "Done"}
        if not self.live:
            self.tables.put(name, key, _released(current))
            return json_answer(200, answer)
        self.tables.put(name, key, {**current, _RELEASE_QUEUED: True})
        self._later(lambda: self._finish_release(name, key))
        return json_answer(200, {**answer, "actionResult": "Queued"})

    def delete(self, rules: Rules, key: str) -> Answer:
        """DELETE on a document: 204, only while it is not released (nor being released)."""
        current = self._existing(rules, key)
        if current.get("released") or current.get(_RELEASE_QUEUED):
            raise ipp_error(f"{rules.label} '{key}' is released and cannot be deleted.")
        self.tables.remove(rules.entity.name, key)
        return _NO_CONTENT

    def run_action(self, rules: Rules, parent: Rules, key: str, body: bytes) -> Answer:
        """POST {parent}/{key}/action/{action} of an action entity (createDunningLetter).

        The parent record must exist; the action is stored as a record of its own (keyed by
        its action id, listable under /sandbox/records) and answers 200 ``Done`` (live
        profile: ``Queued``, and the stored action turns ``Done`` ``queue_delay`` seconds later).
        """
        if key not in self.tables.records[parent.entity.name]:
            raise message_error(404, f"{parent.label} '{key}' was not found.")
        data = rules.validate(parse_body(body))
        # Level range checks (createDunningLetter's fields; absent fields are skipped).
        low, high = data.get("levelFrom"), data.get("levelTo")
        for name, level in (("levelFrom", low), ("levelTo", high)):
            if level is not None and level < 1:
                raise ipp_error(f"'{name}' must be 1 or more, got {level}.")
        if low is not None and high is not None and low > high:
            raise ipp_error(f"'levelFrom' ({low}) must not be greater than 'levelTo' ({high}).")
        action_id = str(uuid.uuid4())
        now = now_iso()
        result = "Queued" if self.live else "Done"
        record = {
            "actionId": action_id, rules.entity.action_key_field or "key": key, **data,
            "actionResult": result, "createdDateTime": now, "lastModifiedDateTime": now,
        }
        name = rules.entity.name
        self.tables.put(name, action_id, record)
        if self.live:
            self._later(lambda: self._finish_action(name, action_id))
        return json_answer(200, {"actionId": action_id, "actionResult": result})

    # -- reads ------------------------------------------------------------------------------

    def get(self, rules: Rules, key: str, query: Mapping[str, str]) -> Answer:
        """GET on a resource: its response DTO (every group of a document; no metadata)."""
        record = self._existing(rules, key)
        view = rules.view
        assert view is not None  # the app routes only collections here, never action entities
        groups = Groups.of_query(query, listing=False) if rules.entity.is_document else None
        return Answer(200, orjson.dumps(view.render(record, self._customers, groups)))

    def list(self, rules: Rules, query: Mapping[str, str]) -> Answer:
        """GET on a collection: a JSON array of response DTOs.

        Standard profile: each item carries the paging ``metadata``; live: none does.
        """
        listing, view = rules.listing, rules.view
        assert listing is not None and view is not None  # collections only, never action entities
        groups = Groups.of_query(query, listing=True) if rules.entity.is_document else None
        page, total = listing.select(self.tables, query)
        customers = self._customers
        items = [view.render(r, customers, groups) for r in page]
        if not self.live:
            meta = {"totalCount": total, "maxPageSize": self.max_page_size}
            for item in items:
                item["metadata"] = meta
        return Answer(200, orjson.dumps(items))

    # -- helpers ----------------------------------------------------------------------------

    def _existing(self, rules: Rules, key: str) -> Record:
        record = self.tables.records[rules.entity.name].get(key)
        if record is None:
            raise message_error(404, f"{rules.label} '{key}' was not found.")
        return record

    def _check_document(self, rules: Rules, record: Record, *, creating: bool) -> None:
        """A document names an existing customer, and its periods are well formed."""
        if creating or "customerNumber" in record:
            customer = (record.get("customerNumber") or "").strip()
            if not customer:
                raise ipp_error(f"'customerNumber' is required for a {rules.label.lower()}.")
            if customer not in self._customers:
                raise ipp_error(f"'customerNumber': customer '{customer}' does not exist.")
            record["customerNumber"] = customer
        for name in rules.periods:
            value = record.get(name)
            if value is None:
                continue
            period = PERIODS[name]
            if not period.pattern.match(value):
                raise ipp_error(f"Invalid value for '{name}': expected a period as {period.shape}, got '{value}'.")

    def _against_company(self, rules: Rules, record: Record, current: Record | None) -> None:
        """Derive the periods and due dates left out (references.py, derived.py), then check
        every reference and period against the company, if there is one."""
        derive_document(record, current, rules.request_fields, self.company, self._customers)
        if self.references is not None:
            self.references.check_document(record, rules.entity.line_field or "", current)
            self.references.check_periods(record, creating=current is None)

    # -- queued actions (live profile) -------------------------------------------------------

    def _later(self, finish: Callable[[], None]) -> None:
        """Run ``finish`` after the queue delay (at once when no event loop runs)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            finish()
            return
        loop.call_later(self.queue_delay, finish)

    def _finish_release(self, entity: str, key: str) -> None:
        current = self.tables.records[entity].get(key)
        if current is not None and current.get(_RELEASE_QUEUED):  # still the record that was queued
            self.tables.put(entity, key, _released(current))

    def _finish_action(self, entity: str, action_id: str) -> None:
        current = self.tables.records[entity].get(action_id)
        if current is not None and current.get("actionResult") == "Queued":
            self.tables.put(entity, action_id, {**current, "actionResult": "Done", "lastModifiedDateTime": now_iso()})

    def _finish_queued(self) -> None:
        """Finish what a previous run left queued (its delay is long over)."""
        for name, rules in self.rules.items():
            table = self.tables.records[name]
            if rules.entity.releasable:
                for key in [k for k, r in table.items() if r.get(_RELEASE_QUEUED)]:
                    self._finish_release(name, key)
            elif rules.entity.is_action:
                for key in [k for k, r in table.items() if r.get("actionResult") == "Queued"]:
                    self._finish_action(name, key)


def _released(record: Record) -> Record:
    """``record`` released: Open, and no longer marked queued."""
    out = {k: v for k, v in record.items() if k != _RELEASE_QUEUED}
    out.update(released=True, status="Open", lastModifiedDateTime=now_iso())
    return out

def not_found(path: str) -> ApiError:
    """404 for a URL no route matches, in the API's words."""
    return message_error(404, f"No HTTP resource was found that matches the request URI '{path}'.")
