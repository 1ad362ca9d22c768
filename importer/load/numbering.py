"""How the records a run creates are numbered: by the company, or by the file's own numbers.

A company numbers customers and documents by its number series (screen CS201010). An
import of a legacy ledger must agree with it, record by record, or the ledger ends up
with numbers nobody chose. Three ways, the ``numbering`` setting (``--numbering``, the
map's ``numbering``, a plan step's key):

- ``company``: the company numbers. No number is sent; the file's number is kept in a
  field of the consultant's choosing (``--numbering-field``; for documents
  ``customerRefNumber``), so the record can be found again (a lookup after a lost answer
  lists the documents carrying it) and reported (the results line's ``sent_key``).
- ``manual``: the series is manual: the file's number is sent and kept. A record without
  one is ``invalid`` before any call.
- ``override``: the file's numbers on an automatic series: the create says
  ``overrideNumberSeries: {value: true}`` (documents through the V2 create, customers on
  ``POST /v1/customer``). The series must allow manual numbering on imports, or the
  company refuses the record. A record without a number is numbered by the company.

Without a setting, the company snapshot decides where it can (``Company.numbering_of``):
a manual series is ``manual``; an automatic one that allows manual numbering on imports
is ``override`` for records with a number; an automatic one that does not is ``company``
for documents (their number kept in ``customerRefNumber``) and ``override`` for customers
(refused with a message naming the series setting, rather than renumbering customers the
documents point to). Where the snapshot cannot tell, documents with a number are
``override`` and those without ``company``; customers are sent as the file has them.

    numbering = Numbering.for_run(entity, options, company, map_setting=("company", None))
    numbering.describe()             # "override for invoices with a number (...); company for ..."
    numbering.problem(work)          # why the record cannot be numbered so, or None
    sent, legacy = numbering.applied(work)   # the create's work; (field, number) to find it by
    numbering.legacy_number(work)    # "INV-1": the file's number a company-numbered create keeps

A rerun of a company-numbered import finds what is already there by that field
(:mod:`importer.load.held`), since no number is sent for the company to refuse twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from importer.company import Company
from importer.company.model import Numbered
from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapping import Work
from importer.options import ImportOptions
from importer.schema import fields, unwrap_value
from importer.vocabulary import NumberingMode

__all__ = ["Numbering", "Rule", "DOCUMENT_FIELD", "OVERRIDE"]

DOCUMENT_FIELD = "customerRefNumber"  # where company numbering keeps a document's legacy number
OVERRIDE = "overrideNumberSeries"
_NUMBERED: dict[str, Numbered] = {
    "customer": "customer", "invoice": "invoice", "credit-note": "creditNote", "debit-note": "debitNote",
}
_PLURAL = {"customer": "customers", "invoice": "invoices", "credit-note": "credit notes", "debit-note": "debit notes"}
_SETTING = "'Allow manual numbering on imports'"


@dataclass(frozen=True, slots=True)
class Rule:
    """The numbering of a kind of record (with a number of its own, or without) and why."""

    mode: NumberingMode
    why: str


def _series_rules(company: Company, entity: Entity, field: str | None) -> tuple[Rule, Rule] | None:
    """(with a number, without one) as the company's series says; None when it cannot tell."""
    setting, series = company.numbering_of(_NUMBERED[entity.name])
    name = f"number series '{series.get('numberingId')}'" if series is not None else None
    if series is not None and series.get("manualNumbering"):
        rule = Rule("manual", f"{name} is manual")
        return rule, rule
    automatic = series is not None
    if entity.name == "customer" and not automatic:
        segments = (company.customer_dimension or {}).get("segments") or ()
        automatic = any(isinstance(s, Mapping) and s.get("isAutoNumber") for s in segments)
        name = name or "the customer number series"
    if not automatic:
        return None
    without = Rule("company", f"{name} is automatic and the record has no number")
    if setting.allow_manual_on_imports:
        return Rule("override", f"{name} is automatic and allows manual numbering on imports"), without
    if entity.is_document:
        return Rule("company", f"{name} is automatic and does not allow manual numbering on imports: "
                               f"the file's number is kept in {field}"), without
    return Rule("override", f"{name} is automatic and does not allow manual numbering on imports: the company "
                            f"will refuse each number until {_SETTING} is set on it (or pass --numbering company "
                            "--numbering-field FIELD)"), without


class Numbering:
    """How one run numbers what it creates: a rule for records with a number, one for those without."""

    def __init__(self, entity: Entity, with_number: Rule, without_number: Rule, field: str | None) -> None:
        self.entity = entity
        self.with_number = with_number
        self.without_number = without_number
        self.field = field

    @classmethod
    def for_run(
        cls, entity: Entity, options: ImportOptions, company: Company | None = None,
        map_setting: tuple[str | None, str | None] = (None, None),
    ) -> Numbering | None:
        """The run's numbering (None for actions). The run's options win over the map's
        (``map_setting``: its ``numbering`` and ``numbering_field``); without either the
        company and each record decide. ConfigError when the setting cannot work."""
        if entity.name not in _NUMBERED:
            return None  # an action creates nothing numbered (ImportOptions refuses --numbering for it)
        setting: str | None = options.behaviour.numbering
        source = "--numbering"
        if setting is None and map_setting[0] is not None:
            setting, source = map_setting[0], "the map's numbering"
        field = options.behaviour.numbering_field or map_setting[1] or (DOCUMENT_FIELD if entity.is_document else None)
        if field is not None:
            field = field.strip()
            if field not in fields(entity.schema) or field in (entity.key_field, OVERRIDE):
                raise ConfigError(f"--numbering-field: {field!r} is not a field of {entity.name} that can keep "
                                  f"its number (for documents: {DOCUMENT_FIELD})")
        plural = _PLURAL[entity.name]
        if setting is not None:
            if setting == "company" and field is None:
                raise ConfigError(f"company numbering of {plural} needs --numbering-field: the field that keeps "
                                  "the file's number, so each can be found again")
            given = Rule(setting, f"{source} {setting}")  # type: ignore[arg-type]
            without = given if setting != "override" else Rule("company", "the record has no number of its own")
            return cls(entity, given, without, field)
        rules = _series_rules(company, entity, field) if company is not None else None
        if rules is None:
            unknown = "no company snapshot says how its series numbers them" if company is None \
                else f"the company snapshot says nothing of how {plural} are numbered"
            without = Rule("company", "the record has no number of its own")
            if entity.is_document:
                return cls(entity, Rule("override", f"{unknown}: the file's numbers are kept"), without, field)
            return cls(entity, Rule("manual", f"{unknown}: the number is sent as it is"), without, field)
        return cls(entity, *rules, field)

    def rule(self, work: Work) -> Rule:
        return self.with_number if self._number(work) is not None else self.without_number

    def describe(self) -> str:
        """One line for the summary and the dry run: which mode applies to which records, and why."""
        plural = _PLURAL[self.entity.name]
        a, b = self.with_number, self.without_number
        if a == b:
            return f"{a.mode} for all {plural} ({a.why})"
        return f"{a.mode} for {plural} with a number ({a.why}); {b.mode} for those without ({b.why})"

    def problem(self, work: Work) -> str | None:
        """Why ``work`` cannot be created as its numbering says (the record, the field and the reason)."""
        if work.payload is None:
            return None
        rule, number = self.rule(work), self._number(work)
        key_field = self.entity.key_field
        if rule.mode == "manual" and number is None:
            return (f"record {work.records[0]}: {key_field} is empty, but numbering is manual ({rule.why}): "
                    f"each of the {_PLURAL[self.entity.name]} needs its own number")
        if rule.mode == "company" and number is not None and self.field is not None:
            own = self._text(work.payload.get(self.field))
            if own is not None and own != number:
                return (f"record {work.records[0]}: {self.field}: the file gives {own!r}, but company numbering "
                        f"keeps the file's {key_field} {number!r} there; map that column elsewhere or choose "
                        "another --numbering-field")
        return None

    def explained(self, work: Work, error: str | None) -> str | None:
        """A create's failure, with what to change when the company refused the file's number."""
        if error is None or self.rule(work).mode != "override" or "manual numbering" not in error.lower():
            return error
        return (f"{error} (override numbering keeps the file's numbers only where the number series allows it: "
                f"set {_SETTING} on the number series of {_PLURAL[self.entity.name]} (CS201010), or run with "
                "--numbering company)")

    def applied(self, work: Work) -> tuple[Work, tuple[str, str] | None]:
        """The work a create sends, and (field, number) of the legacy number it keeps, if any."""
        payload, number = work.payload, self._number(work)
        if payload is None:
            return work, None
        mode = self.rule(work).mode
        if mode == "override" and number is not None:
            return replace(work, payload={**payload, OVERRIDE: {"value": True}}), None
        if mode != "company" or number is None:
            return work, None
        sent = {k: v for k, v in payload.items() if k != self.entity.key_field}
        if self.field is None:
            return replace(work, payload=sent), None
        sent[self.field] = {"value": number}
        return replace(work, payload=sent), (self.field, number)

    def legacy_number(self, work: Work) -> str | None:
        """The file's number a create of ``work`` keeps in :attr:`field` (company numbering), or None."""
        if self.field is None or self.rule(work).mode != "company":
            return None
        return self._number(work)

    def _number(self, work: Work) -> str | None:
        key_field = self.entity.key_field
        return self._text((work.payload or {}).get(key_field)) if key_field else None

    @staticmethod
    def _text(value: Any) -> str | None:
        value = unwrap_value(value)
        return str(value).strip() or None if value is not None else None
