"""Every reference in a write checked against the company, refused as the live API refuses it.

With a company (``SandboxConfig.company``), a customer or document write is refused when
it names something the company does not have or cannot use, and nothing of it is stored.
Which references are checked, and how, is :mod:`importer.company.checks`: the same rules
the importer's preflight applies, so the two never disagree. This module only turns the
first problem found into the live API's shapes: a document's as ``{"message": "VismaId:
<guid>. Error creating document. Error: TaxCategoryID 'X' cannot be found in the system.
..."}``, a customer's as an IPPException. Each message names the request field (dotted
path, line indexes 0-based, as validation does), the value and the reason, and for an
unknown id the company's closest ones.

Not checked: ``locationId``, ``cashAccount``, ``project``, ``contact``, a customer's
``parentRecordNumber`` and ``priceClassId``, and exchange rates for foreign currencies (a
snapshot holds none of them).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from importer.company import Company
from importer.company.checks import Problem, check_customer, check_document, check_periods
from importer.company.kinds import kind
from importer.sandbox.answers import ApiError, ipp_error, message_error

__all__ = ["References", "document_error", "sentence"]

Record = Mapping[str, Any]


class References:
    """The checks of one company; raise ApiError in the live API's shapes."""

    __slots__ = ("company",)

    def __init__(self, company: Company) -> None:
        self.company = company

    def check_customer(self, record: Record, *, creating: bool) -> None:
        """A customer create or update (``record``: the fields sent, unwrapped)."""
        problems = check_customer(self.company, record, creating=creating)
        if problems:
            raise ipp_error(f"Error: {sentence(self.company, problems[0])}")

    def check_document(self, record: Record, line_field: str, current: Record | None = None) -> None:
        """A document create (``current`` None) or update (``current`` the stored document)."""
        problems = check_document(self.company, record, line_field, current)
        if problems:
            raise document_error(sentence(self.company, problems[0]), creating=current is None)

    def check_periods(self, record: Record, *, creating: bool) -> None:
        """The document's ``financialPeriod`` (YYYYMM) and ``postPeriod`` (MMYYYY), where set."""
        problems = check_periods(self.company, record)
        if problems:
            raise document_error(sentence(self.company, problems[0]), creating=creating)


def sentence(company: Company, problem: Problem) -> str:
    """What the live API's message says of ``problem``."""
    p = problem
    if p.kind == "financialPeriods":
        period = p.value if p.path == "financialPeriod" else p.value[2:] + p.value[:2]
        return f"The financial period {period[4:]}-{period[:4]} ({p.path} '{p.value}') {p.why}."
    if p.reason == "required":
        return f"'{p.dac}' {p.why} ({p.path})."
    if p.reason == "unknown":
        return f"{p.dac} '{p.value}' cannot be found in the system ({p.path}{_hint(company, p)})."
    return f"{p.dac} '{p.value}' {p.why} ({p.path}{'; ' + p.hint if p.hint else ''})."


def _hint(company: Company, problem: Problem) -> str:
    if not problem.closest_known:
        return ""
    id_field = kind(problem.kind).id_field
    near = [str(r[id_field]) for r in company.closest(problem.kind, problem.value) if r.get(id_field) is not None]
    return f"; the company has {', '.join(near)}" if near else "; the company has none"


def document_error(text: str, *, creating: bool) -> ApiError:
    """A document write refused by the company, as the live API words it."""
    doing = "creating" if creating else "updating"
    return message_error(400, f"VismaId: {uuid.uuid4()}. Error {doing} document. Error: {text}")
